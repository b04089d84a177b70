"""A PI sets up a study in a real Chromium: project, the five seed articles,
a codebook with a nested code, two coders, a 40% reliability sample; then a
coder marks an article done (in a second browser context) and the PI's
progress page changes."""

import re
from pathlib import Path

import pytest
from django.db import OperationalError
from playwright.sync_api import expect

from annotations.models import Assignment, Code, Document, Project
from tests import factories

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning")
SEEDS = sorted((Path(__file__).resolve().parents[2] / "seeds").glob("*.txt"))


def _watch_console(page, problems: list[str]) -> None:
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if (m.type == "error" and "Failed to load resource" not in m.text)
            or "Content Security" in m.text
            else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )


def test_pi_sets_up_a_study_and_watches_progress(
    page, browser, live_server, login, transactional_db
):
    factories.UserFactory(username="boss")
    factories.UserFactory(username="ra1")
    factories.UserFactory(username="ra2")
    problems: list[str] = []
    _watch_console(page, problems)
    login("boss")
    base = live_server.url

    # A project.
    page.goto(f"{base}/projects/new/")
    page.fill("#id_name", "Takedown study")
    page.click("button:has-text('Create project')")
    expect(page.locator("h1")).to_have_text("Takedown study")
    project = Project.objects.get(slug="takedown-study")

    # The five seed articles, through the preview.
    page.click("a:has-text('Upload documents')")
    page.set_input_files("#id_files", [str(p) for p in SEEDS])
    page.click("button:has-text('Preview')")
    expect(page.locator("#preview-h")).to_be_visible()
    expect(page.get_by_text("5 to import")).to_be_visible()
    assert Document.objects.filter(project=project).count() == 0
    page.click("button:has-text('Import 5 documents')")
    expect(page.get_by_text("Imported 5 documents")).to_be_visible()
    assert Document.objects.filter(project=project).count() == 5

    # A codebook with a nested code.
    page.click("nav.project-nav >> text=Codebook")
    page.click("a:has-text('Add a code')")
    page.fill("#id_name", "actor")
    page.fill("#id_key", "a")
    page.click("button:has-text('Add code')")
    expect(page.locator(".code-name", has_text="actor")).to_be_visible()
    page.click("a[title='Add a subcode']")
    page.fill("#id_name", "law_enforcement")
    page.fill("#id_key", "l")
    page.click("button:has-text('Add code')")
    nested = page.locator(
        "ol.code-list ol.code-list .code-name", has_text="law_enforcement"
    )
    expect(nested).to_be_visible()
    expect(
        page.locator(".coder-preview .chip", has_text="law_enforcement")
    ).to_be_visible()
    child = Code.objects.get(project=project, name="law_enforcement")
    assert child.parent.name == "actor"
    # A second top-level code, dragged above the first.
    page.click("a:has-text('Add a code')")
    page.fill("#id_name", "outcome")
    page.click("button:has-text('Add code')")
    rows = page.locator("#code-tree > ol.code-list > li[data-id] > .code-row")
    with page.expect_navigation():  # the page reloads once the order is saved
        rows.nth(1).drag_to(rows.nth(0), target_position={"x": 5, "y": 2})
    expect(rows.nth(0).locator(".code-name")).to_have_text("outcome")
    top = Code.objects.filter(project=project, parent=None).order_by("order")
    assert [c.name for c in top] == ["outcome", "actor"]

    # Two coders.
    page.click("nav.project-nav >> text=Team")
    for name in ("ra1", "ra2"):
        page.fill("#id_add-username", name)
        page.select_option("#id_add-role", "coder")
        page.click("section:has(#add-h) button:has-text('Add')")
        expect(page.get_by_text(f"{name} added as coder")).to_be_visible()

    # A 40% reliability sample, double-coded.
    page.click("nav.project-nav >> text=Assignments")
    seed = page.input_value("#id_seed")
    page.fill("#id_share", "40")
    page.fill("#id_per_document", "2")
    page.click("button:has-text('Assign 5 documents')")
    expect(page.get_by_text(f"with seed {seed}: 2 double-coded")).to_be_visible()
    expect(page.get_by_text(f"seed {seed}", exact=False).first).to_be_visible()
    assert Assignment.objects.filter(document__project=project).count() == 7

    # Progress before and after a coder marks an article done.
    page.click("nav.project-nav >> text=Progress")
    expect(page.locator("#overall-numbers")).to_contain_text("0 of 7 assignments done")
    row = page.locator("#per-coder tr[data-coder='ra1'] .done-count")
    expect(row).to_have_text("0")

    coder_context = browser.new_context()
    coder_page = coder_context.new_page()
    _watch_console(coder_page, problems)
    coder_page.goto(f"{base}/accounts/login/")
    coder_page.fill("#id_username", "ra1")
    coder_page.fill("#id_password", factories.PASSWORD)
    coder_page.click("button[type=submit]")
    coder_page.wait_for_url(re.compile(f"^{re.escape(base)}/"))
    mine = Assignment.objects.filter(coder__username="ra1").order_by("pk").first()
    coder_page.goto(f"{base}/p/{project.slug}/d/{mine.document_id}/")
    coder_page.click("#done-button")
    # Done opens the next article: let that navigation and the outbox settle
    # before reading the database (the in-memory SQLite of the tests refuses a
    # read while the server thread writes: "database table is locked") and
    # before closing, or closing races the page's unload (seen hanging on
    # PostgreSQL under load).
    coder_page.wait_for_load_state("networkidle")
    for _ in range(50):  # the coding page may send it in the background
        try:
            mine.refresh_from_db()
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
        if mine.status == "done":
            break
        coder_page.wait_for_timeout(100)
    assert mine.status == "done"
    coder_page.close(run_before_unload=False)
    coder_context.close()

    page.click("a:has-text('Refresh')")  # htmx swaps the board
    expect(page.locator("#overall-numbers")).to_contain_text("1 of 7 assignments done")
    expect(row).to_have_text("1")
    page.screenshot(path="/tmp/pi_progress.png", full_page=True)
    assert not problems, problems
