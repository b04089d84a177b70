"""The PI's recode-round pages: the Agreement page's panel, starting a round
(count or percentage; refusals 400 with nothing written), the round's
intra-coder report (htmx fragment, values equal to the service's, bad
options 400) and its downloads; PI of the source only."""

import csv
import io
import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from annotations.models import Assignment, Code, HistoryEvent, Project
from annotations.services import coding
from annotations.services.agreement import RECORD_FIELDS
from annotations.services.recode import intra_coder_report, recode_round_create

pytestmark = pytest.mark.django_db
SLUG = "takedowns"


def url(name, *args):
    return reverse(name, args=[SLUG, *args])


def done(coder, doc):
    a = Assignment.objects.get(document=doc, coder=coder)
    coding.assignment_set_status(assignment=a, status="done", actor=coder)


def code_doc(coder, doc, project, spans):
    """Segments of (code name, start, end) by the coder, then done."""
    for name, start, end in spans:
        coding.segment_create(
            document=doc, coder=coder, code=Code.objects.get(project=project, name=name),
            start=start, end=end, quote=doc.text[start:end],
        )  # fmt: skip
    done(coder, doc)


@pytest.fixture
def round1(study):
    """coder1 coded and finished the first three documents."""
    for i, doc in enumerate(study.documents[:3]):
        code_doc(
            study.coder1, doc, study.project, [("actor", 0, 7), ("action", 8, 19 + i)]
        )
    return study


@pytest.fixture
def recoded(round1):
    """A round of all three, two of them coded again and done."""
    s = round1
    recode = recode_round_create(
        source=s.project, coder=s.coder1, actor=s.pi, count=3, slug="retest"
    )
    copies = list(recode.documents.order_by("pk"))
    code_doc(s.coder1, copies[0], recode, [("actor", 0, 7), ("action", 8, 19)])
    code_doc(s.coder1, copies[1], recode, [("platform", 0, 7)])
    return recode


@pytest.fixture
def pi_client(client, study):
    client.force_login(study.pi)
    return client


def page_urls():
    return [
        url("recode_create"),
        url("recode_report", "retest"),
        url("recode_report_json", "retest"),
        url("recode_report_csv", "retest"),
    ]


# -- permissions ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [("pi", 200), ("coder1", 404), ("coder2", 404), ("outsider", 404)],
)
def test_only_the_source_pi_reaches_the_pages(client, study, recoded, who, status):
    client.force_login(getattr(study, who))
    for address in page_urls():
        assert client.get(address, {"bootstrap": 0}).status_code == status, address
    before = Project.objects.count()
    r = client.post(url("recode_create"), {"coder": study.coder1.pk, "how": "count",
                                           "amount": 1, "seed": 1})  # fmt: skip
    assert r.status_code == (302 if who == "pi" else 404)
    assert Project.objects.count() == before + (who == "pi")


def test_the_round_coder_is_pi_of_nothing_here(client, study, recoded):
    """The coder is a member of the round and of the source, and still gets
    404 for its report, through either project's slug."""
    client.force_login(study.coder1)
    assert client.get(url("recode_report", "retest")).status_code == 404
    other = reverse("recode_report", args=["retest", "retest"])
    assert client.get(other).status_code == 404


def test_anonymous_is_sent_to_log_in(client, recoded):
    for address in page_urls():
        r = client.get(address)
        assert r.status_code == 302 and "login" in r["Location"], address


def test_a_round_of_another_project_is_404(pi_client, study, recoded):
    Project.objects.filter(pk=recoded.pk).update(recode_of=None)
    assert pi_client.get(url("recode_report", "retest")).status_code == 404
    assert pi_client.get(url("recode_report", "takedowns")).status_code == 404


def test_methods(pi_client, recoded):
    assert pi_client.post(url("recode_report", "retest")).status_code == 405
    assert pi_client.put(url("recode_create")).status_code == 405


# -- the Agreement page's panel -----------------------------------------------


