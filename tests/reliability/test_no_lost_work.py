"""No lost work on the server side: idempotent creates (a retry with the same
client id makes one row), stale edits refused with 409 and both versions,
and a code retired while a coder uses it answered with a clear 400."""

import threading
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from rest_framework.test import APIClient

from annotations.models import Code, HistoryEvent, Segment
from annotations.services import codebook, coding
from annotations.services.errors import ConflictError


def create_kwargs(study, **extra):
    doc = study.documents[0]
    return {
        "document": doc, "coder": study.coder1, "code": study.codes["actor"],
        "start": 0, "end": 7, "quote": doc.text[0:7], **extra,
    }  # fmt: skip


def htmx_url(study, doc=None):
    doc = doc or study.documents[0]
    return f"/p/{study.project.slug}/d/{doc.pk}/segments/"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def api_url(study, segment=None) -> str:
    base = f"/api/projects/{study.project.slug}/segments/"
    return f"{base}{segment.pk}/" if segment else base


# --- idempotent create ---------------------------------------------------------


def test_service_retry_with_the_same_client_id_makes_one_row(study):
    cid = uuid.uuid4()
    first, created = coding.segment_create(**create_kwargs(study, client_id=cid))
    again, created_again = coding.segment_create(**create_kwargs(study, client_id=cid))
    assert created and not created_again
    assert again.pk == first.pk
    assert Segment.objects.filter(client_id=cid).count() == 1
    assert HistoryEvent.objects.filter(entity="segment", action="create").count() == 1


def test_a_client_id_cannot_be_reused_by_someone_else(study):
    cid = uuid.uuid4()
    coding.segment_create(**create_kwargs(study, client_id=cid))
    with pytest.raises(ValidationError, match="already in use"):
        coding.segment_create(**create_kwargs(study, client_id=cid, coder=study.coder2))
    assert Segment.objects.count() == 1


def test_htmx_retry_is_answered_with_the_same_segment(client, study):
    client.force_login(study.coder1)
    doc = study.documents[0]
    form = {"code": study.codes["actor"].pk, "start": 0, "end": 7,
            "quote": doc.text[0:7], "client_id": str(uuid.uuid4())}  # fmt: skip
    first = client.post(htmx_url(study), form, headers={"HX-Request": "true"})
    retry = client.post(htmx_url(study), form, headers={"HX-Request": "true"})
    assert (first.status_code, retry.status_code) == (201, 200)
    assert Segment.objects.filter(client_id=form["client_id"]).count() == 1
    # Both answers show the one segment as saved.
    for response in (first, retry):
        assert "<html" not in response.content.decode()


