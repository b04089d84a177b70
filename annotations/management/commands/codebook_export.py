from pathlib import Path

from django.core.management.base import CommandError

from ...exporters.codebook import codebook_file_csv, codebook_file_json
from ...models import CodebookVersion
from ...selectors.codebook import codebook_rows
from ...services.files import atomic_write
from ..base import WorkbenchCommand, project_get


class Command(WorkbenchCommand):
    help = (
        "Write the codebook as the Codebook page exports it (CSV or JSON, the files "
        "import_codebook reads): the current one, or a published version's."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument(
            "--format", choices=["csv", "json"], default="json", dest="fmt"
        )
        parser.add_argument(
            "--codebook-version", type=int, metavar="N",
            help="the codebook as published in version N (default: as it is now)",
        )  # fmt: skip
        parser.add_argument("--output", help="file to write (default: stdout)")

    def handle(self, slug, fmt, codebook_version, output, **options):
        project = project_get(slug)
        if codebook_version is None:
            rows = codebook_rows(project)
        else:
            snapshot = (
                CodebookVersion.objects.filter(project=project, number=codebook_version)
                .values_list("snapshot", flat=True)
                .first()
            )
            if snapshot is None:
                raise CommandError(
                    f"{slug} has no codebook version {codebook_version} "
                    f"(the last is {project.codebook_version or 'none'})"
                )
            rows = snapshot["codes"]
        text = codebook_file_json(rows) if fmt == "json" else codebook_file_csv(rows)
        if not output:
            self.stdout.write(text, ending="" if text.endswith("\n") else "\n")
            return
        path = Path(output)
        if path.is_dir():
            raise CommandError(f"{output} is a folder: give a file name")
        atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        self.stdout.write(f"wrote {len(rows)} codes of {slug} to {path}")
