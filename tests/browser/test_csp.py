"""The Content Security Policy in a real browser: the app's pages, the admin
and the API docs work under it with no violation reported (inline scripts,
styles, eval or foreign hosts would all show up here)."""

import pytest
from playwright.sync_api import expect

from annotations.models import Assignment, Membership
from annotations.services import coding
from tests import factories

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestRemovedIn10Warning")

WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber);
});
"""


@pytest.fixture
def watched(page):
    """The page, with every CSP violation collected (events and console)."""
    console = []
    page.add_init_script(WATCH)
    page.on(
        "console",
        lambda m: (
            console.append(m.text) if "Content Security Policy" in m.text else None
        ),
    )

    def violations() -> list[str]:
        return page.evaluate("window.__csp || []") + console

    return page, violations


@pytest.fixture
def project(transactional_db):
    p = factories.ProjectFactory(name="Takedowns", slug="takedowns")
    pi = factories.UserFactory(username="pi", is_staff=True, is_superuser=True)
    coder = factories.UserFactory(username="coder")
    other = factories.UserFactory(username="coder2")
    factories.MembershipFactory(project=p, user=pi, role=Membership.Role.PI)
    for c in (coder, other):
        factories.MembershipFactory(project=p, user=c, role=Membership.Role.CODER)
    code = factories.CodeFactory(project=p, name="actor", key="a", color="#f5eea3")
    factories.CodeFactory(project=p, name="action", key="c", color="#a3f5da")
    doc = factories.DocumentFactory(project=p, external_id="one")
    for c in (coder, other):
        Assignment.objects.create(document=doc, coder=c)
        coding.segment_create(document=doc, coder=c, code=code, start=0, end=7,
                              quote=doc.text[:7], memo="a memo")  # fmt: skip
        coding.assignment_set_status(
            assignment=Assignment.objects.get(document=doc, coder=c), status="done",
            actor=c,
        )  # fmt: skip
    return p, doc


def test_coding_page_works_under_the_policy(watched, live_server, login, project):
    page, violations = watched
    p, doc = project
    Assignment.objects.filter(coder__username="coder").update(status="in_progress")
    login("coder")
    page.goto(f"{live_server.url}/p/{p.slug}/d/{doc.pk}/")
    page.evaluate(
        """() => {
          const block = document.getElementById('text-block');
          const i = block.textContent.indexOf('referral');
          const r = window.workbenchCoding.rangeFromU16(i, i + 8);
          const s = getSelection(); s.removeAllRanges(); s.addRange(r);
        }"""
    )
    page.keyboard.press("c")
    expect(page.locator("#segment-list")).to_contain_text("referral")
    assert violations() == []


def test_pi_pages_admin_and_api_docs_have_no_violation(
    watched, live_server, login, project
):
    page, violations = watched
    p, doc = project
    login("pi")
    paths = [
        "/", f"/p/{p.slug}/", f"/p/{p.slug}/documents/", f"/p/{p.slug}/codebook/",
        f"/p/{p.slug}/team/", f"/p/{p.slug}/assignments/", f"/p/{p.slug}/progress/",
        f"/p/{p.slug}/agreement/", f"/p/{p.slug}/analysis/",
        f"/p/{p.slug}/analysis/?measure=overlaps&source=coder:coder",
        f"/p/{p.slug}/adjudicate/{doc.pk}/",
        f"/p/{p.slug}/history/", f"/p/{p.slug}/export/", "/profile/",
        "/admin/", "/admin/annotations/segment/",
        f"/admin/annotations/document/{doc.pk}/change/",
    ]  # fmt: skip
    for path in paths:
        response = page.goto(live_server.url + path)
        assert response.status < 400, path
        page.wait_for_load_state("networkidle")
        assert violations() == [], path
    page.goto(live_server.url + "/api/docs/")
    # Swagger UI renders the schema: its scripts ran under the policy.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Coding workbench")
    assert violations() == []