def test_agreement_page_lists_the_rounds(pi_client, study, recoded):
    html = pi_client.get(url("agreement"), {"bootstrap": 0}).content.decode()
    panel = html.split('id="recode-rounds"')[1].split("</section>")[0]
    assert "Intra-coder reliability (recode rounds)" in html
    row = re.search(r'<tr data-recode="retest">(.*?)</tr>', panel, re.S).group(1)
    assert "coder1" in row and "2 / 3" in row
    assert url("recode_report", "retest") in row
    assert url("recode_create") in panel and "Start a recode round" in panel


def test_agreement_page_without_rounds_offers_to_start_one(pi_client, study):
    html = pi_client.get(url("agreement"), {"bootstrap": 0}).content.decode()
    assert 'id="recode-rounds"' in html and "data-recode=" not in html
    assert url("recode_create") in html


def test_a_rounds_own_agreement_page_has_no_panel(pi_client, recoded):
    r = pi_client.get(reverse("agreement", args=["retest"]), {"bootstrap": 0})
    assert r.status_code == 200 and 'id="recode-rounds"' not in r.content.decode()


def test_agreement_fragment_leaves_the_panel_out(pi_client, recoded):
    r = pi_client.get(
        url("agreement"), {"bootstrap": 0}, headers={"HX-Request": "true"}
    )
    html = r.content.decode()
    assert "<html" not in html and 'id="results"' in html
    assert "recode-rounds" not in html


# -- starting a round ----------------------------------------------------------


def test_the_form_offers_coders_with_done_documents(pi_client, round1):
    html = pi_client.get(url("recode_create")).content.decode()
    options = re.findall(r'<option value="(\d+)"[^>]*>([^<]*)</option>', html)
    assert options == [(str(round1.coder1.pk), "coder1 (3 done)")]
    assert 'value="1"' in html  # the seed's default
    assert "same seed" in html


def test_the_form_says_when_nobody_finished(pi_client, study):
    html = pi_client.get(url("recode_create")).content.decode()
    assert 'id="recode-none"' in html and 'id="recode-form"' not in html


def test_start_with_a_count(pi_client, round1):
    s = round1
    r = pi_client.post(url("recode_create"), {"coder": s.coder1.pk, "how": "count",
                                              "amount": 2, "seed": 7})  # fmt: skip
    recode = Project.objects.get(recode_of=s.project)
    assert r.status_code == 302
    assert r["Location"] == url("recode_report", recode.slug)
    assert recode.recode_coder == s.coder1 and recode.documents.count() == 2
    page = pi_client.get(r["Location"], {"bootstrap": 0}).content.decode()
    assert "started: 2 documents for coder1, who will find it under My work" in page
    # The same seed and choices draw the same documents.
    again = recode_round_create(source=s.project, coder=s.coder1, actor=s.pi,
                                count=2, seed=7)  # fmt: skip
    ids = sorted(recode.documents.values_list("external_id", flat=True))
    assert ids == sorted(again.documents.values_list("external_id", flat=True))


def test_start_with_a_percentage_and_a_slug(pi_client, round1):
    s = round1
    r = pi_client.post(url("recode_create"), {"coder": s.coder1.pk, "how": "share",
                                              "amount": 34, "seed": 1,
                                              "slug": "coder1-retest"})  # fmt: skip
    assert r.status_code == 302
    recode = Project.objects.get(slug="coder1-retest")
    assert recode.recode_of == s.project
    assert recode.documents.count() == 1  # round(0.34 * 3)


def count_writes():
    return Project.objects.count(), HistoryEvent.objects.count()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"how": "count", "amount": 4}, "amount", "choose at most 3"),
        ({"how": "count", "amount": 0}, "amount", "greater than or equal to 1"),
        ({"how": "share", "amount": 101}, "amount", "at most 100"),
        ({"how": "count", "amount": ""}, "amount", "required"),
        ({"how": "count", "amount": 1, "slug": "takedowns"}, "slug", "is taken"),
        ({"how": "count", "amount": 1, "slug": "not a slug"}, "slug", "valid"),
        ({"how": "count", "amount": 1, "seed": -1}, "seed", "greater than or equal"),
        ({"how": "often", "amount": 1}, "amount", "not one of the available"),
        ({"how": "count", "amount": 1, "coder": "outsider"}, "coder", "valid choice"),
        ({"how": "count", "amount": 1, "coder": "coder2"}, "coder", "valid choice"),
    ],
)
def test_refusals_are_400_next_to_the_field(pi_client, round1, data, field, message):
    s = round1
    before = count_writes()
    coder = getattr(s, data.pop("coder", "coder1")).pk
    r = pi_client.post(url("recode_create"), {"coder": coder, "seed": 1, **data})
    assert r.status_code == 400
    html = r.content.decode()
    row = re.search(rf'id="row-{field}">(.*?)</(div|fieldset)>', html, re.S)
    assert 'class="errorlist"' in row.group(1) and message in row.group(1)
    assert html.count('class="errorlist"') == 1
    assert count_writes() == before


