"""The seed study coded by three coders gives the same numbers through the
command, the API and the page."""

import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from annotations.models import AgreementCache, Project
from annotations.stats import LEVELS

pytestmark = pytest.mark.django_db


class Rows(HTMLParser):
    """The data attributes of the page's result rows and summary cells."""

    def __init__(self):
        super().__init__()
        self.detail, self.summary, self._code = [], [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-coefficient" in a:
            self.detail.append(a)
        elif tag == "tr" and "data-code" in a:
            self._code = a["data-code"]
        elif tag == "td" and "data-key" in a and self._code is not None:
            self.summary.append((self._code, a["data-key"], a.get("data-value", "")))


def parse(html: str) -> Rows:
    rows = Rows()
    rows.feed(html)
    return rows


@pytest.fixture
def seeded(db):
    call_command("load_seeds", stdout=io.StringIO())
    path = Path(settings.BASE_DIR) / "fixtures" / "demo_segments.csv"
    call_command(
        "import_segments", "takedowns", str(path), mark_done=True, stdout=io.StringIO()
    )
    return Project.objects.get(slug="takedowns")


def key(r):
    return (r["level"], r["code"] or "", r["coefficient"], ";".join(r["pair"] or []))


def assert_page_shows(client, results, query):
    """Every result, level by level, on the page at full precision; returns
    the results by key."""
    by_key = {key(r): r for r in results}
    assert len(by_key) == len(results)
    seen = 0
    for level in LEVELS:
        html = client.get(
            reverse("agreement", args=["takedowns"]), {**query, "level": level}
        ).content.decode()
        rows = parse(html).detail
        want = [r for r in results if r["level"] == level]
        assert len(rows) == len(want)
        for row in rows:
            r = by_key[
                (
                    row["data-level"],
                    row["data-code"],
                    row["data-coefficient"],
                    row["data-pair"],
                )
            ]
            got = None if row["data-value"] == "" else float(row["data-value"])
            assert got == r["value"], (key(r), got, r["value"])
            seen += 1
    assert seen == len(results)
    return by_key


def test_command_api_and_page_agree(seeded, client, tmp_path):
    out = tmp_path / "agreement.json"
    call_command("agreement", "takedowns", "--output", str(out), stdout=io.StringIO())
    command = json.loads(out.read_text(encoding="utf-8"))
    sample = command["sample"]
    assert sample["documents"] == 5
    assert sample["coders"] == ["coder1", "coder2", "coder3"]
    assert sample["bootstrap"] == 1000
    assert {r["level"] for r in command["results"]} == set(LEVELS) - {"variable"}

    pi = get_user_model().objects.get(username="pi")
    client.force_login(pi)
    api = client.get("/api/projects/takedowns/agreement/").json()
    assert api["results"] == command["results"]  # the cached report: identical

    by_key = assert_page_shows(client, command["results"], {})

    # the summary's headline cells are the same numbers too
    summary = parse(
        client.get(reverse("agreement", args=["takedowns"])).content.decode()
    ).summary
    headline = {
        "doc_alpha": ("document", "krippendorff_alpha"),
        "doc_kappa": ("document", "cohen_kappa"),
        "chr_alpha": ("character", "krippendorff_alpha"),
        "u_alpha": ("unitizing", "u_alpha"),
        "f1": ("span", "f1_overlap"),
    }
    checked = 0
    for code, cell, value in summary:
        if cell not in headline:
            continue
        level, coefficient = headline[cell]
        r = by_key[(level, "" if code == "-" else code, coefficient, "")]
        assert (None if value == "" else float(value)) == r["value"]
        checked += 1
    assert checked == 5 * 13  # 12 codes and all codes together
    assert AgreementCache.objects.count() == 1  # one computation served all


def test_seed_numbers_are_plausible(seeded):
    """Hand-checkable facts of the demo coding, through the command's CSV."""
    buf = io.StringIO()
    call_command(
        "agreement", "takedowns", "--format", "csv", "--bootstrap", "0", stdout=buf
    )
    lines = buf.getvalue().splitlines()
    assert (
        lines[0]
        == "level,code,coefficient,coders,pair,value,ci_low,ci_high,n_units,n_documents,note"
    )
    # every coder applied "actor" (or a subcode) in every document
    actor = next(
        line for line in lines if line.startswith("document,actor,percent_agreement,")
    )
    assert ",1.0,,," in actor
    assert re.search(
        r"^document,,cohen_kappa,coder1;coder2;coder3,,", "\n".join(lines), re.M
    )


PRECISION_RECALL = (
    "precision_exact",
    "recall_exact",
    "precision_overlap",
    "recall_overlap",
)


def test_with_consensus_command_api_and_page_agree(seeded, client, tmp_path):
    """Two documents adjudicated (what all coders agree on, plus a passage no
    coder marked): the coder x consensus span rows, precision and recall
    included, are the same through the command, the API and the page."""
    from annotations.models import Code, Document
    from annotations.services.adjudication import adjudication_start, consensus_add

    pi = get_user_model().objects.get(username="pi")
    docs = list(Document.objects.filter(project=seeded).order_by("pk")[:2])
    for doc in docs:
        adjudication_start(document=doc, actor=pi)
    actor = Code.objects.get(project=seeded, name="actor", parent=None)
    consensus_add(document=docs[0], actor=pi, code=actor, start=0, end=3)

    out = tmp_path / "agreement.json"
    call_command(
        "agreement", "takedowns", "--with-consensus", "--output", str(out),
        stdout=io.StringIO(),
    )  # fmt: skip
    command = json.loads(out.read_text(encoding="utf-8"))
    assert command["sample"]["consensus_documents"] == 2
    results = command["results"]
    client.force_login(pi)
    api = client.get(
        "/api/projects/takedowns/agreement/", {"with_consensus": "true"}
    ).json()
    assert api["results"] == results

    coders = command["sample"]["coders"]
    codes = [None] + sorted({r["code"] for r in results if r["code"]})
    pr = [r for r in results if r["coefficient"] in PRECISION_RECALL]
    # one row per coefficient, coder x consensus pair and code (all codes too)
    assert len(pr) == len(PRECISION_RECALL) * len(coders) * len(codes)
    assert {tuple(r["pair"]) for r in pr} == {(c, "consensus") for c in coders}
    assert all(r["level"] == "span" for r in pr)
    by_key = {key(r): r for r in results}
    for r in pr:
        assert r["ci_low"] is not None or r["value"] is None
        assert "against the adjudicated consensus" in r["note"]
        f1 = "f1_" + r["coefficient"].split("_")[1]
        f1_row = by_key[("span", r["code"] or "", f1, ";".join(r["pair"]))]
        assert f1_row["n_documents"] == r["n_documents"]
    # the added passage: everyone misses one consensus segment of "actor"
    for c in coders:
        pair = f"{c};consensus"
        recall = by_key[("span", "actor", "recall_exact", pair)]
        assert recall["value"] is not None and recall["value"] < 1.0
        for code in codes:
            p = by_key[("span", code or "", "precision_overlap", pair)]["value"]
            r = by_key[("span", code or "", "recall_overlap", pair)]["value"]
            f1 = by_key[("span", code or "", "f1_overlap", pair)]["value"]
            if p is not None and r is not None and p + r > 0:
                assert f1 == pytest.approx(2 * p * r / (p + r), abs=1e-12)
    # hand-checkable: coder3 shares one adjudicated document, whose only
    # consensus "actor" segment is the added one, which nobody marked
    assert (
        by_key[("span", "actor", "recall_overlap", "coder3;consensus")]["value"] == 0.0
    )

    # without the consensus: no precision or recall rows anywhere
    plain = client.get("/api/projects/takedowns/agreement/").json()["results"]
    assert not [r for r in plain if r["coefficient"] in PRECISION_RECALL]
    assert [r for r in results if r in plain] == plain

    assert_page_shows(client, results, {"with_consensus": "on"})
    csv_text = client.get(
        reverse("agreement_csv", args=["takedowns"]), {"with_consensus": "on"}
    ).content.decode()
    assert csv_text.count(",recall_overlap,") == len(coders) * len(codes)
