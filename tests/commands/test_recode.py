"""manage.py recode and intra_agreement: output, files, refusals (one line,
exit status 1)."""

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from annotations.models import Project
from annotations.services.recode import intra_coder_report
from annotations.stats import RECORD_FIELDS
from tests.agreement.conftest import seg, set_status
from tests.support.manage_process import fresh_project_manage

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def done(study):
    """coder1 coded d0 and marked every document done."""
    seg(study.documents[0], study.coder1, study.codes["actor"], 0, 7)
    for doc in study.documents:
        set_status(doc, study.coder1)
    return study


def test_recode_by_count_share_and_documents(done):
    out = run("recode", "takedowns", "--coder", "coder1", "--count", "2", "--by", "pi")
    assert (
        out == "takedowns-recode-1: 2 documents of takedowns for coder1 to code again\n"
    )
    first = Project.objects.get(slug="takedowns-recode-1")
    assert first.recode_of == done.project and first.recode_coder == done.coder1
    assert first.history.get(entity="project").user == done.pi
    out = run("recode", "takedowns", "--coder", "coder1", "--share", "0.25",
              "--seed", "9", "--slug", "retest")  # fmt: skip
    assert out.startswith("retest: 1 document of takedowns")
    run("recode", "takedowns", "--coder", "coder1", "--documents", "unicode, d2")
    third = Project.objects.get(slug="takedowns-recode-3")
    assert sorted(third.documents.values_list("external_id", flat=True)) == [
        "d2", "unicode",
    ]  # fmt: skip


def test_the_same_seed_draws_the_same_documents(done):
    for _ in range(2):
        run("recode", "takedowns", "--coder", "coder1", "--count", "2", "--seed", "4")
    a, b = (
        sorted(Project.objects.get(slug=f"takedowns-recode-{n}").documents.values_list(
            "external_id", flat=True))
        for n in (1, 2)
    )  # fmt: skip
    assert a == b


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope", "--coder", "coder1", "--count", "1"], "no project with slug 'nope'"),
        (["takedowns", "--coder", "ghost", "--count", "1"], "no user 'ghost'"),
        (["takedowns", "--coder", "coder1", "--count", "1", "--by", "coder2"],
         "coder2 is not a PI of takedowns"),
        (["takedowns", "--coder", "coder2", "--count", "1"],
         "coder2 has not marked any document done"),
        (["takedowns", "--coder", "coder1", "--count", "9"], "choose at most 4"),
        (["takedowns", "--coder", "coder1", "--share", "2"], "at most 1"),
        (["takedowns", "--coder", "coder1", "--documents", "d0,zz"],
         "no document 'zz' in takedowns"),
        (["takedowns", "--coder", "coder1", "--count", "1", "--slug", "other"],
         "'other' is taken"),
    ],
)  # fmt: skip
def test_recode_refusals_write_nothing(done, args, message):
    before = Project.objects.count()
    with pytest.raises(CommandError, match=message):
        run("recode", *args)
    assert Project.objects.count() == before


@pytest.fixture
def recoded(done):
    run("recode", "takedowns", "--coder", "coder1", "--documents", "d0,d1")
    project = Project.objects.get(slug="takedowns-recode-1")
    copy = project.documents.get(external_id="d0")
    actor = project.codes.get(name="actor")
    seg(copy, done.coder1, actor, 0, 7)
    for doc in project.documents.all():
        set_status(doc, done.coder1)
    done.recode = project
    return done


def test_intra_agreement_json_equals_the_service(recoded):
    got = json.loads(
        run("intra_agreement", "takedowns-recode-1", "--bootstrap", "20", "--seed", "3")
    )
    want = intra_coder_report(recoded.recode, bootstrap=20, seed=3)
    assert got["results"] == want["results"]
    assert (got["source"], got["coder"]) == ("takedowns", "coder1")
    assert got["sample"]["documents"] == 2 and got["sample"]["seed"] == 3


def test_intra_agreement_csv_file(recoded, tmp_path):
    path = tmp_path / "intra.csv"
    msg = run("intra_agreement", "takedowns-recode-1", "--format", "csv",
              "--level", "document", "--bootstrap", "0", "--output", str(path))  # fmt: skip
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert msg.startswith(
        f"wrote {len(rows)} results for 2 documents of coder1's two rounds "
        f"(takedowns and takedowns-recode-1) to {path}"
    )
    assert list(rows[0]) == list(RECORD_FIELDS) and len(rows) > 10
    assert {r["level"] for r in rows} == {"document"}
    assert any(r["pair"] == "coder1 (round 1);coder1 (round 2)" for r in rows)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "no project with slug 'nope'"),
        (["takedowns"], "takedowns is not a recode round"),
        (["takedowns-recode-1", "--bootstrap", "-1"], "bootstrap"),
        (["takedowns-recode-1", "--output", "/no/such/dir/a.json"], "existing folder"),
    ],
)
def test_intra_agreement_refusals(recoded, args, message):
    with pytest.raises(CommandError, match=message):
        run("intra_agreement", *args)


def test_exit_status_and_one_line_from_the_shell(tmp_path):
    manage = fresh_project_manage(tmp_path)
    done = manage("recode", "p", "--coder", "ghost", "--count", "1")
    assert done.returncode == 1
    assert done.stderr.strip() == "CommandError: no user 'ghost'"
    intra = manage("intra_agreement", "p")
    assert intra.returncode == 1
    assert intra.stderr.strip() == (
        "CommandError: p is not a recode round, or its source project was deleted."
    )
