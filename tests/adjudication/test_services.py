"""Adjudication services: auto-accept, every decision, marking, re-adjudication."""

import pytest
from django.core.exceptions import ValidationError

from annotations.models import (
    AdjudicationState,
    Assignment,
    ConsensusRejection,
    ConsensusSegment,
    HistoryEvent,
)
from annotations.selectors.adjudication import adjudication_data, consensus_rows
from annotations.services import adjudication as svc
from annotations.services.coding import assignment_set_status, segment_update
from tests import factories

D = ConsensusSegment.Decision


def live(doc):
    return ConsensusSegment.objects.filter(document=doc, deleted_at__isnull=True)


def events(doc, entity=None):
    qs = HistoryEvent.objects.filter(document=doc)
    return qs.filter(entity=entity) if entity else qs


def start(d, **kw):
    return svc.adjudication_start(document=d.doc, actor=d.study.pi, **kw)


def test_start_accepts_what_all_coders_agree_on(disputed):
    d = disputed
    state, accepted = start(d)
    assert accepted == 2
    assert state.status == "open" and state.adjudicator == d.study.pi
    rows = list(live(d.doc).order_by("start"))
    assert [(c.code.name, c.start, c.end, c.decision) for c in rows] == [
        ("actor", 0, 7, D.AUTO),
        ("platform", 78, 86, D.AUTO),
    ]
    assert set(rows[0].sources.all()) == set(d.agreed[0])
    assert rows[0].decided_by == d.study.pi and rows[0].quote == "Europol"
    assert events(d.doc, "consensus").count() == 2
    assert events(d.doc, "adjudication").count() == 1
    data = adjudication_data(d.doc)
    assert [g.group.kind for g in data.disagreements] == ["boundary", "code", "missing"]
    assert data.open_count == 3
    # Running it again accepts nothing new and records nothing.
    n = HistoryEvent.objects.count()
    assert start(d)[1] == 0
    assert HistoryEvent.objects.count() == n


def test_start_with_overlap_accepts_near_matches(disputed):
    d = disputed
    # [8, 41) and [22, 41) share 19/33 of their union.
    assert start(d, overlap=0.5)[1] == 3
    boundary = live(d.doc).get(start__in=[8, 22])
    assert boundary.decision == D.AUTO
    assert adjudication_data(d.doc).open_count == 2
    with pytest.raises(ValidationError):
        start(d, overlap=1.5)


def test_start_needs_two_coders_and_done_or_a_reason(disputed):
    d = disputed
    single = d.study.documents[1]
    Assignment.objects.filter(document=single, coder=d.study.coder2).delete()
    with pytest.raises(ValidationError, match="two coders"):
        svc.adjudication_start(document=single, actor=d.study.pi)
    Assignment.objects.filter(document=d.doc, coder=d.study.coder2).update(
        status="in_progress"
    )
    with pytest.raises(ValidationError, match="coder2"):
        start(d)
    assert (
        not AdjudicationState.objects.exists() and not ConsensusSegment.objects.exists()
    )
    state, _ = start(d, override_reason="coder2 left the project")
    assert state.override_reason == "coder2 left the project"


def test_accept_one_coders_segment(disputed):
    d = disputed
    start(d)
    (c,) = svc.consensus_accept(
        document=d.doc,
        actor=d.study.pi,
        segment_ids=[d.boundary[1].pk],
        note="noun only",
    )
    assert (c.start, c.end, c.decision, c.note) == (22, 41, D.ACCEPT, "noun only")
    assert list(c.sources.all()) == [d.boundary[1]]
    assert c.memo == "only the noun"
    data = adjudication_data(d.doc)
    assert [g.resolved for g in data.disagreements] == [True, False, False]
    after = events(d.doc, "consensus").latest("id").after
    assert after["sources"] == [d.boundary[1].pk] and after["decision"] == "accept"


def test_accept_all_makes_one_consensus_segment_per_reading(disputed):
    d = disputed
    start(d)
    made = svc.consensus_accept(
        document=d.doc, actor=d.study.pi, segment_ids=[s.pk for s in d.boundary]
    )
    assert sorted((c.start, c.end, c.decision) for c in made) == [
        (8, 41, D.ACCEPT_ALL),
        (22, 41, D.ACCEPT_ALL),
    ]
    # Two coders with the same reading give one segment with two sources.
    other = d.study.documents[1]
    a = factories.SegmentFactory(
        document=other, coder=d.study.coder1, code=d.study.codes["actor"]
    )
    b = factories.SegmentFactory(
        document=other, coder=d.study.coder2, code=d.study.codes["actor"]
    )
    Assignment.objects.filter(document=other).update(status="done")
    svc.adjudication_start(document=other, actor=d.study.pi, auto=False)
    (c,) = svc.consensus_accept(
        document=other, actor=d.study.pi, segment_ids=[a.pk, b.pk]
    )
    assert c.decision == D.ACCEPT_ALL and c.sources.count() == 2


