"""Keyboard-only coding in a real browser: Tab into the article, move a caret
by graphemes, words, sentences and paragraphs, select with Shift, code with a
code's key, and find exact code-point offsets in the database. The mouse is
never used."""

import pytest
from playwright.sync_api import expect

from annotations.models import Segment
from tests.browser.helpers import coding_study, watch_errors

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning")

# 🎉 is two UTF-16 units, the flag four (two code points), é + U+0301 one
# grapheme of two code points; the paragraph reads left to right.
TEXT = (
    "Intro 🎉 and 🇪🇺 قناة مغلقة café\u0301 then Europol removed thousands of "
    "Telegram channels.\nAnalysts doubt the effect will last."
)
# Sentences, paragraphs and a right-to-left paragraph.
PROSE = "First sentence here. Second one!\nقناة مغلقة اليوم\n\nLast para."


@pytest.fixture
def coding(transactional_db):
    study = coding_study(TEXT, PROSE)
    doc, prose = study["docs"]
    return {"doc": doc, "prose": prose, "codes": study["codes"]}


def tab_into_text(page):
    """Press Tab from the top of the page until the article text has focus."""
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "text-block":
            return
    raise AssertionError("Tab never reached the article text")


def caret(page) -> dict:
    """The caret's anchor and focus, in UTF-16 units."""
    return page.evaluate("window.workbenchCoding.caret.state()")


def press(page, key: str, times: int = 1):
    for _ in range(times):
        page.keyboard.press(key)


def selected(page) -> str:
    return page.evaluate("getSelection().toString()")


def u16(text: str) -> int:
    """Length of `text` in UTF-16 units, as the browser counts."""
    return len(text.encode("utf-16-le")) // 2


def saved(doc, quote: str) -> Segment:
    return Segment.objects.get(document=doc, quote=quote, deleted_at__isnull=True)


def test_keyboard_selection_codes_exact_code_points(page, live_server, login, coding):
    doc, codes = coding["doc"], coding["codes"]
    errors = watch_errors(page)
    login("coder")
    page.goto(f"{live_server.url}/p/takedowns/d/{doc.pk}/")
    text = page.locator("#text-block")
    live = page.locator("#caret-live")
    seglist = page.locator("#segment-list")

    tab_into_text(page)
    expect(text).to_have_role("textbox")
    expect(text).to_have_accessible_name("Article text")
    expect(text).to_have_accessible_description(
        "Tab to the text: the arrow keys move a caret, with Shift they select, "
        "and a code's key codes the selection."
    )
    # A visible focus ring (accent blue, not the faint page yellow) and a caret.
    ring = text.evaluate(
        "el => [getComputedStyle(el).outlineStyle, getComputedStyle(el).outlineColor]"
    )
    assert ring == ["solid", "rgb(31, 95, 168)"]
    expect(page.locator(".text-caret")).to_be_visible()
    assert caret(page) == {"anchor": 0, "focus": 0}

    # By grapheme: "Intro " then the emoji in one step, " and " then the flag.
    press(page, "ArrowRight", 6)
    press(page, "ArrowRight")
    assert caret(page)["focus"] == u16("Intro 🎉")
    expect(live).to_contain_text("🎉")
    press(page, "ArrowRight", 5)
    press(page, "ArrowRight")
    assert caret(page)["focus"] == u16("Intro 🎉 and 🇪🇺")
    press(page, "ArrowLeft")
    assert caret(page)["focus"] == u16("Intro 🎉 and ")  # back over the whole flag
    press(page, "ArrowRight", 2)

    # Shift+Ctrl+Right extends by word, over the Arabic words.
    press(page, "Shift+Control+ArrowRight", 2)
    assert selected(page) == "قناة مغلقة"
    expect(live).to_contain_text("Selected 10 characters: قناة مغلقة")
    press(page, "p")
    expect(seglist).to_contain_text("قناة مغلقة")
    s = saved(doc, "قناة مغلقة")
    start = TEXT.index("قناة")
    assert (s.start, s.end, s.code_id) == (start, start + 10, codes["platform"].pk)
    expect(live).to_contain_text("Added platform")

    # After the swap the text still has focus and the caret waits after the
    # coded span; the next selection starts there.
    expect(text).to_be_focused()
    expect(page.locator(".text-caret")).to_be_visible()
    end = u16("Intro 🎉 and 🇪🇺 قناة مغلقة")
    assert caret(page) == {"anchor": end, "focus": end}
    press(page, "ArrowRight")
    press(page, "Shift+Control+ArrowRight")
    assert selected(page) == "café\u0301"
    press(page, "a")
    expect(seglist).to_contain_text("café\u0301")
    s = saved(doc, "café\u0301")
    start = TEXT.index("café")
    assert (s.start, s.end, s.code_id) == (start, start + 5, codes["actor"].pk)

    # Shift+Left after the combining accent takes the whole é + U+0301;
    # with "snap to whole words" on, a code would take the whole word.
    after_accent = u16(TEXT[: TEXT.index("\u0301") + 1])
    assert caret(page)["focus"] == after_accent
    press(page, "Shift+ArrowLeft")
    assert selected(page) == "\u00e9\u0301"
    assert caret(page) == {"anchor": after_accent, "focus": after_accent - 2}
    expect(live).to_contain_text("a code takes 5 characters: café\u0301")

    # Escape collapses the selection; it does not leave the text.
    press(page, "Escape")
    assert page.evaluate("getSelection().isCollapsed")
    assert caret(page) == {"anchor": after_accent - 2, "focus": after_accent - 2}
    expect(live).to_contain_text("Selection cleared")
    expect(text).to_be_focused()

    # Without snapping, exactly the grapheme is coded: two code points.
    page.evaluate("localStorage.setItem('wb.snapWords', '0')")
    press(page, "Shift+ArrowRight")
    press(page, "c")
    expect(page.locator("#status")).to_contain_text("Added action")
    s = saved(doc, "\u00e9\u0301")
    accent = TEXT.index("\u0301")
    assert (s.start, s.end, s.code_id) == (accent - 1, accent + 1, codes["action"].pk)
    for seg in Segment.objects.filter(document=doc):
        assert TEXT[seg.start : seg.end] == seg.quote
    assert Segment.objects.filter(document=doc).count() == 3
    assert errors() == []


