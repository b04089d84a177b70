"""The agreement page, its downloads, htmx fragments and the compare view."""

import csv
import io
import json
import re

import pytest
from django.urls import reverse

from annotations.models import AgreementCache, Code

from .conftest import coded_under_v2_but_one, seg, set_status

pytestmark = pytest.mark.django_db
SLUG = "takedowns"


def url(name, *args):
    return reverse(name, args=[SLUG, *args])


@pytest.fixture
def pi_client(client, coding):
    client.force_login(coding.pi)
    return client


def assert_csp_clean(html: str):
    assert ' style="' not in html and " style='" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"


def test_page_has_every_section(pi_client):
    r = pi_client.get(url("agreement"), {"bootstrap": 20})
    assert r.status_code == 200
    html = r.content.decode()
    for marker in ('id="summary"', 'id="ci-plot"', "<svg", 'id="heat-maps"',
                   'id="detail"', 'id="documents"', 'id="howto"', ".800", ".667"):  # fmt: skip
        assert marker in html, marker
    assert url("agreement_json") in html and url("agreement_csv") in html
    assert url("agreement_compare", 0).replace("/0/", "/") in html  # compare links
    assert "Adjudicate" in html  # the adjudication page exists
    assert_csp_clean(html)


def test_summary_row_per_code_with_bands(pi_client, coding):
    html = pi_client.get(url("agreement"), {"bootstrap": 0}).content.decode()
    codes = re.findall(
        r'<tr data-code="([^"]*)"', html.split('id="summary"')[1].split("</table>")[0]
    )
    assert codes == ["-", "actor", "actor/law_enforcement", "action", "platform"]
    assert "band-good" in html or "band-poor" in html


def test_paradox_warning_with_ac1(pi_client, coding):
    """A rare code: high percent agreement, low kappa."""
    s = coding
    rare = Code.objects.create(project=s.project, name="rare", color="#123456")
    common = Code.objects.create(project=s.project, name="common", color="#654321")
    docs = [s.documents[0], s.documents[1], s.documents[2], s.documents[3]]
    from tests import factories

    more = [
        factories.DocumentFactory(project=s.project, external_id=f"x{i}")
        for i in range(8)
    ]
    for doc in docs + more:
        for coder in (s.coder1, s.coder2):
            seg(doc, coder, common, 30, 40)
            set_status(doc, coder)
    seg(more[0], s.coder1, rare, 0, 7)
    seg(more[1], s.coder2, rare, 0, 7)
    html = pi_client.get(url("agreement"), {"bootstrap": 0}).content.decode()
    row = html.split('<tr data-code="rare"')[1].split("</tr>")[0]
    assert "prevalence paradox" in row and "AC1 =" in row


def test_htmx_filters_return_the_results_fragment(pi_client):
    r = pi_client.get(
        url("agreement"), {"level": "span", "code": "actor", "bootstrap": 0},
        HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results",
    )  # fmt: skip
    html = r.content.decode()
    assert r.status_code == 200
    assert "<html" not in html and html.lstrip().startswith('<div id="results">')
    rows = re.findall(r'<tr data-level="([^"]*)" data-code="([^"]*)"', html)
    assert rows and set(rows) == {("span", "actor")}
    assert html.count('<figure data-code="') == 1  # one heat map: the chosen code


def test_plain_get_filters_work_without_js(pi_client):
    html = pi_client.get(
        url("agreement"), {"level": "character", "code": "-", "bootstrap": 0}
    ).content.decode()
    rows = re.findall(r'<tr data-level="([^"]*)" data-code="([^"]*)"', html)
    assert rows and set(rows) == {("character", "")}
    assert "<html" in html


