"""Assigning documents to coders: plans, applying them, one-by-one changes and
rebalancing. The reliability sample's draw is in :mod:`.reliability_sample`."""

import random
from collections.abc import Mapping, Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from ..models import Assignment, Document, HistoryEvent, Membership, Project, Segment
from ..sampling import stratified_sample


def assignment_plan(
    *,
    documents: Sequence[int],
    coders: Sequence[int],
    overlap: float | None = None,
    per_document: int = 2,
    seed: int = 0,
    strata: Mapping[int, str | None] | None = None,
) -> list[tuple[int, int]]:
    """Which coder codes which document: a pure function of its arguments.

    Without ``overlap`` every document goes to every coder. With it, a share
    ``overlap`` of the documents (drawn with ``seed``) goes to ``per_document``
    coders and the rest to one coder each, always to the least-loaded coders
    so the workload stays balanced. With ``strata`` ({document: stratum or
    None}) the share is drawn within each stratum in proportion
    (:func:`annotations.sampling.stratified_sample`).

    >>> assignment_plan(documents=[1, 2], coders=[7, 8])
    [(1, 7), (1, 8), (2, 7), (2, 8)]
    """
    if not coders:
        raise ValueError("at least one coder is needed")
    if overlap is None:
        return [(d, c) for d in documents for c in coders]
    if not 0 <= overlap <= 1:
        raise ValueError("overlap must be between 0 and 1")
    if not 1 <= per_document <= len(coders):
        raise ValueError(
            f"per-document must be between 1 and the number of coders ({len(coders)})"
        )
    rng = random.Random(seed)
    docs = sorted(documents)
    if strata is None:
        n_sample = round(overlap * len(docs))
        sample = set(rng.sample(docs, n_sample))
    else:
        if not strata.keys() >= set(docs):
            raise ValueError("every document needs a stratum (None when missing)")
        by_doc = {d: strata[d] for d in docs}
        sample = set(stratified_sample(by_doc, share=overlap, seed=seed).sample)
    load = dict.fromkeys(coders, 0)
    order = list(coders)
    rng.shuffle(order)
    plan = []
    # The double-coded sample first, so it is spread before single coding fills in.
    for doc in [d for d in docs if d in sample] + [d for d in docs if d not in sample]:
        k = per_document if doc in sample else 1
        chosen = sorted(order, key=lambda c: load[c])[:k]
        for coder in chosen:
            load[coder] += 1
            plan.append((doc, coder))
        # Rotate so ties do not always favour the same coder.
        order = order[1:] + order[:1]
    return sorted(plan)


@transaction.atomic
def assignments_apply(
    *,
    project: Project,
    plan: list[tuple[int, int]],
    status: str | None = None,
    actor: AbstractBaseUser | None = None,
    via: str = "command",
) -> dict[str, int]:
    """Create the planned assignments; with ``status``, set it on all of them."""
    if status is not None and status not in Assignment.Status.values:
        raise ValidationError({"status": f"Unknown status {status!r}."})
    doc_ids = {d for d, _ in plan}
    if Document.objects.filter(pk__in=doc_ids).exclude(project=project).exists():
        raise ValidationError({"documents": "Documents from another project."})
    existing = {
        (a.document_id, a.coder_id): a
        for a in Assignment.objects.filter(document_id__in=doc_ids)
    }
    now = timezone.now()
    new = [
        Assignment(
            document_id=d,
            coder_id=c,
            status=status or Assignment.Status.TODO,
            started_at=now if status and status != Assignment.Status.TODO else None,
            done_at=now if status == Assignment.Status.DONE else None,
        )  # fmt: skip
        for d, c in plan
        if (d, c) not in existing
    ]
    Assignment.objects.bulk_create(new)
    changed = 0
    if status is not None:
        planned = set(plan)
        stale = [a for k, a in existing.items() if k in planned and a.status != status]
        changed = Assignment.objects.filter(pk__in=[a.pk for a in stale]).update(
            status=status,
            done_at=now if status == Assignment.Status.DONE else None,
            updated_at=now,
        )
        HistoryEvent.objects.bulk_create(
            HistoryEvent(
                project=project,
                document_id=a.document_id,
                user=actor,
                entity="assignment",
                entity_id=a.pk,
                action="update",
                before={"status": a.status},
                after={"coder": a.coder_id, "status": status},
                via=via,
            )  # fmt: skip
            for a in stale
        )
    created = Assignment.objects.filter(
        document_id__in=doc_ids, created_at__gte=now
    ).values_list("pk", "document_id", "coder_id", "status")
    HistoryEvent.objects.bulk_create(
        HistoryEvent(
            project=project,
            document_id=d,
            user=actor,
            entity="assignment",
            entity_id=pk,
            action="create",
            after={"coder": c, "status": s},
            via=via,
        )  # fmt: skip
        for pk, d, c, s in created
    )
    return {"created": len(new), "updated": changed, "kept": len(plan) - len(new)}


