"""The PI reads the agreement report of the seed study coded by three coders:
filters over htmx, the compare view, no CSP violation, in a real Chromium."""

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import expect

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning")


@pytest.fixture
def seeded(transactional_db):
    call_command("load_seeds", stdout=io.StringIO())
    path = Path(settings.BASE_DIR) / "fixtures" / "demo_segments.csv"
    call_command(
        "import_segments", "takedowns", str(path), mark_done=True, stdout=io.StringIO()
    )


def test_agreement_report_and_compare(seeded, page, live_server, login):
    problems = []
    # console errors (CSP violations among them) and failed requests; the
    # console's "Failed to load resource" repeats the latter (the favicon)
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and "favicon" not in r.url
            else None
        ),
    )
    login("pi", "pi-demo-2026")
    page.goto(f"{live_server.url}/p/takedowns/agreement/?bootstrap=100")
    expect(page.locator("#summary tbody tr")).to_have_count(13)
    expect(page.locator("#ci-plot svg")).to_be_visible()
    expect(page.locator("#heat-maps figure")).to_have_count(13)

    # filters swap the results over htmx and keep the URL shareable
    page.select_option("select[name=level]", "span")
    expect(page.locator("#detail tbody tr").first).to_have_attribute(
        "data-level", "span"
    )
    assert "level=span" in page.url
    page.select_option("select[name=code]", "outcome")
    expect(page.locator("#heat-maps figure")).to_have_count(1)
    rows = page.locator("#detail tbody tr")
    assert {rows.nth(i).get_attribute("data-code") for i in range(rows.count())} == {
        "outcome"
    }

    # the most disputed document, side by side
    page.locator("#documents a", has_text="Compare").first.click()
    expect(page.locator("h1")).to_contain_text("Compare coders")
    page.wait_for_load_state()  # htmx (a deferred script) is ready
    expect(page.locator("svg.lanes")).to_be_visible()
    total = page.locator("#regions tbody tr").count()
    page.select_option("select[name=show]", "codes")
    expect(page.locator("#regions tbody tr:not(.region-codes)")).to_have_count(0)
    assert 0 < page.locator("#regions tbody tr").count() < total
    assert not problems, problems
