"""Assigning documents to coders, with a reproducible reliability sample."""

import random
from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..models import Assignment, Document, HistoryEvent, Project


def assignment_plan(
    *,
    documents: Sequence[int],
    coders: Sequence[int],
    overlap: float | None = None,
    per_document: int = 2,
    seed: int = 0,
) -> list[tuple[int, int]]:
    """Which coder codes which document: a pure function of its arguments.

    Without ``overlap`` every document goes to every coder. With it, a share
    ``overlap`` of the documents (drawn with ``seed``) goes to ``per_document``
    coders and the rest to one coder each, always to the least-loaded coders
    so the workload stays balanced.

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
    n_sample = round(overlap * len(docs))
    sample = set(rng.sample(docs, n_sample))
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
            document_id=d, coder_id=c, status=status or Assignment.Status.TODO,
            started_at=now if status and status != Assignment.Status.TODO else None,
            done_at=now if status == Assignment.Status.DONE else None,
        )  # fmt: skip
        for d, c in plan
        if (d, c) not in existing
    ]
    Assignment.objects.bulk_create(new)
    changed = 0
    if status is not None:
        stale = [a.pk for k, a in existing.items() if k in set(plan) and a.status != status]
        changed = Assignment.objects.filter(pk__in=stale).update(
            status=status,
            done_at=now if status == Assignment.Status.DONE else None,
            updated_at=now,
        )
    created = Assignment.objects.filter(
        document_id__in=doc_ids, created_at__gte=now
    ).values_list("pk", "document_id", "coder_id", "status")
    HistoryEvent.objects.bulk_create(
        HistoryEvent(
            project=project, document_id=d, user=actor, entity="assignment",
            entity_id=pk, action="create", after={"coder": c, "status": s}, via=via,
        )  # fmt: skip
        for pk, d, c, s in created
    )
    return {"created": len(new), "updated": changed, "kept": len(plan) - len(new)}
