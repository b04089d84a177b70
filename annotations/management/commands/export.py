import time
from pathlib import Path

from django.core.management.base import CommandError

from ...services import exports
from ..base import WorkbenchCommand, project_get


class Command(WorkbenchCommand):
    help = (
        "Export a project: one format (segments.csv, segments.dta, project.qdpx, ...) "
        "or 'bundle' for all of them with a manifest. The file is written to a "
        "temporary name and renamed at the end: a failed export leaves no file."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument(
            "--format", required=True, dest="name",
            help="one of: " + ", ".join(exports.FORMATS) + ", or bundle",
        )  # fmt: skip
        parser.add_argument("--output", required=True, help="file to write")
        parser.add_argument("--coder", help="only this coder's segments (a username)")
        parser.add_argument(
            "--consensus", action="store_true",
            help="the consensus only (with --coder: that coder and the consensus)",
        )  # fmt: skip
        parser.add_argument("--since", help="segments made on or after this UTC date")
        parser.add_argument("--until", help="segments made on or before this UTC date")

    def handle(self, slug, name, output, coder, consensus, since, until, **options):
        project = project_get(slug)
        fmt = exports.export_format_get(name)
        filt = exports.export_filter_build(
            project=project, coder=coder, consensus=consensus, since=since, until=until
        )
        path = Path(output)
        if path.is_dir():
            raise CommandError(f"{output} is a folder: give a file name")
        started = time.perf_counter()
        rows = exports.export_write(
            project=project, name=fmt.name, filt=filt, path=path
        )
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"wrote {fmt.name} of {slug} to {path} ({rows} rows, "
            f"{path.stat().st_size:,} bytes, {seconds:.1f} s)"
        )
