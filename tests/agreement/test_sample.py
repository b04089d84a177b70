"""The reliability sample, roll-up, soft deletes, consensus and variables as
gathered from the database (annotations/selectors/agreement.py)."""

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone

from annotations.models import (
    AdjudicationState,
    Assignment,
    Code,
    ConsensusSegment,
    Segment,
)
from annotations.selectors.agreement import (
    CONSENSUS_ID,
    agreement_fingerprint,
    agreement_rows,
    segment_columns,
)
from annotations.services.agreement import agreement_report
from annotations.services.coding import segment_create, segment_delete, segment_update
from tests import factories

from .conftest import coded_under_v2_but_one, find, publish, seg, set_status

pytestmark = pytest.mark.django_db


def _pairs(data):
    return {
        (data.documents[d], data.coders[c])
        for d, c in zip(*np.nonzero(data.assigned), strict=True)
    }


def test_sample_is_documents_done_by_two_coders(coding):
    s = coding
    d0, d1, d2, d3 = s.documents
    rows = agreement_rows(s.project)
    assert set(rows.data.documents) == {d0.pk, d1.pk}  # d2: coder2 still in progress
    assert _pairs(rows.data) == {
        (d, c.pk) for d in (d0.pk, d1.pk) for c in (s.coder1, s.coder2)
    }
    # only segments of the sample's documents and coders
    assert rows.data.seg_document.size == 7
    assert rows.rule == "done"


def test_only_coders_who_marked_done_count(coding):
    s = coding
    d0 = s.documents[0]
    third = factories.UserFactory(username="coder3")
    factories.MembershipFactory(project=s.project, user=third)
    set_status(d0, third, Assignment.Status.IN_PROGRESS)
    seg(d0, third, s.codes["platform"], 0, 7)
    rows = agreement_rows(s.project)
    assert third.pk not in rows.data.coders  # in progress: missing, not "coded nothing"
    set_status(d0, third)
    rows = agreement_rows(s.project)
    assert (d0.pk, third.pk) in _pairs(rows.data)
    assert (s.documents[1].pk, third.pk) not in _pairs(rows.data)  # unassigned: missing


def test_unassigned_coder_is_missing_not_zero(coding):
    s = coding
    d0, d1 = s.documents[:2]
    third = factories.UserFactory(username="coder3")
    set_status(d0, third)  # coder3 only has d0
    seg(d0, third, s.codes["actor"], 0, 7)
    seg(d0, third, s.codes["action"], 8, 29)
    report = agreement_report(s.project, levels=["document"], bootstrap=0)
    # coder3 agrees on d0 and is missing on d1: kappa pairs with coder3 only
    # see d0's units, and percent agreement is unchanged by a missing coder.
    pair = find(
        report["results"], "document", "cohen_kappa", "action", ["coder1", "coder3"]
    )
    assert pair["n_documents"] == 1
    assert report["sample"]["coders"] == ["coder1", "coder2", "coder3"]


def test_all_coded_includes_work_in_progress_and_segments(coding):
    s = coding
    d0, d1, d2, d3 = s.documents
    rows = agreement_rows(s.project, all_coded=True)
    assert set(rows.data.documents) == {d0.pk, d1.pk, d2.pk}
    assert rows.rule == "all_coded"
    # d3: both assigned (to do), no segments: not coded by anyone
    assert d3.pk not in rows.data.documents
    # a coder with segments but no assignment counts under all_coded
    outsider_coder = factories.UserFactory(username="zed")
    seg(d3, outsider_coder, s.codes["actor"], 0, 7)
    seg(d3, s.coder1, s.codes["actor"], 0, 7)
    rows = agreement_rows(s.project, all_coded=True)
    assert d3.pk in rows.data.documents
    assert (d3.pk, outsider_coder.pk) in _pairs(rows.data)
    assert (d3.pk, s.coder2.pk) not in _pairs(rows.data)  # to do, no segments


def test_subcodes_roll_up_to_their_parent(coding):
    s = coding
    report = agreement_report(s.project, levels=["document", "character"], bootstrap=0)
    results = report["results"]
    # d1: coder1 law_enforcement, coder2 actor on the same span: both applied
    # "actor" (a subcode counts for its parent); they differ on law_enforcement.
    assert find(results, "document", "percent_agreement", "actor")["value"] == 1.0
    law = find(results, "document", "percent_agreement", "actor/law_enforcement")
    assert law["value"] == 0.5  # agree on d0 (neither), disagree on d1
    chars = find(results, "character", "percent_agreement", "actor")
    assert chars["value"] == 1.0
    assert {r["code"] for r in results} >= {None, "actor", "actor/law_enforcement"}


