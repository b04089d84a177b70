import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def _no_api_throttling(settings):
    # Tests send many requests quickly; the throttles have their own tests.
    settings.API_THROTTLE_ENABLED = False


@pytest.fixture
def api():
    """A function returning an APIClient authenticated by a token (or anonymous)."""

    def _client(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return _client
