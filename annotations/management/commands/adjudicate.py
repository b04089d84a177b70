from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db.models import Count

from ...selectors.adjudication import adjudication_data
from ...services.adjudication import adjudication_start
from ..base import WorkbenchCommand, project_get


class Command(WorkbenchCommand):
    help = (
        "Adjudication in bulk: with --auto, accept every segment on which all coders "
        "of a document agree into its consensus (decision 'auto'); print how many "
        "disagreements are left per document. Without --auto, only print them."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument(
            "--auto", action="store_true", help="accept the agreed segments"
        )
        parser.add_argument(
            "--overlap",
            type=float,
            help="same code overlapping by at least this share of the union "
            "counts as agreement (default: the exact same span)",
        )
        parser.add_argument(
            "--documents",
            nargs="+",
            help="external ids or ids, space- or comma-separated (default: every "
            "document with two coders or more)",
        )
        parser.add_argument(
            "--override-reason",
            default="",
            help="also adjudicate documents whose coders are not all done, "
            "recording this reason",
        )
        parser.add_argument("--user", help="the adjudicator recorded (a PI's username)")

    def handle(self, slug, auto, overlap, documents, override_reason, user, **options):
        project = project_get(slug)
        if overlap is not None and not 0 < overlap <= 1:
            raise CommandError("--overlap must be greater than 0 and at most 1")
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if (
                actor is None
                or not project.memberships.filter(user=actor, role="pi").exists()
            ):
                raise CommandError(f"{user!r} is not a PI of the project")
        docs = project.documents.annotate(n=Count("assignments")).filter(n__gte=2)
        if documents:
            wanted = [w.strip() for d in documents for w in d.split(",") if w.strip()]
            by_ext = dict(
                project.documents.filter(external_id__in=wanted).values_list(
                    "external_id", "pk"
                )
            )
            ids = []
            for w in wanted:
                if w in by_ext:
                    ids.append(by_ext[w])
                elif w.isdigit() and project.documents.filter(pk=int(w)).exists():
                    ids.append(int(w))
                else:
                    raise CommandError(f"unknown document {w!r} in project {slug!r}")
            docs = project.documents.filter(pk__in=ids)
        accepted = left = skipped = 0
        count = 0
        for doc in docs.order_by("id").iterator(chunk_size=200):
            count += 1
            name = f"{doc.external_id} {doc.title[:60]!r}"
            if auto:
                try:
                    _, n = adjudication_start(
                        document=doc, actor=actor, overlap=overlap,
                        override_reason=override_reason, via="command",
                    )  # fmt: skip
                except ValidationError as exc:
                    skipped += 1
                    self.stdout.write(f"{name}: skipped: {' '.join(exc.messages)}")
                    continue
                accepted += n
            else:
                n = 0
            data = adjudication_data(doc, overlap=overlap)
            left += data.open_count
            head = f"{n} accepted, " if auto else ""
            self.stdout.write(
                f"{name}: {head}{data.open_count} disagreement(s) left "
                f"of {len(data.disagreements)}"
            )
        self.stdout.write(
            f"{count} document(s): {accepted} segment(s) accepted automatically, "
            f"{left} disagreement(s) left, {skipped} skipped"
        )
