"""Codebook versions in a real Chromium: the PI publishes v1 by keyboard
(htmx, no reload), a coder codes under it, the PI revises a definition, sees
it under "Changed since v1", publishes v2 and downloads its JSON; and the
same publish as a plain POST with JavaScript off."""

import json
import re

import pytest
from playwright.sync_api import expect

from annotations.models import CodebookVersion, Membership, Segment
from tests import factories
from tests.browser.helpers import coding_study, drag_select, watch_errors

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning")

TEXT = "Europol removed thousands of Telegram channels in one week."
NEW_DEFINITION = "Any state or private actor named as taking part in a takedown."


@pytest.fixture
def versions_study(transactional_db):
    study = coding_study(TEXT)
    pi = factories.UserFactory(username="boss")
    project = study["docs"][0].project
    factories.MembershipFactory(project=project, user=pi, role=Membership.Role.PI)
    return {**study, "project": project}


def test_pi_publishes_versions_and_a_coder_codes_under_them(
    page, browser, live_server, login, versions_study
):
    errors = watch_errors(page)
    base = f"{live_server.url}/p/takedowns"
    login("boss")
    page.goto(f"{base}/codebook/")
    versions = page.locator("#versions")
    expect(versions).to_contain_text("No version published yet")

    # v1, by keyboard: htmx swaps the section and moves the focus to the
    # confirmation; the page is not reloaded.
    page.evaluate("window.__marker = 'same page'")
    page.get_by_label("Note for version 1 (optional)").fill("After the pilot.")
    versions.get_by_role("button", name="Publish version 1").focus()
    page.keyboard.press("Enter")
    done = versions.locator(".message.success")
    expect(done).to_have_text("Published codebook version 1 with 3 codes.")
    expect(done).to_be_focused()
    expect(versions).to_contain_text("Unchanged since v1.")
    rows = versions.locator("table.versions tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("After the pilot.")
    assert page.evaluate("window.__marker") == "same page"
    assert CodebookVersion.objects.get().note == "After the pilot."

    # A coder's codebook panel says v1, and a new segment records it.
    coder_context = browser.new_context()
    coder = coder_context.new_page()
    coder_errors = watch_errors(coder)
    coder.goto(f"{live_server.url}/accounts/login/")
    coder.fill("#id_username", "coder")
    coder.fill("#id_password", factories.PASSWORD)
    coder.click("button[type=submit]")
    coder.wait_for_url(f"{live_server.url}/**")
    doc = versions_study["docs"][0]
    coder.goto(f"{base}/d/{doc.pk}/")
    expect(coder.locator("#codebook-h")).to_have_text("Codebook v1")
    drag_select(coder, "Europol")
    coder.keyboard.press("a")
    expect(coder.locator("#segment-list")).to_contain_text("Europol")
    segment = Segment.objects.get(document=doc, quote="Europol")
    assert segment.codebook_version == 1
    assert coder_errors() == []
    coder_context.close()

    # The PI revises a definition: listed under "Changed since v1".
    actor = versions_study["codes"]["actor"]
    page.goto(f"{base}/codebook/{actor.pk}/")
    page.fill("#id_definition", NEW_DEFINITION)
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(f"{base}/codebook/")
    expect(page.locator("#changes-h")).to_have_text("Changed since v1: 1 code changed")
    change = versions.locator(".codebook-diff > li")
    expect(change).to_have_count(1)
    expect(change).to_contain_text("actor: definition changed")
    expect(change.locator("dl.before-now ins")).to_have_text(NEW_DEFINITION)

    # v2 with a note, then its page and its JSON.
    page.get_by_label("Note for version 2 (optional)").fill("Actor narrowed.")
    versions.get_by_role("button", name="Publish version 2").click()
    expect(done).to_have_text("Published codebook version 2 with 3 codes.")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Actor narrowed.")
    rows.first.get_by_role("link", name="v2").click()
    expect(page.locator("h1")).to_have_text("Codebook version 2")
    expect(page.locator("#diff-h")).to_have_text("Changes since v1")
    expect(page.get_by_text("The current version")).to_be_visible()
    link = page.get_by_role("link", name="Download JSON")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "takedowns-codebook-v2.json"
    with open(download.value.path(), encoding="utf-8") as f:
        rows_v2 = json.load(f)["codes"]
    assert {r["name"]: r["definition"] for r in rows_v2}["actor"] == NEW_DEFINITION
    answer = page.request.get(live_server.url + link.get_attribute("href"))
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    assert errors() == []


def test_publish_without_javascript_is_a_plain_post(
    browser, live_server, versions_study
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/**")
    page.goto(f"{live_server.url}/p/takedowns/codebook/")
    page.fill("#id_version_note", "First cut.")
    with page.expect_navigation():
        page.get_by_role("button", name="Publish version 1").click()
    expect(page).to_have_url(re.compile(r"/p/takedowns/codebook/$"))
    expect(
        page.get_by_text("Published codebook version 1 with 3 codes.")
    ).to_be_visible()
    expect(page.locator("#versions table.versions tbody tr")).to_contain_text(
        "First cut."
    )
    assert CodebookVersion.objects.get().number == 1
    context.close()
