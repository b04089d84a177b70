"""GET /api/projects/<slug>/history/: the append-only history, newest first,
filterable, cursor-paginated, PIs only."""

import datetime as dt
from urllib.parse import urlencode

import pytest

from annotations.models import HistoryEvent
from annotations.selectors.history import history_events
from annotations.services.history import history_record
from tests import factories

from .adjudicated import build

pytestmark = pytest.mark.django_db
URL = "/api/projects/takedowns/history/"
UTC = dt.UTC


@pytest.fixture
def adjudicated(study):
    return build(study)


def _all(client, params=None) -> list[dict]:
    rows, url = [], URL
    while url:
        response = client.get(url, params if url == URL else None)
        assert response.status_code == 200, response.content
        rows.extend(response.json()["results"])
        url = response.json()["next"]
    return rows


def _ids(client, **params) -> list[int]:
    return [r["id"] for r in _all(client, params)]


def _newest_first(**filters) -> list[int]:
    return list(
        HistoryEvent.objects.filter(**filters)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)
    )


def test_pi_reads_every_event_newest_first(api, adjudicated):
    a = adjudicated
    factories.DocumentFactory(project=factories.ProjectFactory(), external_id="x")
    history_record(
        project=factories.ProjectFactory(), user=None, entity="project",
        entity_id=1, action="update",
    )  # fmt: skip
    body = api(a.study.pi).get(URL).json()
    assert set(body) == {"next", "previous", "results"}
    rows = body["results"]
    # 5 segments and the 2 assignments they started, then the adjudication.
    assert [r["id"] for r in rows] == _newest_first(project=a.study.project)
    assert len(rows) == 12
    newest = rows[0]
    event = HistoryEvent.objects.get(pk=newest.pop("id"))
    assert dt.datetime.fromisoformat(newest.pop("created")) == event.created_at
    assert newest == {
        "user": "pi", "via": "web", "entity": "consensus",
        "entity_id": a.manual.pk, "action": "create", "document": a.doc.pk,
        "external_id": "unicode", "before": None,
        "after": {
            "document": a.doc.pk, "code": a.study.codes["action"].pk,
            "start": 25, "end": 30, "quote": "café\u0301", "memo": "",
            "version": 1, "codebook_version": None, "deleted": False,
            "decision": "manual",
            "note": "missed by both", "decided_by": a.study.pi.pk, "sources": [],
        },
    }  # fmt: skip
    flag = next(r for r in rows if r["entity"] == "segment" and r["after"]["end"] == 24)
    assert flag["user"] == "coder1" and flag["via"] == "api"
    assert flag["after"]["quote"] == "🇪🇺" == a.doc.text[22:24]


def test_the_same_events_as_the_history_page_selector(api, adjudicated):
    client = api(adjudicated.study.pi)
    selected = history_events(adjudicated.study.project, entity="consensus")
    assert _ids(client, entity="consensus") == [e.pk for e in selected]


def test_filters(api, adjudicated, study):
    a = adjudicated
    other_doc = study.documents[0]
    imported = history_record(
        project=study.project, user=None, entity="document",
        entity_id=other_doc.pk, action="create", document=other_doc, via="command",
    )  # fmt: skip
    project_event = history_record(
        project=study.project, user=study.pi, entity="project",
        entity_id=study.project.pk, action="update", before={"blind": True},
        after={"blind": False}, via="api",
    )  # fmt: skip
    client = api(study.pi)
    p = study.project
    assert _ids(client, user="coder2") == _newest_first(project=p, user=study.coder2)
    assert len(_ids(client, user="coder2")) == 3
    assert _ids(client, user="-") == [imported.pk]
    assert _ids(client, user="nobody") == []
    assert _ids(client, document=other_doc.pk) == [imported.pk]
    assert _ids(client, document=a.doc.pk) == _newest_first(project=p, document=a.doc)
    assert _ids(client, entity="rejection") == list(
        HistoryEvent.objects.filter(entity="rejection").values_list("pk", flat=True)
    )
    assert _ids(client, action="update") == _newest_first(project=p, action="update")
    assert _ids(client, action="update", entity="project") == [project_event.pk]
    assert _ids(client, user="pi", entity="segment") == []
    consensus = _ids(client, entity="consensus", user="pi", document=a.doc.pk)
    made = [
        HistoryEvent.objects.get(entity="consensus", entity_id=c.pk, action="create").pk
        for c in (a.manual, a.adjusted, a.auto)
    ]
    assert consensus == made


@pytest.fixture
def dated(study):
    """Three events on three days (UTC), at ten in the morning."""
    events = []
    for day in (1, 2, 3):
        event = history_record(
            project=study.project, user=study.pi, entity="code", entity_id=day,
            action="update",
        )  # fmt: skip
        at = dt.datetime(2025, 3, day, 10, 0, tzinfo=UTC)
        HistoryEvent.objects.filter(pk=event.pk).update(created_at=at)
        events.append(event.pk)
    return events


