"""Everything a user types or imports is shown escaped, everywhere.

A project is filled with script-injection values in every user-controlled
field (document text, title, source, metadata and URL; code names,
definitions and examples; memos and notes; usernames and names; project
name; uploaded file names). Then every page reachable by following links,
as a PI, as coders and as an admin, is checked: the values appear only as
text, never as markup, and no link or form points at a javascript: URL."""

import html
import re
import uuid
from collections import Counter
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction

from annotations.models import Assignment, Document, Membership
from annotations.services import adjudication, coding

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
JS = "javascript:alert(1)"
EVIL = f"{SCRIPT} {IMG} {JS}"
# Code names cannot hold "/": the closing tag is left out there.
CODE_SCRIPT = "<script>alert(1)"

RAW = ["<script>alert(1)", "<img src=x onerror", "onerror=alert(1)>"]
JS_ATTR = re.compile(
    r"""(?:href|src|action|formaction|data)\s*=\s*["']?\s*javascript:""", re.I
)
LINK = re.compile(r"""href="(/[^"#]*)""")
# Not followed: logging out, files and downloads (exports are checked below).
SKIP = re.compile(r"/logout/|/static/|/export/[^/]+$|export\.[a-z]+$|\.css$|/api/")


def assert_escaped(body: str, where: str) -> None:
    for raw in RAW:
        assert raw not in body, f"{where}: raw {raw!r}"
    assert not JS_ATTR.search(body), f"{where}: a javascript: URL in an attribute"


def crawl(client, starts: list[str], limit: int = 120) -> dict[str, str]:
    """GET every same-site link reachable from ``starts`` (at most two URLs
    per pattern of ids); return the HTML of each page by URL."""
    seen, pages, patterns = set(), {}, Counter()
    queue = list(starts)
    while queue and len(pages) < limit:
        url = queue.pop(0)
        if url in seen or SKIP.search(url):
            continue
        seen.add(url)
        pattern = re.sub(r"\d+", "N", urlsplit(url).path)
        patterns[pattern] += 1
        if patterns[pattern] > 2:
            continue
        response = client.get(url)
        if response.status_code != 200:
            continue
        if not response["Content-Type"].startswith("text/html"):
            continue
        body = response.content.decode()
        pages[url] = body
        queue += [html.unescape(u) for u in LINK.findall(body)]
    return pages


@pytest.fixture
def poisoned(study):
    s = study
    User = get_user_model()
    # Usernames cannot hold markup through the forms; one created behind
    # their back (admin scripts, an old import) must still be harmless.
    evil = User.objects.create(username=SCRIPT, first_name=IMG, last_name=JS)
    Membership.objects.create(project=s.project, user=evil, role=Membership.Role.CODER)
    project = s.project
    project.name = f"Project {SCRIPT}"
    project.description = EVIL
    project.save()
    doc = Document(
        project=project, external_id=f"x{IMG}", title=f"Title {SCRIPT} {IMG}",
        source=IMG, url="https://example.org/a?q=%22%3E%3Cimg%20src=x%3E",
        metadata={IMG: SCRIPT, "note": JS},
        text=f"Before {SCRIPT} middle {IMG} after {JS} end of the article.",
    )  # fmt: skip
    doc.save()
    actor = s.codes["actor"]
    actor.name = IMG
    actor.definition = EVIL
    actor.when_to_use = EVIL
    actor.when_not_to_use = EVIL
    actor.example = EVIL
    actor.description = IMG
    actor.save()
    action = s.codes["action"]
    action.name = CODE_SCRIPT
    action.save()
    for coder in (s.coder1, s.coder2, evil):
        Assignment.objects.get_or_create(document=doc, coder=coder)
    Assignment.objects.get_or_create(document=s.documents[0], coder=evil)
    start = doc.text.index(SCRIPT)
    for coder, code in ((s.coder1, actor), (s.coder2, actor), (evil, action)):
        seg, _ = coding.segment_create(
            document=doc, coder=coder, code=code, start=start,
            end=start + len(SCRIPT), quote=SCRIPT, memo=EVIL, client_id=uuid.uuid4(),
        )  # fmt: skip
        coding.segment_update(segment=seg, actor=coder, memo=f"{EVIL} v2")
        coding.assignment_set_status(
            assignment=Assignment.objects.get(document=doc, coder=coder),
            status="done", actor=coder,
        )  # fmt: skip
    adjudication.adjudication_start(document=doc, actor=s.pi)
    adjudication.consensus_add(
        document=doc, actor=s.pi, code=actor, start=0, end=6, note=EVIL
    )
    s.evil, s.doc = evil, doc
    return s


def test_pi_pages_show_injected_values_only_as_text(client, poisoned):
    client.force_login(poisoned.pi)
    slug = poisoned.project.slug
    doc = poisoned.doc
    starts = ["/", f"/p/{slug}/", f"/p/{slug}/d/{doc.pk}/",
              f"/p/{slug}/documents/{doc.pk}/", f"/p/{slug}/adjudicate/{doc.pk}/",
              f"/p/{slug}/history/{doc.pk}/"]  # fmt: skip
    pages = crawl(client, starts)
    assert len(pages) > 10, sorted(pages)
    for url, body in pages.items():
        assert_escaped(body, url)
    everything = "\n".join(pages.values())
    # The values are there, as text.
    assert html.escape(SCRIPT) in everything
    assert html.escape(IMG) in everything
    assert "Title &lt;script&gt;alert(1)&lt;/script&gt;" in everything


