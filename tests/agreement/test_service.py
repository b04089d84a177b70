"""agreement_report: shape, parameters, the cache and its invalidation."""

import csv
import io
import json

import pytest
from django.core.exceptions import ValidationError

from annotations.models import AgreementCache, Assignment
from annotations.services.agreement import (
    PAYLOAD_VERSION,
    agreement_csv,
    agreement_documents,
    agreement_file_write,
    agreement_params,
    agreement_payload,
    agreement_report,
)
from annotations.services.coding import segment_create
from annotations.stats import DEFAULT_SEED, RECORD_FIELDS

from .conftest import Counting, find, publish, set_status

pytestmark = pytest.mark.django_db


def test_report_shape(coding):
    report = agreement_report(coding.project, bootstrap=50, seed=7)
    assert set(report) == {"project", "sample", "results"}
    assert report["project"] == "takedowns"
    sample = report["sample"]
    assert sample["documents"] == 2 and sample["rule"] == "done"
    assert sample["coders"] == ["coder1", "coder2"]
    assert sample["bootstrap"] == 50 and sample["seed"] == 7
    assert sample["external_ids"] == ["d0", "d1"]
    assert sample["levels"] == [
        "document",
        "variable",
        "character",
        "unitizing",
        "span",
    ]
    for r in report["results"]:
        assert list(r) == list(RECORD_FIELDS)
        assert r["code"] is None or isinstance(r["code"], str)
        assert all(isinstance(c, str) for c in r["coders"])
        assert r["pair"] is None or len(r["pair"]) == 2
    kappa = find(
        report["results"], "document", "cohen_kappa", "platform", ["coder1", "coder2"]
    )
    assert kappa["coders"] == ["coder1", "coder2"]
    assert json.loads(json.dumps(report)) == report  # plain JSON, no NaN


def test_levels_are_filtered_and_ordered(coding):
    report = agreement_report(coding.project, levels=["span", "document"], bootstrap=0)
    assert {r["level"] for r in report["results"]} == {"document", "span"}
    assert report["sample"]["levels"] == ["document", "span"]
    assert report["results"][0]["level"] == "document"


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"levels": ["document", "sentence"]}, "level"),
        ({"bootstrap": -1}, "bootstrap"),
        ({"bootstrap": 10**6}, "bootstrap"),
        ({"seed": -5}, "seed"),
        ({"codebook_version": 0}, "codebook_version"),
        ({"codebook_version": "2"}, "codebook_version"),
    ],
)
def test_bad_parameters_are_refused(coding, kwargs, field):
    with pytest.raises(ValidationError) as err:
        agreement_report(coding.project, **kwargs)
    assert field in err.value.message_dict
    assert not AgreementCache.objects.exists()


def test_the_cache_serves_until_the_data_changes(coding):
    s = coding
    engine = Counting()
    first = agreement_report(s.project, bootstrap=20, engine=engine)
    assert engine.calls == 1
    again = agreement_report(s.project, bootstrap=20, engine=engine)
    assert engine.calls == 1  # nothing changed: not recomputed
    assert again == first
    # other parameters: another entry
    agreement_report(s.project, bootstrap=20, seed=1, engine=engine)
    assert engine.calls == 2
    assert AgreementCache.objects.filter(project=s.project).count() == 2
    # a coder adds a segment: recomputed once, then cached again
    d2 = s.documents[2]
    segment_create(
        document=d2, coder=s.coder2, code=s.codes["platform"], start=61, end=69,
        quote=d2.text[61:69],
    )  # fmt: skip
    set_status(d2, s.coder2)  # d2 joins the sample
    changed = agreement_report(s.project, bootstrap=20, engine=engine)
    assert engine.calls == 3
    assert changed["sample"]["documents"] == 3
    agreement_report(s.project, bootstrap=20, engine=engine)
    assert engine.calls == 3
    # an explicit recompute
    agreement_report(s.project, bootstrap=20, engine=engine, use_cache=False)
    assert engine.calls == 4
    assert AgreementCache.objects.filter(project=s.project).count() == 2  # replaced


def test_consensus_runs_the_engine_a_second_time_only_when_asked(coding):
    from annotations.models import AdjudicationState

    AdjudicationState.objects.create(document=coding.documents[0])
    engine = Counting()
    agreement_report(coding.project, bootstrap=0, with_consensus=True, engine=engine)
    assert engine.calls == 2
    agreement_report(coding.project, bootstrap=0, with_consensus=True, engine=engine)
    assert engine.calls == 2


def test_an_assignment_reopened_invalidates(coding):
    s = coding
    engine = Counting()
    agreement_report(s.project, bootstrap=0, engine=engine)
    set_status(s.documents[1], s.coder2, Assignment.Status.IN_PROGRESS)
    report = agreement_report(s.project, bootstrap=0, engine=engine)
    assert engine.calls == 2
    assert report["sample"]["documents"] == 1


