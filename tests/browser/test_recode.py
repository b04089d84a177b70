"""A recode round in a real browser: the PI of the seed study starts one for
a demo coder from the Agreement page; the coder finds it under My work,
codes a document by keyboard and marks it done; the PI's report then counts
1 document and shows a coefficient. No script error or CSP violation."""

import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from playwright.sync_api import expect

from annotations.models import Project, Segment
from tests.browser.helpers import watch_errors

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning")


def tab_into_text(page):
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "text-block":
            return
    raise AssertionError("Tab never reached the article text")


@pytest.fixture
def seeded(transactional_db):
    call_command("load_seeds", stdout=io.StringIO())
    path = Path(settings.BASE_DIR) / "fixtures" / "demo_segments.csv"
    call_command(
        "import_segments", "takedowns", str(path), mark_done=True, stdout=io.StringIO()
    )


def test_pi_starts_a_round_the_coder_recodes_the_pi_reads_it(
    seeded, page, live_server, login
):
    errors = watch_errors(page)
    base = live_server.url

    # The PI: Agreement page → Start a recode round, one document of coder1's.
    login("pi", "pi-demo-2026")
    page.goto(f"{base}/p/takedowns/agreement/?bootstrap=0")
    page.locator("#recode-rounds").get_by_role(
        "link", name="Start a recode round"
    ).click()
    expect(page.locator("h1")).to_have_text("Start a recode round")
    coder1 = get_user_model().objects.get(username="coder1")
    expect(page.locator(f"#id_coder option[value='{coder1.pk}']")).to_have_text(
        re.compile(r"^coder1 \(\d+ done\)$")
    )
    page.select_option("#id_coder", str(coder1.pk))
    page.fill("#id_amount", "1")
    page.check("input[name=how][value=count]")
    expect(page.locator("#id_seed")).to_have_value("1")
    page.fill("#id_slug", "retest")
    page.get_by_role("button", name="Start the round").click()
    expect(page).to_have_url(f"{base}/p/takedowns/recode/retest/")
    expect(page.locator(".messages")).to_contain_text("under My work")
    expect(page.locator("#recode-status")).to_contain_text("0 of 1 document done")
    recode = Project.objects.get(slug="retest")
    copy = recode.documents.get()

    # coder1: My work lists the round; open its article, code by keyboard.
    page.context.clear_cookies()
    login("coder1", "coder1-demo-2026")
    page.goto(f"{base}/")
    section = page.locator("section.work", has_text=recode.name)
    expect(section).to_be_visible()
    section.get_by_role("link", name=copy.title).click()
    expect(page).to_have_url(f"{base}/p/retest/d/{copy.pk}/")
    page.wait_for_load_state()
    tab_into_text(page)
    page.keyboard.press("Shift+Control+ArrowRight")
    page.keyboard.press("a")  # actor
    expect(page.locator("#segment-list li")).to_have_count(1)
    segment = Segment.objects.get(document=copy, deleted_at__isnull=True)
    assert segment.coder.username == "coder1" and segment.code.name == "actor"
    page.locator("#done-button").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".messages")).to_contain_text("Marked")
    assert copy.assignments.get().status == "done"

    # The PI: the report counts the document and shows coefficients.
    page.context.clear_cookies()
    login("pi", "pi-demo-2026")
    page.goto(f"{base}/p/takedowns/agreement/?bootstrap=0")
    row = page.locator('#recode-rounds tr[data-recode="retest"]')
    expect(row).to_contain_text("1 / 1")
    row.get_by_role("link", name="Report").click()
    expect(page.locator("#recode-status")).to_contain_text("1 of 1 document done")
    expect(page.locator("#sample")).to_contain_text("1 document coded in both rounds")
    values = page.locator("#recode-results tbody tr:not([data-value=''])")
    expect(values.first).to_be_visible()
    # The level filter swaps the results over htmx.
    page.evaluate("window.__marker = 'same page'")
    page.select_option("select[name=level]", "document")
    expect(page).to_have_url(re.compile(r"level=document"))
    rows = page.locator("#recode-results tbody tr")
    expect(rows.first).to_have_attribute("data-level", "document")
    assert page.evaluate("window.__marker") == "same page"
    assert errors() == []
