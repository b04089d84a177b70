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

    by_key = {key(r): r for r in command["results"]}
    assert len(by_key) == len(command["results"])
    seen = 0
    for level in LEVELS:
        html = client.get(
            reverse("agreement", args=["takedowns"]), {"level": level}
        ).content.decode()
        rows = parse(html).detail
        want = [r for r in command["results"] if r["level"] == level]
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
    assert seen == len(command["results"])

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
