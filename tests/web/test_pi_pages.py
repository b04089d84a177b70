"""The PI's set-up pages through Django's test client."""

import json
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from annotations.models import (
    Assignment,
    Code,
    Document,
    HistoryEvent,
    Membership,
    Project,
    Segment,
)
from annotations.services.coding import segment_create
from tests import factories

pytestmark = pytest.mark.django_db
SEEDS = Path(__file__).resolve().parents[2] / "seeds"


@pytest.fixture
def pi_client(client, study):
    client.force_login(study.pi)
    return client


def url(name, *args):
    return reverse(name, args=args)


def test_create_project_makes_the_creator_pi(client, study):
    client.force_login(study.coder1)
    response = client.post(
        url("project_create"),
        {"name": "Hate speech 2026", "description": "d", "blind": "on"},
    )
    project = Project.objects.get(slug="hate-speech-2026")
    assert (
        response.status_code == 302
        and response["Location"] == project.get_absolute_url()
    )
    assert project.blind
    assert Membership.objects.get(project=project, user=study.coder1).role == "pi"


@pytest.mark.parametrize("slug", ["takedowns", "new", "bad slug!"])
def test_create_project_refuses_taken_or_bad_slugs(client, study, slug):
    client.force_login(study.pi)
    before = Project.objects.count()
    response = client.post(url("project_create"), {"name": "X", "slug": slug})
    assert response.status_code == 400
    assert b"errorlist" in response.content
    assert Project.objects.count() == before


def test_dashboard_for_pi_and_coder(client, study):
    client.force_login(study.pi)
    page = client.get(url("project_detail", "takedowns")).content.decode()
    assert "4</span> documents" in page
    assert url("codebook", "takedowns") in page and url("progress", "takedowns") in page
    client.force_login(study.coder1)
    page = client.get(url("project_detail", "takedowns")).content.decode()
    assert "Your work in this project" in page and "4 to do" in page
    assert url("codebook", "takedowns") not in page


def test_settings_change_blind_flag_with_history(pi_client, study):
    response = pi_client.post(
        url("project_settings", "takedowns"), {"name": "Takedowns 2", "description": ""}
    )
    assert response.status_code == 302
    study.project.refresh_from_db()
    assert study.project.name == "Takedowns 2" and not study.project.blind
    event = HistoryEvent.objects.get(entity="project")
    assert event.before["blind"] is True and event.after["blind"] is False


