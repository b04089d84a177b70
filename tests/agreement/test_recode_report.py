"""intra_coder_report: a coder's round 1 (the source project) against their
round 2 (the recode round), checked against the general agreement engine on
an equivalent project with two coders."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from annotations.models import Assignment, Code, Document, Membership, Project, Segment
from annotations.services.agreement import agreement_report
from annotations.services.codebook import code_update
from annotations.services.recode import intra_coder_report, recode_round_create
from tests import factories

from .conftest import find, seg, set_status

pytestmark = pytest.mark.django_db

# (document, code, start, end): round 1 in the source, round 2 in the round.
ROUND_1 = [
    ("d0", "actor", 0, 7), ("d0", "action", 8, 29),
    ("d1", "law_enforcement", 0, 7),
    ("d2", "actor", 0, 7),
    ("unicode", "platform", 0, 8), ("unicode", "actor", 9, 10),
]  # fmt: skip
# One disagreement: d1's round 2 adds platform [61, 69).
ROUND_2 = [*ROUND_1[:3], ("d1", "platform", 61, 69), *ROUND_1[3:]]


def code_of(project, path):
    *parents, name = path.split("/")
    return Code.objects.get(project=project, name=name)


def apply(project, coder, rows):
    docs = {d.external_id: d for d in project.documents.all()}
    names = {"law_enforcement": "actor/law_enforcement"}
    for ext, name, start, end in rows:
        seg(docs[ext], coder, code_of(project, names.get(name, name)), start, end)


def mark_done(project, coder, externals=None):
    for doc in project.documents.order_by("pk"):
        if externals is None or doc.external_id in externals:
            set_status(doc, coder)


@pytest.fixture
def rounds(study):
    """coder1 coded and marked done every study document (ROUND_1); a recode
    round of all four, not coded yet."""
    apply(study.project, study.coder1, ROUND_1)
    mark_done(study.project, study.coder1)
    # coder2's coding in the source is not coder1's round 1.
    seg(study.documents[0], study.coder2, study.codes["platform"], 61, 69)
    mark_done(study.project, study.coder2)
    study.recode = recode_round_create(
        source=study.project, coder=study.coder1, actor=study.pi, count=4
    )
    return study


def twin(study, rows_1, rows_2):
    """A normal project with the same codebook and documents, coded by two
    coders a1 (= round 1) and a2 (= round 2)."""
    project = factories.ProjectFactory(slug="twin")
    codes = {}
    for code in Code.objects.filter(project=study.project).order_by("pk"):
        codes[code.pk] = factories.CodeFactory(
            project=project, name=code.name, order=code.order,
            parent=codes.get(code.parent_id), color=code.color,
        )  # fmt: skip
    for doc in study.recode.documents.order_by("pk"):
        factories.DocumentFactory(
            project=project, external_id=doc.external_id, text=doc.text
        )
    a1 = factories.UserFactory(username="a1")
    a2 = factories.UserFactory(username="a2")
    for coder, rows in ((a1, rows_1), (a2, rows_2)):
        factories.MembershipFactory(project=project, user=coder)
        apply(project, coder, rows)
        mark_done(project, coder)
    return project


def renamed(results):
    names = {"a1": "coder1 (round 1)", "a2": "coder1 (round 2)"}
    out = []
    for r in results:
        r = dict(r)
        r["coders"] = [names[c] for c in r["coders"]]
        r["pair"] = None if r["pair"] is None else [names[c] for c in r["pair"]]
        out.append(r)
    return out


def test_identical_coding_agrees_perfectly(rounds):
    s = rounds
    apply(s.recode, s.coder1, ROUND_1)
    mark_done(s.recode, s.coder1)
    report = intra_coder_report(s.recode, bootstrap=0)
    assert (report["project"], report["source"], report["coder"]) == (
        s.recode.slug, "takedowns", "coder1",
    )  # fmt: skip
    sample = report["sample"]
    assert sample["coders"] == ["coder1 (round 1)", "coder1 (round 2)"]
    assert sample["documents"] == 4 and sample["segments"] == 12
    assert sample["external_ids"] == ["d0", "d1", "d2", "unicode"]
    assert sample["warnings"] == []
    for level in ("document", "character"):
        assert find(report["results"], level, "krippendorff_alpha")["value"] == 1.0
    pair = ["coder1 (round 1)", "coder1 (round 2)"]
    assert find(report["results"], "document", "cohen_kappa", pair=pair)["value"] == 1.0


def test_a_disagreement_equals_the_engine_on_two_coders(rounds):
    s = rounds
    apply(s.recode, s.coder1, ROUND_2)
    mark_done(s.recode, s.coder1)
    got = intra_coder_report(s.recode, bootstrap=200, seed=11)
    want = agreement_report(
        twin(s, ROUND_1, ROUND_2), bootstrap=200, seed=11, use_cache=False
    )
    assert got["results"] == renamed(want["results"])
    assert len(got["results"]) > 50
    assert any(r["ci_low"] is not None for r in got["results"])
    assert got["sample"]["external_ids"] == want["sample"]["external_ids"]
    assert got["sample"]["segments"] == want["sample"]["segments"] == 13
    alpha = find(got["results"], "document", "krippendorff_alpha", code="platform")
    assert alpha["value"] < 1.0
    assert (
        find(got["results"], "document", "krippendorff_alpha", code="action")["value"]
        == 1.0
    )


def test_codes_are_matched_by_path_and_a_renamed_one_counts_apart(rounds):
    s = rounds
    code_update(
        code=code_of(s.recode, "platform"), actor=s.pi, changes={"name": "channel"}
    )
    rows = [r if r[1] != "platform" else (r[0], "channel", *r[2:]) for r in ROUND_1]
    apply(s.recode, s.coder1, rows)
    mark_done(s.recode, s.coder1)
    report = intra_coder_report(s.recode, bootstrap=0, levels=["document"])
    assert report["sample"]["warnings"] == [
        "Codes in round 1's codebook only (counted as codes of their own): platform",
        "Codes in round 2's codebook only: channel",
    ]
    for path in ("actor", "actor/law_enforcement", "action"):
        r = find(report["results"], "document", "percent_agreement", code=path)
        assert r["value"] == 1.0, path
    codes = {r["code"] for r in report["results"]}
    assert {"platform", "channel"} <= codes
    pct = find(report["results"], "document", "percent_agreement", code="channel")
    assert pct["value"] < 1.0


def test_only_documents_done_in_both_rounds(rounds):
    s = rounds
    apply(s.recode, s.coder1, ROUND_1)
    mark_done(s.recode, s.coder1, {"d0", "d1", "d2"})
    # Round 1 of d2 reopened in the source: out too.
    d2 = Assignment.objects.get(document=s.documents[2], coder=s.coder1)
    set_status(d2.document, s.coder1, Assignment.Status.IN_PROGRESS)
    report = intra_coder_report(s.recode, bootstrap=0)
    assert report["sample"]["external_ids"] == ["d0", "d1"]
    assert report["sample"]["warnings"] == [
        "1 document of the round's 4 not marked done in round 2 yet: left out.",
        "1 document done in round 2 no longer marked done in round 1 "
        "(takedowns): left out.",
    ]


def test_deleted_segments_and_other_people_do_not_count(rounds):
    s = rounds
    apply(s.recode, s.coder1, ROUND_1)
    mark_done(s.recode, s.coder1)
    copy = s.recode.documents.get(external_id="d2")
    seg(copy, s.pi, code_of(s.recode, "action"), 8, 29)  # a PI of the round
    gone = seg(copy, s.coder1, code_of(s.recode, "platform"), 61, 69)
    Segment.objects.filter(pk=gone.pk).update(deleted_at=timezone.now())
    report = intra_coder_report(s.recode, bootstrap=0, levels=["document"])
    assert report["sample"]["segments"] == 12
    assert find(report["results"], "document", "krippendorff_alpha")["value"] == 1.0


def test_a_source_document_found_by_text_and_title_after_a_new_external_id(rounds):
    s = rounds
    apply(s.recode, s.coder1, ROUND_1)
    mark_done(s.recode, s.coder1)
    Document.objects.filter(pk=s.documents[1].pk).update(external_id="d1-renamed")
    report = intra_coder_report(s.recode, bootstrap=0)
    assert report["sample"]["documents"] == 4 and report["sample"]["warnings"] == []
    # A changed text is another document: left out, and said so.
    Document.objects.filter(pk=s.documents[2].pk).update(checksum="0" * 64)
    report = intra_coder_report(s.recode, bootstrap=0)
    assert report["sample"]["external_ids"] == ["d0", "d1", "unicode"]
    assert "no longer found in takedowns" in report["sample"]["warnings"][0]


def test_nothing_done_in_round_2_is_an_empty_report(rounds):
    report = intra_coder_report(rounds.recode, bootstrap=0)
    assert report["sample"]["documents"] == 0 and report["results"] == []
    assert report["sample"]["coders"] == ["coder1 (round 1)", "coder1 (round 2)"]


def test_not_a_recode_round(rounds):
    with pytest.raises(ValidationError, match="not a recode round"):
        intra_coder_report(rounds.project)
    # What deleting the source leaves (on_delete=SET_NULL).
    Project.objects.filter(pk=rounds.recode.pk).update(recode_of=None)
    rounds.recode.refresh_from_db()
    with pytest.raises(ValidationError, match="source project was deleted"):
        intra_coder_report(rounds.recode)


def test_bad_parameters(rounds):
    with pytest.raises(ValidationError, match="bootstrap"):
        intra_coder_report(rounds.recode, bootstrap=-1)
    with pytest.raises(ValidationError, match="unknown level"):
        intra_coder_report(rounds.recode, levels=["sentence"])


def test_members_of_the_round_are_the_pis_and_the_coder(rounds):
    roles = set(
        Membership.objects.filter(project=rounds.recode).values_list(
            "user__username", "role"
        )
    )
    assert roles == {("pi", "pi"), ("coder1", "coder")}
