import codecs
import csv
import io
import json
import math
import re
from collections.abc import Iterator
from typing import Any

from ..services.errors import InputError, Problem

WHOLE = re.compile(r"[+-]?[0-9]{1,18}")

# CSV cells can hold whole articles.
csv.field_size_limit(64 * 1024 * 1024)


def decode_utf8(data: bytes, source: str) -> str:
    """Decode UTF-8 (a BOM is dropped); refuse any other encoding clearly."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            [
                Problem(
                    f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset "
                    f"{exc.start}); save the file as UTF-8 and import it again",
                    source,
                    line,
                )
            ]
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise InputError(
            [
                Problem(
                    "contains NUL characters: is it a binary or UTF-16 file? "
                    "Save it as UTF-8 text and import it again",
                    source,
                    line,
                )
            ]
        )
    return text


def short(value: Any, limit: int = 60) -> str:
    """A value for an error message: its repr, cut to ``limit`` characters."""
    text = repr(value) if not isinstance(value, int) else str(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _no_constants(name: str):
    raise ValueError(f"{name} is not valid JSON (use null or a string)")


def json_loads(text: str, source: str, line: int | None = None) -> Any:
    """``json.loads`` that refuses NaN and Infinity and turns every failure
    (bad syntax, nesting too deep, a number too long) into an InputError."""
    try:
        return json.loads(text, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise InputError(
            [Problem(f"invalid JSON: {exc.msg}", source, line or exc.lineno)]
        ) from None
    except (ValueError, RecursionError) as exc:
        message = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
        raise InputError(
            [Problem(f"invalid JSON: {message[:200]}", source, line)]
        ) from None


def storable_check(value: Any, key: str, depth: int = 0) -> None:
    """Refuse what a database cannot store: NUL characters, lone surrogates
    (invalid UTF-8), and in JSON values non-finite numbers; recursively."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"{key} contains a NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(
                f"{key} contains an invalid character (a lone surrogate)"
            ) from None
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{key} must be a finite number")
    elif isinstance(value, dict):
        if depth > 20:
            raise ValueError(f"{key} is nested too deeply")
        for k, v in value.items():
            storable_check(k, key, depth + 1)
            storable_check(v, key, depth + 1)
    elif isinstance(value, list):
        if depth > 20:
            raise ValueError(f"{key} is nested too deeply")
        for v in value:
            storable_check(v, key, depth + 1)


def normalise_newlines(text: str) -> str:
    """CRLF and CR become LF; nothing else changes (no Unicode normalisation)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_table(text: str, source: str) -> Iterator[tuple[int, dict[str, object]]]:
    """Yield (line number, row) from CSV or JSON Lines, chosen by the file name."""
    if source.lower().endswith((".jsonl", ".ndjson")):
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            row = json_loads(line, source, number)
            if not isinstance(row, dict):
                raise InputError(
                    [Problem("each line must be a JSON object", source, number)]
                )
            yield number, row
        return
    # newline="" semantics: keep newlines inside quoted cells as they are.
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        if reader.fieldnames is None:
            raise InputError([Problem("the file is empty", source)])
        if len(set(reader.fieldnames)) != len(reader.fieldnames):
            raise InputError([Problem("duplicate column names", source, 1)])
        for row in reader:
            if None in row:
                raise InputError(
                    [Problem("more cells than columns", source, reader.line_num)]
                )
            yield reader.line_num, row
    except csv.Error as exc:
        raise InputError([Problem(f"malformed CSV: {exc}", source)]) from None


def cell_str(row: dict, key: str) -> str:
    value = row.get(key)
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise ValueError(f"{key} must be text, not {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{key} must be text or a finite number")
    text = str(value)
    storable_check(text, key)
    return text.strip() if key != "text" else text


def cell_int(row: dict, key: str) -> int:
    """A whole number written in ASCII digits (not '1_000', not '٣'), at
    most 18 digits long."""
    value = row.get(key)
    if isinstance(value, bool):
        raise ValueError(f"{key} must be a whole number")
    text = str(value).strip() if not isinstance(value, int) else str(value)
    if not WHOLE.fullmatch(text):
        raise ValueError(f"{key} must be a whole number, got {short(value)}")
    return int(text)
