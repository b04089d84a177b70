from pathlib import Path

from django.core.management.base import CommandError

from ...services.backup import project_restore
from ..base import WorkbenchCommand


class Command(WorkbenchCommand):
    help = (
        "Restore a project from a file written by `backup`, in one transaction. "
        "Refuses to overwrite an existing project: use --as NEWSLUG for a copy."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--as", dest="slug", help="restore under this slug")

    def handle(self, path, slug, **options):
        if not Path(path).is_file():
            raise CommandError(f"{path}: no such file")
        result = project_restore(path=path, slug=slug)
        counts = result["counts"]
        self.stdout.write(
            f"restored {result['project'].slug}: {counts['document']} documents, "
            f"{counts['code']} codes, {counts['segment']} segments, "
            f"{counts['history']} history events"
        )
        if result["users_created"]:
            self.stdout.write(
                f"created {len(result['users_created'])} users without a password "
                f"({', '.join(result['users_created'])}); set one with "
                "`python manage.py changepassword USER`"
            )
