"""The Versions section of the Codebook page, a version's page and its files."""

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from annotations.models import Code, CodebookVersion, HistoryEvent
from annotations.services import codebook
from annotations.services.codebook_versions import codebook_publish, snapshot_checksum
from tests import factories

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def url(name, *args):
    return reverse(name, args=args)


@pytest.fixture
def pi_client(client, study):
    client.force_login(study.pi)
    return client


def publish_url():
    return url("codebook_publish", "takedowns")


def test_before_any_version_the_page_offers_version_1(pi_client):
    page = pi_client.get(url("codebook", "takedowns")).content.decode()
    assert 'id="versions"' in page
    assert "No version published yet" in page
    assert "Publish version 1" in page


def test_the_pi_publishes_with_a_plain_post_and_sees_the_list(pi_client, study):
    response = pi_client.post(publish_url(), {"note": "After the pilot: <b>4</b>"})
    assert response.status_code == 302 and response["Location"] == url(
        "codebook", "takedowns"
    )
    version = CodebookVersion.objects.get()
    assert (version.number, version.created_by, version.note) == (
        1, study.pi, "After the pilot: <b>4</b>",
    )  # fmt: skip
    event = HistoryEvent.objects.get(entity="codebook_version")
    assert event.via == "web" and event.user == study.pi
    page = pi_client.get(response["Location"]).content.decode()
    assert "Published codebook version 1 with 4 codes." in page
    assert re.search(
        r'Current version: <a href="/p/takedowns/codebook/versions/1/">'
        r"<strong>v1</strong></a>, published [-0-9: ]+ by pi\.",
        page,
    )
    assert "Unchanged since v1" in page and "Publish version" not in page
    assert "After the pilot: &lt;b&gt;4&lt;/b&gt;" in page  # escaped
    assert url("codebook_version", "takedowns", 1) in page
    row = re.search(r"<tr>\s*<td><a [^>]*>v1</a>.*?</tr>", page, re.S).group(0)
    assert ">pi<" in row and "<td>4</td>" in row


def test_changes_since_the_last_version_are_listed_then_published(pi_client, study):
    codebook_publish(project=study.project, actor=study.pi)
    codebook.code_update(
        code=study.codes["law_enforcement"], actor=study.pi,
        changes={"name": "police", "definition": "Police forces."},
    )  # fmt: skip
    codebook.code_retire(code=study.codes["platform"], actor=study.pi)
    page = pi_client.get(url("codebook", "takedowns")).content.decode()
    assert "Changed since v1: 2 codes changed</h3>" in page
    assert "<strong>platform</strong>: retired" in page
    assert (
        "<strong>actor/police</strong>: renamed from &#x27;law_enforcement&#x27;; "
        "definition changed" in page
    )
    assert "Publish version 2" in page
    pi_client.post(publish_url(), {"note": "v2"})
    assert CodebookVersion.objects.filter(number=2).exists()


def test_the_note_field_says_what_it_is_for_and_its_limit(pi_client, study):
    page = pi_client.get(url("codebook", "takedowns")).content.decode()
    assert '<label for="id_version_note">Note for version 1 (optional)</label>' in page
    assert 'maxlength="2000" aria-describedby="id_version_note_help"' in page
    assert re.search(r'id="id_version_note_help">[^<]*up to 2000 characters', page)
    codebook_publish(project=study.project, actor=study.pi)
    codebook.code_update(code=study.codes["actor"], actor=study.pi,
                         changes={"example": "Europol"})  # fmt: skip
    page = pi_client.get(url("codebook", "takedowns")).content.decode()
    assert "Note for version 2 (optional)" in page
    assert "What changed since v1, and why." in page


def test_short_values_read_old_to_new_and_long_ones_before_and_now(pi_client, study):
    codebook_publish(project=study.project, actor=study.pi)
    codebook.code_update(
        code=study.codes["actor"], actor=study.pi,
        changes={"key": "y", "definition": "Anyone named as taking part, " * 3},
    )  # fmt: skip
    page = pi_client.get(url("codebook", "takedowns")).content.decode()
    assert "Changed since v1: 1 code changed</h3>" in page
    assert re.search(
        r"<li>Key: <del>a</del> <span aria-hidden=\"true\">→</span>"
        r'<span class="visually-hidden">now</span> <ins>y</ins></li>',
        page,
    )
    assert re.search(
        r'<dl class="before-now"><dt>Before</dt><dd><del>\(empty\)</del></dd>'
        r"<dt>Now</dt><dd><ins>Anyone named as taking part, Anyone",
        page,
    )


