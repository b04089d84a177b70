from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from ...services.projects import project_create
from ..base import WorkbenchCommand


class Command(WorkbenchCommand):
    help = "Create a project (idempotent), optionally with its PI."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--description", default="")
        parser.add_argument(
            "--open", action="store_true", help="open (not blind) coding"
        )
        parser.add_argument("--pi", help="username of the PI")

    def handle(self, slug, name, description, open, pi, **options):
        user = None
        if pi:
            user = get_user_model().objects.filter(username=pi).first()
            if user is None:
                raise CommandError(f"no user {pi!r}")
        project, created = project_create(
            slug=slug, name=name, description=description, blind=not open, pi=user
        )
        verb = "created" if created else "exists already"
        self.stdout.write(f"project {project.slug!r} {verb}")