def test_an_empty_post_is_400(pi_client, round1):
    before = count_writes()
    r = pi_client.post(url("recode_create"), {})
    assert r.status_code == 400 and 'class="errorlist"' in r.content.decode()
    assert count_writes() == before


def test_a_refusal_keeps_what_was_typed(pi_client, round1):
    r = pi_client.post(url("recode_create"), {"coder": round1.coder1.pk, "how": "share",
                                              "amount": 150, "seed": 42,
                                              "slug": "mine"})  # fmt: skip
    html = r.content.decode()
    assert 'value="150"' in html and 'value="42"' in html and 'value="mine"' in html
    assert re.search(r'value="share"[^>]*checked', html)


def test_start_needs_a_csrf_token(round1):
    client = Client(enforce_csrf_checks=True)
    client.force_login(round1.pi)
    data = {"coder": round1.coder1.pk, "how": "count", "amount": 1, "seed": 1}
    assert client.post(url("recode_create"), data).status_code == 403
    assert not Project.objects.filter(recode_of=round1.project).exists()
    page = client.get(url("recode_create")).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    r = client.post(url("recode_create"), {**data, "csrfmiddlewaretoken": token})
    assert r.status_code == 302
    assert Project.objects.filter(recode_of=round1.project).count() == 1


# -- the report --------------------------------------------------------------------


def table_rows(html: str) -> list[tuple]:
    table = html.split('id="recode-results"')[1].split("</table>")[0]
    return re.findall(
        r'<tr data-level="([^"]*)" data-code="([^"]*)" '
        r'data-coefficient="([^"]*)" data-value="([^"]*)">',
        table,
    )


def test_report_shows_the_service_values(pi_client, study, recoded):
    report = intra_coder_report(recoded, bootstrap=50, seed=3)
    r = pi_client.get(url("recode_report", "retest"), {"bootstrap": 50, "seed": 3})
    assert r.status_code == 200
    html = r.content.decode()
    expected = [
        (x["level"], x["code"] or "", x["coefficient"],
         "" if x["value"] is None else repr(x["value"]))
        for x in report["results"] if x["pair"] is None
    ]  # fmt: skip
    assert expected and table_rows(html) == expected
    assert "<strong>2</strong> documents coded in both rounds" in html
    assert "coder1 (round 1) and coder1 (round 2)" in html
    assert "50 bootstrap resamples of documents, seed 3" in html
    status = re.search(r'id="recode-status">(.*?)</p>', html, re.S).group(1)
    assert "<strong>2</strong> of 3 documents done in round 2" in status
    assert reverse("progress", args=["retest"]) in status
    # How to report it: the document-level alpha over all codes.
    alpha = next(x for x in report["results"] if x["level"] == "document"
                 and x["coefficient"] == "krippendorff_alpha" and x["code"] is None
                 and x["pair"] is None)  # fmt: skip
    cite = re.search(r'id="recode-cite">(.*?)</blockquote>', html, re.S).group(1)
    assert cite.startswith("Intra-coder reliability (test–retest) for coder1: ")
    assert f"α = {alpha['value']:.3f}" in cite and "on 2 documents" in cite


def test_report_level_filter(pi_client, recoded):
    html = pi_client.get(
        url("recode_report", "retest"), {"bootstrap": 0, "level": "character"}
    ).content.decode()
    rows = table_rows(html)
    assert rows and {r[0] for r in rows} == {"character"}