def test_api_retry_returns_the_same_segment(study):
    doc = study.documents[0]
    body = {"document": doc.pk, "code": study.codes["actor"].pk, "start": 0, "end": 7,
            "quote": doc.text[0:7], "client_id": str(uuid.uuid4())}  # fmt: skip
    client = api(study.coder1)
    first = client.post(api_url(study), body, format="json")
    retry = client.post(api_url(study), body, format="json")
    assert (first.status_code, retry.status_code) == (201, 200)
    assert first.json()["id"] == retry.json()["id"]
    assert Segment.objects.filter(client_id=body["client_id"]).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_retries_race_to_one_row(study):
    """Two requests with one client id at the same moment (a double click on
    a slow network): the unique constraint settles it, both get the row."""
    cid = uuid.uuid4()
    kwargs = create_kwargs(study, client_id=cid)
    barrier = threading.Barrier(4)
    results, errors = [], []

    def go():
        try:
            barrier.wait()
            results.append(coding.segment_create(**kwargs))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert len({seg.pk for seg, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert Segment.objects.filter(client_id=cid).count() == 1


# --- two tabs: stale edits --------------------------------------------------------


def test_service_refuses_a_stale_edit_and_returns_the_saved_version(study):
    seg, _ = coding.segment_create(**create_kwargs(study))
    coding.segment_update(
        segment=seg, actor=study.coder1, memo="tab A", expected_version=1
    )
    with pytest.raises(ConflictError) as exc:
        coding.segment_update(
            segment=seg, actor=study.coder1, memo="tab B", expected_version=1
        )
    assert exc.value.current["memo"] == "tab A"
    assert exc.value.current["version"] == 2
    seg.refresh_from_db()
    assert seg.memo == "tab A"


def test_api_stale_edit_gets_409_with_the_saved_version(study):
    seg, _ = coding.segment_create(**create_kwargs(study))
    client = api(study.coder1)
    ok = client.patch(
        api_url(study, seg), {"memo": "tab A", "version": 1}, format="json"
    )
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = client.patch(
        api_url(study, seg), {"memo": "tab B", "version": 1}, format="json"
    )
    assert stale.status_code == 409
    assert stale.json()["current"]["memo"] == "tab A"
    assert stale.json()["current"]["version"] == 2
    seg.refresh_from_db()
    assert seg.memo == "tab A" and seg.version == 2


def test_api_stale_delete_gets_409_and_deletes_nothing(study):
    seg, _ = coding.segment_create(**create_kwargs(study))
    coding.segment_update(segment=seg, actor=study.coder1, memo="x", expected_version=1)
    response = api(study.coder1).delete(api_url(study, seg) + "?version=1")
    assert response.status_code == 409
    seg.refresh_from_db()
    assert seg.deleted_at is None


def test_htmx_stale_edit_gets_409_showing_both_versions(client, study):
    seg, _ = coding.segment_create(**create_kwargs(study))
    coding.segment_update(segment=seg, actor=study.coder1, memo="saved in tab A",
                          expected_version=1)  # fmt: skip
    client.force_login(study.coder1)
    url = f"/p/{study.project.slug}/d/{seg.document_id}/segments/{seg.pk}/edit/"
    response = client.post(url, {"memo": "typed in tab B", "version": 1},
                           headers={"HX-Request": "true"})  # fmt: skip
    assert response.status_code == 409
    html = response.content.decode()
    assert "saved in tab A" in html and "typed in tab B" in html
    seg.refresh_from_db()
    assert seg.memo == "saved in tab A"


# --- a code retired while in use ---------------------------------------------------


def test_retired_code_is_refused_clearly_and_old_segments_keep_it(client, study):
    seg, _ = coding.segment_create(**create_kwargs(study))
    codebook.code_retire(code=study.codes["actor"], actor=study.pi)
    doc = study.documents[0]
    client.force_login(study.coder1)
    response = client.post(
        htmx_url(study),
        {"code": study.codes["actor"].pk, "start": 8, "end": 19,
         "quote": doc.text[8:19], "client_id": str(uuid.uuid4())},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "is retired and can no longer be applied; existing segments keep it" in (
        response.content.decode()
    )
    assert Segment.objects.count() == 1
    seg.refresh_from_db()
    assert seg.code_id == study.codes["actor"].pk and seg.deleted_at is None


def test_retired_code_via_the_api_is_a_400_with_the_reason(study):
    codebook.code_retire(code=study.codes["platform"], actor=study.pi)
    doc = study.documents[0]
    response = api(study.coder1).post(
        api_url(study),
        {"document": doc.pk, "code": study.codes["platform"].pk, "start": 0,
         "end": 7, "quote": doc.text[0:7]},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert "retired" in str(response.json())
    assert not Segment.objects.exists()


def test_recoding_to_a_retired_code_is_refused(study):
    seg, _ = coding.segment_create(**create_kwargs(study))
    codebook.code_retire(code=study.codes["action"], actor=study.pi)
    with pytest.raises(ValidationError, match="retired"):
        coding.segment_update(
            segment=seg, actor=study.coder1, code=Code.objects.get(name="action")
        )
    seg.refresh_from_db()
    assert seg.code_id == study.codes["actor"].pk and seg.version == 1
