"""manage.py assign --overlap --stratify-by: the sample in proportion per
outlet, year or metadata value, recorded on the project, refused cleanly."""

import datetime as dt
import re
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from annotations.models import Assignment, HistoryEvent, Project
from tests import factories

# Outlet, number of articles, year, language (None: no metadata key).
OUTLETS = [("Guardian", 10, 2019, "en"), ("Le Monde", 20, 2020, "fr"),
           ("Times", 70, 2021, "en"), ("", 5, None, None)]  # fmt: skip


@pytest.fixture
def news(db) -> Project:
    project = factories.ProjectFactory(slug="news")
    for name in "abc":
        factories.MembershipFactory(
            project=project, user=factories.UserFactory(username=name)
        )
    n = 0
    for source, count, year, lang in OUTLETS:
        for _ in range(count):
            factories.DocumentFactory(
                project=project, external_id=f"n{n:03d}", source=source,
                published=dt.date(year, 1 + n % 12, 1) if year else None,
                metadata={"lang": lang, "n": n} if lang else {"n": n},
            )  # fmt: skip
            n += 1
    return project


def _double_coded(field: str) -> Counter:
    per_doc = Counter(Assignment.objects.values_list("document_id", flat=True))
    docs = Assignment.objects.filter(
        document_id__in=[d for d, k in per_doc.items() if k == 2]
    ).values_list("document_id", field)
    return Counter(value for _, value in set(docs))


def _assign(capsys, *extra: str) -> str:
    call_command("assign", "news", "--coders", "a,b,c", "--overlap", "0.2", *extra)
    return capsys.readouterr().out


def test_stratified_by_source_counts_recorded_and_reproducible(news, capsys):
    out = _assign(capsys, "--seed", "7", "--stratify-by", "source")
    assert _double_coded("document__source") == {
        "Guardian": 2, "Le Monde": 4, "Times": 14, "": 1,
    }  # fmt: skip
    assert Assignment.objects.count() == 105 + 21
    load = Counter(Assignment.objects.values_list("coder__username", flat=True))
    assert max(load.values()) - min(load.values()) <= 1
    assert "reliability sample 20% x 2 coders, seed 7, stratified by outlet" in out
    # The per-stratum table: stratum, documents, sampled, quota.
    rows = {
        m[1].strip(): (int(m[2]), int(m[3]))
        for m in re.finditer(r"^(.+?)\s+(\d+)\s+(\d+)\s+[\d.]+$", out, re.M)
    }
    assert rows == {
        "Guardian": (10, 2), "Le Monde": (20, 4), "Times": (70, 14),
        "(missing)": (5, 1),
    }  # fmt: skip
    assert re.search(r"^total\s+105\s+21$", out, re.M)

    news.refresh_from_db()
    assert (news.reliability_share, news.reliability_coders, news.reliability_seed,
            news.reliability_stratify) == (0.2, 2, 7, "source")  # fmt: skip
    event = HistoryEvent.objects.get(entity="project", project=news)
    assert event.via == "command"
    assert event.after["reliability_stratify"] == "source"
    assert event.after["strata"][0] == {
        "stratum": "Guardian", "documents": 10, "sampled": 2,
    }  # fmt: skip
    assert event.before["reliability_stratify"] == ""

    first = sorted(Assignment.objects.values_list("document_id", "coder_id"))
    Assignment.objects.all().delete()
    _assign(capsys, "--seed", "7", "--stratify-by", "source")
    assert sorted(Assignment.objects.values_list("document_id", "coder_id")) == first
    Assignment.objects.all().delete()
    _assign(capsys, "--seed", "8", "--stratify-by", "source")
    assert sorted(Assignment.objects.values_list("document_id", "coder_id")) != first


@pytest.mark.parametrize(
    ("spec", "field", "expected"),
    [
        ("published_year", "document__published__year",
         {2019: 2, 2020: 4, 2021: 14, None: 1}),
        # 80 "en" (16), 20 "fr" (4), 5 without the key (1)
        ("metadata.lang", "document__metadata__lang", {"en": 16, "fr": 4, None: 1}),
    ],
)  # fmt: skip
def test_stratified_by_year_and_metadata(news, capsys, spec, field, expected):
    out = _assign(capsys, "--stratify-by", spec)
    assert _double_coded(field) == expected
    news.refresh_from_db()
    assert news.reliability_stratify == spec
    assert "(missing)" in out


def test_an_unstratified_draw_clears_the_stratum(news, capsys):
    _assign(capsys, "--stratify-by", "source")
    Assignment.objects.all().delete()
    out = _assign(capsys)
    news.refresh_from_db()
    assert news.reliability_stratify == ""
    assert "stratified" not in out and "(missing)" not in out
    last = HistoryEvent.objects.filter(entity="project").latest("pk")
    assert last.after["reliability_stratify"] == ""
    assert last.before["reliability_stratify"] == "source"
    assert "strata" not in last.after


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--stratify-by", "outlet"], "Cannot stratify by 'outlet'"),
        (["--stratify-by", "metadata."], "use source, published_year or metadata.KEY"),
        (["--stratify-by", "metadata.region"],
         "None of the 105 documents to draw from has a value for the metadata key 'region'"),
        # The key exists, but not in the documents drawn from.
        (["--stratify-by", "metadata.lang", "--documents", "n100,n101"],
         "None of the 2 documents"),
        (["--stratify-by", "source", "--documents", "n101"], "a source (outlet)"),
        (["--stratify-by", "published_year", "--documents", "n102"],
         "a publication date"),
    ],
)  # fmt: skip
def test_refused_with_a_message_and_nothing_written(news, extra, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command(
            "assign", "news", "--coders", "a,b", "--overlap", "0.2", "--seed", "3",
            *extra,
        )  # fmt: skip
    assert not Assignment.objects.exists()
    assert not HistoryEvent.objects.exists()
    news.refresh_from_db()
    assert (news.reliability_share, news.reliability_seed,
            news.reliability_stratify) == (None, None, "")  # fmt: skip


def test_stratify_needs_overlap(news):
    with pytest.raises(CommandError, match="--overlap"):
        call_command("assign", "news", "--coders", "a", "--stratify-by", "source")
    assert not Assignment.objects.exists()


def test_the_readme_example_is_this_output(news, capsys):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    command = (
        "python manage.py assign news --coders a,b,c --overlap 0.2 --seed 7 "
        "--stratify-by source"
    )
    out = _assign(capsys, "--seed", "7", "--stratify-by", "source")
    assert f"{command}\n{out}```" in readme
