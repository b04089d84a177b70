"""Fixtures shared by every test folder.

The database is SQLite unless DATABASE_URL names PostgreSQL; tests marked
``postgres`` run only there.
"""

from dataclasses import dataclass

import pytest
from django.db import connection

from annotations.models import Assignment, Code, Document, Membership, Project
from tests import factories


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    on_postgres = "postgresql" in settings.DATABASES["default"]["ENGINE"]
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip)


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"


@dataclass
class Study:
    project: Project
    pi: object
    coder1: object
    coder2: object
    outsider: object
    documents: list[Document]
    codes: dict[str, Code]


@pytest.fixture
def study(db) -> Study:
    """A small blind project: a PI, two coders who both have every document,
    a third user in another project, and a codebook with a nested code."""
    project = factories.ProjectFactory(name="Takedowns", slug="takedowns")
    pi = factories.UserFactory(username="pi")
    coder1 = factories.UserFactory(username="coder1")
    coder2 = factories.UserFactory(username="coder2")
    outsider = factories.UserFactory(username="outsider")
    factories.MembershipFactory(project=project, user=pi, role=Membership.Role.PI)
    for coder in (coder1, coder2):
        factories.MembershipFactory(project=project, user=coder)
    other = factories.ProjectFactory(slug="other")
    factories.MembershipFactory(project=other, user=outsider)
    docs = [
        factories.DocumentFactory(project=project, external_id=f"d{i}")
        for i in range(3)
    ]
    docs.append(
        factories.DocumentFactory(
            project=project,
            external_id="unicode",
            title="Unicode",
            text="Telegram 🎉 قناة مغلقة 🇪🇺 café́ <script>alert(1)</script> &amp; end",
        )
    )
    actor = factories.CodeFactory(
        project=project, name="actor", key="a", color="#ffd6a5"
    )
    codes = {
        "actor": actor,
        "action": factories.CodeFactory(
            project=project, name="action", key="c", color="#caffbf"
        ),
        "platform": factories.CodeFactory(
            project=project, name="platform", key="p", color="#9bf6ff"
        ),
        "law_enforcement": factories.CodeFactory(
            project=project,
            name="law_enforcement",
            parent=actor,
            key="l",
            color="#ffc6ff",
        ),
    }
    for doc in docs:
        for coder in (coder1, coder2):
            Assignment.objects.create(document=doc, coder=coder)
    return Study(project, pi, coder1, coder2, outsider, docs, codes)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 at full strength costs ~0.3 s per user; tests make many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_api_throttling(settings):
    # The API throttles count per address and user across tests (in the cache);
    # tests/security/test_throttling.py turns them back on to test them.
    settings.API_THROTTLE_ENABLED = False


@pytest.fixture(autouse=True)
def _empty_cache():
    # Cached results (the Analysis tables) are keyed by project id and a data
    # fingerprint; a later test's project may reuse an id: start each test
    # with an empty cache.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session")
def app_static(tmp_path_factory):
    """Static files collected as the Docker image does, and a secret key, for
    tests that run the app under gunicorn (annotations.bench.load.app_server)."""
    from annotations.bench.load import secret, static_collect

    dest = tmp_path_factory.mktemp("static")
    key = secret()
    static_collect(dest, key)
    return dest, key
