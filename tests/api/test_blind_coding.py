"""Blind coding through the API: a coder never sees another coder's segments,
whatever the list, detail, filter or sync parameter."""

import datetime as dt

import pytest
from django.utils import timezone

from annotations.models import Assignment, Segment
from annotations.services.coding import segment_create, segment_delete

pytestmark = pytest.mark.django_db
B = "/api/projects/takedowns/segments/"


@pytest.fixture
def coded(study):
    segments = {}
    for coder in (study.coder1, study.coder2):
        for doc in study.documents[:2]:
            seg, _ = segment_create(
                document=doc, coder=coder, code=study.codes["actor"], start=0, end=7,
                quote=doc.text[:7], memo=f"memo by {coder.username}",
            )  # fmt: skip
            segments.setdefault(coder.username, []).append(seg)
    segment_delete(segment=segments["coder2"][1], actor=study.coder2)
    return segments


def _all_pages(client, params):
    results, url = [], B
    while url:
        data = client.get(url, params if url == B else None).json()
        results.extend(data["results"])
        url = data["next"]
    return results


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"coder": "coder2"},
        {"include_deleted": "true"},
        {"changed_since": "2000-01-01T00:00:00Z", "include_deleted": "true"},
        {"page_size": 1},
        {"code": 1},
        {"document": 1},
    ],
)
def test_lists_show_only_own_segments(api, study, coded, params):
    params = dict(params)
    if "code" in params:
        params["code"] = study.codes["actor"].pk
    if "document" in params:
        params["document"] = study.documents[0].pk
    rows = _all_pages(api(study.coder1), params)
    assert {r["coder"] for r in rows} <= {"coder1"}
    if params.get("coder") != "coder2":
        assert rows
    body = str(rows)
    assert "memo by coder2" not in body and "coder2" not in body


def test_details_and_writes_of_others_are_404(api, study, coded):
    client = api(study.coder1)
    for seg in coded["coder2"]:
        url = f"{B}{seg.pk}/"
        assert client.get(url).status_code == 404
        assert client.patch(url, {"memo": "x"}, format="json").status_code == 404
        assert client.delete(url).status_code == 404
        assert b"coder2" not in client.get(url).content
    assert Segment.objects.filter(coder=study.coder2, memo="x").count() == 0


def test_pi_sees_everyone_including_deleted_for_sync(api, study, coded):
    rows = _all_pages(api(study.pi), {"include_deleted": "true"})
    assert {r["coder"] for r in rows} == {"coder1", "coder2"}
    assert sum(1 for r in rows if r["deleted"]) == 1


def test_open_project_shows_others_only_on_assigned_documents(api, study, coded):
    study.project.blind = False
    study.project.save()
    Assignment.objects.filter(coder=study.coder1, document=study.documents[1]).delete()
    rows = _all_pages(api(study.coder1), {})
    seen = {(r["coder"], r["document"]) for r in rows}
    assert ("coder2", study.documents[0].pk) in seen
    assert all(doc != study.documents[1].pk for _, doc in seen)


def test_sync_by_changed_since_never_returns_others(api, study, coded):
    since = (timezone.now() - dt.timedelta(minutes=5)).isoformat()
    Segment.objects.update(updated_at=timezone.now())
    rows = _all_pages(
        api(study.coder1), {"changed_since": since, "include_deleted": "true"}
    )
    assert [r["coder"] for r in rows] == ["coder1", "coder1"]