def test_htmx_publish_answers_the_section_only(pi_client, study):
    response = pi_client.post(publish_url(), {"note": "first"}, **HX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and body.lstrip().startswith('<section id="versions"')
    assert "Published codebook version 1" in body and "v1</a>" in body
    # The focus moves to the confirmation (htmx focuses [autofocus] after a swap).
    assert re.search(r'<p class="message success" role="status" tabindex="-1" '
                     r"autofocus>Published", body)  # fmt: skip
    # Refused: the reason in the section (htmx swaps 2xx answers only).
    again = pi_client.post(publish_url(), {"note": "again"}, **HX)
    text = again.content.decode()
    assert again.status_code == 200 and "<html" not in text
    assert "has not changed since version 1" in text
    assert CodebookVersion.objects.count() == 1


def test_an_htmx_move_updates_the_versions_section_out_of_band(pi_client, study):
    codebook_publish(project=study.project, actor=study.pi)
    move = url("code_move", "takedowns", study.codes["actor"].pk)
    response = pi_client.post(move, {"direction": "down"}, **HX)
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert 'id="code-tree"' in body
    # A position is part of the codebook: the section says so without a reload.
    section = body[body.index('<section id="versions"') :]
    assert section.startswith(
        '<section id="versions" class="panel" aria-labelledby="versions-h" '
        'hx-swap-oob="outerHTML">'
    )
    assert "Changed since v1" in section and "Publish version 2" in section


def test_a_refused_plain_publish_answers_400_with_the_page_and_the_note_kept(
    pi_client, study
):
    note = "x" * 2001
    response = pi_client.post(publish_url(), {"note": note})
    page = response.content.decode()
    assert response.status_code == 400
    assert "the limit is 2,000" in page and 'id="code-tree"' in page
    assert f">{note}</textarea>" in page
    assert not CodebookVersion.objects.exists()
    assert not HistoryEvent.objects.filter(entity="codebook_version").exists()


def test_the_version_page_shows_its_changes_and_facts(pi_client, study):
    codebook_publish(project=study.project, actor=study.pi, note="first")
    codebook.code_create(project=study.project, actor=study.pi, name="قناة")
    codebook.code_update(
        code=study.codes["action"],
        actor=study.pi,
        changes={"parent": study.codes["actor"]},
    )
    v2 = codebook_publish(project=study.project, actor=study.pi, note="second")
    page = pi_client.get(url("codebook_version", "takedowns", 2)).content.decode()
    assert "Codebook version 2" in page
    assert re.search(r'Changes since <a href="[^"]+/versions/1/">v1</a>', page)
    assert "<strong>قناة</strong>: added" in page
    assert "<strong>actor/action</strong>: moved from &#x27;action&#x27;" in page
    assert v2.checksum in page and "second" in page
    assert "1 code changed, 1 added." in page  # action moved, قناة new
    assert "The current version" in page
    first = pi_client.get(url("codebook_version", "takedowns", 1)).content.decode()
    assert "The first version" in first and first.count(": added") == 4
    assert "4 codes, all new." in first
    assert re.search(r'Superseded by <a href="[^"]+/versions/2/">v2</a>', first)
    assert pi_client.get(url("codebook_version", "takedowns", 3)).status_code == 404


def test_a_versions_files_are_the_export_of_that_codebook(pi_client, study):
    current_json = pi_client.get(url("codebook_export", "takedowns", "json")).content
    current_csv = pi_client.get(url("codebook_export", "takedowns", "csv")).content
    v1 = codebook_publish(project=study.project, actor=study.pi)
    codebook.code_update(
        code=study.codes["actor"], actor=study.pi, changes={"name": "actors"}
    )
    got = pi_client.get(url("codebook_version_export", "takedowns", 1, "json"))
    assert got.content == current_json
    assert got["Content-Disposition"] == (
        'attachment; filename="takedowns-codebook-v1.json"'
    )
    # Its canonical form hashes to the version's checksum.
    canonical = json.dumps(json.loads(got.content), sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False)  # fmt: skip
    import hashlib

    assert hashlib.sha256(canonical.encode()).hexdigest() == v1.checksum
    assert v1.checksum == snapshot_checksum(v1.snapshot)
    csv_file = pi_client.get(url("codebook_version_export", "takedowns", 1, "csv"))
    assert csv_file.content == current_csv
    assert csv_file["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        pi_client.get(url("codebook_version_export", "takedowns", 1, "xml")).status_code
        == 404
    )
    # And the import reads it back: a copy of the codebook as it was.
    other = factories.ProjectFactory(slug="copy")
    factories.MembershipFactory(project=other, user=study.pi, role="pi")
    response = pi_client.post(
        url("codebook_import", "copy"),
        {"file": SimpleUploadedFile("v1.json", got.content)},
    )
    assert response.status_code == 302
    assert set(Code.objects.filter(project=other).values_list("name", flat=True)) == {
        "actor", "action", "platform", "law_enforcement",
    }  # fmt: skip


@pytest.mark.parametrize("who", ["coder1", "outsider"])
def test_coders_and_outsiders_get_404(client, study, who):
    codebook_publish(project=study.project, actor=study.pi)
    client.force_login(getattr(study, who))
    assert client.post(publish_url(), {"note": "x"}).status_code == 404
    assert client.get(url("codebook_version", "takedowns", 1)).status_code == 404
    assert (
        client.get(url("codebook_version_export", "takedowns", 1, "json")).status_code
        == 404
    )
    assert CodebookVersion.objects.count() == 1


def test_anonymous_is_sent_to_log_in(client, study):
    response = client.post(publish_url(), {"note": "x"})
    assert response.status_code == 302 and "login" in response["Location"]
    assert not CodebookVersion.objects.exists()


def test_publish_needs_post_and_a_csrf_token(study):
    client = Client(enforce_csrf_checks=True)
    client.force_login(study.pi)
    assert client.get(publish_url()).status_code == 405
    assert client.post(publish_url(), {"note": "no token"}).status_code == 403
    assert not CodebookVersion.objects.exists()
    page = client.get(url("codebook", "takedowns")).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post(publish_url(), {"note": "ok", "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and CodebookVersion.objects.count() == 1


def test_the_coding_page_shows_the_version_to_coders(client, study):
    client.force_login(study.coder1)
    doc = study.documents[0]
    page_url = url("coding_page", "takedowns", doc.pk)
    page = client.get(page_url).content.decode()
    assert re.search(r'<h2 id="codebook-h">Codebook</h2>', page)
    codebook_publish(project=study.project, actor=study.pi)
    codebook.code_update(code=study.codes["actor"], actor=study.pi,
                         changes={"example": "Europol"})  # fmt: skip
    codebook_publish(project=study.project, actor=study.pi)
    page = client.get(page_url).content.decode()
    heading = re.search(r'<h2 id="codebook-h">(.*?)</h2>', page).group(1)
    assert re.sub(r"<[^>]+>", "", heading) == "Codebook v2"


def test_the_history_page_shows_the_publish(pi_client, study):
    pi_client.post(publish_url(), {"note": "After the pilot"})
    page = pi_client.get(url("history", "takedowns")).content.decode()
    assert "codebook_version" in page
    assert "number: 1; note: After the pilot" in page


def test_the_page_reads_the_versions_in_one_query(pi_client, study):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert pi_client.get(url("codebook", "takedowns")).status_code == 200
        return len(ctx.captured_queries)

    pi_client.get(url("codebook", "takedowns"))  # warm the counts' cache
    before = queries()
    codebook_publish(project=study.project, actor=study.pi)
    pi_client.get(url("codebook", "takedowns"))
    one = queries()
    assert one == before + 1  # the versions (none read before the first)
    for i in range(4):
        codebook.code_update(code=study.codes["actor"], actor=study.pi,
                             changes={"example": f"e{i}"})  # fmt: skip
        codebook_publish(project=study.project, actor=study.pi)
    pi_client.get(url("codebook", "takedowns"))
    assert queries() == one