def test_adjust_change_code_reject_and_manual_add(disputed):
    d = disputed
    start(d)
    pi, codes = d.study.pi, d.study.codes
    adjusted = svc.consensus_adjust(
        document=d.doc, actor=pi, segment_ids=[s.pk for s in d.boundary], start=22, end=37,
        note="without 'day'",
    )  # fmt: skip
    assert (adjusted.start, adjusted.end, adjusted.quote) == (22, 37, "referral action")
    assert adjusted.decision == D.ADJUST and adjusted.code == codes["action"]
    assert adjusted.sources.count() == 2
    changed = svc.consensus_change_code(
        document=d.doc, actor=pi, segment_ids=[s.pk for s in d.code],
        code=codes["law_enforcement"],
    )  # fmt: skip
    assert (changed.start, changed.end, changed.decision) == (50, 63, D.CHANGE_CODE)
    assert changed.code == codes["law_enforcement"]
    rejection = svc.consensus_reject(
        document=d.doc, actor=pi, segment_ids=[d.missing.pk], note="not a takedown"
    )
    assert list(rejection.sources.all()) == [d.missing]
    manual = svc.consensus_add(
        document=d.doc, actor=pi, code=codes["action"], start=101, end=122,
        quote="accounts were removed", note="missed by both",
    )  # fmt: skip
    assert manual.decision == D.MANUAL and manual.sources.count() == 0
    data = adjudication_data(d.doc)
    assert data.open_count == 0
    assert len(data.consensus) == 5
    assert events(d.doc, "rejection").count() == 1
    assert events(d.doc, "consensus").count() == 2 + 3


def test_update_delete_restore_and_undo(disputed):
    d = disputed
    start(d)
    pi = d.study.pi
    (c,) = svc.consensus_accept(
        document=d.doc, actor=pi, segment_ids=[d.boundary[0].pk]
    )
    c = svc.consensus_update(consensus=c, actor=pi, span=(22, 41), expected_version=1)
    assert (c.decision, c.quote, c.version) == (D.ADJUST, "referral action day", 2)
    c = svc.consensus_update(consensus=c, actor=pi, code=d.study.codes["platform"])
    assert c.decision == D.CHANGE_CODE
    from annotations.services.errors import ConflictError

    with pytest.raises(ConflictError):
        svc.consensus_update(consensus=c, actor=pi, note="x", expected_version=1)
    svc.consensus_delete(consensus=c, actor=pi)
    assert adjudication_data(d.doc).disagreements[0].resolved is False
    svc.consensus_restore(consensus=c, actor=pi)
    assert adjudication_data(d.doc).disagreements[0].resolved is True
    svc.consensus_reject(document=d.doc, actor=pi, segment_ids=[d.missing.pk])
    assert (
        svc.decision_undo(
            document=d.doc,
            actor=pi,
            segment_ids=[d.missing.pk, *[s.pk for s in d.boundary]],
        )
        == 2
    )
    assert adjudication_data(d.doc).open_count == 3
    actions = list(
        events(d.doc)
        .exclude(entity="adjudication")
        .order_by("id")
        .values_list("entity", "action")
    )
    assert actions[2:] == [
        ("consensus", "create"), ("consensus", "update"), ("consensus", "update"),
        ("consensus", "delete"), ("consensus", "restore"), ("rejection", "create"),
        ("consensus", "delete"), ("rejection", "delete"),
    ]  # fmt: skip


