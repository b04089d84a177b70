"""My work in a real browser: the title search and the pages swap only the
project's list (htmx, under the CSP), keep focus where the coder was and put
the state in the address bar; Back returns to the earlier page; the same
links and form work with JavaScript off."""

import re

import pytest
from playwright.sync_api import expect

from annotations.models import Assignment, Membership
from tests import factories
from tests.browser.helpers import watch_errors

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning")


@pytest.fixture
def busy(transactional_db):
    """A coder with 120 articles (the first 10 in progress) in one project
    and 3 in another."""
    project = factories.ProjectFactory(name="Takedowns", slug="takedowns")
    other = factories.ProjectFactory(name="Zines", slug="zines")
    coder = factories.UserFactory(username="coder")
    for p in (project, other):
        factories.MembershipFactory(project=p, user=coder, role=Membership.Role.CODER)
    for i in range(120):
        title = "قناة مغلقة" if i == 77 else f"Article {i:03d}"
        doc = factories.DocumentFactory(project=project, title=title)
        status = "in_progress" if i < 10 else "todo"
        Assignment.objects.create(document=doc, coder=coder, status=status)
    for i in range(3):
        doc = factories.DocumentFactory(project=other, title=f"Zine {i}")
        Assignment.objects.create(document=doc, coder=coder)
    return project


def test_search_and_pages_swap_only_the_list(page, live_server, login, busy):
    errors = watch_errors(page)
    login("coder")
    page.goto(f"{live_server.url}/")
    pk = busy.pk
    rows = page.locator(f"#list-{pk} tbody tr")
    expect(rows).to_have_count(50)
    expect(rows.first).to_contain_text("Article 000")
    page.evaluate("window.__marker = 'same page'")  # gone on a full load

    # Next: page 2 in place, focus on the new Next link, URL says page 2.
    page.click(f"#list-{pk}-next")
    expect(rows.first).to_contain_text("Article 050")
    expect(page.locator(f"#list-{pk}-page-2")).to_have_attribute("aria-current", "page")
    expect(page.locator(f"#list-{pk}-next")).to_be_focused()
    expect(page).to_have_url(re.compile(r"\?project=takedowns&page=2$"))
    assert page.evaluate("window.__marker") == "same page"

    # Back: page 1 again (htmx's history), still the same document.
    page.go_back()
    expect(rows.first).to_contain_text("Article 000")
    expect(page).to_have_url(f"{live_server.url}/")

    # Search as you type: the Arabic title, the input keeps focus and text;
    # only this project's list is asked for.
    asked = []
    page.on("request", lambda r: "project=" in r.url and asked.append(r.url))
    search = page.locator(f"#q-{pk}")
    search.click()
    search.press_sequentially("قناة")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("قناة مغلقة")
    expect(search).to_be_focused()
    expect(search).to_have_value("قناة")
    expect(page).to_have_url(re.compile(r"project=takedowns&q=%D9%82"))
    assert asked and all("project=takedowns" in url for url in asked), asked

    # The status filter, by the select.
    search.fill("")
    page.select_option(f"#status-{pk}", "in_progress")
    expect(rows).to_have_count(10)
    expect(page.locator(f"#list-{pk}-summary")).to_contain_text("1–10 of 10")

    # The other project's list was never touched.
    expect(page.locator("section.work").nth(1).locator("tbody tr")).to_have_count(3)
    assert page.evaluate("window.__marker") == "same page"
    assert errors() == []


def test_pages_and_search_without_javascript(browser, live_server, busy):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "coder")
    page.fill("#id_password", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    pk = busy.pk
    page.click(f"#list-{pk}-next")
    expect(page).to_have_url(
        f"{live_server.url}/?project=takedowns&page=2#articles-{pk}"
    )
    expect(page.locator(f"#list-{pk} tbody tr").first).to_contain_text("Article 050")
    page.fill(f"#q-{pk}", "article 11")
    page.click(f"form:has(#q-{pk}) button[type=submit]")
    rows = page.locator(f"#list-{pk} tbody tr")
    expect(rows).to_have_count(10)  # Article 110 to 119
    expect(rows.first).to_contain_text("Article 110")
    context.close()
