"""While a coder recodes documents in a recode round, their first coding of
those documents is withheld from them on the server: the coding page (and
every coding request) answers 403 saying why, the API lists neither the
documents nor their segments and takes no new segment on them, until the
coder marks the copy done. Other coders and the PI are not affected."""

import pytest

from annotations.models import Assignment, Segment
from annotations.services.coding import assignment_set_status, segment_create
from annotations.services.recode import recode_round_create
from tests.web.test_coding import create, page_url

pytestmark = pytest.mark.django_db
BASE = "/api/projects/takedowns"


@pytest.fixture
def recoding(study):
    """coder1 coded and marked done the first two documents; a recode round
    holds a copy of the first for coder1 (to do)."""
    s = study
    first, second = s.documents[:2]
    for doc in (first, second):
        segment_create(
            document=doc, coder=s.coder1, code=s.codes["actor"], start=0, end=7,
            quote=doc.text[:7],
        )  # fmt: skip
        assignment = Assignment.objects.get(document=doc, coder=s.coder1)
        assignment_set_status(assignment=assignment, status="done", actor=s.coder1)
    s.round = recode_round_create(
        source=s.project, coder=s.coder1, actor=s.pi, documents=[first.pk]
    )
    s.copy = s.round.documents.get()
    return s


def listed(response) -> list[dict]:
    body = response.json()
    return body["results"] if isinstance(body, dict) else body


def test_the_coding_page_says_the_document_is_being_recoded(recoding, client):
    s = recoding
    first, second = s.documents[:2]
    client.force_login(s.coder1)
    page = client.get(page_url(s, first))
    assert page.status_code == 403
    text = page.content.decode()
    assert f"is in your recode round “{s.round.name}”" in text
    assert s.coder1.username in text  # the site's page, not a bare 403
    # Every coding request goes through the same check: nothing is written.
    before = Segment.objects.count()
    assert create(client, s, first, s.codes["action"], 8, 19).status_code == 403
    assert Segment.objects.count() == before
    # The document not in the round, and the copy in the round, open as usual.
    assert client.get(page_url(s, second)).status_code == 200
    copy_url = f"/p/{s.round.slug}/d/{s.copy.pk}/"
    assert client.get(copy_url).status_code == 200


def test_the_api_withholds_the_document_and_its_segments(recoding, api):
    s = recoding
    first, second = s.documents[:2]
    client = api(s.coder1)
    docs = [d["id"] for d in listed(client.get(f"{BASE}/documents/"))]
    assert first.pk not in docs and second.pk in docs
    assert client.get(f"{BASE}/documents/{first.pk}/").status_code == 404
    segs = listed(client.get(f"{BASE}/segments/"))
    assert {r["document"] for r in segs} == {second.pk}
    mine = Segment.objects.get(document=first, coder=s.coder1)
    assert client.get(f"{BASE}/segments/{mine.pk}/").status_code == 404
    body = {"document": first.pk, "code": s.codes["action"].pk, "start": 8,
            "end": 19, "quote": first.text[8:19]}  # fmt: skip
    assert client.post(f"{BASE}/segments/", body, format="json").status_code == 400
    assert not Segment.objects.filter(document=first, start=8).exists()


def test_marking_the_copy_done_gives_the_document_back(recoding, client, api):
    s = recoding
    first = s.documents[0]
    copy_assignment = Assignment.objects.get(document=s.copy, coder=s.coder1)
    assignment_set_status(assignment=copy_assignment, status="done", actor=s.coder1)
    client.force_login(s.coder1)
    assert client.get(page_url(s, first)).status_code == 200
    segs = listed(api(s.coder1).get(f"{BASE}/segments/", {"document": first.pk}))
    assert len(segs) == 1


def test_other_coders_and_the_pi_are_not_affected(recoding, client, api):
    s = recoding
    first = s.documents[0]
    client.force_login(s.coder2)
    assert client.get(page_url(s, first)).status_code == 200
    client.force_login(s.pi)
    assert client.get(f"/p/{s.project.slug}/documents/{first.pk}/").status_code == 200
    segs = listed(api(s.pi).get(f"{BASE}/segments/", {"document": first.pk}))
    assert [r["coder"] for r in segs] == ["coder1"]