@pytest.mark.parametrize("who", ["coder1", "evil"])
def test_coder_pages_show_injected_values_only_as_text(client, poisoned, who):
    user = getattr(poisoned, who)
    client.force_login(user)
    slug, doc = poisoned.project.slug, poisoned.doc
    pages = crawl(client, ["/", f"/p/{slug}/d/{doc.pk}/"])
    coding_page = pages[f"/p/{slug}/d/{doc.pk}/"]
    for url, body in pages.items():
        assert_escaped(body, url)
    assert html.escape(SCRIPT) in coding_page  # in the text and the memo
    assert html.escape(IMG) in coding_page or html.escape(CODE_SCRIPT) in coding_page


def test_htmx_fragments_escape_too(client, poisoned):
    client.force_login(poisoned.coder1)
    slug, doc = poisoned.project.slug, poisoned.doc
    seg = doc.segments.get(coder=poisoned.coder1)
    hx = {"HX-Request": "true"}
    detail = client.get(f"/p/{slug}/d/{doc.pk}/segments/{seg.pk}/", headers=hx)
    assert detail.status_code == 200
    assert_escaped(detail.content.decode(), "segment panel")
    assert html.escape(SCRIPT) in detail.content.decode()
    # A refused change echoes nothing raw back either.
    refused = client.post(
        f"/p/{slug}/d/{doc.pk}/segments/",
        {"code": poisoned.codes["platform"].pk, "start": 0, "end": 6, "quote": EVIL},
        headers=hx,
    )
    assert refused.status_code == 400
    assert_escaped(refused.content.decode(), "refused create")
    coding.assignment_set_status(
        assignment=Assignment.objects.get(document=doc, coder=poisoned.coder1),
        status="in_progress", actor=poisoned.coder1,
    )  # fmt: skip
    edited = client.post(
        f"/p/{slug}/d/{doc.pk}/segments/{seg.pk}/edit/",
        {"memo": f"new {EVIL}", "version": seg.version}, headers=hx,
    )  # fmt: skip
    assert edited.status_code == 200
    assert_escaped(edited.content.decode(), "memo edit")


def test_uploaded_file_names_are_escaped_in_the_preview(client, poisoned):
    client.force_login(poisoned.pi)
    slug = poisoned.project.slug
    upload = SimpleUploadedFile(
        f"{IMG}.txt", b"An article about <script>alert(1)</script>."
    )
    response = client.post(f"/p/{slug}/documents/upload/", {"files": [upload]})
    body = response.content.decode()
    assert response.status_code in (200, 400)
    assert_escaped(body, "upload preview")
    assert "onerror=alert(1)" in body  # the name is shown, as text
    bad = SimpleUploadedFile(f"{IMG}.csv", b"\xff\xfe not utf-8")
    response = client.post(f"/p/{slug}/codebook/import/", {"file": bad})
    assert_escaped(response.content.decode(), "codebook import error")


def test_admin_changelists_and_forms_escape(admin_client, poisoned):
    from django.apps import apps

    for model in apps.get_app_config("annotations").get_models():
        name = model._meta.model_name
        listing = admin_client.get(f"/admin/annotations/{name}/")
        assert listing.status_code == 200, name
        assert_escaped(listing.content.decode(), f"admin {name} list")
        obj = model.objects.order_by("-pk").first()
        if obj is not None:
            change = admin_client.get(f"/admin/annotations/{name}/{obj.pk}/change/")
            assert change.status_code == 200, name
            assert_escaped(change.content.decode(), f"admin {name} change")
    users = admin_client.get("/admin/auth/user/")
    assert_escaped(users.content.decode(), "admin users")
    assert html.escape(SCRIPT) in users.content.decode()
    search = admin_client.get("/admin/annotations/document/", {"q": SCRIPT})
    assert_escaped(search.content.decode(), "admin search")


def test_codebook_markdown_export_escapes(client, poisoned):
    client.force_login(poisoned.pi)
    response = client.get(f"/p/{poisoned.project.slug}/export/codebook.md")
    assert response.status_code == 200
    body = (
        b"".join(response.streaming_content).decode()
        if response.streaming
        else (response.content.decode())
    )
    for raw in RAW:
        assert raw not in body
    assert "&lt;script&gt;alert" in body  # present, escaped


@pytest.mark.parametrize(
    "url",
    [JS, "JavaScript:alert(1)", " javascript:alert(1)", "data:text/html,<b>x</b>"],
)
def test_the_database_refuses_a_document_url_pages_could_not_link_safely(study, url):
    """Pages link to a document's URL; imports, forms and the API validate
    it, and the database refuses anything but a web URL whatever the path."""
    doc = study.documents[0]
    doc.url = url
    with pytest.raises(IntegrityError), transaction.atomic():
        doc.save()
    doc.url = "HTTPS://example.org/ok"
    doc.save()