def test_bad_input_changes_nothing(disputed):
    d = disputed
    pi, codes = d.study.pi, d.study.codes
    with pytest.raises(ValidationError, match="not started"):
        svc.consensus_accept(document=d.doc, actor=pi, segment_ids=[d.missing.pk])
    start(d)
    before = (ConsensusSegment.objects.count(), HistoryEvent.objects.count())
    elsewhere = factories.SegmentFactory(
        document=d.study.documents[1], coder=d.study.coder1, code=codes["actor"]
    )
    foreign = factories.CodeFactory(project=factories.ProjectFactory())
    bad = [
        lambda: svc.consensus_accept(document=d.doc, actor=pi, segment_ids=[elsewhere.pk]),
        lambda: svc.consensus_accept(document=d.doc, actor=pi, segment_ids=[]),
        lambda: svc.consensus_adjust(document=d.doc, actor=pi, segment_ids=[d.missing.pk],
                                     start=100, end=999),
        lambda: svc.consensus_adjust(document=d.doc, actor=pi, segment_ids=[d.missing.pk],
                                     start=30, end=20),
        lambda: svc.consensus_adjust(document=d.doc, actor=pi, segment_ids=[s.pk for s in d.code],
                                     start=50, end=60),
        lambda: svc.consensus_add(document=d.doc, actor=pi, code=codes["actor"], start=0,
                                  end=7, quote="Eurpol"),
        lambda: svc.consensus_add(document=d.doc, actor=pi, code=foreign, start=0, end=7),
    ]  # fmt: skip
    for call in bad:
        with pytest.raises(ValidationError):
            call()
    assert (ConsensusSegment.objects.count(), HistoryEvent.objects.count()) == before


def test_mark_adjudicated_reopen_and_readjudicate_after_a_coders_change(disputed):
    d = disputed
    pi = d.study.pi
    start(d)
    with pytest.raises(ValidationError, match="3 disagreement"):
        svc.adjudication_mark(document=d.doc, actor=pi)
    for group in adjudication_data(d.doc).disagreements:
        svc.consensus_accept(document=d.doc, actor=pi, segment_ids=[group.first.pk])
    state = svc.adjudication_mark(document=d.doc, actor=pi)
    assert state.status == "adjudicated" and state.adjudicated_at
    assert adjudication_data(d.doc).status == "adjudicated"
    with pytest.raises(ValidationError, match="reopen"):
        svc.consensus_reject(document=d.doc, actor=pi, segment_ids=[d.missing.pk])
    # coder2 reopens the article and changes a segment: it needs another look.
    assignment = Assignment.objects.get(document=d.doc, coder=d.study.coder2)
    assignment_set_status(
        assignment=assignment, status="in_progress", actor=d.study.coder2
    )
    segment_update(segment=d.code[1], actor=d.study.coder2, code=d.study.codes["actor"])
    data = adjudication_data(d.doc)
    assert data.status == "needs_review"
    # The two readings of [50, 63) now agree; the decision on them predates it.
    assert [g.group.kind for g in data.disagreements] == ["boundary", "missing"]
    recoded = next(g for g in data.agreements if g.group.start == 50)
    assert recoded.stale and recoded.resolved
    # Reopening keeps every decision.
    n = ConsensusSegment.objects.filter(deleted_at__isnull=True).count()
    svc.adjudication_reopen(document=d.doc, actor=pi, reason="coder2 recoded")
    assert ConsensusSegment.objects.filter(deleted_at__isnull=True).count() == n
    # Re-running auto-accept leaves the decision already taken on it.
    assert adjudication_data(d.doc).status == "open"
    with pytest.raises(ValidationError, match="coder2"):
        svc.adjudication_mark(document=d.doc, actor=pi)
    assert start(d, override_reason="coder2 recoded after adjudication")[1] == 0
    state = svc.adjudication_mark(
        document=d.doc, actor=pi, override_reason="recoded, fine"
    )
    assert state.status == "adjudicated" and state.override_reason == "recoded, fine"
    statuses = [
        (e.before or {}).get("status", "-") + ">" + e.after["status"]
        for e in events(d.doc, "adjudication").order_by("id")
    ]
    assert statuses == [
        "->open", "open>adjudicated", "adjudicated>open", "open>open", "open>adjudicated"
    ]  # fmt: skip


def test_consensus_rows(disputed):
    d = disputed
    start(d)
    svc.consensus_reject(document=d.doc, actor=d.study.pi, segment_ids=[d.missing.pk])
    rows = list(consensus_rows(d.study.project))
    assert len(rows) == 2
    row = rows[0]
    assert row[:5] == (d.doc.pk, d.study.codes["actor"].pk, 0, 7, "Europol")
    assert row[6] == "pi" and row[8] == "auto" and row[9] == ""
    assert row[10] == tuple(sorted(s.pk for s in d.agreed[0]))
    assert (
        list(consensus_rows(d.study.project, documents=[d.study.documents[1].pk])) == []
    )
    assert ConsensusRejection.objects.count() == 1