def test_soft_deleted_segments_never_count(coding):
    s = coding
    d1 = s.documents[1]
    before = agreement_report(s.project, levels=["document"], bootstrap=0)
    assert (
        find(before["results"], "document", "percent_agreement", "platform")["value"]
        == 0.5
    )
    platform = d1.segments.get(code=s.codes["platform"])
    # reopen so the service accepts the delete, then mark done again
    set_status(d1, s.coder2, Assignment.Status.IN_PROGRESS)
    segment_delete(segment=platform, actor=s.coder2)
    set_status(d1, s.coder2)
    assert agreement_rows(s.project).data.seg_document.size == 6
    after = agreement_report(s.project, levels=["document"], bootstrap=0)
    row = find(after["results"], "document", "percent_agreement", "platform")
    assert row["value"] == 1.0  # nobody applied it now
    alpha = find(after["results"], "document", "krippendorff_alpha", "platform")
    assert alpha["value"] is None and "no coder applied" in alpha["note"]


def _consensus(doc, code, start, end, *, deleted=False):
    from django.utils import timezone

    return ConsensusSegment.objects.create(
        document=doc, code=code, start=start, end=end, quote=doc.text[start:end],
        decision=ConsensusSegment.Decision.MANUAL,
        deleted_at=timezone.now() if deleted else None,
    )  # fmt: skip


def test_consensus_appears_as_pairs_and_leaves_the_coders_rows_alone(coding):
    s = coding
    d0, d1 = s.documents[:2]
    AdjudicationState.objects.create(document=d0)
    # the consensus equals coder1 on d0 (actor, action), plus a deleted one
    _consensus(d0, s.codes["actor"], 0, 7)
    _consensus(d0, s.codes["action"], 8, 29)
    _consensus(d0, s.codes["platform"], 61, 69, deleted=True)
    plain = agreement_report(s.project, bootstrap=0)
    both = agreement_report(s.project, bootstrap=0, with_consensus=True)
    rows = agreement_rows(s.project, with_consensus=True)
    assert rows.consensus is not None
    assert rows.consensus.documents == (d0.pk,)
    assert CONSENSUS_ID in rows.consensus.coders
    assert rows.consensus.seg_document.size == 4 + 2  # coders' d0 + live consensus
    extra = [r for r in both["results"] if r not in plain["results"]]
    assert extra and all("consensus" in (r["pair"] or []) for r in extra)
    assert [r for r in both["results"] if r in plain["results"]] == plain["results"]
    exact = find(both["results"], "span", "f1_exact", "action", ["coder1", "consensus"])
    assert exact["value"] == 1.0 and exact["n_documents"] == 1
    assert "consensus" in exact["note"]
    assert both["sample"]["consensus_documents"] == 1
    # no adjudication anywhere: no consensus pairs
    AdjudicationState.objects.all().delete()
    ConsensusSegment.objects.all().delete()
    none = agreement_report(s.project, bootstrap=0, with_consensus=True)
    assert not [r for r in none["results"] if "consensus" in (r["pair"] or [])]


def test_variables_carry_their_level_and_declared_order(study):
    p = study.project
    tone = factories.CodeFactory(project=p, name="tone", level=Code.Level.ORDINAL)
    # declared order: low, mid, high, whatever the names sort as
    kids = [
        factories.CodeFactory(project=p, name=n, parent=tone, order=i, value=v)
        for i, (n, v) in enumerate([("zlow", 1.0), ("amid", 2.0), ("mhigh", 3.0)])
    ]
    size = factories.CodeFactory(project=p, name="size", level=Code.Level.INTERVAL)
    factories.CodeFactory(project=p, name="small", parent=size, value=None)
    rows = agreement_rows(p)
    (var,) = rows.data.variables
    assert var.code == tone.pk and var.level == "ordinal"
    assert var.values == tuple(
        (k.pk, v) for k, v in zip(kids, (1.0, 2.0, 3.0), strict=True)
    )
    assert any("size" in w and "no number" in w for w in rows.warnings)


def test_variable_results_are_named_by_code_path(study):
    p, (d0, d1, *_), c1, c2 = study.project, study.documents, study.coder1, study.coder2
    tone = factories.CodeFactory(project=p, name="tone", level=Code.Level.NOMINAL)
    pos = factories.CodeFactory(project=p, name="positive", parent=tone)
    neg = factories.CodeFactory(project=p, name="negative", parent=tone)
    for doc, a, b in ((d0, pos, pos), (d1, neg, pos)):
        seg(doc, c1, a, 0, 7)
        seg(doc, c2, b, 0, 7)
        set_status(doc, c1)
        set_status(doc, c2)
    report = agreement_report(p, levels=["variable"], bootstrap=0)
    assert (
        find(report["results"], "variable", "percent_agreement", "tone")["value"] == 0.5
    )


