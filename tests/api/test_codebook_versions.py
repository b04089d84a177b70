"""GET /api/projects/<slug>/codebook/versions/ and .../versions/<n>/."""

import datetime as dt

import pytest

from annotations.services import codebook
from annotations.services.codebook_versions import codebook_publish

pytestmark = pytest.mark.django_db
LIST = "/api/projects/takedowns/codebook/versions/"


@pytest.fixture
def published(study):
    v1 = codebook_publish(project=study.project, actor=study.pi, note="pilot")
    codebook.code_update(
        code=study.codes["law_enforcement"], actor=study.pi,
        changes={"name": "police", "color": "#000000"},
    )  # fmt: skip
    codebook.code_retire(code=study.codes["platform"], actor=study.pi)
    v2 = codebook_publish(project=study.project, actor=None, note="round 2")
    return v1, v2


@pytest.mark.parametrize("who", ["pi", "coder1"])
def test_members_read_the_list_newest_first(api, study, published, who):
    v1, v2 = published
    response = api(getattr(study, who)).get(LIST)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    first = body["results"][0]
    assert dt.datetime.fromisoformat(first.pop("created_at")) == v2.created_at
    assert first == {
        "number": 2, "note": "round 2", "created_by": None,
        "checksum": v2.checksum, "code_count": 4,
    }  # fmt: skip
    assert body["results"][1]["created_by"] == "pi"
    assert body["results"][1]["checksum"] == v1.checksum


def test_a_version_with_its_codes_and_changes(api, study, published):
    v1, v2 = published
    body = api(study.coder2).get(f"{LIST}2/").json()
    assert body["number"] == 2 and body["code_count"] == 4
    assert body["snapshot"] == v2.snapshot
    police = next(c for c in body["snapshot"]["codes"] if c["name"] == "police")
    assert police["id"] == study.codes["law_enforcement"].pk
    assert body["changes"] == [
        {
            "kind": "changed", "code_id": study.codes["platform"].pk,
            "path": "platform", "old_path": "", "renamed": False, "moved": False,
            "retired": True, "fields": [],
        },
        {
            "kind": "changed", "code_id": study.codes["law_enforcement"].pk,
            "path": "actor/police", "old_path": "actor/law_enforcement",
            "renamed": True, "moved": False, "retired": None,
            "fields": [{"field": "color", "old": "#ffc6ff", "new": "#000000"}],
        },
    ]  # fmt: skip
    first = api(study.pi).get(f"{LIST}1/").json()
    assert [c["kind"] for c in first["changes"]] == ["added"] * 4


def test_an_empty_list_and_a_missing_version(api, study):
    assert api(study.pi).get(LIST).json()["results"] == []
    assert api(study.pi).get(f"{LIST}1/").status_code == 404


def test_outsiders_get_404_and_anonymous_401(api, study, published):
    for url in (LIST, f"{LIST}1/"):
        outsider = api(study.outsider).get(url)
        assert outsider.status_code == 404
        assert "pilot" not in outsider.content.decode()
        assert api().get(url).status_code == 401
    assert api(study.outsider).get("/api/projects/nope/codebook/versions/").json() == (
        api(study.outsider).get(LIST).json()
    )


def test_read_only(api, study, published):
    for method in ("post", "put", "patch", "delete"):
        response = getattr(api(study.pi), method)(f"{LIST}1/", {}, format="json")
        assert response.status_code == 405
    assert api(study.pi).post(LIST, {}, format="json").status_code == 405


def test_documented_in_the_schema(api, study):
    schema = api(study.pi).get("/api/schema/?format=json").json()
    paths = schema["paths"]
    listing = paths["/api/projects/{slug}/codebook/versions/"]["get"]
    detail = paths["/api/projects/{slug}/codebook/versions/{number}/"]["get"]
    assert set(listing["responses"]) == {"200", "401", "404"}
    assert set(detail["responses"]) == {"200", "401", "404"}
    props = schema["components"]["schemas"]["CodebookVersionDetail"]["properties"]
    assert {"number", "note", "checksum", "code_count", "snapshot", "changes"} <= set(
        props
    )


@pytest.mark.parametrize("number", ["0", "x", "null,null", "1.0", "99999999999"])
def test_a_bad_number_is_a_json_404(api, study, published, number):
    response = api(study.pi).get(f"{LIST}{number}/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
