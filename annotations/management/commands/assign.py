from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import transaction

from ...models import Membership
from ...sampling import Stratum, stratified_sample, stratify_parse
from ...services.assignments import assignment_plan, assignments_apply
from ...services.reliability_sample import (
    reliability_settings_record,
    reliability_strata,
)
from ..base import WorkbenchCommand, project_get


class Command(WorkbenchCommand):
    help = (
        "Assign documents to coders: all to all, or a reproducible reliability "
        "sample (--overlap) coded by --per-document coders and the rest by one, "
        "drawn within each stratum in proportion with --stratify-by."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--coders", required=True, help="comma-separated usernames")
        parser.add_argument("--documents", help="comma-separated external ids")
        parser.add_argument("--overlap", type=float)
        parser.add_argument("--per-document", type=int, default=2)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--stratify-by",
            default="",
            metavar="SPEC",
            help="draw the --overlap share within each stratum, in proportion: "
            "source (the outlet), published_year or metadata.KEY",
        )
        parser.add_argument("--status", choices=["todo", "in_progress", "done"])

    def handle(self, slug, coders, documents, overlap, per_document, seed, status,
               stratify_by, **options):  # fmt: skip
        project = project_get(slug)
        if stratify_by and overlap is None:
            raise CommandError("--stratify-by draws the --overlap sample: give both")
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
        # Checked before anything is written.
        stratify, strata = reliability_strata(
            project=project, stratify=stratify_by, documents=doc_ids
        )
        coder_ids = [users[n] for n in names]
        try:
            plan = assignment_plan(
                documents=doc_ids, coders=coder_ids, overlap=overlap,
                per_document=per_document, seed=seed, strata=strata,
            )  # fmt: skip
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        drawn: tuple[Stratum, ...] = ()
        with transaction.atomic():
            counts = assignments_apply(project=project, plan=plan, status=status)
            if overlap is not None:
                if strata:
                    drawn = stratified_sample(strata, share=overlap, seed=seed).strata
                # Recorded so the PI's pages can show how the sample was drawn.
                reliability_settings_record(
                    project=project, share=overlap, per_document=per_document,
                    seed=seed, stratify=stratify, strata=drawn,
                    documents=len(set(doc_ids)), coders=sorted(set(coder_ids)),
                    actor=None, via="command",
                )  # fmt: skip
        sample = ""
        if overlap is not None:
            sample = (
                f", reliability sample {overlap:.0%} x {per_document} coders, "
                f"seed {seed}"
            )
            if stratify:
                sample += f", stratified by {stratify_parse(stratify).label}"
        self.stdout.write(
            f"{counts['created']} assignments created, {counts['updated']} updated, "
            f"{counts['kept']} kept{sample}"
        )
        if drawn:
            self.stdout.write(strata_table(drawn, stratify))


def strata_table(strata: tuple[Stratum, ...], stratify: str) -> str:
    """Per stratum: documents, sampled, and the exact quota they round."""
    heading = stratify_parse(stratify).label
    width = max(len(heading), *(len(s.label) for s in strata))
    lines = [f"{heading:<{width}}  documents  sampled  share * documents"]
    for s in strata:
        lines.append(
            f"{s.label:<{width}}  {s.documents:>9}  {s.sampled:>7}  {s.quota:>17.2f}"
        )
    total_docs = sum(s.documents for s in strata)
    total_sampled = sum(s.sampled for s in strata)
    lines.append(f"{'total':<{width}}  {total_docs:>9}  {total_sampled:>7}")
    return "\n".join(lines)
