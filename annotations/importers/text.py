import codecs
import csv
import io
import json
import math
import re
from collections.abc import Iterator
from typing import IO, Any

from ..services.errors import InputError, Problem

WHOLE = re.compile(r"[+-]?[0-9]{1,18}")

# CSV cells can hold whole articles.
csv.field_size_limit(64 * 1024 * 1024)


class UnreadableError(InputError):
    """The bytes are not UTF-8 text. Reported alone: problems of rows read
    before it are moot, as when the whole file was decoded first."""


def _not_utf8(byte: int, offset: int, source: str, line: int) -> UnreadableError:
    return UnreadableError(
        [
            Problem(
                f"not valid UTF-8 (byte 0x{byte:02x} at offset "
                f"{offset}); save the file as UTF-8 and import it again",
                source,
                line,
            )
        ]
    )


def _has_nul(source: str, line: int) -> UnreadableError:
    return UnreadableError(
        [
            Problem(
                "contains NUL characters: is it a binary or UTF-16 file? "
                "Save it as UTF-8 text and import it again",
                source,
                line,
            )
        ]
    )


def decode_utf8(data: bytes, source: str) -> str:
    """Decode UTF-8 (a BOM is dropped); refuse any other encoding clearly."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _not_utf8(data[exc.start], exc.start, source, line) from None
    if "\x00" in text:
        raise _has_nul(source, text[: text.index("\x00")].count("\n") + 1)
    return text


def read_all(data: bytes | IO[bytes]) -> bytes:
    return data if isinstance(data, (bytes, bytearray)) else data.read()


class Utf8Lines:
    """The lines of UTF-8 ``data`` (bytes or a binary file), decoded one at
    a time, with their ``\\n`` if ``keepends``; a BOM is dropped.

    Holding one line instead of the whole text keeps a big import's memory
    near the size of what it keeps. Errors are those of :func:`decode_utf8`
    on the whole file, with the same line and byte offset: an invalid byte
    anywhere wins over a NUL anywhere, which wins over any other problem, so
    a reader stopping at a problem raises ``lines.fail(error)``.
    """

    def __init__(self, data: bytes | IO[bytes], source: str, keepends: bool = True):
        # BytesIO shares the bytes' buffer: no copy.
        self.stream = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
        self.source = source
        self.keepends = keepends
        self.number = 0  # of the last line read, counting "\n" only
        self.offset = 0  # bytes read, after the BOM
        self.nul_line: int | None = None

    def __iter__(self) -> Iterator[str]:
        for line in self._decoded():
            if self.nul_line is not None:
                raise self.fail(_has_nul(self.source, self.nul_line))
            yield line

    def _decoded(self) -> Iterator[str]:
        for raw in self.stream:
            start = self.offset
            if not self.number and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
                if not raw:
                    return  # the BOM was all there is
            self.number += 1
            self.offset += len(raw)
            # Without keepends (JSON Lines: a trailing "\n" would change some
            # JSON error messages) a memoryview drops it without a copy.
            body = raw
            if not self.keepends and raw.endswith(b"\n"):
                body = memoryview(raw)[:-1]
            try:
                line = str(body, "utf-8")
            except UnicodeDecodeError as exc:
                raise _not_utf8(
                    raw[exc.start], start + exc.start, self.source, self.number
                ) from None
            # In valid UTF-8 a zero byte is a NUL character, and memchr is fast.
            if self.nul_line is None and b"\x00" in raw:
                self.nul_line = self.number
            yield line

    def fail(self, error: InputError) -> InputError:
        """``error``, unless the lines not read yet hold an invalid byte (then
        that is raised) or a NUL character was seen (then that is returned)."""
        for _ in self._decoded():
            pass
        if self.nul_line is not None:
            return _has_nul(self.source, self.nul_line)
        return error


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


def read_table(
    data: bytes | IO[bytes], source: str
) -> Iterator[tuple[int, dict[str, object]]]:
    """Yield (line number, row) from CSV or JSON Lines, chosen by the file name.

    The file is read a line at a time; only the current row is held.
    """
    if source.lower().endswith((".jsonl", ".ndjson")):
        lines = Utf8Lines(data, source, keepends=False)
        for line in lines:
            if not line or line.isspace():
                continue
            number = lines.number
            try:
                row = json_loads(line, source, number)
                if not isinstance(row, dict):
                    problem = Problem("each line must be a JSON object", source, number)
                    raise InputError([problem])
            except InputError as exc:
                raise lines.fail(exc) from None
            yield number, row
        return
    lines = Utf8Lines(data, source)
    reader = csv.DictReader(_universal_newlines(lines))
    try:
        if reader.fieldnames is None:
            raise lines.fail(InputError([Problem("the file is empty", source)]))
        if len(set(reader.fieldnames)) != len(reader.fieldnames):
            raise lines.fail(InputError([Problem("duplicate column names", source, 1)]))
        for row in reader:
            if None in row:
                raise lines.fail(
                    InputError(
                        [Problem("more cells than columns", source, reader.line_num)]
                    )
                )
            yield reader.line_num, row
    except csv.Error as exc:
        raise lines.fail(
            InputError([Problem(f"malformed CSV: {exc}", source)])
        ) from None


def _universal_newlines(lines: Utf8Lines) -> Iterator[str]:
    """Lines ending at CRLF, LF or a lone CR, ends kept (``newline=""``), as
    the csv module wants: newlines inside quoted cells stay as they are."""
    for line in lines:
        cr = line.find("\r")
        if cr == -1 or (cr == len(line) - 2 and line[-1] == "\n"):
            yield line  # no CR, or only the CRLF at its end
            continue
        # A "\n" can only end the line, so only a final "\r\n" is a pair.
        *parts, last = line.split("\r")
        for part in parts[:-1]:
            yield part + "\r"
        if last == "\n":
            yield parts[-1] + "\r\n"
        else:
            yield parts[-1] + "\r"
            if last:
                yield last


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
