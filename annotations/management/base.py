"""Shared plumbing for the PI's commands: readable errors, a non-zero exit."""

from pathlib import Path
from typing import IO

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ..models import Project
from ..services.errors import InputError


class WorkbenchCommand(BaseCommand):
    """Turns service errors into one readable line each and exit status 1."""

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except InputError as exc:
            lines = [str(p) for p in exc.problems]
            more = f"\n... and {len(lines) - 50} more" if len(lines) > 50 else ""
            raise CommandError(
                "nothing was written:\n  " + "\n  ".join(lines[:50]) + more
            ) from None
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None


def project_get(slug: str) -> Project:
    project = Project.objects.filter(slug=slug).first()
    if project is None:
        raise CommandError(f"no project with slug {slug!r}")
    return project


def read_bytes(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CommandError(f"{path}: {exc.strerror}") from None


def open_bytes(path: str | Path) -> IO[bytes]:
    """``path`` open for reading, to parse a line at a time; an unreadable
    file is a CommandError, as in :func:`read_bytes`."""
    try:
        return Path(path).open("rb")
    except OSError as exc:
        raise CommandError(f"{path}: {exc.strerror}") from None
