from pathlib import Path

from django.core.management.base import CommandError

from ...importers.documents import parse_document_files
from ...services.imports import documents_import
from ..base import WorkbenchCommand, project_get, read_bytes

SUFFIXES = {".txt", ".csv", ".jsonl", ".ndjson"}


class Command(WorkbenchCommand):
    help = "Import documents from .txt files or folders of them, .csv or .jsonl."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("paths", nargs="+")

    def handle(self, slug, paths, **options):
        project = project_get(slug)
        files = []
        for raw in paths:
            path = Path(raw)
            if path.is_dir():
                found = sorted(
                    p for p in path.iterdir() if p.suffix.lower() in SUFFIXES
                )
                if not found:
                    raise CommandError(f"{path}: no .txt, .csv or .jsonl files in it")
                files += [(str(p), read_bytes(p)) for p in found]
            else:
                files.append((str(path), read_bytes(path)))
        rows = parse_document_files(files)
        counts = documents_import(project=project, rows=rows)
        self.stdout.write(
            f"imported {counts['created']} documents into {slug} "
            f"({counts['skipped']} already there)"
        )
