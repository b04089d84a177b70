from dataclasses import dataclass
from typing import IO

from ..services.errors import InputError, Problem
from .text import cell_int, cell_str, read_table

# Longer references cannot name anything (titles hold 500 characters,
# usernames 150, a code path a few names of 100).
REF_LIMITS = {"document": 500, "coder": 150, "code": 1000}


# Slots: a file can hold a million rows, and a row's __dict__ would double it.
@dataclass(frozen=True, slots=True)
class SegmentRow:
    document: str  # external id or title
    coder: str  # username
    code: str  # name, or a parent/child path
    start: int
    end: int
    quote: str | None
    memo: str
    line: int


def parse_segment_file(name: str, data: bytes | IO[bytes]) -> list[SegmentRow]:
    """Parse coded segments from CSV or JSON Lines; offsets are code points.

    ``data`` is bytes or a binary file, read a line at a time.
    """
    rows: list[SegmentRow] = []
    problems: list[Problem] = []
    # Documents, coders and codes repeat on every row: keep one copy of each.
    names: dict[str, str] = {}
    for line, raw in read_table(data, name):
        try:
            # Each cell read (and checked) once: document, coder, code.
            refs = {key: cell_str(raw, key) for key in REF_LIMITS}
            missing = [key for key, value in refs.items() if not value]
            if missing:
                raise ValueError(f"missing {', '.join(missing)}")
            for key, value in refs.items():
                if len(value) > REF_LIMITS[key]:
                    raise ValueError(
                        f"{key} is longer than {REF_LIMITS[key]} characters: "
                        f"no {key} is named like that"
                    )
            start, end = cell_int(raw, "start"), cell_int(raw, "end")
            if start < 0 or end <= start:
                raise ValueError(
                    f"invalid span [{start}, {end}): need 0 <= start < end"
                )
            document, coder, code = (names.setdefault(v, v) for v in refs.values())
            quote = raw.get("quote")
            rows.append(
                SegmentRow(
                    document=document,
                    coder=coder,
                    code=code,
                    start=start,
                    end=end,
                    # An empty quote cell means "not given", not "empty text".
                    quote=None if quote in (None, "") else str(quote),
                    memo=cell_str(raw, "memo"),
                    line=line,
                )
            )
        except ValueError as exc:
            problems.append(Problem(str(exc), name, line))
    if not rows and not problems:
        problems.append(Problem("no segments found", name))
    if problems:
        raise InputError(problems)
    return rows
