from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where, and what."""

    message: str
    source: str = ""
    line: int | None = None

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where = f"{where}, line {self.line}" if where else f"line {self.line}"
        return f"{where}: {self.message}" if where else self.message


class InputError(Exception):
    """Raised before anything is written when an input has problems."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems[:20]))


class ConflictError(Exception):
    """A stale edit: the object changed since the client saw it."""

    def __init__(self, message: str, *, current: dict):
        self.current = current
        super().__init__(message)
