from dataclasses import dataclass

from ..services.errors import InputError, Problem
from .text import cell_int, cell_str, decode_utf8, read_table

# Longer references cannot name anything (titles hold 500 characters,
# usernames 150, a code path a few names of 100).
REF_LIMITS = {"document": 500, "coder": 150, "code": 1000}


@dataclass(frozen=True)
class SegmentRow:
    document: str  # external id or title
    coder: str  # username
    code: str  # name, or a parent/child path
    start: int
    end: int
    quote: str | None
    memo: str
    line: int


def parse_segment_file(name: str, data: bytes) -> list[SegmentRow]:
    """Parse coded segments from CSV or JSON Lines; offsets are code points."""
    text = decode_utf8(data, name)
    rows: list[SegmentRow] = []
    problems: list[Problem] = []
    for line, raw in read_table(text, name):
        try:
            missing = [k for k in ("document", "coder", "code") if not cell_str(raw, k)]
            if missing:
                raise ValueError(f"missing {', '.join(missing)}")
            for key, limit in REF_LIMITS.items():
                if len(cell_str(raw, key)) > limit:
                    raise ValueError(
                        f"{key} is longer than {limit} characters: "
                        f"no {key} is named like that"
                    )
            start, end = cell_int(raw, "start"), cell_int(raw, "end")
            if start < 0 or end <= start:
                raise ValueError(
                    f"invalid span [{start}, {end}): need 0 <= start < end"
                )
            quote = raw.get("quote")
            rows.append(
                SegmentRow(
                    document=cell_str(raw, "document"),
                    coder=cell_str(raw, "coder"),
                    code=cell_str(raw, "code"),
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
