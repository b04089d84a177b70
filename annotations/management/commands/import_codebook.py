from pathlib import Path

from ...importers.codebook import parse_codebook_file
from ...services.imports import codebook_import
from ..base import WorkbenchCommand, project_get, read_bytes


class Command(WorkbenchCommand):
    help = "Import a codebook (CSV, JSON or REFI-QDA .qdc); existing codes are updated by path."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("path")

    def handle(self, slug, path, **options):
        project = project_get(slug)
        rows = parse_codebook_file(Path(path).name, read_bytes(path))
        counts = codebook_import(project=project, rows=rows)
        self.stdout.write(
            f"codebook of {slug}: {counts['created']} codes created, "
            f"{counts['updated']} updated"
        )