@pytest.mark.parametrize(
    "since, until, expected",
    [
        ("2025-03-02", None, [2, 1]),
        (None, "2025-03-02", [1, 0]),
        ("2025-03-02", "2025-03-02", [1]),  # a date: the whole day
        ("2025-03-01T10:00:00Z", "2025-03-02T10:00:00Z", [1, 0]),  # included
        ("2025-03-01T10:00:01Z", "2025-03-02T09:59:59Z", []),
        ("2025-03-02T11:00:00+02:00", None, [2, 1]),  # 09:00 UTC
        ("2025-03-02T11:00:00 02:00", None, [2, 1]),  # "+" not URL-encoded
        ("2025-03-02T12:00:00", None, [2]),  # no offset: UTC
        ("2025-03-02T10:00:00.000001Z", "2025-03-03", [2]),
    ],
)
def test_since_and_until(api, study, dated, since, until, expected):
    params = {k: v for k, v in {"since": since, "until": until}.items() if v}
    assert _ids(api(study.pi), **params) == [dated[i] for i in expected]


def test_an_unencoded_plus_in_a_raw_query(api, study, dated):
    client = api(study.pi)
    raw = client.get(URL + "?since=2025-03-02T11:00:00+02:00")  # "+" reads as " "
    assert [r["id"] for r in raw.json()["results"]] == [dated[2], dated[1]]
    encoded = client.get(URL + "?" + urlencode({"since": "2025-03-02T11:00:00+02:00"}))
    assert encoded.json()["results"] == raw.json()["results"]


@pytest.mark.parametrize(
    "params, field, message",
    [
        ({"since": "yesterday"}, "since", "Give an ISO 8601 date-time"),
        ({"until": "2025-02-30"}, "until", "Give an ISO 8601 date-time"),
        ({"since": "2025-03-01T25:00:00Z"}, "since", "Give an ISO 8601 date-time"),
        ({"since": "2025-03-02", "until": "2025-03-01"}, "until", "before `since`"),
        (
            {"since": "2025-03-02T10:00:00Z", "until": "2025-03-02T09:00:00Z"},
            "until",
            "before `since`",
        ),
        ({"action": "erase"}, "action", '"erase" is not a valid choice.'),
        ({"document": "x"}, "document", "A valid integer is required."),
        ({"user": "u" * 151}, "user", "no more than 150 characters"),
        ({"entity": "e" * 33}, "entity", "no more than 32 characters"),
    ],
)
def test_bad_filters_are_400_with_a_message(api, study, params, field, message):
    response = api(study.pi).get(URL, params)
    assert response.status_code == 400
    assert message in response.json()[field][0], response.json()


def test_cursor_pages_neither_skip_nor_repeat_when_events_arrive(api, adjudicated):
    client = api(adjudicated.study.pi)
    everything = _newest_first(project=adjudicated.study.project)
    first = client.get(URL, {"page_size": 5}).json()
    assert first["previous"] is None and "cursor=" in first["next"]
    assert "page_size=5" in first["next"]
    # A change made between two requests is newer than every page: no shift.
    history_record(
        project=adjudicated.study.project, user=adjudicated.study.pi, entity="code",
        entity_id=1, action="update",
    )  # fmt: skip
    seen, url, page = [], first["next"], first
    seen += [r["id"] for r in first["results"]]
    while url:
        page = client.get(url).json()
        seen += [r["id"] for r in page["results"]]
        url = page["next"]
    assert seen == everything
    back = client.get(page["previous"]).json()
    assert [r["id"] for r in back["results"]] == everything[5:10]
    assert client.get(URL, {"cursor": "bogus"}).status_code == 404
    assert len(client.get(URL, {"page_size": 5000}).json()["results"]) == 13


def test_filtered_cursor_pages_keep_the_filter(api, adjudicated):
    client = api(adjudicated.study.pi)
    rows = _all(client, {"user": "coder1", "page_size": 2})
    assert [r["id"] for r in rows] == _newest_first(
        project=adjudicated.study.project, user=adjudicated.study.coder1
    )
    assert {r["user"] for r in rows} == {"coder1"} and len(rows) == 4


def test_a_page_of_100_takes_a_fixed_number_of_queries(
    api, study, django_assert_max_num_queries
):
    users = [study.pi, study.coder1, study.coder2, None]
    HistoryEvent.objects.bulk_create(
        HistoryEvent(
            project=study.project, user=users[i % 4],
            document=study.documents[i % 4] if i % 3 else None, entity="segment",
            entity_id=i, action="create", after={"n": i}, via="api",
        )
        for i in range(150)
    )  # fmt: skip
    client = api(study.pi)
    # token, project and role, the page with its users and documents
    with django_assert_max_num_queries(3):
        response = client.get(URL, {"page_size": 100})
    rows = response.json()["results"]
    assert len(rows) == 100 and response.json()["next"]
    assert {r["user"] for r in rows} == {"pi", "coder1", "coder2", None}
    assert {r["external_id"] for r in rows} == {"d0", "d1", "d2", "unicode", None}
