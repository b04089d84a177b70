"""The stratified reliability sample (annotations.sampling): proportional
allocation by largest remainder, reproducible from the seed."""

import doctest
import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotations import sampling
from annotations.sampling import (
    MISSING,
    StratifyBy,
    proportional_allocation,
    stratified_sample,
    stratify_label,
    stratify_parse,
    stratum_value,
)
from annotations.services.assignments import assignment_plan


def _strata(sizes: dict[str | None, int], start: int = 1) -> dict[int, str | None]:
    """Consecutive ids, stratum after stratum."""
    out, pk = {}, start
    for label, n in sizes.items():
        for _ in range(n):
            out[pk] = label
            pk += 1
    return out


def _sampled_per_stratum(strata, sample) -> dict[str, int]:
    return dict(Counter(MISSING if strata[d] is None else strata[d] for d in sample))


def test_docstring_examples():
    result = doctest.testmod(sampling)
    assert result.attempted > 0 and result.failed == 0


def test_worked_example_10_20_70_at_20_percent():
    strata = _strata({"Guardian": 10, "Le Monde": 20, "Times": 70})
    drawn = stratified_sample(strata, share=0.2, seed=3)
    assert [(s.label, s.documents, s.sampled) for s in drawn.strata] == [
        ("Guardian", 10, 2),
        ("Le Monde", 20, 4),
        ("Times", 70, 14),
    ]
    assert _sampled_per_stratum(strata, drawn.sample) == {
        "Guardian": 2,
        "Le Monde": 4,
        "Times": 14,
    }
    assert len(drawn.sample) == 20 == len(set(drawn.sample))
    assert list(drawn.sample) == sorted(drawn.sample)


@pytest.mark.parametrize(
    ("sizes", "share", "expected"),
    [
        # quotas 1.5, 0.9, 0.6: floors 1, 0, 0, then the remainders .9 and .6
        ([5, 3, 2], 0.3, [1, 1, 1]),
        # quotas 4.2, 0.9, 0.9: the small strata's remainders win over the
        # big stratum (giving the big one the spare documents would be 5, 1, 0)
        ([14, 3, 3], 0.3, [4, 1, 1]),
        # quotas 1.75, 1.75, 1.5 with 5 in all
        ([7, 7, 6], 0.25, [2, 2, 1]),
        # 0.57 * 100 is 56.99999999999999 in floating point: exact quotas keep 57
        ([100, 100], 0.57, [57, 57]),
        ([3, 0, 4], 1.0, [3, 0, 4]),
        ([3, 4], 0.0, [0, 0]),
    ],
)
def test_largest_remainder(sizes, share, expected):
    assert proportional_allocation(sizes, share=share, seed=0) == expected


def test_equal_remainders_are_broken_by_the_seed():
    # Four quotas of 1.5: two strata get 2, which two depends on the seed.
    outcomes = {
        tuple(proportional_allocation([3, 3, 3, 3], share=0.5, seed=s))
        for s in range(40)
    }
    assert all(sum(o) == 6 and sorted(o) == [1, 1, 2, 2] for o in outcomes)
    assert len(outcomes) > 1


def test_same_seed_same_sample_other_seed_other_sample():
    strata = _strata({"a": 40, "b": 60, None: 25})
    first = stratified_sample(strata, share=0.3, seed=11)
    assert stratified_sample(strata, share=0.3, seed=11) == first
    other = stratified_sample(strata, share=0.3, seed=12)
    assert other.sample != first.sample
    # Other documents, the same allocation.
    assert other.strata == first.strata


def test_input_order_does_not_matter():
    strata = _strata({"x": 17, "y": 9, None: 5, "z": 30})
    items = list(strata.items())
    random.Random(0).shuffle(items)
    shuffled = dict(items)
    assert list(shuffled) != list(strata)
    for seed in range(5):
        assert stratified_sample(shuffled, share=0.25, seed=seed) == stratified_sample(
            strata, share=0.25, seed=seed
        )


def test_missing_values_form_their_own_stratum_last():
    strata = _strata({None: 10, "Zeit": 10, "Bild": 20})
    drawn = stratified_sample(strata, share=0.5, seed=1)
    assert [(s.label, s.documents, s.sampled) for s in drawn.strata] == [
        ("Bild", 20, 10),
        ("Zeit", 10, 5),
        (MISSING, 10, 5),
    ]
    assert _sampled_per_stratum(strata, drawn.sample)[MISSING] == 5


