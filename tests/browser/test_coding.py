"""The coder's golden path in a real browser: select with the mouse, apply
codes by key and by click, overlap, memo, delete and undo, mark done; and a
failed request that is kept, shown and retried without a duplicate."""

import re

import pytest
from playwright.sync_api import expect

from annotations.models import Assignment, Segment
from tests.browser.helpers import coding_study, drag_select

# pytest-playwright's session fixture base_url trips pytest 9's deprecation
# (raised as an error by pyproject's filterwarnings).
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning")

# Emoji (outside the BMP: two UTF-16 units each, a flag is two code points),
# Arabic and a combining accent all come BEFORE the spans coded below.
TEXT = (
    "Intro 🎉 and 🇪🇺 قناة مغلقة café\u0301 then Europol removed thousands of "
    "Telegram channels.\nAnalysts doubt the effect will last."
)


@pytest.fixture
def coding(transactional_db):
    study = coding_study(TEXT, None)
    doc, following = study["docs"]
    return {
        "doc": doc,
        "next": following,
        "codes": study["codes"],
        "coder": study["coder"],
    }


def segment(doc, quote):
    return Segment.objects.get(document=doc, quote=quote, deleted_at__isnull=True)


def test_coder_codes_an_article_end_to_end(page, live_server, login, coding):
    doc, codes = coding["doc"], coding["codes"]
    errors = []  # CSP violations and script errors show up here
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: (
            msg.type == "error"
            and "favicon" not in msg.text
            and "404" not in msg.text
            and errors.append(msg.text)
        ),
    )
    login("coder")
    page.goto(f"{live_server.url}/p/takedowns/d/{doc.pk}/")
    # The block's text is the stored text, character for character.
    assert page.eval_on_selector("#text-block", "el => el.textContent") == TEXT
    seglist = page.locator("#segment-list")

    # 1. A code by key.
    drag_select(page, "Europol")
    page.keyboard.press("a")
    expect(seglist).to_contain_text("Europol")
    s = segment(doc, "Europol")
    assert (s.start, s.end, s.code_id) == (
        TEXT.index("Europol"),
        TEXT.index("Europol") + 7,
        codes["actor"].pk,
    )

    # 2. A code by click, selecting backwards.
    drag_select(page, "Telegram channels", backwards=True)
    page.click(".code-btn[data-key=p]")
    expect(seglist).to_contain_text("Telegram channels")
    start = TEXT.index("Telegram channels")
    assert (segment(doc, "Telegram channels").start, segment(doc, "Telegram channels").end) == (
        start, start + len("Telegram channels"),
    )  # fmt: skip

    # 3. An overlapping segment: the shared words carry both.
    drag_select(page, "removed thousands of Telegram")
    page.keyboard.press("c")
    expect(seglist).to_contain_text("removed thousands of Telegram")
    overlap = page.locator("#text-block .seg.multi")
    expect(overlap).to_have_count(1)
    expect(overlap).to_have_text("Telegram")

    # After a reload the segments are where the database says they are.
    page.reload()
    expect(page.locator("#text-block .anchor")).to_have_count(3)
    rows = Segment.objects.filter(document=doc).values_list("start", "end", "quote")
    for seg_start, seg_end, quote in rows:
        assert TEXT[seg_start:seg_end] == quote

    # 4. A memo, through the panel opened by clicking the highlight.
    page.locator("#text-block .seg", has_text="Europol").click()
    page.fill("#panel-memo", "Named as the coordinating agency.")
    page.click("#panel-save")
    expect(page.locator("#status")).to_contain_text("Saved")
    assert segment(doc, "Europol").memo == "Named as the coordinating agency."

    # 5. Delete, then Ctrl+Z brings it back.
    page.click("#panel-delete")
    expect(page.locator("#status")).to_contain_text("Deleted")
    expect(seglist).not_to_contain_text("Europol")
    assert not Segment.objects.filter(
        document=doc, quote="Europol", deleted_at__isnull=True
    ).exists()
    page.locator("#text-block").click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+z")
    expect(seglist).to_contain_text("Europol")
    assert segment(doc, "Europol").memo == "Named as the coordinating agency."

    # 6. Mark done: the next article opens; this one is done.
    page.click("#done-button")
    page.wait_for_url(re.compile(rf"/d/{coding['next'].pk}/$"))
    assert Assignment.objects.get(document=doc, coder=coding["coder"]).status == "done"
    assert Segment.objects.filter(document=doc, deleted_at__isnull=True).count() == 3
    assert errors == []


def test_a_failed_save_is_kept_shown_and_retried_once(page, live_server, login, coding):
    doc = coding["doc"]
    login("coder")
    page.goto(f"{live_server.url}/p/takedowns/d/{doc.pk}/")

    # Snapping without whole words: a selection from inside the flag's first
    # surrogate pair to between é and its combining accent grows to whole
    # graphemes; offsets come back in code points.
    page.evaluate("localStorage.setItem('wb.snapWords', '0')")
    span = page.evaluate(
        r"""() => {
          const t = document.getElementById('text-block').textContent;
          const r = window.workbenchCoding.rangeFromU16(
            t.indexOf('\u{1F1EA}') + 1, t.indexOf('\u0301'));
          getSelection().removeAllRanges();
          getSelection().addRange(r);
          const span = window.workbenchCoding.selectionSpan();
          getSelection().removeAllRanges();
          return span;
        }"""
    )
    flag, accent = TEXT.index("🇪🇺"), TEXT.index("\u0301")
    assert (span["start"], span["end"]) == (flag, accent + 1)
    assert span["quote"] == TEXT[flag : accent + 1]
    page.evaluate("localStorage.removeItem('wb.snapWords')")

    failures = []

    def flaky(route):
        # The first attempt is lost on the network; later ones go through.
        if not failures:
            failures.append(route.request.post_data)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/segments/", flaky)
    drag_select(page, "Analysts")
    page.keyboard.press("a")
    outbox = page.locator("#outbox")
    expect(outbox).to_contain_text("Not saved yet")
    # Never shown as saved: not in the list, drawn as pending only.
    expect(page.locator("#segment-list")).not_to_contain_text("Analysts")
    assert page.evaluate("CSS.highlights.has('wb-failed')")
    assert not Segment.objects.exists()
    page.click("#outbox-retry")
    expect(page.locator("#segment-list")).to_contain_text("Analysts")
    expect(outbox).to_be_hidden()
    saved = Segment.objects.get()
    assert saved.start == TEXT.index("Analysts") and str(saved.client_id) in failures[0]
