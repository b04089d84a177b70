"""Adjudication: settling coders' disagreements into a consensus version.

Every change is one HistoryEvent row (entities ``consensus``, ``rejection``
and ``adjudication``), every multi-row write runs in one transaction, and a
document marked adjudicated is read-only until it is reopened.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..adjudication import Group, Span, consensus_candidates
from ..models import (
    AdjudicationState,
    Code,
    ConsensusRejection,
    ConsensusSegment,
    Document,
    HistoryEvent,
    Segment,
)
from ..selectors.adjudication import adjudication_data, adjudication_lanes
from .coding import span_validate
from .errors import ConflictError
from .history import history_record, segment_snapshot

Decision = ConsensusSegment.Decision


def consensus_snapshot(
    consensus: ConsensusSegment, sources: Iterable[int] = ()
) -> dict:
    data = segment_snapshot(consensus)
    data["decided_by"] = consensus.decided_by_id
    data["sources"] = sorted(sources)
    return data


def state_snapshot(state: AdjudicationState) -> dict:
    return {
        "status": state.status,
        "adjudicator": state.adjudicator_id,
        "override_reason": state.override_reason,
        "overlap": state.overlap,
        "adjudicated_at": state.adjudicated_at.isoformat()
        if state.adjudicated_at
        else None,
    }


def _record(
    document: Document, actor, entity: str, obj, action: str, before, after, via
):
    history_record(
        project=document.project, document=document, user=actor, entity=entity,
        entity_id=obj.pk, action=action, before=before, after=after, via=via,
    )  # fmt: skip


def _not_done(document: Document) -> list[str]:
    return [
        lane.coder.get_username()
        for lane in adjudication_lanes(document)
        if not lane.done
    ]


def _overlap_validate(overlap: float | None) -> None:
    if overlap is not None and not 0 < overlap <= 1:
        raise ValidationError(
            {"overlap": "The overlap must be a share greater than 0 and at most 1."}
        )


def _editable_state(document: Document, *, lock: bool = True) -> AdjudicationState:
    qs = AdjudicationState.objects.filter(document=document)
    state = (qs.select_for_update() if lock else qs).first()
    if state is None:
        raise ValidationError(
            {"document": "Adjudication of this document has not started yet."}
        )
    if state.status == AdjudicationState.Status.ADJUDICATED:
        raise ValidationError(
            {"document": "This document is marked adjudicated: reopen it to change "
             "its consensus."}
        )  # fmt: skip
    return state


@transaction.atomic
def adjudication_start(
    *,
    document: Document,
    actor: AbstractBaseUser | None,
    overlap: float | None = None,
    override_reason: str = "",
    auto: bool = True,
    via: str = "web",
) -> tuple[AdjudicationState, int]:
    """Open adjudication of a document and accept what all coders agree on.

    Needs two coders or more, all of them done, or an override reason.
    Returns the state and the number of consensus segments accepted.
    """
    _overlap_validate(overlap)
    lanes = adjudication_lanes(document)
    if len(lanes) < 2:
        raise ValidationError(
            {"document": "Adjudication needs a document coded by two coders or more."}
        )
    state = (
        AdjudicationState.objects.select_for_update().filter(document=document).first()
    )
    if state is not None and state.status == AdjudicationState.Status.ADJUDICATED:
        raise ValidationError(
            {"document": "This document is marked adjudicated: reopen it first."}
        )
    override_reason = override_reason.strip()
    pending = [lane.coder.get_username() for lane in lanes if not lane.done]
    if pending and not override_reason and not (state and state.override_reason):
        raise ValidationError(
            {"override_reason": "Not every coder is done ("
             + ", ".join(pending) + "): give a reason to adjudicate anyway."}
        )  # fmt: skip
    if state is None:
        state = AdjudicationState(
            document=document, adjudicator=actor, overlap=overlap,
            override_reason=override_reason if pending else "",
        )  # fmt: skip
        state.full_clean()
        state.save()
        _record(document, actor, "adjudication", state, "create", None,
                state_snapshot(state), via)  # fmt: skip
    elif state.overlap != overlap or (override_reason and pending):
        before = state_snapshot(state)
        state.overlap = overlap
        if override_reason and pending:
            state.override_reason = override_reason
        state.save()
        _record(document, actor, "adjudication", state, "update", before,
                state_snapshot(state), via)  # fmt: skip
    accepted = (
        consensus_auto_accept(document=document, actor=actor, via=via) if auto else 0
    )
    return state, accepted


def consensus_auto_accept(
    *, document: Document, actor: AbstractBaseUser | None, via: str = "web"
) -> int:
    """Accept every group all coders agree on (with the state's overlap) that
    no decision has touched yet, as decision ``auto``; return how many."""
    with transaction.atomic():
        state = _editable_state(document)
        data = adjudication_data(document, overlap=state.overlap)
        touched = set(
            ConsensusSegment.sources.through.objects.filter(
                consensussegment__document=document
            ).values_list("segment_id", flat=True)
        ) | set(
            ConsensusRejection.sources.through.objects.filter(
                consensusrejection__document=document
            ).values_list("segment_id", flat=True)
        )
        todo = [
            g
            for g in data.alignment.agreements
            if not touched.intersection(g.segment_ids)
        ]
        if not todo:
            return 0
        text = document.text
        user = actor if actor is not None and actor.is_authenticated else None
        codebook_version = document.project.codebook_version
        new = [
            ConsensusSegment(
                document=document,
                code_id=g.code,
                start=g.start,
                end=g.end,
                quote=text[g.start : g.end],
                decision=Decision.AUTO,
                decided_by=user,
                memo=_memo(data.segments[s] for s in g.segment_ids),
                codebook_version=codebook_version,
            )  # fmt: skip
            for g in todo
        ]
        ConsensusSegment.objects.bulk_create(new)
        if any(c.pk is None for c in new):  # a backend that returns no ids
            new = list(
                ConsensusSegment.objects.filter(document=document).order_by("-id")[
                    : len(todo)
                ]
            )[::-1]
        Through = ConsensusSegment.sources.through
        Through.objects.bulk_create(
            Through(consensussegment_id=c.pk, segment_id=sid)
            for c, g in zip(new, todo, strict=True)
            for sid in g.segment_ids
        )
        HistoryEvent.objects.bulk_create(
            HistoryEvent(
                project_id=document.project_id,
                document=document,
                user=user,
                entity="consensus",
                entity_id=c.pk,
                action="create",
                after=consensus_snapshot(c, g.segment_ids),
                via=via,
            )  # fmt: skip
            for c, g in zip(new, todo, strict=True)
        )
        return len(new)


def _memo(segments: Iterable[Segment]) -> str:
    memos = dict.fromkeys(s.memo.strip() for s in segments if s.memo.strip())
    return "\n\n".join(memos)


def _sources_get(document: Document, segment_ids: Sequence[int]) -> list[Segment]:
    ids = list(dict.fromkeys(int(i) for i in segment_ids))
    found = list(
        Segment.objects.filter(pk__in=ids, document=document, deleted_at__isnull=True)
    )
    if len(found) != len(ids) or not ids:
        raise ValidationError(
            {"segments": "Choose live segments of this document (one was deleted or "
             "belongs elsewhere)."}
        )  # fmt: skip
    order = {pk: i for i, pk in enumerate(ids)}
    return sorted(found, key=lambda s: order[s.pk])


def _code_validate(
    *, code: Code, document: Document, sources: Sequence[Segment]
) -> None:
    if code.project_id != document.project_id:
        raise ValidationError({"code": "That code belongs to another project."})
    # A retired code stays acceptable where a coder applied it before it retired.
    if code.retired and all(s.code_id != code.pk for s in sources):
        raise ValidationError({"code": f"The code {code.name!r} is retired."})


def _create(
    *,
    document: Document,
    actor: AbstractBaseUser,
    code: Code,
    start: int,
    end: int,
    decision: str,
    sources: Sequence[Segment] = (),
    memo: str = "",
    note: str = "",
    quote: str | None = None,
    via: str = "web",
) -> ConsensusSegment:
    _code_validate(code=code, document=document, sources=sources)
    actual = document.text[start:end] if 0 <= start < end <= document.length else ""
    span_validate(
        document=document,
        start=start,
        end=end,
        quote=actual if quote is None else quote,
    )
    consensus = ConsensusSegment(
        document=document, code=code, start=start, end=end,
        quote=document.text[start:end], memo=memo, decision=decision,
        note=note.strip(), decided_by=actor,
        codebook_version=document.project.codebook_version,
    )  # fmt: skip
    consensus.full_clean()
    consensus.save()
    consensus.sources.set(sources)
    _record(document, actor, "consensus", consensus, "create", None,
            consensus_snapshot(consensus, [s.pk for s in sources]), via)  # fmt: skip
    return consensus


@transaction.atomic
def consensus_accept(
    *,
    document: Document,
    actor: AbstractBaseUser,
    segment_ids: Sequence[int],
    note: str = "",
    via: str = "web",
) -> list[ConsensusSegment]:
    """Accept coders' segments as they are: one consensus segment per distinct
    code and span, its sources every chosen segment that reads so.

    The decision is ``accept`` when the segments are one coder's and
    ``accept_all`` when they are several coders'.
    """
    _editable_state(document)
    sources = _sources_get(document, segment_ids)
    decision = (
        Decision.ACCEPT
        if len({s.coder_id for s in sources}) == 1
        else Decision.ACCEPT_ALL
    )
    by_id = {s.pk: s for s in sources}
    spans = tuple(Span(s.pk, s.coder_id, s.code_id, s.start, s.end) for s in sources)
    group = Group("", 0, 0, spans)
    made = []
    for _code, start, end, ids in consensus_candidates(group):
        picked = [by_id[i] for i in ids]
        made.append(
            _create(
                document=document,
                actor=actor,
                code=picked[0].code,
                start=start,
                end=end,
                decision=decision,
                sources=picked,
                memo=_memo(picked),
                note=note,
                via=via,
            )  # fmt: skip
        )
    return made


@transaction.atomic
def consensus_adjust(
    *,
    document: Document,
    actor: AbstractBaseUser,
    segment_ids: Sequence[int],
    start: int,
    end: int,
    quote: str | None = None,
    code: Code | None = None,
    note: str = "",
    via: str = "web",
) -> ConsensusSegment:
    """One consensus segment with boundaries the adjudicator set, from these
    coders' segments; the code is theirs unless ``code`` is given."""
    _editable_state(document)
    sources = _sources_get(document, segment_ids)
    if code is None:
        codes = {s.code_id for s in sources}
        if len(codes) != 1:
            raise ValidationError(
                {"code": "These segments have different codes: choose the code."}
            )
        code = sources[0].code
    return _create(
        document=document, actor=actor, code=code, start=start, end=end,
        decision=Decision.ADJUST, sources=sources, memo=_memo(sources), note=note,
        quote=quote, via=via,
    )  # fmt: skip


@transaction.atomic
def consensus_change_code(
    *,
    document: Document,
    actor: AbstractBaseUser,
    segment_ids: Sequence[int],
    code: Code,
    note: str = "",
    via: str = "web",
) -> ConsensusSegment:
    """The span of the first chosen segment with another code."""
    _editable_state(document)
    sources = _sources_get(document, segment_ids)
    first = sources[0]
    return _create(
        document=document, actor=actor, code=code, start=first.start, end=first.end,
        decision=Decision.CHANGE_CODE, sources=sources, memo=_memo(sources),
        note=note, via=via,
    )  # fmt: skip


@transaction.atomic
def consensus_reject(
    *,
    document: Document,
    actor: AbstractBaseUser,
    segment_ids: Sequence[int],
    note: str = "",
    via: str = "web",
) -> ConsensusRejection:
    """Leave these coders' segments out of the consensus, on the record."""
    _editable_state(document)
    sources = _sources_get(document, segment_ids)
    rejection = ConsensusRejection(
        document=document, note=note.strip(), decided_by=actor
    )
    rejection.full_clean()
    rejection.save()
    rejection.sources.set(sources)
    _record(document, actor, "rejection", rejection, "create", None,
            {"sources": sorted(s.pk for s in sources), "note": rejection.note}, via)  # fmt: skip
    return rejection


@transaction.atomic
def consensus_add(
    *,
    document: Document,
    actor: AbstractBaseUser,
    code: Code,
    start: int,
    end: int,
    quote: str | None = None,
    memo: str = "",
    note: str = "",
    via: str = "web",
) -> ConsensusSegment:
    """A segment no coder made, added by the adjudicator."""
    _editable_state(document)
    return _create(
        document=document, actor=actor, code=code, start=start, end=end,
        decision=Decision.MANUAL, memo=memo, note=note, quote=quote, via=via,
    )  # fmt: skip


def _consensus_locked(consensus: ConsensusSegment, expected_version: int | None):
    consensus = ConsensusSegment.objects.select_for_update().get(pk=consensus.pk)
    if expected_version is not None and expected_version != consensus.version:
        raise ConflictError(
            "This consensus segment was changed elsewhere since you opened it.",
            current=consensus_snapshot(consensus),
        )
    return consensus


def _source_ids(consensus: ConsensusSegment) -> list[int]:
    return list(consensus.sources.values_list("pk", flat=True))


@transaction.atomic
def consensus_update(
    *,
    consensus: ConsensusSegment,
    actor: AbstractBaseUser,
    code: Code | None = None,
    span: tuple[int, int] | None = None,
    memo: str | None = None,
    note: str | None = None,
    expected_version: int | None = None,
    via: str = "web",
) -> ConsensusSegment:
    """Change a consensus segment: new boundaries make it an ``adjust``
    decision, a new code a ``change_code`` one (a manual segment stays manual).
    Either records the codebook version published now; a memo or note alone
    does not."""
    document = consensus.document
    _editable_state(document)
    consensus = _consensus_locked(consensus, expected_version)
    if consensus.deleted_at is not None:
        raise ValidationError({"consensus": "This consensus segment was deleted."})
    sources = list(consensus.sources.all())
    before = consensus_snapshot(consensus, [s.pk for s in sources])
    manual = consensus.decision == Decision.MANUAL
    if code is not None and code.pk != consensus.code_id:
        _code_validate(code=code, document=document, sources=sources)
        consensus.code = code
        if not manual:
            consensus.decision = Decision.CHANGE_CODE
    if span is not None and span != (consensus.start, consensus.end):
        start, end = span
        actual = document.text[start:end] if 0 <= start < end <= document.length else ""
        span_validate(document=document, start=start, end=end, quote=actual)
        consensus.start, consensus.end, consensus.quote = start, end, actual
        if not manual:
            consensus.decision = Decision.ADJUST
    if (consensus.code_id, consensus.start, consensus.end) != (
        before["code"],
        before["start"],
        before["end"],
    ):
        consensus.codebook_version = document.project.codebook_version
    if memo is not None:
        consensus.memo = memo
    if note is not None:
        consensus.note = note.strip()
    if consensus_snapshot(consensus, [s.pk for s in sources]) == before:
        return consensus
    consensus.decided_by = actor
    consensus.version += 1
    consensus.full_clean()
    consensus.save()
    _record(document, actor, "consensus", consensus, "update", before,
            consensus_snapshot(consensus, [s.pk for s in sources]), via)  # fmt: skip
    return consensus


@transaction.atomic
def consensus_delete(
    *,
    consensus: ConsensusSegment,
    actor: AbstractBaseUser,
    expected_version: int | None = None,
    via: str = "web",
) -> ConsensusSegment:
    """Soft delete: the row stays for the history and can be restored."""
    _editable_state(consensus.document)
    consensus = _consensus_locked(consensus, expected_version)
    if consensus.deleted_at is not None:
        return consensus
    return _set_deleted(consensus, timezone.now(), actor, "delete", via)


@transaction.atomic
def consensus_restore(
    *, consensus: ConsensusSegment, actor: AbstractBaseUser, via: str = "web"
) -> ConsensusSegment:
    _editable_state(consensus.document)
    consensus = _consensus_locked(consensus, None)
    if consensus.deleted_at is None:
        return consensus
    return _set_deleted(consensus, None, actor, "restore", via)


def _set_deleted(
    consensus: ConsensusSegment,
    deleted_at: dt.datetime | None,
    actor: AbstractBaseUser,
    action: str,
    via: str,
) -> ConsensusSegment:
    """Soft-delete or restore a locked consensus segment: a new version and a
    history event."""
    sources = _source_ids(consensus)
    before = consensus_snapshot(consensus, sources)
    consensus.deleted_at = deleted_at
    consensus.version += 1
    consensus.save(update_fields=["deleted_at", "version", "updated_at"])
    _record(consensus.document, actor, "consensus", consensus, action, before,
            consensus_snapshot(consensus, sources), via)  # fmt: skip
    return consensus


@transaction.atomic
def decision_undo(
    *,
    document: Document,
    actor: AbstractBaseUser,
    segment_ids: Sequence[int],
    via: str = "web",
) -> int:
    """Take back the decisions on these coders' segments (consensus segments
    made from them and rejections of them), so the disagreement is open
    again. Returns how many decisions were taken back."""
    _editable_state(document)
    ids = [int(i) for i in segment_ids]
    undone = 0
    for consensus in ConsensusSegment.objects.filter(
        document=document, deleted_at__isnull=True, sources__in=ids
    ).distinct():
        consensus_delete(consensus=consensus, actor=actor, via=via)
        undone += 1
    now = timezone.now()
    for rejection in ConsensusRejection.objects.filter(
        document=document, deleted_at__isnull=True, sources__in=ids
    ).distinct():
        rejection.deleted_at = now
        rejection.save(update_fields=["deleted_at"])
        sources = sorted(rejection.sources.values_list("pk", flat=True))
        _record(document, actor, "rejection", rejection, "delete",
                {"sources": sources, "note": rejection.note},
                {"sources": sources, "note": rejection.note, "deleted": True}, via)  # fmt: skip
        undone += 1
    return undone


@transaction.atomic
def adjudication_mark(
    *,
    document: Document,
    actor: AbstractBaseUser,
    override_reason: str = "",
    via: str = "web",
) -> AdjudicationState:
    """Mark the consensus of a document final. Every disagreement must be
    settled; coders who are not done need an override reason."""
    state = _editable_state(document)
    data = adjudication_data(document)
    if data.open_count:
        raise ValidationError(
            {"document": f"{data.open_count} disagreement(s) are still open: accept, "
             "adjust or reject each one first."}
        )  # fmt: skip
    override_reason = override_reason.strip()
    pending = [lane.coder.get_username() for lane in data.lanes if not lane.done]
    if pending and not (override_reason or state.override_reason):
        raise ValidationError(
            {"override_reason": "Not every coder is done (" + ", ".join(pending)
             + "): give a reason to mark the document adjudicated anyway."}
        )  # fmt: skip
    before = state_snapshot(state)
    state.status = AdjudicationState.Status.ADJUDICATED
    state.adjudicator = actor
    state.adjudicated_at = timezone.now()
    if pending and override_reason:
        state.override_reason = override_reason
    state.full_clean()
    state.save()
    _record(document, actor, "adjudication", state, "update", before,
            state_snapshot(state), via)  # fmt: skip
    return state


@transaction.atomic
def adjudication_reopen(
    *,
    document: Document,
    actor: AbstractBaseUser,
    reason: str = "",
    via: str = "web",
) -> AdjudicationState:
    """Open an adjudicated document again; its decisions stay."""
    state = (
        AdjudicationState.objects.select_for_update().filter(document=document).first()
    )
    if state is None or state.status != AdjudicationState.Status.ADJUDICATED:
        raise ValidationError({"document": "This document is not marked adjudicated."})
    before = state_snapshot(state)
    state.status = AdjudicationState.Status.OPEN
    state.save()
    after = state_snapshot(state)
    if reason.strip():
        after["reason"] = reason.strip()
    _record(document, actor, "adjudication", state, "update", before, after, via)
    return state