def test_documents_pager_fragment(pi_client, coding):
    r = pi_client.get(url("agreement"), {"docs": 1, "bootstrap": 0},
                      HTTP_HX_REQUEST="true", HTTP_HX_TARGET="documents")  # fmt: skip
    html = r.content.decode()
    assert html.lstrip().startswith('<section class="panel" id="documents"')
    ids = re.findall(r'data-document="(\d+)"', html)
    assert ids == [str(coding.documents[1].pk), str(coding.documents[0].pk)]


def test_bad_options_are_400_with_a_message(pi_client):
    r = pi_client.get(url("agreement"), {"bootstrap": "-4"})
    assert r.status_code == 400
    assert "bootstrap" in r.content.decode()
    assert not AgreementCache.objects.exists()
    assert pi_client.get(url("agreement_json"), {"seed": "x"}).status_code == 400


def test_the_page_never_recomputes_on_a_view(pi_client):
    pi_client.get(url("agreement"), {"bootstrap": 0})
    entry = AgreementCache.objects.get()
    for params in (
        {"bootstrap": 0},
        {"bootstrap": 0, "level": "span"},
        {"bootstrap": 0, "code": "actor"},
    ):
        pi_client.get(url("agreement"), params)
    again = AgreementCache.objects.get()
    assert (again.pk, again.computed_at) == (entry.pk, entry.computed_at)


def test_downloads_match_the_page(pi_client, coding):
    j = pi_client.get(url("agreement_json"), {"bootstrap": 0, "with_consensus": "1"})
    assert j.status_code == 200
    assert j["Content-Disposition"] == 'attachment; filename="takedowns-agreement.json"'
    report = json.loads(j.content)
    assert report["sample"]["with_consensus"] is True
    c = pi_client.get(url("agreement_csv"), {"bootstrap": 0, "level": "span"})
    rows = list(csv.DictReader(io.StringIO(c.content.decode())))
    assert c["Content-Type"].startswith("text/csv")
    assert rows and {r["level"] for r in rows} == {"span"}


def test_compare_view(pi_client, coding):
    d1 = coding.documents[1]
    r = pi_client.get(url("agreement_compare", d1.pk))
    html = r.content.decode()
    assert r.status_code == 200
    assert 'class="lanes"' in html and 'id="cmp-text"' in html
    assert html.count('<tr class="region-') == 2  # [0, 7) and [61, 69)
    assert 'class="region-codes"' in html  # law_enforcement vs actor
    assert '<span class="cmp-dis" title=' in html
    assert reverse("document_detail", args=[SLUG, d1.pk]) in html
    assert reverse("adjudicate", args=[SLUG, d1.pk]) in html
    assert_csp_clean(html)
    d0 = coding.documents[0]
    html = pi_client.get(url("agreement_compare", d0.pk)).content.decode()
    assert 'class="region-agree"' in html and '<span class="cmp-dis" title=' not in html


def test_compare_region_filter_fragment(pi_client, coding):
    d1 = coding.documents[1]
    r = pi_client.get(
        url("agreement_compare", d1.pk), {"show": "agree"}, HTTP_HX_REQUEST="true"
    )
    html = r.content.decode()
    assert "<html" not in html and 'id="regions"' in html
    assert '<tr class="region-' not in html  # nothing agrees on d1
    html = pi_client.get(
        url("agreement_compare", d1.pk), {"show": "codes"}
    ).content.decode()
    assert html.count('<tr class="region-codes"') == 2


def test_text_and_names_are_escaped(pi_client, coding):
    s = coding
    doc = s.documents[3]  # its text holds <script>alert(1)</script>
    evil = Code.objects.create(
        project=s.project, name='<img src=x onerror="1">', color="#aabbcc"
    )
    start = doc.text.index("<script>")
    for coder in (s.coder1, s.coder2):
        seg(doc, coder, evil, start, start + 25)
        set_status(doc, coder)
    for page in (pi_client.get(url("agreement_compare", doc.pk)),
                 pi_client.get(url("agreement"), {"bootstrap": 0})):  # fmt: skip
        html = page.content.decode()
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "&lt;img src=x" in html


