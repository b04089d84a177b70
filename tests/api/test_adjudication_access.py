"""Who may read the consensus, the adjudication states and the history
through the API: a project's PIs only. Coders and outsiders get 404, as on
the Adjudication and History pages and the agreement endpoint, whatever the
project's blind flag and the filters; anonymous requests get 401; the lists
are read-only."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotations.models import (
    ConsensusSegment,
    HistoryEvent,
    Membership,
    Project,
    Segment,
)
from tests import factories

from .adjudicated import build

pytestmark = pytest.mark.django_db
ENDPOINTS = ("consensus", "adjudication", "history")
# What the adjudicated document's rows would show: none may reach a non-PI.
SECRETS = ("قناة", "Telegram", "the channel's full name", "missed by both",
           "a flag is no actor", "unicode", "coder2")  # fmt: skip


def url(endpoint: str, slug: str = "takedowns") -> str:
    return f"/api/projects/{slug}/{endpoint}/"


@pytest.fixture
def adjudicated(study):
    return build(study)


def _params(endpoint, a) -> list[dict]:
    """Filters that select the adjudicated document's rows."""
    doc = {"document": a.doc.pk}
    return {
        "consensus": [{}, doc, {"decision": "manual"}, {"page_size": 1000}],
        "adjudication": [{}, doc, {"status": "open"}],
        "history": [{}, doc, {"user": "coder2"}, {"entity": "consensus"}],
    }[endpoint]


def _assert_hidden(response):
    assert response.status_code == 404, response.content[:300]
    assert response.json() == {"detail": "No such project."}
    body = response.content.decode()
    for secret in SECRETS:
        assert secret not in body


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_pi_reads_with_a_token_either_keyword_or_a_session(
    api, adjudicated, client, endpoint
):
    study = adjudicated.study
    key = Token.objects.create(user=study.pi).key
    for keyword in ("Token", "Bearer"):
        by_token = APIClient()
        by_token.credentials(HTTP_AUTHORIZATION=f"{keyword} {key}")
        response = by_token.get(url(endpoint))
        assert response.status_code == 200, response.content
        assert response.json()["results"]
    client.force_login(study.pi)
    assert client.get(url(endpoint)).json() == response.json()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_anonymous_and_bad_tokens_get_401(adjudicated, endpoint):
    response = APIClient().get(url(endpoint))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-key")
    assert bad.get(url(endpoint)).status_code == 401


@pytest.mark.parametrize("blind", [True, False])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_coders_never_read_them(api, adjudicated, endpoint, blind):
    """Blind or not, and with filters naming their own document or segments,
    a coder of the project reads none of the consensus or the history."""
    a = adjudicated
    Project.objects.filter(pk=a.study.project.pk).update(blind=blind)
    for coder in (a.study.coder1, a.study.coder2):
        client = api(coder)
        for params in _params(endpoint, a):
            _assert_hidden(client.get(url(endpoint), params))
        # A coder's session is refused the same way.
        session = APIClient()
        session.force_login(coder)
        _assert_hidden(session.get(url(endpoint)))


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_pi_of_another_project_gets_what_a_missing_project_gets(
    api, adjudicated, endpoint
):
    other = Project.objects.get(slug="other")
    Membership.objects.filter(project=other).update(role=Membership.Role.PI)
    client = api(adjudicated.study.outsider)
    assert client.get(url(endpoint, "other")).status_code == 200
    real = client.get(url(endpoint))
    _assert_hidden(real)
    missing = client.get(url(endpoint, "no-such-project"))
    assert (real.status_code, real.json()) == (missing.status_code, missing.json())


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_coder_made_pi_elsewhere_still_cannot_read_this_project(
    api, adjudicated, endpoint
):
    elsewhere = factories.ProjectFactory(slug="elsewhere")
    factories.MembershipFactory(
        project=elsewhere, user=adjudicated.study.coder1, role=Membership.Role.PI
    )
    client = api(adjudicated.study.coder1)
    assert client.get(url(endpoint, "elsewhere")).status_code == 200
    _assert_hidden(client.get(url(endpoint)))


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_read_only(api, adjudicated, endpoint, method):
    study = adjudicated.study
    counts = (ConsensusSegment.objects.count(), HistoryEvent.objects.count(),
              Segment.objects.count())  # fmt: skip
    pi = getattr(api(study.pi), method)(url(endpoint), {}, format="json")
    assert pi.status_code == 405
    coder = getattr(api(study.coder1), method)(url(endpoint), {}, format="json")
    assert coder.status_code == 404
    assert getattr(APIClient(), method)(url(endpoint)).status_code == 401
    assert counts == (ConsensusSegment.objects.count(), HistoryEvent.objects.count(),
                      Segment.objects.count())  # fmt: skip


def test_coders_segments_list_never_carries_the_consensus(api, adjudicated):
    """The one list a coder reads: their own segments, none of the consensus
    and none of the other coder's."""
    rows = api(adjudicated.study.coder2).get("/api/projects/takedowns/segments/")
    body = rows.json()
    assert {r["coder"] for r in body["results"]} == {"coder2"}
    assert "the channel's full name" not in rows.content.decode()
    assert "missed by both" not in rows.content.decode()
