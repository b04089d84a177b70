from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from ...models import Membership
from ...services.assignments import assignment_plan, assignments_apply
from ..base import WorkbenchCommand, project_get


class Command(WorkbenchCommand):
    help = (
        "Assign documents to coders: all to all, or a reproducible reliability "
        "sample (--overlap) coded by --per-document coders and the rest by one."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--coders", required=True, help="comma-separated usernames")
        parser.add_argument("--documents", help="comma-separated external ids")
        parser.add_argument("--overlap", type=float)
        parser.add_argument("--per-document", type=int, default=2)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--status", choices=["todo", "in_progress", "done"])

    def handle(self, slug, coders, documents, overlap, per_document, seed, status,
               **options):  # fmt: skip
        project = project_get(slug)
        names = [c.strip() for c in coders.split(",") if c.strip()]
        users = {
            m.user.username: m.user.pk
            for m in Membership.objects.filter(
                project=project, user__username__in=names
            ).select_related("user")
        }
        unknown = [n for n in names if n not in users]
        if unknown:
            known = get_user_model().objects.filter(username__in=unknown)
            kind = "not members of the project" if known.exists() else "unknown users"
            raise CommandError(f"{', '.join(unknown)}: {kind}")
        docs = project.documents.all()
        if documents:
            ids = [d.strip() for d in documents.split(",") if d.strip()]
            found = dict(
                docs.filter(external_id__in=ids).values_list("external_id", "pk")
            )
            missing = [i for i in ids if i not in found]
            if missing:
                raise CommandError(f"unknown documents: {', '.join(missing)}")
            doc_ids = [found[i] for i in ids]
        else:
            doc_ids = list(docs.values_list("pk", flat=True))
        try:
            plan = assignment_plan(
                documents=doc_ids, coders=[users[n] for n in names],
                overlap=overlap, per_document=per_document, seed=seed,
            )  # fmt: skip
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        counts = assignments_apply(project=project, plan=plan, status=status)
        sample = ""
        if overlap is not None:
            # Recorded so the PI's pages can show how the sample was drawn.
            project.reliability_share = overlap
            project.reliability_coders = per_document
            project.reliability_seed = seed
            project.save(
                update_fields=[
                    "reliability_share",
                    "reliability_coders",
                    "reliability_seed",
                    "updated_at",
                ]
            )
            sample = f", reliability sample {overlap:.0%} x {per_document} coders, seed {seed}"
        self.stdout.write(
            f"{counts['created']} assignments created, {counts['updated']} updated, "
            f"{counts['kept']} kept{sample}"
        )
