"""Twenty coders applying codes at once through gunicorn on PostgreSQL: no
error, and the database holds exactly the segments the server confirmed."""

import os
import time

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from annotations.bench.load import app_server, load_run
from annotations.models import Assignment, HistoryEvent, Membership, Segment
from tests import factories

CODERS = 20
# LOAD_PER_CODER=50 for a longer run than CI's.
PER_CODER = int(os.environ.get("LOAD_PER_CODER", "5"))
TEXT = (
    "Europol coordinated a referral action day against Islamic State propaganda "
    "on Telegram. Thousands of accounts were removed, but analysts doubt the "
    "effect will last: قناة مغلقة, 🎉 and café\u0301 appear too.\n"
) * 20


@pytest.mark.postgres
@pytest.mark.slow
def test_twenty_coders_create_segments_at_once(transactional_db, app_static, tmp_path):
    static_root, key = app_static
    project = factories.ProjectFactory(slug="load")
    codes = [factories.CodeFactory(project=project, name=f"c{i}") for i in range(5)]
    docs = [
        factories.DocumentFactory(project=project, external_id=f"d{i}", text=TEXT)
        for i in range(3)
    ]
    password = "load-test-password-1"
    # gunicorn checks with the production hashers (tests use MD5).
    hasher = PBKDF2PasswordHasher()
    hashed = hasher.encode(password, hasher.salt())
    coders = []
    for i in range(CODERS):
        user = factories.UserFactory(username=f"loadcoder{i}")
        user.password = hashed
        user.save(update_fields=["password"])
        factories.MembershipFactory(
            project=project, user=user, role=Membership.Role.CODER
        )
        for doc in docs:
            Assignment.objects.create(document=doc, coder=user)
        coders.append((user.username, password))
    assert codes

    t0 = time.monotonic()
    with app_server(
        db=settings.DATABASES["default"], static_root=static_root, secret_key=key,
        log=tmp_path / "gunicorn.log", workers=2, threads=4,
    ) as server:  # fmt: skip
        result = load_run(server.base_url, coders, PER_CODER, timeout=45)
    elapsed = time.monotonic() - t0

    print(
        f"\nload: {result['requests']} requests by {CODERS} coders in "
        f"{result['seconds']:.1f} s ({result['requests_per_s']:.0f}/s), "
        f"p50 {result['p50_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms, "
        f"max {result['max_ms']:.0f} ms; {elapsed:.1f} s with start-up"
    )
    assert result["errors"] == 0, result["error_samples"]
    assert result["ok"] == CODERS * PER_CODER
    saved = {str(c) for c in Segment.objects.values_list("client_id", flat=True)}
    assert Segment.objects.count() == result["ok"]
    assert saved == set(result["client_ids"])
    assert (
        HistoryEvent.objects.filter(entity="segment", action="create").count()
        == result["ok"]
    )
    assert elapsed < 60