def _coder_loads(project: Project, coders: Sequence[int]) -> dict[int, int]:
    load = dict.fromkeys(coders, 0)
    rows = (
        Assignment.objects.filter(document__project=project, coder_id__in=coders)
        .values("coder_id")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        load[row["coder_id"]] = row["n"]
    return load


def assignments_unstarted(project: Project, coder_id: int):
    """A coder's assignments that can be taken away without losing work:
    not done, and no live segment of theirs in the document."""
    live = Segment.objects.filter(
        document=OuterRef("document"), coder_id=coder_id, deleted_at__isnull=True
    )
    return (
        Assignment.objects.filter(document__project=project, coder_id=coder_id)
        .exclude(status=Assignment.Status.DONE)
        .exclude(Exists(live))
    )


@transaction.atomic
def assignment_toggle(
    *,
    project: Project,
    document: Document,
    coder: AbstractBaseUser,
    assigned: bool,
    actor: AbstractBaseUser | None,
    via: str = "web",
) -> bool:
    """Assign or unassign one document; return whether anything changed.

    Unassigning refuses when the coder already coded the document, so that no
    work disappears from the coder's list.
    """
    if document.project_id != project.pk:
        raise ValidationError({"document": "That document belongs to another project."})
    if not Membership.objects.filter(project=project, user=coder).exists():
        raise ValidationError({"coder": "That user is not a member of the project."})
    existing = Assignment.objects.filter(document=document, coder=coder).first()
    if assigned:
        if existing:
            return False
        assignments_apply(
            project=project, plan=[(document.pk, coder.pk)], actor=actor, via=via
        )
        return True
    if existing is None:
        return False
    if not assignments_unstarted(project, coder.pk).filter(pk=existing.pk).exists():
        raise ValidationError(
            {"coder": f"{coder} has already coded {document.title!r} (or marked it "
             "done): the assignment stays so their work stays in their list."}
        )  # fmt: skip
    HistoryEvent.objects.create(
        project=project, document=document,
        user=actor if actor and actor.is_authenticated else None,
        entity="assignment", entity_id=existing.pk, action="delete",
        before={"coder": coder.pk, "status": existing.status}, via=via,
    )  # fmt: skip
    existing.delete()
    return True


@transaction.atomic
def assignments_rebalance(
    *,
    project: Project,
    coder_id: int,
    to_coders: Sequence[int],
    actor: AbstractBaseUser | None,
    via: str = "web",
) -> dict[str, int]:
    """Hand a coder's unstarted documents (not done, no live segments) to the
    least-loaded of ``to_coders`` who do not have them yet.

    Documents no other coder can take stay with the coder (``kept``).
    """
    to_coders = [c for c in dict.fromkeys(to_coders) if c != coder_id]
    released = list(assignments_unstarted(project, coder_id).order_by("document_id"))
    if not released or not to_coders:
        return {"moved": 0, "kept": len(released)}
    load = _coder_loads(project, to_coders)
    holders: dict[int, set[int]] = {}
    for doc, coder in Assignment.objects.filter(
        document_id__in=[a.document_id for a in released], coder_id__in=to_coders
    ).values_list("document_id", "coder_id"):
        holders.setdefault(doc, set()).add(coder)
    moved = kept = 0
    plan = []
    for assignment in released:
        free = [
            c for c in to_coders if c not in holders.get(assignment.document_id, set())
        ]
        if not free:
            kept += 1
            continue
        chosen = min(free, key=lambda c: (load[c], to_coders.index(c)))
        load[chosen] += 1
        plan.append((assignment.document_id, chosen))
        HistoryEvent.objects.create(
            project=project, document_id=assignment.document_id,
            user=actor if actor and actor.is_authenticated else None,
            entity="assignment", entity_id=assignment.pk, action="delete",
            before={"coder": coder_id, "status": assignment.status},
            after={"moved_to": chosen}, via=via,
        )  # fmt: skip
        assignment.delete()
        moved += 1
    if plan:
        assignments_apply(project=project, plan=plan, actor=actor, via=via)
    return {"moved": moved, "kept": kept}