def test_document_list_search_and_htmx_fragment(pi_client, study):
    Document.objects.filter(pk=study.documents[0].pk).update(
        metadata={"outlet": "Guardian"}
    )
    page = pi_client.get(url("document_list", "takedowns"), {"q": "guardian"})
    assert page.status_code == 200
    assert (
        len(re.findall(r'href="/p/takedowns/documents/\d+/"', page.content.decode()))
        == 1
    )
    fragment = pi_client.get(
        url("document_list", "takedowns"),
        {"q": "قناة", "in": "text"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "<html" not in fragment and 'id="doc-results"' in fragment
    assert "Unicode" in fragment and "Article" not in fragment


def test_document_detail_shows_text_escaped(pi_client, study):
    doc = study.documents[3]
    page = pi_client.get(url("document_detail", "takedowns", doc.pk)).content.decode()
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    )


def test_upload_preview_then_confirm_the_seed_articles(pi_client, study):
    files = sorted(SEEDS.glob("*.txt"))
    assert len(files) == 5
    handles = [f.open("rb") for f in files]
    try:
        response = pi_client.post(
            url("document_upload", "takedowns"), {"files": handles}
        )
    finally:
        for h in handles:
            h.close()
    page = response.content.decode()
    assert response.status_code == 200
    assert "5 to import" in page and "Preview: nothing is saved yet" in page
    assert Document.objects.filter(project=study.project).count() == 4
    response = pi_client.post(url("document_upload_confirm", "takedowns"))
    assert response.status_code == 302
    assert Document.objects.filter(project=study.project).count() == 9
    stored = Document.objects.get(project=study.project, external_id=files[0].stem)
    assert stored.text == files[0].read_text(encoding="utf-8").replace("\r\n", "\n")
    # The preview is used once: a second confirm imports nothing.
    response = pi_client.post(url("document_upload_confirm", "takedowns"))
    assert response.status_code == 302
    assert Document.objects.filter(project=study.project).count() == 9


def test_upload_with_only_bad_rows_is_400_and_lists_them(pi_client, study):
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("a.csv", b"external_id,title\nx,No text\n")
    latin = SimpleUploadedFile("b.txt", "café".encode("latin-1"))
    response = pi_client.post(
        url("document_upload", "takedowns"), {"files": [bad, latin]}
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "missing text" in page and "not valid UTF-8" in page
    assert "Import 0" not in page
    assert pi_client.post(url("document_upload", "takedowns")).status_code == 400


def test_codebook_page_shows_tree_and_coder_preview(pi_client, study):
    page = pi_client.get(url("codebook", "takedowns")).content.decode()
    assert page.index("law_enforcement") > page.index(">actor<")
    assert 'data-color="#ffd6a5"' in page
    assert "What coders see" in page


def test_code_create_nested_then_edit_with_conflict(pi_client, study):
    actor = study.codes["actor"]
    response = pi_client.post(
        url("code_create", "takedowns"),
        {"name": "journalist", "parent": actor.pk, "color": "#abcdef", "key": "j"},
    )
    assert response.status_code == 302
    code = Code.objects.get(name="journalist")
    assert code.parent == actor
    response = pi_client.post(
        url("code_edit", "takedowns", code.pk),
        {"name": "journalists", "parent": actor.pk, "color": "#abcdef", "version": 1},
    )
    assert response.status_code == 302
    stale = pi_client.post(
        url("code_edit", "takedowns", code.pk),
        {"name": "press", "parent": actor.pk, "color": "#abcdef", "version": 1},
    )
    assert stale.status_code == 400 and b"Someone changed this code" in stale.content
    code.refresh_from_db()
    assert code.name == "journalists"


def test_code_create_bad_input_is_400_with_field_message(pi_client, study):
    before = Code.objects.count()
    response = pi_client.post(
        url("code_create", "takedowns"), {"name": "x", "color": "#ffffff", "key": "a"}
    )
    assert response.status_code == 400
    assert "already used by &#x27;actor&#x27;" in response.content.decode()
    assert Code.objects.count() == before


def test_move_retire_merge_and_export(pi_client, study):
    platform = study.codes["platform"]
    response = pi_client.post(
        url("code_move", "takedowns", platform.pk),
        {"direction": "up"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and b"<html" not in response.content
    assert b'id="code-tree"' in response.content
    top = list(
        Code.objects.filter(project=study.project, parent=None).values_list(
            "name", flat=True
        )
    )
    assert top == ["actor", "platform", "action"]

    pi_client.post(url("code_retire", "takedowns", platform.pk), {"retired": "1"})
    platform.refresh_from_db()
    assert platform.retired

    doc = study.documents[0]
    segment_create(
        document=doc, coder=study.coder1, code=study.codes["action"], start=0, end=7,
        quote=doc.text[:7],
    )  # fmt: skip
    response = pi_client.post(
        url("code_merge", "takedowns", study.codes["action"].pk),
        {"into": study.codes["actor"].pk},
    )
    assert response.status_code == 302
    assert Segment.objects.get().code == study.codes["actor"]

    csv_text = pi_client.get(
        url("codebook_export", "takedowns", "csv")
    ).content.decode()
    assert csv_text.splitlines()[0].startswith("name,parent,description")
    assert "law_enforcement,actor," in csv_text
    data = json.loads(
        pi_client.get(url("codebook_export", "takedowns", "json")).content
    )
    assert {c["name"] for c in data["codes"]} == {
        "actor",
        "platform",
        "law_enforcement",
    }
    assert pi_client.get(url("codebook_export", "takedowns", "xml")).status_code == 404


def test_reorder_by_drag(pi_client, study):
    ids = list(
        Code.objects.filter(project=study.project, parent=None).values_list(
            "pk", flat=True
        )
    )
    response = pi_client.post(
        url("code_reorder", "takedowns"), {"parent": "", "ids": ids[::-1]}
    )
    assert response.status_code == 302
    assert (
        list(
            Code.objects.filter(project=study.project, parent=None).values_list(
                "pk", flat=True
            )
        )
        == ids[::-1]
    )
    bad = pi_client.post(
        url("code_reorder", "takedowns"), {"parent": "", "ids": ids[:1]}
    )
    assert bad.status_code == 400


def test_codebook_import_round_trip(pi_client, study):
    from django.core.files.uploadedfile import SimpleUploadedFile

    exported = pi_client.get(url("codebook_export", "takedowns", "csv")).content
    other = factories.ProjectFactory(slug="copy")
    factories.MembershipFactory(project=other, user=study.pi, role="pi")
    response = pi_client.post(
        url("codebook_import", "copy"), {"file": SimpleUploadedFile("cb.csv", exported)}
    )
    assert response.status_code == 302
    assert (
        Code.objects.get(project=other, name="law_enforcement").parent.name == "actor"
    )
    bad = pi_client.post(
        url("codebook_import", "copy"),
        {"file": SimpleUploadedFile("cb.csv", b"name,parent\nx,nowhere\n")},
    )
    assert bad.status_code == 400 and b"not defined in the file" in bad.content


def test_team_add_invite_remove(pi_client, study, client):
    factories.UserFactory(username="newcoder")
    response = pi_client.post(
        url("member_add", "takedowns"),
        {"add-username": "newcoder", "add-role": "coder"},
    )
    assert response.status_code == 302
    assert Membership.objects.filter(
        project=study.project, user__username="newcoder"
    ).exists()
    missing = pi_client.post(
        url("member_add", "takedowns"), {"add-username": "ghost", "add-role": "coder"}
    )
    assert (
        missing.status_code == 400
        and b"No account has this username" in missing.content
    )

    invited = pi_client.post(
        url("member_invite", "takedowns"),
        {"invite-username": "ra7", "invite-role": "coder"},
    )
    page = invited.content.decode()
    assert invited.status_code == 200 and "Account created for ra7" in page
    link = re.search(r"http://testserver(/accounts/reset/[^<\s]+)", page).group(1)
    assert re.search(r'id="invite-password">([^<]+)<', page)
    other = Client()
    form = other.get(link, follow=True)
    assert b"Choose your password" in form.content and b"new_password1" in form.content
    done = other.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a-fresh-pass-99", "new_password2": "a-fresh-pass-99"},
    )
    assert done.status_code == 302
    assert Client().login(username="ra7", password="a-fresh-pass-99")
    again = Client().get(link, follow=True)
    assert b"already used or has expired" in again.content

    membership = Membership.objects.get(project=study.project, user=study.coder2)
    response = pi_client.post(
        url("member_remove", "takedowns", membership.pk), {"rebalance": "on"}
    )
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_assignment_grid_sample_and_rebalance(pi_client, study):
    Assignment.objects.all().delete()
    page = pi_client.get(url("assignments", "takedowns")).content.decode()
    assert "4 documents not assigned yet" in page
    response = pi_client.post(
        url("assignments_sample", "takedowns"),
        {
            "share": 50,
            "per_document": 2,
            "seed": 7,
            "coders": [study.coder1.pk, study.coder2.pk],
        },
    )
    assert response.status_code == 302
    assert Assignment.objects.count() == 6  # 2 double-coded + 2 single
    study.project.refresh_from_db()
    assert study.project.reliability_seed == 7
    page = pi_client.get(url("assignments", "takedowns")).content.decode()
    assert "seed 7" in page and "2 documents assigned to two or more coders" in page

    bad = pi_client.post(
        url("assignments_sample", "takedowns"),
        {"share": 150, "per_document": 2, "seed": 7, "coders": [study.coder1.pk]},
    )
    assert bad.status_code == 400

    doc = study.documents[0]
    cells = [
        f"{d.pk}:{c.pk}" for d in study.documents for c in (study.coder1, study.coder2)
    ]
    response = pi_client.post(
        url("assignments_save", "takedowns"),
        {
            "docs": [d.pk for d in study.documents],
            "cell": cells,
            "next": "https://evil.example/",
        },
    )
    assert response.status_code == 302 and response["Location"] == url(
        "assignments", "takedowns"
    )
    assert Assignment.objects.count() == 8
    assert Assignment.objects.filter(document=doc).count() == 2


def test_progress_page_counts_and_fragment(pi_client, study):
    doc = study.documents[0]
    segment_create(
        document=doc, coder=study.coder1, code=study.codes["actor"], start=0, end=7,
        quote=doc.text[:7],
    )  # fmt: skip
    Assignment.objects.filter(document=doc, coder=study.coder1).update(status="done")
    page = pi_client.get(url("progress", "takedowns")).content.decode()
    assert "<strong>1</strong> of 8 assignments done" in page
    assert "coder2: 4 documents waiting" in page
    fragment = pi_client.get(
        url("progress", "takedowns"), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<html" not in fragment and 'id="board"' in fragment


def test_profile_token_create_and_revoke(client, study):
    client.force_login(study.pi)
    page = client.post(url("token_create")).content.decode()
    token = Token.objects.get(user=study.pi)
    assert token.key in page
    assert token.key not in client.get(url("profile")).content.decode()
    client.post(url("token_create"))
    assert Token.objects.get(user=study.pi).key != token.key
    client.post(url("token_revoke"))
    assert not Token.objects.filter(user=study.pi).exists()


def test_codebook_import_of_a_qdc_on_the_page(pi_client, study):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.commands.test_import_qdc import FOREIGN

    page = pi_client.get(url("codebook", "takedowns")).content.decode()
    assert 'accept=".csv,.json,.qdc"' in page
    other = factories.ProjectFactory(slug="copy")
    factories.MembershipFactory(project=other, user=study.pi, role="pi")
    upload = SimpleUploadedFile("maxqda.qdc", FOREIGN.encode())
    response = pi_client.post(url("codebook_import", "copy"), {"file": upload})
    assert response.status_code == 302
    telegram = Code.objects.get(project=other, name="Telegram")
    assert telegram.parent.name == "Platforms-Apps"
    bad = pi_client.post(
        url("codebook_import", "copy"),
        {"file": SimpleUploadedFile("x.qdc", b"<CodeBook")},
    )
    assert bad.status_code == 400 and b"not well-formed XML" in bad.content
    assert Code.objects.filter(project=other).count() == 3
