"""Fault test: the app server dies (SIGKILL) while a coder applies codes in
the browser, and comes back. One segment is saved by the server whose answer
never arrives; three more are applied while the server is down. After the
page's own retries every segment it showed as saved is in the database, and
none is there twice."""

import time

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from playwright.sync_api import expect

from annotations.bench.load import app_server
from annotations.models import Assignment, Membership, Segment
from tests import factories
from tests.browser.helpers import drag_select

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning"),
]

TEXT = (
    "Europol coordinated a referral action day against propaganda on Telegram.\n"
    "Thousands of accounts were removed, but analysts doubt the effect will last "
    "and moderators expect new channels within weeks."
)
BEFORE = ["Europol", "referral", "Telegram"]  # saved while the server is up
IN_FLIGHT = "Thousands"  # sent as the server dies
WHILE_DOWN = ["accounts", "analysts", "moderators"]  # queued while it is down
KEYS = "acp"


def shown_as_saved(page) -> set[int]:
    ids = page.eval_on_selector_all(
        "#segment-list li[id^='seg-']", "els => els.map((e) => e.id.slice(4))"
    )
    return {int(i) for i in ids}


def test_segments_survive_a_server_crash_and_restart(
    page, transactional_db, app_static, tmp_path
):
    t0 = time.monotonic()
    static_root, key = app_static
    project = factories.ProjectFactory(slug="fault")
    coder = factories.UserFactory(username="faultcoder")
    hasher = PBKDF2PasswordHasher()  # gunicorn checks with the production hashers
    coder.password = hasher.encode("fault-test-password-1", hasher.salt())
    coder.save(update_fields=["password"])
    factories.MembershipFactory(project=project, user=coder, role=Membership.Role.CODER)
    for i, k in enumerate(KEYS):
        factories.CodeFactory(project=project, name=f"code{i}", key=k)
    doc = factories.DocumentFactory(project=project, external_id="one", text=TEXT)
    Assignment.objects.create(document=doc, coder=coder)

    seen: set[int] = set()
    with app_server(
        db=settings.DATABASES["default"], static_root=static_root, secret_key=key,
        log=tmp_path / "gunicorn.log", workers=1, threads=4,
    ) as server:  # fmt: skip
        base = server.base_url
        page.goto(f"{base}/accounts/login/")
        page.fill("#id_username", "faultcoder")
        page.fill("#id_password", "fault-test-password-1")
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/p/fault/d/{doc.pk}/")
        seglist, outbox = page.locator("#segment-list"), page.locator("#outbox")

        for i, word in enumerate(BEFORE):
            drag_select(page, word, steps=4)
            page.keyboard.press(KEYS[i % 3])
            expect(seglist).to_contain_text(word)
            seen |= shown_as_saved(page)
        assert len(seen) == 3

        # The worst moment: the server saves the next segment, then dies
        # before its answer reaches the browser.
        lost = []

        def answer_lost(route):
            if lost:
                return route.continue_()
            route.fetch()  # the request reaches the server and is committed
            lost.append(route.request.post_data)
            route.abort("connectionreset")

        page.route("**/segments/", answer_lost)
        drag_select(page, IN_FLIGHT, steps=4)
        page.keyboard.press("a")
        deadline = time.monotonic() + 10
        while not lost and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        server.kill()
        page.unroute("**/segments/")
        assert Segment.objects.filter(quote=IN_FLIGHT).count() == 1  # saved...
        assert IN_FLIGHT not in seglist.inner_text()  # ...but not shown as saved
        for i, word in enumerate(WHILE_DOWN):
            drag_select(page, word, steps=4)
            page.keyboard.press(KEYS[i % 3])
        expect(outbox).to_contain_text("Not saved yet")
        seen |= shown_as_saved(page)
        # Nothing queued is shown as saved while the server is away.
        assert not any(w in seglist.inner_text() for w in WHILE_DOWN)

        down_for = time.monotonic()
        server.start()  # same port; the page retries on its own (backoff)
        expect(outbox).to_be_hidden(timeout=40_000)
        recovered_in = time.monotonic() - down_for
        for word in [IN_FLIGHT, *WHILE_DOWN]:
            expect(seglist).to_contain_text(word)
        seen |= shown_as_saved(page)

    rows = Segment.objects.filter(document=doc, coder=coder, deleted_at__isnull=True)
    in_flight = rows.get(quote=IN_FLIGHT)
    assert str(in_flight.client_id) in lost[0]  # the retry reused its client id
    words = BEFORE + [IN_FLIGHT] + WHILE_DOWN
    assert sorted(rows.values_list("quote", flat=True)) == sorted(words)  # none twice
    assert len({r.client_id for r in rows}) == len(words)
    assert seen == set(rows.values_list("pk", flat=True))  # shown => saved
    for seg in rows:
        assert TEXT[seg.start : seg.end] == seg.quote
    elapsed = time.monotonic() - t0
    print(
        f"\nfault: recovered {recovered_in:.1f} s after restart; test {elapsed:.1f} s"
    )
    assert elapsed < 60
