from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from ...importers.refi_qda import parse_qdpx
from ...services.qdpx import qdpx_import
from ..base import WorkbenchCommand, project_get


class Command(WorkbenchCommand):
    help = (
        "Import a REFI-QDA project (.qdpx from ATLAS.ti, MAXQDA, NVivo, QualCoder or "
        "this workbench): text sources, codes, coders and coded selections. Users "
        "that do not exist are created as coders WITHOUT a password."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("path")
        parser.add_argument("--mark-done", action="store_true",
                            help="mark the imported coders' documents done")  # fmt: skip
        parser.add_argument(
            "--max-files", type=int, default=None,
            help=f"most entries accepted in the archive (default {settings.ARCHIVE_MAX_FILES})",
        )  # fmt: skip
        parser.add_argument(
            "--max-bytes", type=int, default=None,
            help="largest total unpacked size accepted "
            f"(default {settings.ARCHIVE_MAX_TOTAL_BYTES})",
        )  # fmt: skip

    def handle(self, slug, path, mark_done, max_files, max_bytes, **options):
        project = project_get(slug)
        source = Path(path)
        limit = max_bytes or settings.ARCHIVE_MAX_TOTAL_BYTES
        try:
            size = source.stat().st_size
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror}") from None
        if size > limit:
            raise CommandError(f"{path}: {size:,} bytes is over the limit of {limit:,}")
        parsed = parse_qdpx(
            source.read_bytes(), source.name, max_total=max_bytes, max_files=max_files
        )
        counts = qdpx_import(
            project=project, parsed=parsed, source=source.name, mark_done=mark_done
        )
        self.stdout.write(
            f"imported {source.name} into {slug}: "
            f"{counts['documents_created']} documents ({counts['documents_reused']} "
            f"already there), {counts['codes_created']} codes "
            f"({counts['codes_reused']} already there), "
            f"{counts['segments_created']} segments and {counts['consensus_created']} "
            f"consensus segments ({counts['segments_skipped']} already there)"
        )
        if counts["members_added"]:
            self.stdout.write("added as coders: " + ", ".join(counts["members_added"]))
        if counts["users_created"]:
            self.stdout.write(
                "created users WITHOUT a password (they cannot log in until one is "
                "set, e.g. `python manage.py changepassword NAME`): "
                + ", ".join(counts["users_created"])
            )
        if counts["not_imported"]:
            self.stdout.write("not imported: " + "; ".join(counts["not_imported"][:20]))
