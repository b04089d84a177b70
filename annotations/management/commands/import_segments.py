from pathlib import Path

from ...importers.segments import parse_segment_file
from ...services.imports import segments_import
from ..base import WorkbenchCommand, open_bytes, project_get


class Command(WorkbenchCommand):
    help = "Import coded segments (CSV or JSONL) done in another tool."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("path")
        parser.add_argument("--mark-done", action="store_true")

    def handle(self, slug, path, mark_done, **options):
        project = project_get(slug)
        with open_bytes(path) as stream:
            rows = parse_segment_file(Path(path).name, stream)
        counts = segments_import(
            project=project, rows=rows, source=Path(path).name, mark_done=mark_done
        )
        self.stdout.write(
            f"imported {counts['created']} segments into {slug} "
            f"({counts['skipped']} already there, "
            f"{counts['assignments_created']} assignments created, "
            f"{counts['marked_done']} marked done)"
        )
