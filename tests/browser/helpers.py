"""Helpers shared by the browser tests that drive the coding page."""


def drag_select(page, needle: str, *, backwards: bool = False, steps: int = 6):
    """Drag the real mouse over the first `needle` in the article (from inside
    its first character to inside its last); the page snaps the selection to
    whole words unless the coder turned that off."""
    box = page.evaluate(
        """(needle) => {
          const block = document.getElementById('text-block');
          const i = block.textContent.indexOf(needle);
          const r = window.workbenchCoding.rangeFromU16(i, i + needle.length);
          const rects = Array.from(r.getClientRects()).filter((x) => x.width > 0);
          const a = rects[0], z = rects[rects.length - 1];
          return {x1: a.left + 2, y1: a.top + a.height / 2,
                  x2: z.right - 2, y2: z.top + z.height / 2};
        }""",
        needle,
    )
    start, end = (box["x1"], box["y1"]), (box["x2"], box["y2"])
    if backwards:
        start, end = end, start
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=steps)
    page.mouse.up()
