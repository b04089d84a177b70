"""Login throttling (django-axes) and API throttling (DRF)."""

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import PASSWORD, UserFactory

LOGIN = "/accounts/login/"


def attempt(client, username, password="wrong-password", ip="10.0.0.1"):
    return client.post(
        LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def assert_locked(response):
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many failed login attempts" in html
    assert "paused for 15 minutes" in html
    assert '<form method="post" action="/accounts/login/">' in html
    assert "_auth_user_id" not in response.client.session


@pytest.mark.django_db
def test_ten_failures_for_one_username_lock_it_even_with_the_right_password(client):
    UserFactory(username="coder1")
    for i in range(9):
        response = attempt(client, "coder1", ip=f"10.0.0.{i}")
        assert response.status_code == 200
        assert "Please enter a correct username" in response.content.decode()
    assert_locked(attempt(client, "coder1", ip="10.0.0.9"))  # the 10th failure
    # From a fresh address, with the right password: still refused.
    assert_locked(attempt(client, "coder1", PASSWORD, ip="192.168.1.1"))


@pytest.mark.django_db
def test_ten_failures_from_one_address_lock_that_address(client):
    UserFactory(username="coder2")
    for i in range(10):
        attempt(client, f"guess{i}", ip="10.9.9.9")
    assert_locked(attempt(client, "coder2", PASSWORD, ip="10.9.9.9"))
    # The user is not locked from elsewhere.
    ok = attempt(client, "coder2", PASSWORD, ip="10.1.1.1")
    assert ok.status_code == 302


@pytest.mark.django_db
def test_nine_failures_then_the_right_password_logs_in(client):
    UserFactory(username="coder1")
    for _ in range(9):
        attempt(client, "coder1")
    assert attempt(client, "coder1", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_logging_into_ones_own_account_does_not_reset_the_count(client):
    """An attacker with an account of their own cannot wipe the failures
    recorded against someone else's by logging in between guesses."""
    UserFactory(username="victim")
    UserFactory(username="attacker")
    for _ in range(2):
        for _ in range(5):
            attempt(client, "victim", ip="10.7.7.7")
        assert attempt(client, "attacker", PASSWORD, ip="10.7.7.7").status_code in (
            302,
            429,
        )
        client.logout()
    assert_locked(attempt(client, "victim", PASSWORD, ip="10.8.8.8"))


@pytest.mark.django_db
def test_the_lock_lifts_after_fifteen_minutes(client):
    UserFactory(username="coder1")
    for _ in range(10):
        attempt(client, "coder1")
    assert_locked(attempt(client, "coder1", PASSWORD))
    # Age the recorded failures instead of waiting.
    AccessAttempt.objects.update(
        attempt_time=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16)
    )
    assert attempt(client, "coder1", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_the_admin_login_is_throttled_too(client):
    UserFactory(username="admin", is_staff=True, is_superuser=True)
    for _ in range(10):
        client.post("/admin/login/", {"username": "admin", "password": "nope"})
    response = client.post("/admin/login/", {"username": "admin", "password": PASSWORD})
    assert response.status_code == 429


@pytest.mark.django_db
def test_the_lockout_page_escapes_the_username(client):
    evil = '"><img src=x onerror=alert(1)>'
    for _ in range(11):
        response = attempt(client, evil)
    assert response.status_code == 429
    html = response.content.decode()
    assert evil not in html
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.mark.django_db
def test_behind_the_proxy_the_forwarded_address_counts(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    UserFactory(username="coder1")
    for i in range(10):
        # One proxy address, many clients: only the clients' own addresses count.
        client.post(
            LOGIN, {"username": f"x{i}", "password": "no"},
            REMOTE_ADDR="172.18.0.5", HTTP_X_FORWARDED_FOR=f"spoofed, 10.0.1.{i}",
        )  # fmt: skip
    ok = client.post(
        LOGIN, {"username": "coder1", "password": PASSWORD},
        REMOTE_ADDR="172.18.0.5", HTTP_X_FORWARDED_FOR="10.0.2.1",
    )  # fmt: skip
    assert ok.status_code == 302


@pytest.mark.django_db
def test_test_client_login_still_works(client):
    UserFactory(username="coder1")
    assert client.login(username="coder1", password=PASSWORD)
    assert not client.login(username="coder1", password="wrong")


# --- API ---------------------------------------------------------------------


@pytest.fixture
def throttled(settings):
    settings.API_THROTTLE_ENABLED = True
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/minute", "user": "5/minute"},
    }
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
def test_token_requests_are_throttled_per_user(throttled):
    user = UserFactory(username="scripter")
    token = Token.objects.create(user=user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    statuses = [api.get("/api/").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    refused = api.get("/api/")
    assert "throttled" in refused.json()["detail"].lower()
    assert int(refused.headers["Retry-After"]) > 0
    # Another user has their own allowance.
    other = APIClient()
    other.credentials(
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=UserFactory()).key}"
    )
    assert other.get("/api/").status_code == 200


@pytest.mark.django_db
def test_anonymous_requests_are_throttled_per_address(throttled):
    api = APIClient()
    statuses = [api.get("/api/schema/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert api.get("/api/schema/", REMOTE_ADDR="10.3.3.3").status_code == 200


@pytest.mark.django_db
def test_the_default_rates_are_set(settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert rates["anon"] and rates["user"]
    classes = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]
    assert classes == [
        "workbench.security.AnonThrottle",
        "workbench.security.UserThrottle",
    ]
