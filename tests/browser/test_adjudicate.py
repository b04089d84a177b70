"""A PI adjudicates a seed article with three disagreements from start to
finish with the keyboard only, in a real Chromium."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from annotations.importers.segments import SegmentRow
from annotations.models import (
    AdjudicationState,
    Assignment,
    ConsensusRejection,
    ConsensusSegment,
    Document,
    HistoryEvent,
    Project,
)
from annotations.services.imports import segments_import

# pytest-base-url's session fixture trips a pytest 9 deprecation during set-up.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning")

ARTICLE = "0ea7d268e7c1b0ae"  # assigned to coder1 and coder2 by load_seeds


@pytest.fixture
def seed_article(transactional_db):
    call_command("load_seeds")
    project = Project.objects.get(slug="takedowns")
    doc = Document.objects.get(project=project, external_id=ARTICLE)

    def row(coder, code, start, end, memo=""):
        return SegmentRow(ARTICLE, coder, code, start, end, None, memo, 0)

    both = [("actor/law_enforcement", 224, 266), ("outcome", 290, 350)]
    rows = [row(c, *s) for s in both for c in ("coder1", "coder2")]
    rows += [
        row("coder1", "action", 457, 504, memo="with 'The'"),  # boundary
        row("coder2", "action", 461, 504),
        row("coder1", "actor/tech_company", 508, 642),  # code
        row("coder2", "actor/islamic_state_media", 508, 642, memo="Amaq is IS media"),
        row("coder2", "outcome", 657, 750),  # only coder2
    ]
    segments_import(project=project, rows=rows, source="test", mark_done=True)
    Assignment.objects.filter(document=doc, coder__username="coder1").update(
        note="Unsure about Amaq."
    )
    return doc


def test_pi_adjudicates_a_seed_article_with_the_keyboard(
    page, live_server, login, seed_article
):
    doc = seed_article
    csp = []
    page.on(
        "console",
        lambda m: csp.append(m.text) if "Content Security" in m.text else None,
    )
    login("pi", "pi-demo-2026")
    page.goto(f"{live_server.url}/p/takedowns/adjudicate/{doc.pk}/")
    expect(page.locator(".adj-bar")).to_contain_text("Not started")
    expect(page.locator("#adj-workspace")).to_contain_text("Unsure about Amaq.")
    page.focus("#adj-start")
    page.keyboard.press("Enter")
    status = page.locator(".adj-status")
    expect(status).to_contain_text("3 of 3 disagreements open")
    expect(status).to_contain_text("2 consensus segments")
    page.screenshot(path="/tmp/adjudicate-start.png", full_page=True)

    groups = page.locator(".adj-group")
    expect(groups.nth(0)).to_have_class(re.compile(r"\bcurrent\b"))
    # j/k move; the boundary disagreement is the first.
    page.keyboard.press("j")
    expect(groups.nth(1)).to_have_class(re.compile(r"\bcurrent\b"))
    page.keyboard.press("k")
    expect(groups.nth(0)).to_have_class(re.compile(r"\bcurrent\b"))
    expect(groups.nth(0)).to_contain_text("with 'The'")  # coder1's memo

    # 1. Boundaries: e, type both offsets, Enter.
    page.keyboard.press("e")
    page.keyboard.press("Control+A")
    page.keyboard.type("461")
    page.keyboard.press("Tab")
    page.keyboard.press("Control+A")
    page.keyboard.type("489")
    expect(groups.nth(0).locator(".preview")).to_have_text(
        "“takedown targeted the online”"
    )
    page.keyboard.press("Enter")
    expect(status).to_contain_text("2 of 3 disagreements open")
    # The next open disagreement (the code one) is current.
    expect(groups.nth(1)).to_have_class(re.compile(r"\bcurrent\b"))

    # 2. Codes: accept coder2's reading with a note.
    page.keyboard.press("n")
    page.keyboard.type("Amaq is an IS outlet")
    page.keyboard.press("Escape")
    page.keyboard.press("2")
    expect(status).to_contain_text("1 of 3 disagreements open")
    expect(groups.nth(2)).to_have_class(re.compile(r"\bcurrent\b"))

    # 3. Only coder2 coded it: reject.
    page.keyboard.press("r")
    expect(status).to_contain_text("0 of 3 disagreements open")
    page.screenshot(path="/tmp/adjudicate-settled.png", full_page=True)

    page.keyboard.press("m")
    expect(page.locator(".adj-bar")).to_contain_text("Adjudicated by pi")

    page.goto(f"{live_server.url}/p/takedowns/history/{doc.pk}/")
    expect(page.locator("table.history")).to_contain_text("Created consensus")
    page.screenshot(path="/tmp/adjudicate-history.png", full_page=True)
    page.goto(f"{live_server.url}/p/takedowns/adjudicate/")
    expect(page.locator("table.adj-list")).to_contain_text("Adjudicated")
    assert not [m for m in csp if "adjudicate" in m], csp

    state = AdjudicationState.objects.get(document=doc)
    assert state.status == "adjudicated" and state.adjudicator.username == "pi"
    got = sorted(
        (c.start, c.end, c.code.name, c.decision, c.note)
        for c in ConsensusSegment.objects.filter(document=doc, deleted_at__isnull=True)
    )
    assert got == [
        (224, 266, "law_enforcement", "auto", ""),
        (290, 350, "outcome", "auto", ""),
        (461, 489, "action", "adjust", ""),
        (508, 642, "islamic_state_media", "accept", "Amaq is an IS outlet"),
    ]
    assert ConsensusRejection.objects.filter(document=doc).count() == 1
    web = HistoryEvent.objects.filter(document=doc, via="web", user__username="pi")
    assert web.filter(entity="consensus").count() == 4
    assert web.filter(entity="rejection").count() == 1
    assert web.filter(entity="adjudication").count() == 2  # started, marked