def test_next_selection_survives_the_swap_of_a_pending_save(
    page, live_server, login, coding
):
    doc = coding["doc"]
    errors = watch_errors(page)
    held = []
    page.route("**/segments/", lambda route: held.append(route))
    login("coder")
    page.goto(f"{live_server.url}/p/takedowns/d/{doc.pk}/")
    tab_into_text(page)

    # Code "Europol" while the server is held back, then select the next
    # two words before its answer replaces the text block.
    page.keyboard.press("Control+ArrowRight")  # after "Intro"
    while caret(page)["focus"] < u16(TEXT[: TEXT.index("Europol")]) - 1:
        page.keyboard.press("Control+ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+Control+ArrowRight")
    assert selected(page) == "Europol"
    page.keyboard.press("a")
    expect(page.locator("#outbox")).to_contain_text("Saving")
    page.keyboard.press("ArrowRight")
    press(page, "Shift+Control+ArrowRight", 2)
    assert selected(page) == "removed thousands"
    old_block = page.evaluate_handle("document.getElementById('text-block')")

    held.pop().continue_()
    expect(page.locator("#segment-list")).to_contain_text("Europol")
    assert not old_block.evaluate("el => el.isConnected")  # really swapped
    expect(page.locator("#text-block")).to_be_focused()
    assert selected(page) == "removed thousands"
    page.unroute("**/segments/")
    page.keyboard.press("c")
    expect(page.locator("#segment-list")).to_contain_text("removed thousands")
    s = saved(doc, "removed thousands")
    assert (s.start, s.end) == (
        TEXT.index("removed"),
        TEXT.index("removed") + len("removed thousands"),
    )
    assert saved(doc, "Europol").start == TEXT.index("Europol")
    assert errors() == []


