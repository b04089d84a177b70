"""The Agreement page's "For your methods section" panel: the paragraph of
the report on the page, following its options, escaped; and its context
selector."""

import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from annotations.exporters.methods import alpha_text, methods_paragraph
from annotations.models import AdjudicationState
from annotations.selectors.methods import methods_context
from annotations.services.agreement import agreement_report
from annotations.version import git_commit

from .conftest import coded_under_v2_but_one, find, publish

pytestmark = pytest.mark.django_db
SLUG = "takedowns"
URL = reverse("agreement", args=[SLUG])


@pytest.fixture
def pi_client(client, coding):
    client.force_login(coding.pi)
    return client


def panel(html: str) -> str:
    match = re.search(
        r'<details class="panel agr-methods" id="methods">.*?</details>', html, re.S
    )
    assert match, "no methods panel"
    return match.group(0)


def textarea(html: str) -> str:
    match = re.search(
        r'<textarea id="methods-text" readonly[^>]*>(.*?)</textarea>', panel(html), re.S
    )
    assert match
    return match.group(1)


def test_panel_holds_the_reports_paragraph(pi_client, coding):
    html = pi_client.get(URL, {"bootstrap": 20, "seed": 3}).content.decode()
    report = agreement_report(coding.project, bootstrap=20, seed=3)
    expected = methods_paragraph(report, methods_context(coding.project))
    assert textarea(html) == escape(expected)
    alpha = find(report["results"], "document", "krippendorff_alpha")
    assert f"α = {alpha_text(alpha['value'])}" in textarea(html)
    assert "from 20 bootstrap resamples of documents (seed 3)" in textarea(html)
    assert "<summary>For your methods section</summary>" in panel(html)
    assert (
        "Check it against your study before use: it says only what the data here shows."
        in panel(html)
    )
    assert 'data-copy="methods-text"' in panel(html)  # pi.js's copy button
    assert ' style="' not in panel(html) and "<script" not in panel(html)


def test_panel_follows_the_options(pi_client, coding):
    plain = textarea(pi_client.get(URL, {"bootstrap": 0}).content.decode())
    assert "bootstrap" not in plain and "CI [" not in plain
    assert "those that at least two coders marked as done" in plain
    wider = textarea(
        pi_client.get(URL, {"bootstrap": 0, "all_coded": "1"}).content.decode()
    )
    assert "including documents not yet marked as done" in wider
    assert "on 3 of the project" in wider and "on 2 of the project" in plain

    coded_under_v2_but_one(coding)
    v2 = textarea(
        pi_client.get(URL, {"bootstrap": 0, "codebook_version": 2}).content.decode()
    )
    assert (
        "Only documents coded entirely under codebook version 2 (SHA-256 "
        + "0" * 64
        + ") were included; 1 document of the sample coded under another version was left out."
    ) in v2


def test_consensus_option_and_adjudication(pi_client, coding):
    d0 = coding.documents[0]
    AdjudicationState.objects.create(
        document=d0, status=AdjudicationState.Status.ADJUDICATED
    )
    without = textarea(pi_client.get(URL, {"bootstrap": 0}).content.decode())
    assert (
        "Disagreements were resolved by adjudication to a consensus version in 1 document of the project."
        in without
    )
    assert "compared with the adjudicated consensus" not in without
    with_c = textarea(
        pi_client.get(URL, {"bootstrap": 0, "with_consensus": "1"}).content.decode()
    )
    assert (
        "Each coder was also compared with the adjudicated consensus on the 1 adjudicated document of the sample"
        in with_c
    )


def test_htmx_fragment_has_the_panel(pi_client):
    r = pi_client.get(
        URL,
        {"bootstrap": 0, "level": "character"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="results",
    )
    html = r.content.decode()
    assert "<html" not in html and 'id="results"' in html
    # The level picks rows of the table; the report, and the paragraph, keep every level.
    assert "unitizing α_u" in textarea(html)


def test_the_documents_pager_does_not_write_the_paragraph(pi_client, monkeypatch):
    from annotations.views import agreement as view

    monkeypatch.setattr(view, "methods_context", None)  # would fail if called
    r = pi_client.get(
        URL, {"bootstrap": 0, "docs": 1}, HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="documents",
    )  # fmt: skip
    assert r.status_code == 200 and 'id="documents"' in r.content.decode()


def test_empty_sample_one_sentence(client, study):
    client.force_login(study.pi)
    text = textarea(client.get(URL, {"bootstrap": 0}).content.decode())
    assert text == escape(
        "There is no reliability sample for “Takedowns” yet: no document has been marked as done by two or more coders."
    )


def test_project_name_stays_text(pi_client, coding):
    coding.project.name = "<script>alert(1)</script> & “x”"
    coding.project.save()
    html = pi_client.get(URL, {"bootstrap": 0}).content.decode()
    text = textarea(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; “x”" in text
    assert "<script>alert(1)" not in html


def test_context_in_few_queries(coding, django_assert_num_queries):
    project = coding.project
    with django_assert_num_queries(1):
        ctx = methods_context(project)
    assert (ctx.documents, ctx.adjudicated_documents, ctx.codebook_checksums) == (
        4,
        0,
        (),
    )
    assert ctx.project_name == "Takedowns" and ctx.blind is True
    publish(project, 1, 2)
    with django_assert_num_queries(2):
        ctx = methods_context(project)
    assert ctx.codebook_checksums == ((1, "0" * 64), (2, "0" * 64))


def test_git_commit_read_without_git(tmp_path):
    git_commit.cache_clear()
    assert git_commit(tmp_path) == ""
    (tmp_path / ".git" / "refs" / "heads").mkdir(parents=True)
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / ".git" / "packed-refs").write_text(
        "# pack-refs\n" + "ab" * 20 + " refs/heads/main\n"
    )
    git_commit.cache_clear()
    assert git_commit(tmp_path) == "abababa"
    (tmp_path / ".git" / "refs" / "heads" / "main").write_text("cd" * 20 + "\n")
    git_commit.cache_clear()
    assert git_commit(tmp_path) == "cdcdcdc"
    git_commit.cache_clear()
