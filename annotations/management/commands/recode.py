from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from ... import permissions
from ...models import Document
from ...services.recode import recode_round_create
from ..base import WorkbenchCommand, project_get


class Command(WorkbenchCommand):
    help = (
        "Start a recode round (intra-coder reliability): a new blind project "
        "with copies of documents the coder marked done in the project, for "
        "them to code again. Give a share, a number or the documents; a draw "
        "is reproducible from its seed. Prints the round's slug."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the project whose coding is coded again")
        parser.add_argument("--coder", required=True, help="the coder (a username)")
        how = parser.add_mutually_exclusive_group(required=True)
        how.add_argument(
            "--share", type=float, help="share of their done documents, e.g. 0.1"
        )
        how.add_argument("--count", type=int, help="number of their done documents")
        how.add_argument(
            "--documents", metavar="EXT1,EXT2",
            help="these documents (external ids, comma-separated)",
        )  # fmt: skip
        parser.add_argument("--seed", type=int, default=1,
                            help="random seed of the draw (default 1)")  # fmt: skip
        parser.add_argument(
            "--slug", dest="new_slug", metavar="NEW",
            help="the round's slug (default: SLUG-recode-N)",
        )  # fmt: skip
        parser.add_argument("--by", help="the PI starting the round (a username)")

    def handle(self, slug, coder, documents, by, new_slug, **options):
        source = project_get(slug)
        users = get_user_model().objects
        user = users.filter(username=coder).first()
        if user is None:
            raise CommandError(f"no user {coder!r}")
        actor = None
        if by:
            actor = users.filter(username=by).first()
            if actor is None:
                raise CommandError(f"no user {by!r}")
            if not permissions.is_pi(actor, source):
                raise CommandError(f"{by} is not a PI of {slug}")
        ids = None
        if documents is not None:
            ids = _document_ids(source, documents)
        project = recode_round_create(
            source=source, coder=user, actor=actor, share=options["share"],
            count=options["count"], seed=options["seed"], documents=ids,
            slug=new_slug, via="command",
        )  # fmt: skip
        n = project.documents.count()
        self.stdout.write(
            f"{project.slug}: {n} document{'' if n == 1 else 's'} of {slug} for "
            f"{coder} to code again"
        )


def _document_ids(source, documents: str) -> list[int]:
    wanted = [e.strip() for e in documents.split(",") if e.strip()]
    if not wanted:
        raise CommandError("--documents: give external ids, comma-separated")
    found = dict(
        Document.objects.filter(project=source, external_id__in=wanted).values_list(
            "external_id", "pk"
        )
    )
    missing = [e for e in wanted if e not in found]
    if missing:
        raise CommandError(
            f"no document {', '.join(map(repr, missing[:10]))} in {source.slug}"
        )
    return [found[e] for e in wanted]
