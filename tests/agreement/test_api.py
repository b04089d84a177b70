"""GET /api/projects/<slug>/agreement/: PI only, the same report, OpenAPI."""

import pytest

from annotations.services.agreement import agreement_report

from .conftest import coded_under_v2_but_one, find

pytestmark = pytest.mark.django_db
URL = "/api/projects/takedowns/agreement/"


def test_pi_gets_the_report(coding, api):
    r = api(coding.pi).get(URL, {"bootstrap": 25, "seed": 9})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body == agreement_report(coding.project, bootstrap=25, seed=9)
    assert find(body["results"], "document", "percent_agreement")["n_documents"] == 2


def test_query_parameters(coding, api):
    client = api(coding.pi)
    body = client.get(URL + "?level=span&level=document&bootstrap=0").json()
    assert {r["level"] for r in body["results"]} == {"document", "span"}
    body = client.get(URL, {"level": "character,unitizing", "bootstrap": 0}).json()
    assert {r["level"] for r in body["results"]} == {"character", "unitizing"}
    body = client.get(
        URL, {"all_coded": "true", "with_consensus": "true", "bootstrap": 0}
    ).json()
    assert body["sample"]["rule"] == "all_coded" and body["sample"]["with_consensus"]


@pytest.mark.parametrize(
    "query, field",
    [
        ({"level": "sentence"}, "level"),
        ({"bootstrap": "-1"}, "bootstrap"),
        ({"bootstrap": "lots"}, "bootstrap"),
        ({"seed": "99999999999"}, "seed"),
        ({"all_coded": "maybe"}, "all_coded"),
    ],
)
def test_bad_parameters_are_400(coding, api, query, field):
    r = api(coding.pi).get(URL, query)
    assert r.status_code == 400
    assert field in r.json()


@pytest.mark.parametrize("who", ["coder1", "outsider"])
def test_others_get_404(coding, api, who):
    assert api(getattr(coding, who)).get(URL).status_code == 404


def test_anonymous_gets_401(coding, api):
    assert api().get(URL).status_code == 401


def test_unknown_project_is_404(coding, api):
    assert api(coding.pi).get("/api/projects/nope/agreement/").status_code == 404


def test_documented_in_the_schema(client, db):
    schema = client.get("/api/schema/?format=json").json()
    op = schema["paths"]["/api/projects/{slug}/agreement/"]["get"]
    names = {p["name"] for p in op["parameters"]}
    assert {
        "slug",
        "level",
        "all_coded",
        "with_consensus",
        "bootstrap",
        "seed",
    } <= names
    ok = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    report = schema["components"]["schemas"][ok.rsplit("/", 1)[1]]
    assert set(report["properties"]) == {"project", "sample", "results"}
    assert {"400", "401", "404"} <= set(op["responses"])


def test_codebook_version_parameter(coding, api):
    coded_under_v2_but_one(coding)
    client = api(coding.pi)
    body = client.get(URL, {"codebook_version": 2, "bootstrap": 0}).json()
    assert body == agreement_report(coding.project, bootstrap=0, codebook_version=2)
    sample = body["sample"]
    assert sample["external_ids"] == ["d0"]
    assert sample["codebook_version"] == 2 and sample["left_out_other_versions"] == 1
    pooled = client.get(URL, {"bootstrap": 0}).json()["sample"]
    assert pooled["codebook_version"] is None
    assert pooled["left_out_other_versions"] == 0 and pooled["documents"] == 2


@pytest.mark.parametrize(
    "value, message",
    [
        ("3", "codebook version 3 does not exist: the project published v1, v2"),
        ("0", "greater than or equal to 1"),
        ("two", "valid integer"),
    ],
)
def test_bad_codebook_version_is_400_with_a_message(coding, api, value, message):
    coded_under_v2_but_one(coding)
    r = api(coding.pi).get(URL, {"codebook_version": value})
    assert r.status_code == 400
    (got,) = r.json()["codebook_version"]
    assert message in got


def test_codebook_version_is_documented(client, db):
    schema = client.get("/api/schema/?format=json").json()
    op = schema["paths"]["/api/projects/{slug}/agreement/"]["get"]
    (param,) = [p for p in op["parameters"] if p["name"] == "codebook_version"]
    assert "published codebook version" in param["description"]
    sample = schema["components"]["schemas"]["AgreementSample"]
    assert {"codebook_version", "left_out_other_versions"} <= set(sample["required"])
    assert sample["properties"]["left_out_other_versions"]["description"]