def test_documents_ranked_by_disagreement(coding):
    payload = agreement_payload(coding.project, agreement_params(bootstrap=0))
    docs = agreement_documents(payload, payload["documents"])
    assert [d["external_id"] for d in docs] == ["d1", "d0"]
    d1, d0 = docs
    assert d0["disagreement"] == 0.0 and d0["codes_disputed"] == 0
    # d1: law_enforcement vs actor on [0, 7), platform by coder2 only
    assert d1["codes_disputed"] == 3 and d1["disagreement"] == 1.0
    assert d1["coders"] == ["coder1", "coder2"] and d1["segments"] == 3


def test_csv_is_tidy(coding):
    report = agreement_report(coding.project, bootstrap=0)
    rows = list(csv.DictReader(io.StringIO(agreement_csv(report))))
    assert list(rows[0]) == list(RECORD_FIELDS)
    assert len(rows) == len(report["results"])
    pair = next(r for r in rows if r["pair"])
    assert pair["pair"] == "coder1;coder2" and pair["coders"] == "coder1;coder2"
    pooled = rows[0]
    assert pooled["code"] == "" and pooled["pair"] == ""
    undefined = next(r for r in rows if r["value"] == "")
    assert undefined["note"]


def test_file_write_is_atomic(coding, tmp_path):
    report = agreement_report(coding.project, bootstrap=0)
    path = tmp_path / "a.json"
    path.write_text("old")
    with pytest.raises(ValidationError):
        agreement_file_write(report=report, fmt="xml", path=path)
    assert path.read_text() == "old"
    assert agreement_file_write(report=report, fmt="json", path=path) == len(
        report["results"]
    )
    assert json.loads(path.read_text())["results"] == report["results"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]  # no temp left


def test_only_the_latest_reports_are_kept(coding, monkeypatch):
    from annotations.services import agreement as service

    monkeypatch.setattr(service, "KEEP_REPORTS", 2)
    for seed in (1, 2, 3):
        agreement_report(coding.project, bootstrap=0, seed=seed)
    kept = AgreementCache.objects.filter(project=coding.project)
    assert sorted(kept.values_list("params", flat=True)) == [
        f"v{service.PAYLOAD_VERSION};"
        "levels=document,variable,character,unitizing,span;all_coded=0;consensus=0;"
        f"bootstrap=0;seed={seed}"
        for seed in (2, 3)
    ]


def test_a_new_payload_version_recomputes(coding, monkeypatch):
    from annotations.services import agreement as service

    engine = Counting()
    agreement_report(coding.project, bootstrap=0, engine=engine)
    agreement_report(coding.project, bootstrap=0, engine=engine)
    assert engine.calls == 1
    monkeypatch.setattr(service, "PAYLOAD_VERSION", service.PAYLOAD_VERSION + 1)
    agreement_report(coding.project, bootstrap=0, engine=engine)
    assert engine.calls == 2  # the entry of the old shape is not served


def test_codebook_version_must_be_published(coding):
    with pytest.raises(ValidationError) as err:
        agreement_report(coding.project, codebook_version=1)
    assert err.value.message_dict["codebook_version"] == [
        "codebook version 1 does not exist: the project has not published a "
        "codebook version yet"
    ]
    publish(coding.project, 1, 2)
    with pytest.raises(ValidationError) as err:
        agreement_report(coding.project, codebook_version=3)
    assert err.value.message_dict["codebook_version"] == [
        "codebook version 3 does not exist: the project published v1, v2"
    ]
    with pytest.raises(ValidationError):  # never sent to the database
        agreement_report(coding.project, codebook_version=2**70)
    assert not AgreementCache.objects.exists()
    report = agreement_report(coding.project, bootstrap=0, codebook_version=2)
    assert report["sample"]["codebook_version"] == 2


def test_codebook_version_is_part_of_the_cache_key(coding):
    publish(coding.project, 1, 2)
    plain = agreement_params(bootstrap=0)
    assert plain.codebook_version is None
    assert plain.key == (
        f"v{PAYLOAD_VERSION};levels=document,variable,character,unitizing,span;"
        f"all_coded=0;consensus=0;bootstrap=0;seed={DEFAULT_SEED}"
    )
    v2 = agreement_params(bootstrap=0, codebook_version=2)
    assert v2.key == plain.key + ";codebook_version=2"
    assert agreement_params(bootstrap=0, codebook_version=1).key != v2.key

    engine = Counting()
    pooled = agreement_report(coding.project, bootstrap=0, engine=engine)
    only = agreement_report(
        coding.project, bootstrap=0, codebook_version=2, engine=engine
    )
    assert engine.calls == 2  # not served the pooled report
    agreement_report(coding.project, bootstrap=0, engine=engine)
    agreement_report(coding.project, bootstrap=0, codebook_version=2, engine=engine)
    assert engine.calls == 2
    assert pooled["sample"]["codebook_version"] is None
    assert pooled["sample"]["left_out_other_versions"] == 0
    # Nothing was coded under a version: every segment left d0 and d1 out.
    assert only["sample"]["documents"] == 0
    assert only["sample"]["left_out_other_versions"] == 2
    assert sorted(AgreementCache.objects.values_list("params", flat=True)) == sorted(
        [plain.key, v2.key]
    )
