"""The pure alignment rule: no database."""

import doctest

import pytest

from annotations import adjudication
from annotations.adjudication import Span, consensus_candidates, iou, segments_align

A, B, C = 10, 11, 12  # coders
ACTOR, ACTION = 1, 2  # codes


def span(id, coder, code, start, end):
    return Span(id=id, coder=coder, code=code, start=start, end=end)


def test_docstring_examples():
    assert doctest.testmod(adjudication).failed == 0


def test_exact_agreement_of_all_coders_and_a_missing_coder():
    segs = [
        span(1, A, ACTOR, 0, 7), span(2, B, ACTOR, 0, 7), span(3, C, ACTOR, 0, 7),
        span(4, A, ACTION, 10, 20), span(5, B, ACTION, 10, 20),
    ]  # fmt: skip
    result = segments_align(segs, coders=[A, B, C])
    assert [(g.code, g.start, g.end, g.segment_ids) for g in result.agreements] == [
        (ACTOR, 0, 7, (1, 2, 3))
    ]
    (missing,) = result.disagreements
    assert missing.kind == "missing"
    assert missing.segment_ids == (4, 5)
    assert missing.coders == {A, B}
    assert missing.code == ACTION


def test_a_coder_without_any_segment_means_nothing_is_agreed():
    segs = [span(1, A, ACTOR, 0, 7), span(2, B, ACTOR, 0, 7)]
    result = segments_align(segs, coders=[A, B, C])
    assert result.agreements == ()
    assert [g.kind for g in result.disagreements] == ["missing"]


def test_kinds_of_disagreement():
    segs = [
        span(1, A, ACTOR, 0, 10), span(2, B, ACTOR, 3, 10),  # boundary
        span(3, A, ACTOR, 20, 30), span(4, B, ACTION, 20, 30),  # code
        span(5, A, ACTOR, 40, 50), span(6, B, ACTION, 41, 50),  # mixed (iou .9)
        span(7, A, ACTION, 60, 70),  # only A
    ]  # fmt: skip
    result = segments_align(segs, coders=[A, B])
    assert result.agreements == ()
    assert [(g.kind, g.segment_ids, g.start, g.end) for g in result.disagreements] == [
        ("boundary", (1, 2), 0, 10),
        ("code", (3, 4), 20, 30),
        ("mixed", (5, 6), 40, 50),
        ("missing", (7,), 60, 70),
    ]


def test_different_codes_on_barely_overlapping_spans_stay_apart():
    # An actor named inside a longer action: two readings, not one passage.
    segs = [span(1, A, ACTOR, 0, 10), span(2, B, ACTION, 0, 40)]
    result = segments_align(segs, coders=[A, B])
    assert [g.segment_ids for g in result.disagreements] == [(1,), (2,)]


def test_one_coders_own_segments_are_not_linked_to_each_other():
    segs = [span(1, A, ACTOR, 0, 10), span(2, A, ACTOR, 5, 15)]
    result = segments_align(segs, coders=[A, B])
    assert [g.segment_ids for g in result.disagreements] == [(1,), (2,)]
    # ... but a coder whose segment covers both joins them into one boundary case.
    result = segments_align(segs + [span(3, B, ACTOR, 0, 15)], coders=[A, B])
    assert [(g.kind, g.segment_ids) for g in result.disagreements] == [
        ("boundary", (1, 3, 2))
    ]


def test_overlap_threshold():
    segs = [span(1, A, ACTOR, 0, 10), span(2, B, ACTOR, 2, 10)]  # iou 0.8
    assert segments_align(segs, coders=[A, B], overlap=0.8).disagreements == ()
    assert len(segments_align(segs, coders=[A, B], overlap=0.81).disagreements) == 1
    assert len(segments_align(segs, coders=[A, B]).disagreements) == 1
    (g,) = segments_align(segs, coders=[A, B], overlap=0.5).agreements
    assert g.segment_ids == (1, 2) and g.code == ACTOR


def test_overlap_agreement_needs_every_pair_and_takes_the_medoid_span():
    segs = [
        span(1, A, ACTOR, 0, 100), span(2, B, ACTOR, 5, 100), span(3, C, ACTOR, 10, 100)
    ]  # fmt: skip
    (g,) = segments_align(segs, coders=[A, B, C], overlap=0.85).agreements
    assert (g.start, g.end) == (5, 100)  # closest to both others
    # A and C overlap by 0.9 only: with 0.95 there is no agreement at all.
    result = segments_align(segs, coders=[A, B, C], overlap=0.95)
    assert result.agreements == ()
    assert [g.kind for g in result.disagreements] == ["boundary"]


def test_overlap_agreement_never_mixes_codes():
    segs = [span(1, A, ACTOR, 0, 10), span(2, B, ACTION, 0, 10)]
    result = segments_align(segs, coders=[A, B], overlap=0.1)
    assert result.agreements == ()
    assert result.disagreements[0].kind == "code"


def test_duplicates_of_an_agreed_segment_join_the_agreement():
    segs = [span(1, A, ACTOR, 0, 7), span(2, A, ACTOR, 0, 7), span(3, B, ACTOR, 0, 7)]
    result = segments_align(segs, coders=[A, B])
    assert [g.segment_ids for g in result.agreements] == [(1, 2, 3)]
    assert result.disagreements == ()


def test_groups_in_text_order_and_keys():
    segs = [
        span(9, A, ACTION, 50, 60), span(8, B, ACTION, 50, 60), span(7, A, ACTOR, 0, 5)
    ]  # fmt: skip
    result = segments_align(segs, coders=[A, B])
    assert [g.key for g in result.groups] == ["g7", "g8"]
    assert [g.agreed for g in result.groups] == [False, True]


def test_edge_cases():
    assert segments_align([], coders=[A, B]).groups == ()
    with pytest.raises(ValueError, match="overlap"):
        segments_align([], coders=[A, B], overlap=0)
    with pytest.raises(ValueError, match="not listed"):
        segments_align([span(1, C, ACTOR, 0, 5)], coders=[A, B])
    assert iou(span(1, A, 1, 0, 5), span(2, B, 1, 5, 9)) == 0.0


def test_consensus_candidates_most_shared_first():
    segs = [
        span(1, A, ACTOR, 0, 9), span(2, B, ACTOR, 0, 7), span(3, C, ACTOR, 0, 7)
    ]  # fmt: skip
    (g,) = segments_align(segs, coders=[A, B, C]).disagreements
    assert consensus_candidates(g) == [(ACTOR, 0, 7, (2, 3)), (ACTOR, 0, 9, (1,))]
