from django.core.management.base import CommandError

from ...services.backup import project_backup
from ..base import WorkbenchCommand, project_get


class Command(WorkbenchCommand):
    help = (
        "Back up one project (documents, codebook, members, assignments, segments, "
        "consensus, adjudication and history) into a single zip file."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--output", "-o", required=True, help="the file to write")

    def handle(self, slug, output, **options):
        project = project_get(slug)
        try:
            manifest = project_backup(project=project, path=output)
        except OSError as exc:
            raise CommandError(f"{output}: {exc.strerror or exc}") from None
        tables = manifest["tables"]
        self.stdout.write(
            f"backed up {slug} to {output}: {tables['document']['rows']} documents, "
            f"{tables['code']['rows']} codes, {tables['segment']['rows']} segments, "
            f"{tables['history']['rows']} history events"
        )
