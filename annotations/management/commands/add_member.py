from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from ...services.projects import member_add, user_create
from ..base import WorkbenchCommand, project_get


class Command(WorkbenchCommand):
    help = "Add a user to a project as PI or coder (creates the user with --create)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("username")
        parser.add_argument("--role", choices=["pi", "coder"], required=True)
        parser.add_argument("--create", action="store_true")

    def handle(self, slug, username, role, create, **options):
        project = project_get(slug)
        user = get_user_model().objects.filter(username=username).first()
        password = None
        if user is None:
            if not create:
                raise CommandError(f"no user {username!r} (use --create to make one)")
            user, password = user_create(username=username)
        _, added = member_add(project=project, user=user, role=role)
        summary = f"{username} is {role} of {slug}" + ("" if added else " (unchanged)")
        if password:
            summary += f"; created with password {password}"
        self.stdout.write(summary)