def test_compare_unknown_document_is_404(pi_client, coding):
    assert pi_client.get(url("agreement_compare", 999999)).status_code == 404
    from tests import factories

    other = factories.DocumentFactory()  # another project's document
    assert pi_client.get(url("agreement_compare", other.pk)).status_code == 404


@pytest.mark.parametrize("who", ["coder1", "outsider"])
@pytest.mark.parametrize(
    "name", ["agreement", "agreement_json", "agreement_csv", "agreement_compare"]
)
def test_only_the_pi(client, coding, who, name):
    client.force_login(getattr(coding, who))
    args = [coding.documents[0].pk] if name == "agreement_compare" else []
    assert client.get(url(name, *args)).status_code == 404


def test_anonymous_is_sent_to_log_in(client, coding):
    r = client.get(url("agreement"))
    assert r.status_code == 302 and "login" in r["Location"]


def test_long_results_table_is_cut_with_a_note(pi_client, monkeypatch):
    from annotations.views import agreement as view

    monkeypatch.setattr(view, "DETAIL_ROWS", 5)
    html = pi_client.get(url("agreement"), {"bootstrap": 0}).content.decode()
    assert html.count('<tr data-level="document"') == 5
    assert 'id="detail-more"' in html and "The first 5 of" in html


@pytest.mark.parametrize("with_codes", [False, True])
def test_empty_project(client, db, with_codes):
    from tests import factories

    project = factories.ProjectFactory(slug="empty")
    pi = factories.UserFactory(username="pi-empty")
    factories.MembershipFactory(project=project, user=pi, role="pi")
    if with_codes:
        factories.CodeFactory(project=project, name="solo")
        factories.DocumentFactory(project=project)
    client.force_login(pi)
    r = client.get(reverse("agreement", args=["empty"]))
    assert r.status_code == 200
    assert "No document is in the reliability sample" in r.content.decode()
    body = client.get("/api/projects/empty/agreement/").json()
    assert body["sample"]["documents"] == 0
    assert all(x["value"] is None and x["note"] for x in body["results"])


def test_consensus_precision_and_recall_rows_are_not_coloured(pi_client, coding):
    """Precision and recall against the consensus are listed with the span
    rows, uncoloured like F1 (no chance correction, no thresholds)."""
    from annotations.models import AdjudicationState, ConsensusSegment

    d0 = coding.documents[0]
    AdjudicationState.objects.create(document=d0)
    ConsensusSegment.objects.create(
        document=d0, code=coding.codes["actor"], start=0, end=7,
        quote=d0.text[0:7], decision=ConsensusSegment.Decision.MANUAL,
    )  # fmt: skip
    html = pi_client.get(
        url("agreement"), {"bootstrap": 0, "level": "span", "with_consensus": "on"}
    ).content.decode()
    detail = html.split('id="detail"')[1].split("</table>")[0]
    cells = re.findall(
        r'data-coefficient="(\w+)" data-pair="([^"]*)" data-value="([^"]*)">'
        r'\s*<td>[^<]*</td><td>\w+</td><td>[^<]*</td>\s*<td class="num band-(\w+)"',
        detail,
    )
    pr = {
        (name, pair): (value, band)
        for name, pair, value, band in cells
        if name.startswith(("precision", "recall"))
    }
    assert set(pr) == {
        (f"{kind}_{match}", f"{coder};consensus")
        for kind in ("precision", "recall")
        for match in ("exact", "overlap")
        for coder in ("coder1", "coder2")
    }
    assert all(band == "raw" for _, band in pr.values())
    assert "precision" in html.split('id="howto"')[1].split("</details>")[0]


def _version_options(html: str) -> list[str]:
    control = html.split('id="agr-codebook-version"')[1].split("</select>")[0]
    return re.findall(r'<option value="([^"]*)"', control)


