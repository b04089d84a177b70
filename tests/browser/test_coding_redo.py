"""Undo and redo from the keyboard in a real browser: a segment coded by key,
Ctrl+Z removes it, Ctrl+Shift+Z (and Ctrl+Y, and the Redo button) bring it
back at the same code-point offsets; the keys do nothing in a form field; a
change cancelled before it was sent is queued again by Redo."""

import pytest
from playwright.sync_api import expect

from annotations.models import HistoryEvent, Segment
from tests.browser.helpers import coding_study, drag_select, watch_errors

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning")

# Emoji and a flag (outside the BMP) before the span: UTF-16 offsets in the
# browser differ from the code points stored.
TEXT = "Intro 🎉 and 🇪🇺 then Europol removed thousands of Telegram channels."


@pytest.fixture
def coding(transactional_db):
    study = coding_study(TEXT)
    return {"doc": study["docs"][0], "codes": study["codes"]}


def row(doc, quote):
    s = Segment.objects.get(document=doc, quote=quote)
    return (s.pk, s.start, s.end, s.quote, s.code_id, s.deleted_at is None)


def test_ctrl_z_then_ctrl_shift_z_brings_a_segment_back(
    page, live_server, login, coding
):
    doc, codes = coding["doc"], coding["codes"]
    errors = watch_errors(page)
    redos = []
    page.on("request", lambda r: "/redo/" in r.url and redos.append(r.method))
    login("coder")
    page.goto(f"{live_server.url}/p/takedowns/d/{doc.pk}/")
    seglist, status = page.locator("#segment-list"), page.locator("#status")
    redo_button = page.locator("#redo-button")

    drag_select(page, "Europol")
    page.keyboard.press("a")
    expect(seglist).to_contain_text("Europol")
    start = TEXT.index("Europol")  # code points
    saved = row(doc, "Europol")
    assert saved[1:] == (start, start + 7, "Europol", codes["actor"].pk, True)
    expect(redo_button).to_have_count(0)

    page.keyboard.press("Control+z")
    expect(seglist).not_to_contain_text("Europol")
    assert row(doc, "Europol")[-1] is False
    expect(redo_button).to_have_text("Redo: add actor “Europol”")
    expect(redo_button).to_have_attribute(
        "aria-keyshortcuts", "Control+Shift+Z Control+Y Meta+Shift+Z"
    )

    # In a form field the keys are the field's own: no redo is sent.
    page.focus("#id_note")
    page.keyboard.press("Control+Shift+Z")
    page.keyboard.press("Control+y")
    page.locator("#text-block").click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+Shift+Z")
    expect(seglist).to_contain_text("Europol")
    expect(status).to_contain_text("Redone: add actor “Europol”")
    expect(redo_button).to_have_count(0)
    expect(page.locator("#undo-button")).to_have_text("Undo: add actor “Europol”")
    assert redos == ["POST"]
    # The same segment, where it was.
    assert row(doc, "Europol") == saved
    actions = HistoryEvent.objects.filter(entity="segment", entity_id=saved[0])
    assert list(actions.order_by("pk").values_list("action", flat=True)) == [
        "create", "delete", "restore",
    ]  # fmt: skip

    # Ctrl+Y, Cmd+Shift+Z and the button do the same.
    for how in ("Control+y", "Meta+Shift+z", "button"):
        page.keyboard.press("Control+z")
        expect(seglist).not_to_contain_text("Europol")
        if how == "button":
            redo_button.click()
        else:
            page.keyboard.press(how)
        expect(seglist).to_contain_text("Europol")
        assert row(doc, "Europol") == saved
    assert len(redos) == 4
    assert errors() == []
    # Nothing left to redo: the page says so and changes nothing. (The
    # browser reports the 409 itself; no script error, no CSP violation.)
    page.keyboard.press("Control+Shift+Z")
    expect(status).to_contain_text("Nothing to redo.")
    assert row(doc, "Europol") == saved
    assert Segment.objects.count() == 1
    assert [e for e in errors() if "status of 409" not in e] == []


def test_redo_queues_again_a_change_cancelled_before_it_was_sent(
    page, live_server, login, coding
):
    doc = coding["doc"]
    errors = watch_errors(page)
    sent = []
    page.on("request", lambda r: r.method == "POST" and sent.append(r.url))
    login("coder")
    page.goto(f"{live_server.url}/p/takedowns/d/{doc.pk}/")
    # The first segment's request is held, so the second waits in the outbox.
    held = []
    page.route(
        "**/segments/",
        lambda route: route.continue_() if held else held.append(route),
    )
    drag_select(page, "Europol")
    page.keyboard.press("a")
    drag_select(page, "Telegram")
    page.keyboard.press("p")
    expect(page.locator("#outbox")).to_contain_text("Saving 2 changes")
    page.keyboard.press("Control+z")
    expect(page.locator("#status")).to_contain_text("Cancelled a change")
    expect(page.locator("#outbox")).to_contain_text("Saving 1 change")
    page.keyboard.press("Control+Shift+Z")
    expect(page.locator("#status")).to_contain_text("Brought back the change")
    expect(page.locator("#outbox")).to_contain_text("Saving 2 changes")
    held[0].continue_()
    expect(page.locator("#segment-list")).to_contain_text("Telegram")
    expect(page.locator("#outbox")).to_be_hidden()
    quotes = Segment.objects.filter(document=doc, deleted_at__isnull=True)
    assert sorted(quotes.values_list("quote", flat=True)) == ["Europol", "Telegram"]
    # Brought back in the browser: the server was never asked to redo.
    assert not [u for u in sent if "/redo/" in u or "/undo/" in u]
    assert len([u for u in sent if u.endswith("/segments/")]) == 2
    assert errors() == []