def test_one_stratum_is_the_unstratified_draw():
    docs = list(range(1000, 1083))
    for seed in range(5):
        drawn = stratified_sample(dict.fromkeys(docs, "all"), share=0.2, seed=seed)
        uniform = random.Random(seed).sample(sorted(docs), round(0.2 * len(docs)))
        assert drawn.sample == tuple(sorted(uniform))


def test_share_out_of_range():
    with pytest.raises(ValueError, match="between 0 and 1"):
        stratified_sample({1: "a"}, share=1.2, seed=0)


@settings(max_examples=300, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=8),
    with_missing=st.integers(min_value=0, max_value=15),
    share=st.floats(min_value=0, max_value=1, allow_nan=False),
    seed=st.integers(min_value=-(2**40), max_value=2**40),
    order_seed=st.integers(min_value=0, max_value=1000),
)
def test_property_proportional_and_total_of_the_uniform_draw(
    sizes, with_missing, share, seed, order_seed
):
    labels = {f"s{i}": n for i, n in enumerate(sizes)} | {None: with_missing}
    items = list(_strata(labels).items())
    random.Random(order_seed).shuffle(items)
    strata = dict(items)
    drawn = stratified_sample(strata, share=share, seed=seed)
    # The size an unstratified draw of the same share would have.
    assert len(drawn.sample) == round(share * len(strata))
    assert set(drawn.sample) <= set(strata)
    per_stratum = _sampled_per_stratum(strata, drawn.sample)
    for s in drawn.strata:
        assert abs(s.sampled - share * s.documents) < 1
        assert per_stratum.get(s.label, 0) == s.sampled
    assert sum(s.documents for s in drawn.strata) == len(strata)


@pytest.mark.parametrize(
    ("spec", "parsed", "label"),
    [
        ("source", StratifyBy("source"), "outlet"),
        (" published_year ", StratifyBy("published_year"), "year published"),
        ("metadata.lang", StratifyBy("metadata", "lang"), "metadata 'lang'"),
        ("metadata.a.b", StratifyBy("metadata", "a.b"), "metadata 'a.b'"),
        ("metadata.lang ", StratifyBy("metadata", "lang "), "metadata 'lang '"),
    ],
)
def test_stratify_parse(spec, parsed, label):
    assert stratify_parse(spec) == parsed
    assert parsed.label == label == stratify_label(spec)
    assert stratify_parse(parsed.spec) == parsed


@pytest.mark.parametrize(
    "spec", ["", "outlet", "published", "metadata", "metadata.", "metadata.  ",
             "Source", "metadata." + "k" * 100]
)  # fmt: skip
def test_stratify_parse_refuses(spec):
    with pytest.raises(ValueError, match="stratify|characters"):
        stratify_parse(spec)


def test_stratum_values_are_compared_as_strings():
    assert stratum_value(2020) == stratum_value("2020") == "2020"
    assert stratum_value(" Le Monde ") == "Le Monde"
    assert stratum_value(False) == "false"
    assert stratum_value({"b": 1, "a": 2}) == '{"a":2,"b":1}'
    assert stratum_value(None) is stratum_value("") is stratum_value("  ") is None


def test_assignment_plan_stratified_keeps_loads_balanced():
    strata = _strata({"Guardian": 10, "Le Monde": 20, "Times": 70, None: 5})
    docs = list(strata)
    coders = [1, 2, 3]
    plan = assignment_plan(
        documents=docs, coders=coders, overlap=0.2, per_document=2, seed=5,
        strata=strata,
    )  # fmt: skip
    assert plan == assignment_plan(
        documents=list(reversed(docs)), coders=coders, overlap=0.2,
        per_document=2, seed=5, strata=strata,
    )  # fmt: skip
    per_doc: dict[int, list[int]] = {}
    for doc, coder in plan:
        per_doc.setdefault(doc, []).append(coder)
    double = {d for d, c in per_doc.items() if len(c) == 2}
    assert set(per_doc) == set(docs)
    assert double == set(stratified_sample(strata, share=0.2, seed=5).sample)
    assert _sampled_per_stratum(strata, double) == {
        "Guardian": 2,
        "Le Monde": 4,
        "Times": 14,
        MISSING: 1,
    }
    load = Counter(coder for _, coder in plan)
    assert max(load.values()) - min(load.values()) <= 1


def test_assignment_plan_needs_every_documents_stratum():
    with pytest.raises(ValueError, match="stratum"):
        assignment_plan(
            documents=[1, 2, 3], coders=[1, 2], overlap=0.5, strata={1: "a", 2: "b"}
        )