def test_codebook_version_control_only_with_versions(pi_client, coding):
    html = pi_client.get(url("agreement"), {"bootstrap": 0}).content.decode()
    assert 'name="codebook_version"' not in html
    coded_under_v2_but_one(coding)
    html = pi_client.get(url("agreement"), {"bootstrap": 0}).content.decode()
    assert _version_options(html) == ["", "2", "1"]
    assert "every version, pooled" in html
    assert_csp_clean(html)


def test_codebook_version_plain_get(pi_client, coding):
    coded_under_v2_but_one(coding)
    r = pi_client.get(url("agreement"), {"bootstrap": 0, "codebook_version": 2})
    html = r.content.decode()
    assert r.status_code == 200 and "<html" in html
    assert '<option value="2" selected>' in html
    sample = html.split('id="sample"')[1].split("</p>")[0]
    assert "<strong>1</strong> document in the reliability sample" in sample
    assert "codebook v2" in sample
    assert "1 document of the sample left out" in html
    ids = re.findall(r'data-document="(\d+)"', html)
    assert ids == [str(coding.documents[0].pk)]
    # The JSON and CSV downloads and the API link carry the option.
    downloads = html.split('id="downloads"')[1].split("</p>")[0]
    assert downloads.count("codebook_version=2") == 3


def test_codebook_version_htmx_fragment(pi_client, coding):
    coded_under_v2_but_one(coding)
    r = pi_client.get(
        url("agreement"), {"bootstrap": 0, "codebook_version": 2},
        HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results",
    )  # fmt: skip
    html = r.content.decode()
    assert r.status_code == 200
    assert "<html" not in html and html.lstrip().startswith('<div id="results">')
    assert "<strong>1</strong> document in" in html
    assert "1 document of the sample left out" in html


def test_codebook_version_none_coded_under_it(pi_client, coding):
    coded_under_v2_but_one(coding)
    html = pi_client.get(
        url("agreement"), {"bootstrap": 0, "codebook_version": 1}
    ).content.decode()
    assert "No document of the reliability sample was coded entirely under " in html
    assert "2 documents of the sample left out" in html


def test_codebook_version_downloads(pi_client, coding):
    coded_under_v2_but_one(coding)
    j = pi_client.get(url("agreement_json"), {"bootstrap": 0, "codebook_version": 2})
    assert j.status_code == 200
    sample = json.loads(j.content)["sample"]
    assert sample["codebook_version"] == 2 and sample["external_ids"] == ["d0"]
    c = pi_client.get(url("agreement_csv"), {"bootstrap": 0, "codebook_version": 2})
    rows = list(csv.DictReader(io.StringIO(c.content.decode())))
    assert rows and {r["n_documents"] for r in rows} <= {"0", "1"}
    bad = pi_client.get(url("agreement_json"), {"codebook_version": 5})
    assert bad.status_code == 400
    assert bad.json() == {
        "detail": ["codebook version 5 does not exist: the project published v1, v2"]
    }


@pytest.mark.parametrize("htmx", [False, True])
def test_bad_codebook_version_is_400_with_a_message(pi_client, coding, htmx):
    headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"} if htmx else {}
    r = pi_client.get(url("agreement"), {"codebook_version": 3}, **headers)
    assert r.status_code == 400
    html = r.content.decode()
    errors = html.split('id="agr-errors"')[1].split("</div>")[0]
    assert "codebook version 3 does not exist: the project has not published" in errors
    assert not AgreementCache.objects.exists()
    coded_under_v2_but_one(coding)
    r = pi_client.get(url("agreement"), {"codebook_version": 3}, **headers)
    assert r.status_code == 400
    assert "the project published v1, v2" in r.content.decode()
    assert _version_options(r.content.decode()) == ["", "2", "1"]
    r = pi_client.get(url("agreement"), {"codebook_version": "0"}, **headers)
    assert r.status_code == 400 and "codebook_version" in r.content.decode()