@pytest.mark.postgres
def test_copy_reader_equals_the_orm(coding):
    s = coding
    seg(s.documents[3], s.coder1, s.codes["actor"], 3, 100)
    got = segment_columns(s.project)
    want = np.asarray(
        list(
            Segment.objects.filter(document__project=s.project, deleted_at__isnull=True)
            .order_by()
            .values_list("document_id", "coder_id", "code_id", "start", "end")
        ),
        dtype=np.int64,
    )
    assert got.dtype == np.int64
    assert sorted(map(tuple, got.tolist())) == sorted(map(tuple, want.tolist()))


def test_fingerprint_changes_with_the_data(coding):
    s = coding
    d0 = s.documents[0]
    first = agreement_fingerprint(s.project)
    assert agreement_fingerprint(s.project) == first
    # Segment changes are seen through the history row every service writes
    # (the fingerprint never scans the segments themselves).
    d2 = s.documents[2]
    new, _ = segment_create(
        document=d2, coder=s.coder2, code=s.codes["platform"], start=30, end=40,
        quote=d2.text[30:40],
    )  # fmt: skip
    second = agreement_fingerprint(s.project)
    assert second != first
    segment_update(segment=new, actor=s.coder2, memo="why")
    third = agreement_fingerprint(s.project)
    assert third not in (first, second)
    segment_delete(segment=new, actor=s.coder2)
    assert agreement_fingerprint(s.project) not in (first, second, third)
    first = agreement_fingerprint(s.project)
    s.documents[1].delete()  # its segments go with it
    assert agreement_fingerprint(s.project) not in (first, second, third)
    third = agreement_fingerprint(s.project)
    Assignment.objects.filter(document=d0, coder=s.coder1).update(status="todo")
    assert agreement_fingerprint(s.project) != third  # bulk, no updated_at
    fourth = agreement_fingerprint(s.project)
    s.codes["action"].name = "act"
    s.codes["action"].save()
    assert agreement_fingerprint(s.project) != fourth
    # another project's changes do not matter
    fifth = agreement_fingerprint(s.project)
    other = factories.DocumentFactory()
    factories.SegmentFactory(document=other)
    assert agreement_fingerprint(s.project) == fifth


def test_without_published_versions_the_sample_has_no_version_counts(coding):
    rows = agreement_rows(coding.project)
    assert rows.codebook_versions == {}
    assert not any("codebook version" in w for w in rows.warnings)


def test_the_sample_counts_its_segments_per_codebook_version(coding):
    s = coding
    d0, d1, d2, _ = s.documents
    publish(s.project, 1, 2)
    live = Segment.objects.filter(document__project=s.project)
    live.filter(document=d0).update(codebook_version=2)
    live.filter(document=d1, coder=s.coder1).update(codebook_version=1)
    # Outside the sample (d2: coder2 in progress) and deleted: not counted.
    live.filter(document=d2).update(codebook_version=1)
    gone = seg(d0, s.coder1, s.codes["platform"], 40, 50)
    Segment.objects.filter(pk=gone.pk).update(
        codebook_version=1, deleted_at=timezone.now()
    )

    rows = agreement_rows(s.project)
    # d0: 4 segments under v2; d1: coder1's 1 under v1, coder2's 2 before any
    assert rows.codebook_versions == {None: 2, 1: 1, 2: 4}
    assert list(rows.codebook_versions) == [None, 1, 2]
    (warning,) = [w for w in rows.warnings if "codebook version" in w]
    assert "(before the first version: 2 segments; v1: 1 segment; v2: 4 segments)" in (
        warning
    )

    report = agreement_report(s.project, bootstrap=0)
    assert report["sample"]["codebook_versions"] == [
        {"version": None, "segments": 2},
        {"version": 1, "segments": 1},
        {"version": 2, "segments": 4},
    ]


def test_a_sample_under_one_version_says_so_without_a_warning(coding, client):
    s = coding
    publish(s.project, 1)
    Segment.objects.filter(document__project=s.project).update(codebook_version=1)
    rows = agreement_rows(s.project)
    assert rows.codebook_versions == {1: 7}
    assert not any("codebook version" in w for w in rows.warnings)
    client.force_login(s.pi)
    page = client.get(reverse("agreement", args=[s.project.slug]), {"bootstrap": 0})
    assert page.status_code == 200
    assert "Coded under codebook v1." in page.content.decode()


def _versioned(s):
    """The ``coding`` study with v1 and v2 published: everything coded under
    v2 except coder1's one segment on d1 (v1); d0 gets a disagreement (a
    platform segment of coder1 only) so its coefficients are not all 1."""
    d0, d1 = s.documents[:2]
    seg(d0, s.coder1, s.codes["platform"], 30, 40)
    return coded_under_v2_but_one(s)


