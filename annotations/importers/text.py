import codecs
import csv
import io
import json
from collections.abc import Iterator

from ..services.errors import InputError, Problem

# CSV cells can hold whole articles.
csv.field_size_limit(64 * 1024 * 1024)


def decode_utf8(data: bytes, source: str) -> str:
    """Decode UTF-8 (a BOM is dropped); refuse any other encoding clearly."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
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


def normalise_newlines(text: str) -> str:
    """CRLF and CR become LF; nothing else changes (no Unicode normalisation)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_table(text: str, source: str) -> Iterator[tuple[int, dict[str, object]]]:
    """Yield (line number, row) from CSV or JSON Lines, chosen by the file name."""
    if source.lower().endswith((".jsonl", ".ndjson")):
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(
                    [Problem(f"invalid JSON: {exc.msg}", source, number)]
                ) from None
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
    return str(value).strip() if key != "text" else str(value)


def cell_int(row: dict, key: str) -> int:
    value = row.get(key)
    if isinstance(value, bool):
        raise ValueError(f"{key} must be a whole number")
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        raise ValueError(f"{key} must be a whole number, got {value!r}") from None