def test_report_fragment_for_htmx(pi_client, recoded):
    address = url("recode_report", "retest")
    full = pi_client.get(address, {"bootstrap": 0}).content.decode()
    assert "<html" in full and 'id="recode-status"' in full and 'id="results"' in full
    r = pi_client.get(address, {"bootstrap": 0}, headers={"HX-Request": "true"})
    html = r.content.decode()
    assert r.status_code == 200 and "<html" not in html
    assert html.lstrip().startswith('<div id="results">')
    assert 'id="recode-status"' not in html and table_rows(html) == table_rows(full)


def test_report_before_anything_is_recoded(pi_client, round1):
    recode_round_create(source=round1.project, coder=round1.coder1, actor=round1.pi,
                        share=1.0, slug="fresh")  # fmt: skip
    html = pi_client.get(
        url("recode_report", "fresh"), {"bootstrap": 0}
    ).content.decode()
    assert 'id="recode-empty"' in html and 'id="recode-cite"' not in html
    assert "<strong>0</strong> of 3 documents done in round 2" in html


@pytest.mark.parametrize(
    "params",
    [{"bootstrap": -1}, {"bootstrap": 10_001}, {"seed": "abc"}, {"level": "word"}],
)
def test_bad_options_are_400_with_a_message(pi_client, recoded, params):
    r = pi_client.get(url("recode_report", "retest"), params)
    assert r.status_code == 400
    html = r.content.decode()
    assert 'id="recode-errors"' in html and next(iter(params)) in html
    for name in ("recode_report_json", "recode_report_csv"):
        r = pi_client.get(url(name, "retest"), params)
        assert r.status_code == 400 and next(iter(params)) in r.json()["detail"]


def test_downloads(pi_client, recoded):
    params = {"bootstrap": 20, "seed": 5}
    report = intra_coder_report(recoded, bootstrap=20, seed=5)
    r = pi_client.get(url("recode_report_json", "retest"), params)
    assert r.status_code == 200 and r["Content-Type"].startswith("application/json")
    assert 'filename="retest-intra-coder.json"' in r["Content-Disposition"]
    data = json.loads(r.content)
    assert data["results"] == report["results"]
    assert [data[k] for k in ("project", "source", "coder")] == [
        "retest",
        SLUG,
        "coder1",
    ]
    assert data["sample"]["coders"] == ["coder1 (round 1)", "coder1 (round 2)"]
    r = pi_client.get(url("recode_report_csv", "retest"), params)
    assert r["Content-Type"].startswith("text/csv")
    assert 'filename="retest-intra-coder.csv"' in r["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode())))
    assert tuple(rows[0]) == RECORD_FIELDS and len(rows) == len(report["results"]) + 1
    # The page's links carry its options.
    page = pi_client.get(url("recode_report", "retest"), params).content.decode()
    assert f"{url('recode_report_json', 'retest')}?bootstrap=20&amp;seed=5" in page


def test_downloads_of_one_level(pi_client, recoded):
    r = pi_client.get(url("recode_report_csv", "retest"), {"level": "document",
                                                          "bootstrap": 0})  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(r.content.decode())))
    assert rows and {row["level"] for row in rows} == {"document"}


# -- the round's own dashboard ------------------------------------------------------


def test_the_rounds_dashboard_says_whose_round_it_is(client, study, recoded):
    client.force_login(study.pi)
    html = client.get(reverse("project_detail", args=["retest"])).content.decode()
    banner = re.search(r'id="recode-banner">(.*?)</p>', html, re.S).group(1)
    assert "Recode round of" in banner and "coder1" in banner
    assert reverse("project_detail", args=[SLUG]) in banner
    assert url("recode_report", "retest") in banner
    client.force_login(study.coder1)
    html = client.get(reverse("project_detail", args=["retest"])).content.decode()
    banner = re.search(r'id="recode-banner">(.*?)</p>', html, re.S).group(1)
    assert "Recode round of" in banner and "intra-coder report" not in banner
    source = client.get(reverse("project_detail", args=[SLUG])).content.decode()
    assert 'id="recode-banner"' not in source


def test_pages_have_no_inline_script_or_style(pi_client, recoded):
    for address in (url("recode_create"), url("recode_report", "retest")):
        html = pi_client.get(address, {"bootstrap": 0}).content.decode()
        assert ' style="' not in html and " style='" not in html
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), address
