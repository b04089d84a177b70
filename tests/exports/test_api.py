"""GET /api/projects/<slug>/export/<name>: token auth, PIs only (404 for the
rest), streamed CSV, binary files, JSON 400s for bad requests."""

import io
import json
import zipfile

import pandas as pd
import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

URL = "/api/projects/{slug}/export/{name}"


@pytest.fixture(autouse=True)
def _no_api_throttling(settings):
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_CLASSES"] = []
    settings.REST_FRAMEWORK = rest


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def get(user, name="segments.csv", slug="takedowns", **params):
    return client_for(user).get(URL.format(slug=slug, name=name), params)


def body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def test_pi_gets_a_streamed_csv(coded):
    response = get(coded.study.pi, coder="coder2", consensus="1")
    assert response.status_code == 200 and response.streaming
    df = pd.read_csv(io.BytesIO(body(response)))
    assert set(df.coder) == {"coder2", "consensus"}


def test_pi_gets_the_bundle_with_any_accept_header(coded):
    client = client_for(coded.study.pi)
    response = client.get(URL.format(slug="takedowns", name="bundle.zip"),
                          HTTP_ACCEPT="application/zip")  # fmt: skip
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(body(response))) as z:
        manifest = json.loads(z.read("MANIFEST.json"))
    assert manifest["files"]["segments.csv"]["rows"] == coded.live_count


@pytest.mark.parametrize("who", ["coder1", "outsider"])
def test_non_pis_get_404(coded, who):
    assert get(getattr(coded.study, who)).status_code == 404
    assert get(getattr(coded.study, who), name="nope.xlsx").status_code == 404


def test_anonymous_is_refused(coded):
    assert get(None).status_code in (401, 403)


def test_unknown_project_is_404(coded):
    assert get(coded.study.pi, slug="missing").status_code == 404


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("segments.xlsx", {}, "Unknown export format"),
        ("segments.csv", {"coder": "outsider"}, "not a member"),
        ("segments.dta", {"until": "31/12/2024"}, "must be a date"),
    ],
)
def test_bad_requests_are_json_400(coded, name, params, message):
    response = get(coded.study.pi, name=name, **params)
    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_the_schema_documents_the_endpoint(coded):
    response = client_for(coded.study.pi).get("/api/schema/?format=json")
    schema = json.loads(response.content)
    operation = schema["paths"]["/api/projects/{slug}/export/{name}"]["get"]
    assert "text/csv" in operation["responses"]["200"]["content"]
    assert {p["name"] for p in operation["parameters"]} >= {
        "coder",
        "consensus",
        "since",
        "until",
    }
