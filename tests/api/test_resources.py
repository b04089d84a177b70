"""The REST API's resources: shapes, filters, pagination, sync, validation."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from annotations.models import (
    Assignment,
    Code,
    Document,
    HistoryEvent,
    Membership,
    Project,
    Segment,
)
from annotations.services.coding import segment_create

pytestmark = pytest.mark.django_db
BASE = "/api/projects/takedowns"


def _seg(study, coder, code="actor", start=0, end=7, doc=0):
    d = study.documents[doc]
    segment, _ = segment_create(
        document=d, coder=coder, code=study.codes[code], start=start, end=end,
        quote=d.text[start:end],
    )  # fmt: skip
    return segment


def test_projects_list_create_and_patch(api, study):
    client = api(study.pi)
    data = client.get("/api/projects/").json()
    assert [p["slug"] for p in data["results"]] == ["takedowns"]
    assert data["results"][0]["role"] == "pi"
    created = client.post("/api/projects/", {"name": "Second study"}, format="json")
    assert created.status_code == 201 and created.json()["slug"] == "second-study"
    assert Membership.objects.get(project__slug="second-study").user == study.pi
    taken = client.post(
        "/api/projects/", {"name": "X", "slug": "takedowns"}, format="json"
    )
    assert taken.status_code == 400 and "slug" in taken.json()
    patched = client.patch(f"{BASE}/", {"blind": False}, format="json")
    assert patched.status_code == 200 and patched.json()["blind"] is False
    assert HistoryEvent.objects.filter(entity="project", via="api").exists()


def test_token_and_session_auth(api, study, client):
    assert api().get("/api/projects/").status_code in (401, 403)
    bad = api()
    bad.credentials(HTTP_AUTHORIZATION="Token nope")
    assert bad.get("/api/projects/").status_code == 401
    client.force_login(study.pi)
    assert client.get("/api/projects/").status_code == 200


def test_session_writes_need_csrf(study):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(study.pi)
    response = client.patch(f"{BASE}/", {"name": "Hijacked"}, format="json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    assert Project.objects.get(slug="takedowns").name == "Takedowns"


def test_documents_list_detail_search_and_etag(api, study):
    client = api(study.pi)
    data = client.get(f"{BASE}/documents/").json()
    assert data["count"] == 4 and "text" not in data["results"][0]
    doc = study.documents[3]
    detail = client.get(f"{BASE}/documents/{doc.pk}/")
    assert detail.json()["text"] == doc.text and detail["ETag"]
    again = client.get(f"{BASE}/documents/{doc.pk}/", HTTP_IF_NONE_MATCH=detail["ETag"])
    assert again.status_code == 304
    found = client.get(f"{BASE}/documents/", {"q": "قناة"}).json()
    assert [d["id"] for d in found["results"]] == [doc.pk]
    page = client.get(f"{BASE}/documents/", {"page_size": 3, "page": 2}).json()
    assert page["count"] == 4 and len(page["results"]) == 1 and page["previous"]


def test_document_create_validates_and_is_idempotent(api, study):
    client = api(study.pi)
    body = {"external_id": "n1", "title": "New", "text": "Line one\r\nLine two"}
    created = client.post(f"{BASE}/documents/", body, format="json")
    assert created.status_code == 201 and created.json()["text"] == "Line one\nLine two"
    assert client.post(f"{BASE}/documents/", body, format="json").status_code == 200
    clash = client.post(f"{BASE}/documents/", body | {"text": "other"}, format="json")
    assert clash.status_code == 400 and "external_id" in clash.json()
    bad = client.post(
        f"{BASE}/documents/", {"external_id": "n2", "title": "x", "text": "  ", "url": "nope"},
        format="json",
    )  # fmt: skip
    assert bad.status_code == 400 and {"text", "url"} <= set(bad.json())
    assert Document.objects.filter(project=study.project).count() == 5


def test_codes_crud_conflict_and_merge(api, study):
    client = api(study.pi)
    codes = client.get(f"{BASE}/codes/").json()["results"]
    assert {c["path"] for c in codes} >= {"actor/law_enforcement"}
    created = client.post(
        f"{BASE}/codes/", {"name": "court", "parent": study.codes["actor"].pk, "key": "k"},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201 and created.json()["path"] == "actor/court"
    code_id = created.json()["id"]
    dup_key = client.post(f"{BASE}/codes/", {"name": "z", "key": "a"}, format="json")
    assert dup_key.status_code == 400 and "already used" in dup_key.json()["key"][0]
    renamed = client.patch(
        f"{BASE}/codes/{code_id}/", {"name": "courts", "version": 1}, format="json"
    )
    assert renamed.status_code == 200 and renamed.json()["version"] == 2
    stale = client.patch(
        f"{BASE}/codes/{code_id}/", {"name": "x", "version": 1}, format="json"
    )
    assert stale.status_code == 409 and stale.json()["current"]["name"] == "courts"
    foreign = client.patch(f"{BASE}/codes/{code_id}/", {"parent": 10**6}, format="json")
    assert foreign.status_code == 400 and "parent" in foreign.json()

    _seg(study, study.coder1, "action")
    merged = client.post(
        f"{BASE}/codes/{study.codes['action'].pk}/merge/",
        {"into": code_id},
        format="json",
    )
    assert merged.status_code == 200 and merged.json()["segments"] == 1
    assert Segment.objects.get().code_id == code_id
    itself = client.post(
        f"{BASE}/codes/{code_id}/merge/", {"into": code_id}, format="json"
    )
    assert itself.status_code == 400 and "into" in itself.json()


def test_members(api, study):
    client = api(study.pi)
    members = client.get(f"{BASE}/members/").json()["results"]
    assert {m["username"] for m in members} == {"pi", "coder1", "coder2"}
    added = client.post(
        f"{BASE}/members/", {"username": "outsider", "role": "coder"}, format="json"
    )
    assert added.status_code == 201
    unknown = client.post(
        f"{BASE}/members/", {"username": "ghost", "role": "coder"}, format="json"
    )
    assert unknown.status_code == 400 and "username" in unknown.json()
    pi_member = Membership.objects.get(project=study.project, user=study.pi)
    demote = client.patch(
        f"{BASE}/members/{pi_member.pk}/", {"role": "coder"}, format="json"
    )
    assert demote.status_code == 400
    coder2 = Membership.objects.get(project=study.project, user=study.coder2)
    assert client.delete(f"{BASE}/members/{coder2.pk}/").status_code == 204
    assert not Membership.objects.filter(pk=coder2.pk).exists()


def test_assignments_pi_and_coder(api, study):
    pi, coder = api(study.pi), api(study.coder1)
    assert pi.get(f"{BASE}/assignments/").json()["count"] == 8
    mine = coder.get(f"{BASE}/assignments/").json()
    assert mine["count"] == 4 and {a["coder"] for a in mine["results"]} == {"coder1"}
    filtered = pi.get(
        f"{BASE}/assignments/", {"coder": "coder2", "status": "todo"}
    ).json()
    assert filtered["count"] == 4
    assert pi.get(f"{BASE}/assignments/", {"status": "nope"}).status_code == 400

    one = mine["results"][0]
    done = coder.patch(
        f"{BASE}/assignments/{one['id']}/", {"status": "done"}, format="json"
    )
    assert (
        done.status_code == 200
        and done.json()["status"] == "done"
        and done.json()["done"]
    )
    other = Assignment.objects.filter(coder=study.coder2).first()
    assert (
        coder.patch(
            f"{BASE}/assignments/{other.pk}/", {"status": "done"}, format="json"
        ).status_code
        == 404
    )

    assert (
        coder.post(
            f"{BASE}/assignments/",
            {"document": study.documents[0].pk, "coder": "coder1"},
            format="json",
        ).status_code
        == 403
    )
    Assignment.objects.filter(coder=study.coder2, document=study.documents[0]).delete()
    created = pi.post(
        f"{BASE}/assignments/",
        {"document": study.documents[0].pk, "coder": "coder2"},
        format="json",
    )
    assert created.status_code == 201
    outsider = pi.post(
        f"{BASE}/assignments/",
        {"document": study.documents[0].pk, "coder": "outsider"},
        format="json",
    )
    assert outsider.status_code == 400 and "coder" in outsider.json()
    _seg(study, study.coder2)
    refused = pi.delete(f"{BASE}/assignments/{created.json()['id']}/")
    assert refused.status_code == 400


def test_segment_create_idempotent_and_validated(api, study):
    client = api(study.coder1)
    doc = study.documents[0]
    body = {
        "document": doc.pk, "code": study.codes["actor"].pk, "start": 0, "end": 7,
        "quote": doc.text[:7], "client_id": str(uuid.uuid4()),
    }  # fmt: skip
    first = client.post(f"{BASE}/segments/", body, format="json")
    assert first.status_code == 201 and first.json()["coder"] == "coder1"
    retry = client.post(f"{BASE}/segments/", body, format="json")
    assert retry.status_code == 200 and retry.json()["id"] == first.json()["id"]
    other = __import__("tests.factories", fromlist=["x"]).CodeFactory()
    cases = {
        "quote": body | {"client_id": None, "quote": "nope"},
        "start": body | {"client_id": None, "end": 10**6},
        "code": body | {"client_id": None, "code": other.pk},
        "document": body | {"client_id": None, "document": 10**9},
    }
    for field, bad in cases.items():
        response = client.post(f"{BASE}/segments/", bad, format="json")
        assert response.status_code == 400, field
        assert field in response.json(), (field, response.json())
    assert Segment.objects.count() == 1


def test_segments_carry_the_codebook_version_they_were_coded_under(api, study):
    from annotations.services.codebook_versions import codebook_publish

    client = api(study.coder1)
    doc = study.documents[0]
    body = {
        "document": doc.pk, "code": study.codes["actor"].pk, "start": 0, "end": 7,
        "quote": doc.text[:7], "codebook_version": 9,
    }  # fmt: skip
    before = client.post(f"{BASE}/segments/", body, format="json")
    assert before.status_code == 201 and before.json()["codebook_version"] is None
    codebook_publish(project=study.project, actor=study.pi)
    after = client.post(f"{BASE}/segments/", body | {"start": 8, "end": 19,
                        "quote": doc.text[8:19]}, format="json")  # fmt: skip
    assert after.status_code == 201 and after.json()["codebook_version"] == 1
    listed = client.get(f"{BASE}/segments/", {"document": doc.pk}).json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert sorted(r["codebook_version"] or 0 for r in rows) == [0, 1]


def test_segment_not_assigned_is_400(api, study):
    Assignment.objects.filter(coder=study.coder1, document=study.documents[1]).delete()
    doc = study.documents[1]
    response = api(study.pi).post(
        f"{BASE}/segments/",
        {
            "document": doc.pk,
            "code": study.codes["actor"].pk,
            "start": 0,
            "end": 7,
            "quote": doc.text[:7],
        },
        format="json",
    )
    assert (
        response.status_code == 400 and "not assigned" in response.json()["document"][0]
    )
    assert Segment.objects.count() == 0


def test_segment_update_conflict_and_delete(api, study):
    seg = _seg(study, study.coder1)
    client = api(study.coder1)
    url = f"{BASE}/segments/{seg.pk}/"
    etag = client.get(url)["ETag"]
    ok = client.patch(url, {"memo": "why", "version": 1}, format="json")
    assert ok.status_code == 200 and ok.json()["version"] == 2
    assert client.get(url)["ETag"] != etag
    stale = client.patch(url, {"memo": "other", "version": 1}, format="json")
    assert stale.status_code == 409
    assert (
        stale.json()["current"]["memo"] == "why"
        and stale.json()["current"]["version"] == 2
    )
    half = client.patch(url, {"start": 1}, format="json")
    assert half.status_code == 400
    assert client.delete(url + "?version=1").status_code == 409
    assert client.delete(url + "?version=2").status_code == 204
    seg.refresh_from_db()
    assert seg.deleted_at is not None  # soft
    pi = api(study.pi)
    assert pi.patch(url, {"memo": "pi edit"}, format="json").status_code == 403


def test_segment_filters_and_sync(api, study):
    s1 = _seg(study, study.coder1, "actor")
    s2 = _seg(study, study.coder1, "action", 8, 19)
    s3 = _seg(study, study.coder2, "platform", doc=1)
    pi = api(study.pi)

    def ids(**params):
        return [r["id"] for r in pi.get(f"{BASE}/segments/", params).json()["results"]]

    assert ids() == [s1.pk, s2.pk, s3.pk]
    assert ids(document=study.documents[1].pk) == [s3.pk]
    assert ids(coder="coder1") == [s1.pk, s2.pk]
    assert ids(code=study.codes["action"].pk) == [s2.pk]
    since = timezone.now() - dt.timedelta(seconds=1)
    Segment.objects.filter(pk=s1.pk).update(updated_at=since - dt.timedelta(days=1))
    Segment.objects.filter(pk__in=[s2.pk, s3.pk]).update(updated_at=timezone.now())
    assert ids(changed_since=since.isoformat()) == [s2.pk, s3.pk]
    Segment.objects.filter(pk=s2.pk).update(deleted_at=timezone.now())
    assert ids(changed_since=since.isoformat()) == [s3.pk]
    assert ids(changed_since=since.isoformat(), include_deleted="true") == [
        s2.pk,
        s3.pk,
    ]
    assert (
        pi.get(f"{BASE}/segments/", {"changed_since": "yesterday"}).status_code == 400
    )
    assert pi.get(f"{BASE}/segments/", {"document": "x"}).status_code == 400


def test_huge_ids_are_404_not_500(api, study):
    client = api(study.pi)
    assert client.get(f"{BASE}/segments/{10**30}/").status_code == 404
    assert client.get(f"{BASE}/segments/", {"document": 10**30}).status_code == 400
    response = client.post(
        f"{BASE}/codes/", {"name": "x", "parent": 10**30}, format="json"
    )
    assert response.status_code == 400


def test_schema_and_docs_pages(client, study):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    for path in (
        "/api/projects/{slug}/segments/",
        "changed_since",
        "/api/projects/{slug}/codes/{id}/merge/",
    ):
        assert path in text
    client.force_login(study.pi)
    docs = client.get("/api/docs/").content.decode()
    assert "cdn" not in docs.lower()
    assert "/static/drf_spectacular_sidecar/" in docs


def test_codes_are_readable_by_coders_but_not_writable(api, study):
    coder = api(study.coder1)
    assert coder.get(f"{BASE}/codes/").json()["count"] == 4
    response = coder.post(f"{BASE}/codes/", {"name": "mine"}, format="json")
    assert response.status_code == 403
    assert Code.objects.filter(name="mine").count() == 0