def test_sentences_paragraphs_edges_and_right_to_left(page, live_server, login, coding):
    prose = coding["prose"]
    errors = watch_errors(page)
    login("coder")
    page.goto(f"{live_server.url}/p/takedowns/d/{prose.pk}/")
    tab_into_text(page)
    live = page.locator("#caret-live")

    # Down: on to the end of the sentence, trailing space left out.
    page.keyboard.press("Shift+ArrowDown")
    assert selected(page) == "First sentence here."
    expect(live).to_contain_text("Selected 20 characters: First sentence here.")
    page.keyboard.press("Shift+ArrowDown")
    assert selected(page) == "First sentence here. Second one!"
    page.keyboard.press("ArrowUp")  # back to the start of "Second one!"
    assert caret(page)["focus"] == PROSE.index("Second")
    page.keyboard.press("End")
    assert caret(page)["focus"] == PROSE.index("\n")
    page.keyboard.press("Home")
    assert caret(page)["focus"] == 0

    # Ctrl+Down: paragraph by paragraph (the empty one too), then back.
    arabic = PROSE.index("قناة")
    page.keyboard.press("Control+ArrowDown")
    assert caret(page)["focus"] == PROSE.index("\n")
    page.keyboard.press("Control+ArrowDown")
    assert caret(page)["focus"] == PROSE.index("\n", arabic)
    page.keyboard.press("Control+ArrowUp")
    assert caret(page)["focus"] == arabic

    # In the right-to-left paragraph Left reads on, Right goes back.
    page.keyboard.press("ArrowLeft")
    assert caret(page)["focus"] == arabic + 1
    expect(live).to_contain_text("ق")
    page.keyboard.press("Shift+Control+ArrowLeft")
    assert selected(page) == "ناة"
    page.keyboard.press("ArrowRight")  # collapses to the selection's start
    assert caret(page)["focus"] == arabic + 1
    page.keyboard.press("Shift+End")
    assert selected(page) == "ناة مغلقة اليوم"

    # The caret is drawn on the empty line, one line high.
    page.keyboard.press("Control+End")
    page.keyboard.press("Control+ArrowUp")
    page.keyboard.press("ArrowLeft")
    assert caret(page)["focus"] == PROSE.index("\n\n") + 1
    drawn = page.evaluate(
        """(i) => {
          const line = (a) => window.workbenchCoding.rangeFromU16(a, a + 1)
            .getClientRects()[0].top;
          const c = document.querySelector('.text-caret').getBoundingClientRect();
          return [line(i - 2), c.top, line(i + 1), c.height];
        }""",
        PROSE.index("\n\n") + 1,
    )
    above, top, below, height = drawn
    assert above < top < below and 10 < height < 40

    page.keyboard.press("Control+End")
    assert caret(page) == {"anchor": len(PROSE), "focus": len(PROSE)}
    page.keyboard.press("ArrowRight")
    expect(live).to_contain_text("End of the article")
    page.keyboard.press("Control+a")
    assert selected(page) == PROSE
    page.keyboard.press("Control+Home")
    assert caret(page) == {"anchor": 0, "focus": 0}

    # The pure moves agree: words go to ends forward and starts back.
    moves = page.evaluate(
        """() => {
          const m = window.workbenchCoding.caret.move;
          return [m(0, 'word', 1), m(5, 'word', 1), m(14, 'word', -1),
                  m(0, 'sentence', -1), m(20, 'sentence', 1),
                  m(0, 'paragraph', -1)];
        }"""
    )
    assert moves == [5, 14, 6, 0, 32, 0]
    assert Segment.objects.count() == 0
    assert errors() == []


def test_code_keys_and_memo_typing_pass_through(page, live_server, login, coding):
    doc = coding["doc"]
    errors = watch_errors(page)
    login("coder")
    page.goto(f"{live_server.url}/p/takedowns/d/{doc.pk}/")
    tab_into_text(page)

    # A code key with nothing selected codes nothing and moves nothing.
    page.keyboard.press("Control+ArrowRight")
    page.keyboard.press("a")
    assert caret(page) == {"anchor": 5, "focus": 5}
    page.keyboard.press("Shift+Control+ArrowLeft")
    page.keyboard.press("a")
    expect(page.locator("#segment-list")).to_contain_text("Intro")

    # Enter on coded text opens its segment; Escape closes it and the
    # caret is back where it was.
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Enter")
    memo = page.locator("#panel-memo")
    expect(memo).to_be_visible()
    expect(page.locator("#panel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(memo).to_have_count(0)
    expect(page.locator("#text-block")).to_be_focused()
    assert caret(page) == {"anchor": 4, "focus": 4}
    # With the panel open, Escape in the text first clears the selection.
    page.keyboard.press("Enter")
    expect(page.locator("#panel")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(page.locator("#text-block")).to_be_focused()
    page.keyboard.press("Shift+ArrowLeft")
    page.keyboard.press("Escape")
    assert page.evaluate("getSelection().isCollapsed")
    expect(memo).to_be_visible()
    page.keyboard.press("Escape")
    expect(memo).to_have_count(0)
    assert caret(page) == {"anchor": 3, "focus": 3}
    # Keys typed in the memo are text: no code, no caret move.
    page.keyboard.press("Enter")
    memo.focus()
    page.keyboard.type("a pc")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Home")
    page.keyboard.type("z")
    expect(memo).to_have_value("za pc")
    assert Segment.objects.filter(document=doc).count() == 1
    # Ctrl+Z in the text still undoes the last change.
    tab_back = "Shift+Tab"
    for _ in range(40):
        if page.evaluate("document.activeElement.id") == "text-block":
            break
        page.keyboard.press(tab_back)
    page.keyboard.press("Control+z")
    expect(page.locator("#segment-list")).not_to_contain_text("Intro")
    assert errors() == []
