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


# CSP violations as the page sees them (the console reports them too).
_WATCH_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""


def watch_errors(page):
    """Collect script errors, console errors and CSP violations from now on;
    returns a function giving the list (empty when all went well). Call it
    before the first navigation."""
    errors: list[str] = []
    page.add_init_script(_WATCH_CSP)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: (
            msg.type == "error"
            # The browser asks for /favicon.ico, which the app does not serve.
            and "favicon" not in msg.text + msg.location.get("url", "")
            and errors.append(f"console: {msg.text} ({msg.location.get('url')})")
        ),
    )

    def collected() -> list[str]:
        return errors + page.evaluate("window.__csp || []")

    return collected


def coding_study(*texts: str) -> dict:
    """A project with three keyed codes and one coder assigned one article
    per text (None: the factory's text): the coding page's browser tests."""
    from annotations.models import Assignment, Membership
    from tests import factories

    project = factories.ProjectFactory(name="Takedowns", slug="takedowns")
    coder = factories.UserFactory(username="coder")
    factories.MembershipFactory(project=project, user=coder, role=Membership.Role.CODER)
    codes = {
        name: factories.CodeFactory(project=project, name=name, key=key, color=color)
        for name, key, color in [
            ("actor", "a", "#f5eea3"),
            ("action", "c", "#f5cca3"),
            ("platform", "p", "#a3f5da"),
        ]
    }
    docs = []
    for n, text in enumerate(texts):
        extra = {} if text is None else {"text": text}
        docs.append(
            factories.DocumentFactory(project=project, external_id=f"d{n}", **extra)
        )
        Assignment.objects.create(document=docs[-1], coder=coder)
    return {"codes": codes, "coder": coder, "docs": docs}
