from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from ... import permissions
from ...services.codebook_versions import codebook_publish
from ..base import WorkbenchCommand, project_get


class Command(WorkbenchCommand):
    help = (
        "Publish the project's codebook as its next version: from then on new and "
        "re-coded segments record its number. Refused when nothing changed."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--note", default="", help="what changed, and why")
        parser.add_argument("--by", help="the PI publishing it (a username)")

    def handle(self, slug, note, by, **options):
        project = project_get(slug)
        user = None
        if by:
            user = get_user_model().objects.filter(username=by).first()
            if user is None:
                raise CommandError(f"no user {by!r}")
            if not permissions.is_pi(user, project):
                raise CommandError(f"{by} is not a PI of {slug}")
        version = codebook_publish(
            project=project, actor=user, note=note, via="command"
        )
        self.stdout.write(
            f"published codebook v{version.number} of {slug}: "
            f"{len(version.snapshot['codes'])} codes, sha256 {version.checksum}"
        )
