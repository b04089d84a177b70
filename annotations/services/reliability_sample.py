"""Drawing the reliability sample: a reproducible share of the documents
coded by several coders (within strata, in proportion, when asked), the rest
split evenly, and a record on the project of how it was drawn."""

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from ..models import HistoryEvent, Membership, Project
from ..sampling import Stratum, stratified_sample, stratify_parse
from ..selectors.sampling import document_strata
from .assignments import assignment_plan, assignments_apply

# What a document lacks when it has no stratum, for the error message.
_NO_VALUE = {"source": "a source (outlet)", "published_year": "a publication date"}


def reliability_strata(
    *, project: Project, stratify: str, documents: Sequence[int]
) -> tuple[str, dict[int, str | None] | None]:
    """The stratify spec as stored and each document's stratum (None for an
    empty spec: an unstratified draw).

    ValidationError for a spec that is not understood, and for one no
    document has a value for: that draw would silently be unstratified.
    """
    if not stratify.strip():
        return "", None
    try:
        by = stratify_parse(stratify)
    except ValueError as exc:
        raise ValidationError({"stratify": str(exc)}) from None
    strata = document_strata(project, by, documents)
    if all(value is None for value in strata.values()):
        lacks = _NO_VALUE.get(by.field, f"a value for the metadata key {by.key!r}")
        raise ValidationError(
            {"stratify": f"None of the {len(strata)} documents to draw from has "
             f"{lacks}: stratify by something else, or not at all."}
        )  # fmt: skip
    return by.spec, strata


def reliability_settings_record(
    *,
    project: Project,
    share: float,
    per_document: int,
    seed: int,
    stratify: str,
    strata: Sequence[Stratum],
    documents: int,
    coders: Sequence[int],
    actor: AbstractBaseUser | None,
    via: str,
) -> None:
    """Record how the reliability sample was drawn on the project (the pages
    show it; anyone can redraw it), with a history event."""
    fields = ["reliability_share", "reliability_coders", "reliability_seed",
              "reliability_stratify"]  # fmt: skip
    before = {f: getattr(project, f) for f in fields}
    project.reliability_share = share
    project.reliability_coders = per_document
    project.reliability_seed = seed
    project.reliability_stratify = stratify
    project.full_clean()
    project.save(update_fields=[*fields, "updated_at"])
    after = {f: getattr(project, f) for f in fields}
    after |= {"documents": documents, "coders": list(coders)}
    if strata:
        after["strata"] = [
            {"stratum": s.label, "documents": s.documents, "sampled": s.sampled}
            for s in strata
        ]
    HistoryEvent.objects.create(
        project=project, user=actor if actor and actor.is_authenticated else None,
        entity="project", entity_id=project.pk, action="update",
        before=before, after=after, via=via,
    )  # fmt: skip


@transaction.atomic
def reliability_sample_draw(
    *,
    project: Project,
    coders: Sequence[int],
    share: float,
    per_document: int,
    seed: int,
    stratify: str = "",
    documents: Sequence[int] | None = None,
    actor: AbstractBaseUser | None = None,
    via: str = "web",
) -> dict[str, Any]:
    """Assign ``documents`` (default: the project's unassigned ones): a share
    coded by ``per_document`` coders, drawn with ``seed`` (within each stratum
    of ``stratify``, in proportion, when given), the rest split evenly.

    The share, coders per document, seed and strata are recorded on the
    project so the page can show how the sample was drawn and anyone can
    redraw it. ``strata`` in the result: documents and sampled per stratum.
    """
    coder_ids = sorted(set(coders))
    members = set(
        Membership.objects.filter(project=project, user_id__in=coder_ids).values_list(
            "user_id", flat=True
        )
    )
    if not coder_ids:
        raise ValidationError({"coders": "Choose at least one coder."})
    if members != set(coder_ids):
        raise ValidationError(
            {"coders": "Every coder must be a member of the project."}
        )
    if not 0 <= share <= 1:
        raise ValidationError({"share": "The share must be between 0 and 100 %."})
    if not 1 <= per_document <= len(coder_ids):
        raise ValidationError(
            {"per_document": f"Coders per document must be between 1 and the number "
             f"of chosen coders ({len(coder_ids)})."}
        )  # fmt: skip
    if documents is None:
        documents = list(
            project.documents.filter(assignments__isnull=True).values_list(
                "pk", flat=True
            )
        )
    elif project.documents.filter(pk__in=documents).count() != len(set(documents)):
        raise ValidationError({"documents": "Documents from another project."})
    if not documents:
        raise ValidationError(
            {"documents": "There are no unassigned documents to draw from."}
        )
    stratify, strata = reliability_strata(
        project=project, stratify=stratify, documents=documents
    )
    plan = assignment_plan(
        documents=documents, coders=coder_ids, overlap=share,
        per_document=per_document, seed=seed, strata=strata,
    )  # fmt: skip
    result = assignments_apply(project=project, plan=plan, actor=actor, via=via)
    drawn = stratified_sample(strata, share=share, seed=seed).strata if strata else ()
    reliability_settings_record(
        project=project, share=share, per_document=per_document, seed=seed,
        stratify=stratify, strata=drawn, documents=len(set(documents)),
        coders=coder_ids, actor=actor, via=via,
    )  # fmt: skip
    sampled = {d for d, n in _per_document_counts(plan).items() if n > 1}
    return result | {
        "documents": len(set(documents)),
        "sample": len(sampled),
        "strata": drawn,
    }


def _per_document_counts(plan: list[tuple[int, int]]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for doc, _ in plan:
        counts[doc] = counts.get(doc, 0) + 1
    return counts
