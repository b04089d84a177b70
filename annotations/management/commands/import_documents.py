from collections.abc import Iterator
from pathlib import Path
from typing import IO

from django.core.management.base import CommandError

from ...importers.documents import parse_document_files
from ...services.imports import documents_import
from ..base import WorkbenchCommand, open_bytes, project_get

SUFFIXES = {".txt", ".csv", ".jsonl", ".ndjson"}


class Command(WorkbenchCommand):
    help = "Import documents from .txt files or folders of them, .csv or .jsonl."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("paths", nargs="+")

    def handle(self, slug, paths, **options):
        project = project_get(slug)
        files: list[Path] = []
        for raw in paths:
            path = Path(raw)
            if path.is_dir():
                found = sorted(
                    p for p in path.iterdir() if p.suffix.lower() in SUFFIXES
                )
                if not found:
                    raise CommandError(f"{path}: no .txt, .csv or .jsonl files in it")
                files += found
            else:
                files.append(path)
        for path in files:
            open_bytes(path).close()  # an unreadable file stops the run early
        rows = parse_document_files(_opened(files))
        counts = documents_import(project=project, rows=rows)
        self.stdout.write(
            f"imported {counts['created']} documents into {slug} "
            f"({counts['skipped']} already there)"
        )


def _opened(paths: list[Path]) -> Iterator[tuple[str, IO[bytes]]]:
    """Each file open while it is parsed: tables are read a line at a time,
    and a folder of many files never holds many handles."""
    for path in paths:
        with open_bytes(path) as stream:
            yield str(path), stream