def test_codebook_version_keeps_only_documents_coded_under_it(coding):
    s = _versioned(coding)
    d0 = s.documents[0]
    rows = agreement_rows(s.project, codebook_version=2)
    assert rows.data.documents == (d0.pk,)
    assert rows.left_out_other_versions == 1
    assert rows.codebook_versions == {2: 5}  # no mixed-versions warning then
    (warning,) = rows.warnings
    assert warning.startswith("1 document of the sample left out")
    assert "v2" in warning

    report = agreement_report(s.project, bootstrap=0, codebook_version=2)
    sample = report["sample"]
    assert sample["documents"] == 1 and sample["external_ids"] == ["d0"]
    assert sample["codebook_version"] == 2
    assert sample["left_out_other_versions"] == 1
    assert "codebook v2" in sample["description"]
    # By hand on d0: both coders applied actor and action, neither
    # law_enforcement, coder1 alone platform: 3 of 4 (document, code) units.
    results = report["results"]
    assert find(results, "document", "percent_agreement")["value"] == 0.75
    assert find(results, "document", "percent_agreement", "platform")["value"] == 0
    assert find(results, "span", "f1_exact", "action")["value"] == 1.0

    # The engine on d0 alone (d1 out of the sample: coder2 reopened it) gives
    # every result the same.
    set_status(s.documents[1], s.coder2, Assignment.Status.IN_PROGRESS)
    alone = agreement_report(s.project, bootstrap=0)
    assert alone["sample"]["external_ids"] == ["d0"]
    assert results == alone["results"]


def test_codebook_version_leaves_out_documents_of_other_versions(coding):
    s = _versioned(coding)
    rows = agreement_rows(s.project, codebook_version=1)
    assert rows.data.documents == ()  # d0 all v2; d1 has coder2's v2 segments
    assert rows.left_out_other_versions == 2
    assert "2 documents of the sample left out" in rows.warnings[-1]
    # Without the option: the whole sample, nothing left out.
    rows = agreement_rows(s.project)
    assert len(rows.data.documents) == 2 and rows.left_out_other_versions == 0
    assert rows.codebook_version is None
    assert not any("left out" in w for w in rows.warnings)


def test_codebook_version_segments_before_the_first_version_leave_out(coding):
    s = _versioned(coding)
    d0 = s.documents[0]
    Segment.objects.filter(document=d0, coder=s.coder2, start=0).update(
        codebook_version=None
    )
    rows = agreement_rows(s.project, codebook_version=2)
    assert rows.data.documents == ()
    assert rows.left_out_other_versions == 2


def test_codebook_version_a_coder_without_segments_coded_nothing_under_it(coding):
    s = _versioned(coding)
    d1 = s.documents[1]
    # coder1's only (v1) segment on d1 is deleted: coder1 coded nothing there,
    # coder2 coded under v2, so d1 is in.
    Segment.objects.filter(document=d1, coder=s.coder1).update(
        deleted_at=timezone.now()
    )
    rows = agreement_rows(s.project, codebook_version=2)
    assert set(rows.data.documents) == {s.documents[0].pk, d1.pk}
    assert rows.left_out_other_versions == 0
    assert not any("left out" in w for w in rows.warnings)


def test_codebook_version_ignores_coders_who_do_not_count(coding):
    s = _versioned(coding)
    d0 = s.documents[0]
    third = factories.UserFactory(username="coder3")
    set_status(d0, third, Assignment.Status.IN_PROGRESS)  # not done: not counted
    old = seg(d0, third, s.codes["actor"], 0, 7)
    Segment.objects.filter(pk=old.pk).update(codebook_version=1)
    rows = agreement_rows(s.project, codebook_version=2)
    assert rows.data.documents == (d0.pk,)
    # Under all_coded the third coder counts on d0, and their v1 segment
    # leaves d0 out too.
    rows = agreement_rows(s.project, all_coded=True, codebook_version=2)
    assert d0.pk not in rows.data.documents


def test_codebook_version_restricts_the_consensus_documents(coding):
    s = _versioned(coding)
    d0, d1 = s.documents[:2]
    for doc in (d0, d1):
        AdjudicationState.objects.create(document=doc)
        _consensus(doc, s.codes["actor"], 0, 7)
    rows = agreement_rows(s.project, with_consensus=True)
    assert set(rows.consensus.documents) == {d0.pk, d1.pk}
    rows = agreement_rows(s.project, with_consensus=True, codebook_version=2)
    assert rows.consensus.documents == (d0.pk,)
    report = agreement_report(
        s.project, bootstrap=0, with_consensus=True, codebook_version=2
    )
    assert report["sample"]["consensus_documents"] == 1
    pair = find(report["results"], "span", "f1_exact", "actor", ["coder1", "consensus"])
    assert pair["n_documents"] == 1
