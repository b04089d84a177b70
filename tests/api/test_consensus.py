"""GET /api/projects/<slug>/consensus/ and /adjudication/: the consensus with
its provenance and each document's adjudication status, PIs only."""

import datetime as dt

import pytest

from annotations.models import (
    AdjudicationState,
    Assignment,
    ConsensusSegment,
    Document,
    Segment,
)
from annotations.services import adjudication as adj
from annotations.services.coding import segment_update
from tests import factories

from .adjudicated import build, seg

pytestmark = pytest.mark.django_db
CONSENSUS = "/api/projects/takedowns/consensus/"
ADJUDICATION = "/api/projects/takedowns/adjudication/"


@pytest.fixture
def adjudicated(study):
    return build(study)


def when(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


# --- consensus ------------------------------------------------------------------


def test_pi_reads_the_consensus_with_its_provenance(api, adjudicated):
    a, s = adjudicated, adjudicated.segments
    body = api(a.study.pi).get(CONSENSUS).json()
    assert body["count"] == 3 and body["next"] is None
    rows = body["results"]
    assert [r["id"] for r in rows] == [a.auto.pk, a.adjusted.pk, a.manual.pk]
    for row in rows:
        stored = ConsensusSegment.objects.get(pk=row["id"])
        assert when(row.pop("decided_at")) == stored.decided_at
        assert when(row.pop("updated")) == stored.updated_at
    doc, codes = a.doc.pk, a.study.codes
    assert rows == [
        {
            "id": a.auto.pk, "document": doc, "external_id": "unicode",
            "code": codes["actor"].pk, "code_path": "actor", "start": 0, "end": 8,
            "quote": "Telegram", "memo": "the platform's owner", "decision": "auto",
            "automatic": True, "note": "", "decided_by": "pi", "version": 1,
            "source_segments": [s["telegram1"].pk, s["telegram2"].pk],
            "source_coders": ["coder1", "coder2"], "sources_changed": False,
        },
        {
            "id": a.adjusted.pk, "document": doc, "external_id": "unicode",
            "code": codes["platform"].pk, "code_path": "platform", "start": 11,
            "end": 21, "quote": "قناة مغلقة", "memo": "", "decision": "adjust",
            "automatic": False, "note": "the channel's full name",
            "decided_by": "pi", "version": 1,
            "source_segments": [s["channel1"].pk, s["channel2"].pk],
            "source_coders": ["coder1", "coder2"], "sources_changed": False,
        },
        {
            "id": a.manual.pk, "document": doc, "external_id": "unicode",
            "code": codes["action"].pk, "code_path": "action", "start": 25,
            "end": 30, "quote": "café\u0301", "memo": "", "decision": "manual",
            "automatic": False, "note": "missed by both", "decided_by": "pi",
            "version": 1, "source_segments": [], "source_coders": [],
            "sources_changed": False,
        },
    ]  # fmt: skip
    # Code points: the quote is the text's slice, emoji and accents included.
    for row in rows:
        assert a.doc.text[row["start"] : row["end"]] == row["quote"]


def test_nested_code_path_deleted_segments_and_changed_sources(api, adjudicated):
    a, study = adjudicated, adjudicated.study
    nested = adj.consensus_add(
        document=a.doc, actor=study.pi, code=study.codes["law_enforcement"],
        start=11, end=15,
    )  # fmt: skip
    adj.consensus_delete(consensus=a.manual, actor=study.pi)
    # A coder reopens and changes a source after the decision: stale.
    Assignment.objects.filter(document=a.doc).update(status="in_progress")
    segment_update(
        segment=a.segments["channel2"], actor=study.coder2, memo="changed my mind"
    )
    rows = api(study.pi).get(CONSENSUS).json()["results"]
    by_id = {r["id"]: r for r in rows}
    assert set(by_id) == {a.auto.pk, a.adjusted.pk, nested.pk}
    assert by_id[nested.pk]["code_path"] == "actor/law_enforcement"
    assert by_id[nested.pk]["quote"] == "قناة"
    assert by_id[a.adjusted.pk]["sources_changed"] is True
    assert by_id[a.auto.pk]["sources_changed"] is False


def test_filters(api, adjudicated, study):
    other = study.documents[0]
    seg(other, study.coder1, study.codes["actor"], 0, 7)
    seg(other, study.coder2, study.codes["actor"], 0, 7)
    adj.adjudication_start(
        document=other, actor=study.pi, override_reason="a pilot document"
    )
    elsewhere = ConsensusSegment.objects.get(document=other)
    client = api(study.pi)

    def ids(**params):
        response = client.get(CONSENSUS, params)
        assert response.status_code == 200, response.content
        return [r["id"] for r in response.json()["results"]]

    a = adjudicated
    assert ids() == [elsewhere.pk, a.auto.pk, a.adjusted.pk, a.manual.pk]
    assert ids(document=a.doc.pk) == [a.auto.pk, a.adjusted.pk, a.manual.pk]
    assert ids(code=study.codes["actor"].pk) == [elsewhere.pk, a.auto.pk]
    assert ids(code=study.codes["actor"].pk, document=a.doc.pk) == [a.auto.pk]
    assert ids(decision="manual") == [a.manual.pk]
    assert ids(decision="auto", document=other.pk) == [elsewhere.pk]
    # Not a subcode filter, and another project's ids find nothing.
    assert ids(code=study.codes["law_enforcement"].pk) == []
    assert ids(document=factories.DocumentFactory().pk) == []


@pytest.mark.parametrize(
    "params, field, message",
    [
        ({"document": "x"}, "document", "A valid integer is required."),
        ({"document": "0"}, "document", "greater than or equal to 1"),
        ({"code": str(10**30)}, "code", "less than or equal to"),
        ({"decision": "nope"}, "decision", '"nope" is not a valid choice.'),
    ],
)
def test_bad_filters_are_400_with_a_message(api, adjudicated, params, field, message):
    response = api(adjudicated.study.pi).get(CONSENSUS, params)
    assert response.status_code == 400
    assert message in response.json()[field][0]


def test_pagination(api, adjudicated):
    client = api(adjudicated.study.pi)
    first = client.get(CONSENSUS, {"page_size": 2}).json()
    assert first["count"] == 3 and len(first["results"]) == 2
    assert first["previous"] is None and "page=2" in first["next"]
    second = client.get(first["next"]).json()
    assert [r["id"] for r in second["results"]] == [adjudicated.manual.pk]
    assert second["next"] is None
    assert client.get(CONSENSUS, {"page": 9}).status_code == 404
    assert len(client.get(CONSENSUS, {"page_size": 5000}).json()["results"]) == 3


def _many_consensus_segments(study, n_docs: int = 10, per_doc: int = 12):
    """``n_docs`` documents with ``per_doc`` consensus segments each, every one
    from two coders' segments (rows written in bulk: the services have their
    own tests)."""
    text = "word " * (per_doc + 1)
    codes = list(study.codes.values())
    through = ConsensusSegment.sources.through
    for d in range(n_docs):
        doc = factories.DocumentFactory(
            project=study.project, external_id=f"bulk{d}", text=text
        )
        for i in range(per_doc):
            code = codes[i % len(codes)]
            pair = Segment.objects.bulk_create(
                Segment(document=doc, coder=coder, code=code, start=5 * i,
                        end=5 * i + 4, quote="word")
                for coder in (study.coder1, study.coder2)
            )  # fmt: skip
            consensus = ConsensusSegment.objects.create(
                document=doc, code=code, start=5 * i, end=5 * i + 4, quote="word",
                decision="accept_all", decided_by=study.pi,
            )  # fmt: skip
            through.objects.bulk_create(
                through(consensussegment=consensus, segment=s) for s in pair
            )


def test_a_page_of_100_takes_a_fixed_number_of_queries(
    api, study, django_assert_max_num_queries
):
    _many_consensus_segments(study)
    client = api(study.pi)
    # token, project and role, count, the page, its sources, the code paths
    with django_assert_max_num_queries(6):
        response = client.get(CONSENSUS, {"page_size": 100})
    body = response.json()
    assert body["count"] == 120 and len(body["results"]) == 100
    assert all(len(r["source_coders"]) == 2 for r in body["results"])
    assert body["results"][0]["code_path"] == "actor"


# --- adjudication states ----------------------------------------------------------


def test_statuses_who_when_and_open_disagreements(api, adjudicated, study):
    a = adjudicated
    d0, d1, d2 = study.documents[:3]
    # d0: started, one disagreement left open (actor vs action on one span).
    seg(d0, study.coder1, study.codes["actor"], 0, 7)
    seg(d0, study.coder2, study.codes["action"], 0, 7)
    adj.adjudication_start(document=d0, actor=study.pi, override_reason="pilot")
    # The unicode document: every disagreement settled, then marked.
    adj.adjudication_mark(document=a.doc, actor=study.pi)
    # d1: adjudicated, then a coder changed a segment: needs another look.
    s1 = seg(d1, study.coder1, study.codes["actor"], 0, 7)
    seg(d1, study.coder2, study.codes["actor"], 0, 7)
    Assignment.objects.filter(document=d1).update(status=Assignment.Status.DONE)
    adj.adjudication_start(document=d1, actor=study.pi)
    adj.adjudication_mark(document=d1, actor=study.pi)
    Assignment.objects.filter(document=d1).update(status="in_progress")
    segment_update(segment=s1, actor=study.coder1, memo="later")
    # d2: not started; a document with one coder is not listed.
    lone = factories.DocumentFactory(project=study.project, external_id="lone")
    Assignment.objects.create(document=lone, coder=study.coder1)

    body = api(study.pi).get(ADJUDICATION).json()
    assert body["count"] == 4
    rows = {r["external_id"]: r for r in body["results"]}
    assert list(rows) == ["d0", "d1", "d2", "unicode"]  # by document id
    states = {s.document_id: s for s in AdjudicationState.objects.all()}
    for doc in (d0, d1, a.doc):
        row, state = rows[doc.external_id], states[doc.pk]
        assert when(row.pop("updated")) == state.updated_at
        at = row.pop("adjudicated_at")
        assert (at and when(at)) == state.adjudicated_at
    assert rows["d0"] == {
        "document": d0.pk, "external_id": "d0", "title": d0.title,
        "status": "open", "status_label": "In progress", "coders": 2,
        "coders_done": 0, "disagreements": 1, "open": 1, "consensus": 0,
        "adjudicator": "pi", "overlap": None, "override_reason": "pilot",
    }  # fmt: skip
    assert rows["unicode"] == {
        "document": a.doc.pk, "external_id": "unicode", "title": "Unicode",
        "status": "adjudicated", "status_label": "Adjudicated", "coders": 2,
        "coders_done": 2, "disagreements": 2, "open": 0, "consensus": 3,
        "adjudicator": "pi", "overlap": None, "override_reason": "",
    }  # fmt: skip
    assert rows["d1"]["status"] == "needs_review"
    assert rows["d1"]["status_label"] == "Needs another look"
    assert rows["d1"]["consensus"] == 1 and rows["d1"]["open"] == 0
    assert rows["d2"] == {
        "document": d2.pk, "external_id": "d2", "title": d2.title,
        "status": "not_started", "status_label": "Not started", "coders": 2,
        "coders_done": 0, "disagreements": 0, "open": 0, "consensus": 0,
        "adjudicator": None, "adjudicated_at": None, "updated": None,
        "overlap": None, "override_reason": None,
    }  # fmt: skip


def test_adjudication_filters_and_bad_values(api, adjudicated, study):
    adj.adjudication_mark(document=adjudicated.doc, actor=study.pi)
    client = api(study.pi)

    def external_ids(**params):
        response = client.get(ADJUDICATION, params)
        assert response.status_code == 200, response.content
        return [r["external_id"] for r in response.json()["results"]]

    assert external_ids(status="adjudicated") == ["unicode"]
    assert external_ids(status="not_started") == ["d0", "d1", "d2"]
    assert external_ids(status="open") == []
    assert external_ids(document=study.documents[1].pk) == ["d1"]
    assert external_ids(document=study.documents[1].pk, status="adjudicated") == []
    bad = client.get(ADJUDICATION, {"status": "done"})
    assert bad.status_code == 400
    assert bad.json() == {"status": ['"done" is not a valid choice.']}
    assert client.get(ADJUDICATION, {"document": "one"}).status_code == 400


def test_adjudication_page_of_100_takes_a_fixed_number_of_queries(
    api, study, django_assert_max_num_queries
):
    docs = Document.objects.bulk_create(
        Document(project=study.project, external_id=f"n{i}", title=f"N{i}",
                 text="Some words here.", length=16, checksum="x")
        for i in range(110)
    )  # fmt: skip
    Assignment.objects.bulk_create(
        Assignment(document=d, coder=c) for d in docs for c in (study.coder1, study.coder2)
    )  # fmt: skip
    Segment.objects.bulk_create(
        Segment(document=d, coder=c, code=code, start=0, end=4, quote="Some")
        for d in docs
        for c, code in ((study.coder1, study.codes["actor"]),
                        (study.coder2, study.codes["action"]))
    )  # fmt: skip
    AdjudicationState.objects.bulk_create(
        AdjudicationState(document=d, adjudicator=study.pi) for d in docs[:60]
    )
    client = api(study.pi)
    # token, project and role, count, the page; the summaries: last changes,
    # consensus counts, assignments, segments, two kinds of settled sources
    with django_assert_max_num_queries(10):
        response = client.get(ADJUDICATION, {"page_size": 100})
    body = response.json()
    assert body["count"] == 114 and len(body["results"]) == 100
    bulk = [r for r in body["results"] if r["external_id"].startswith("n")]
    assert len(bulk) == 96 and {r["open"] for r in bulk} == {1}
    assert sum(r["adjudicator"] == "pi" for r in body["results"]) == 60


# --- the schema ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "endpoint, filters, fields, paging",
    [
        (
            "consensus",
            {"document", "code", "decision"},
            {"quote", "start", "end", "decision", "automatic", "source_segments",
             "source_coders", "decided_by", "decided_at", "note", "code_path"},
            {"page", "page_size"},
        ),
        (
            "adjudication",
            {"status", "document"},
            {"status", "adjudicator", "adjudicated_at", "disagreements", "open"},
            {"page", "page_size"},
        ),
        (
            "history",
            {"user", "document", "entity", "action", "since", "until"},
            {"created", "user", "via", "entity", "entity_id", "action", "before",
             "after", "document", "external_id"},
            {"cursor", "page_size"},
        ),
    ],
)  # fmt: skip
def test_documented_in_the_schema(client, db, endpoint, filters, fields, paging):
    schema = client.get("/api/schema/?format=json").json()
    path = schema["paths"][f"/api/projects/{{slug}}/{endpoint}/"]
    assert set(path) == {"get"}  # read-only
    op = path["get"]
    assert {p["name"] for p in op["parameters"]} == {"slug"} | filters | paging
    assert {"200", "400", "401", "404"} <= set(op["responses"])
    page = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    page = schema["components"]["schemas"][page.rsplit("/", 1)[1]]
    assert "results" in page["properties"]
    assert ("count" in page["properties"]) == ("page" in paging)
    row = page["properties"]["results"]["items"]["$ref"].rsplit("/", 1)[1]
    assert fields <= set(schema["components"]["schemas"][row]["properties"])
