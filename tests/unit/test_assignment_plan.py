import pytest

from annotations.services.assignments import assignment_plan


def test_all_to_all_without_overlap():
    assert assignment_plan(documents=[1, 2], coders=[7, 8]) == [
        (1, 7),
        (1, 8),
        (2, 7),
        (2, 8),
    ]


@pytest.mark.parametrize("seed", range(5))
def test_sample_share_balance_and_reproducibility(seed):
    docs = list(range(100, 200))
    coders = [1, 2, 3, 4]
    plan = assignment_plan(
        documents=docs, coders=coders, overlap=0.2, per_document=3, seed=seed
    )
    assert plan == assignment_plan(
        documents=list(reversed(docs)),
        coders=coders,
        overlap=0.2,
        per_document=3,
        seed=seed,
    )
    per_doc = {}
    for doc, coder in plan:
        per_doc.setdefault(doc, set()).add(coder)
    assert sorted(len(c) for c in per_doc.values()) == [1] * 80 + [3] * 20
    assert set(per_doc) == set(docs)
    load = [sum(c in v for v in per_doc.values()) for c in coders]
    assert max(load) - min(load) <= 1


def test_different_seeds_draw_different_samples():
    docs = list(range(50))
    a = assignment_plan(documents=docs, coders=[1, 2], overlap=0.3, seed=1)
    b = assignment_plan(documents=docs, coders=[1, 2], overlap=0.3, seed=2)
    assert a != b


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"coders": []}, "at least one coder"),
        ({"coders": [1], "overlap": 1.5}, "between 0 and 1"),
        ({"coders": [1, 2], "overlap": 0.5, "per_document": 3}, "per-document"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        assignment_plan(documents=[1, 2], **kwargs)
