"""What software wrote a file or a report: the version in pyproject.toml and,
in a git checkout, the commit (for MANIFEST.json, README.txt and the methods
paragraph)."""

import functools
import tomllib
from pathlib import Path

from django.conf import settings


@functools.cache
def software_version() -> str:
    """The version in pyproject.toml (read once)."""
    try:
        with open(Path(settings.BASE_DIR) / "pyproject.toml", "rb") as f:
            return str(tomllib.load(f)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


@functools.cache
def git_commit(base: Path) -> str:
    """The checkout's commit, short, read from ``.git`` without running git;
    "" when there is none (an installed copy, a Docker image)."""
    git = base / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return _short(head)
        ref = head.removeprefix("ref: ")
        if (git / ref).is_file():
            return _short((git / ref).read_text().strip())
        for line in (git / "packed-refs").read_text().splitlines():
            sha, _, name = line.partition(" ")
            if name == ref:
                return _short(sha)
    except OSError:
        pass
    return ""


def _short(sha: str) -> str:
    hexdigits = set("0123456789abcdef")
    return sha[:7] if len(sha) == 40 and set(sha) <= hexdigits else ""
