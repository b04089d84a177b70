"""manage.py agreement: JSON and CSV, to a file or standard output, errors."""

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from annotations.services.agreement import agreement_report
from annotations.stats import RECORD_FIELDS
from tests.support.manage_process import fresh_project_manage

from .conftest import coded_under_v2_but_one

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("agreement", *args, stdout=out)
    return out.getvalue()


def test_json_to_stdout_equals_the_service(coding):
    got = json.loads(run("takedowns", "--bootstrap", "30", "--seed", "3"))
    want = agreement_report(coding.project, bootstrap=30, seed=3)
    assert got["results"] == want["results"]
    assert got["sample"]["seed"] == 3


def test_csv_file_with_levels(coding, tmp_path):
    path = tmp_path / "agreement.csv"
    msg = run("takedowns", "--format", "csv", "--level", "document,span",
              "--level", "character", "--bootstrap", "0", "--output", str(path))  # fmt: skip
    assert "results for 2 documents and 2 coders" in msg
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert list(rows[0]) == list(RECORD_FIELDS)
    assert {r["level"] for r in rows} == {"document", "character", "span"}
    assert any(r["pair"] == "coder1;coder2" for r in rows)


def test_all_coded_and_consensus_flags(coding):
    got = json.loads(
        run("takedowns", "--all-coded", "--with-consensus", "--bootstrap", "0")
    )
    assert got["sample"]["rule"] == "all_coded"
    assert got["sample"]["documents"] == 3
    assert got["sample"]["with_consensus"] is True


@pytest.mark.parametrize(
    "args, message",
    [
        (["nope"], "no project"),
        (["takedowns", "--level", "sentence"], "unknown level"),
        (["takedowns", "--bootstrap", "-1"], "bootstrap"),
        (["takedowns", "--output", "/no/such/folder/a.json"], "existing folder"),
    ],
)
def test_errors_are_one_readable_line(coding, args, message, tmp_path):
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_output_replaced_atomically(coding, tmp_path):
    path = tmp_path / "a.json"
    path.write_text("previous")
    with pytest.raises(CommandError):
        run("takedowns", "--level", "nope", "--output", str(path))
    assert path.read_text() == "previous"
    run("takedowns", "--bootstrap", "0", "--output", str(path))
    assert json.loads(path.read_text())["project"] == "takedowns"


def test_codebook_version_option(coding):
    coded_under_v2_but_one(coding)
    got = json.loads(run("takedowns", "--codebook-version", "2", "--bootstrap", "0"))
    want = agreement_report(coding.project, bootstrap=0, codebook_version=2)
    assert got["results"] == want["results"]
    assert got["sample"]["external_ids"] == ["d0"]
    assert got["sample"]["codebook_version"] == 2
    assert got["sample"]["left_out_other_versions"] == 1


@pytest.mark.parametrize(
    "value, message",
    [
        ("1", "^codebook version 1 does not exist: the project has not published"),
        ("0", "^codebook_version must be a whole number from 1$"),
    ],
)
def test_bad_codebook_version_is_one_line(coding, value, message):
    with pytest.raises(CommandError, match=message) as err:
        run("takedowns", "--codebook-version", value)
    assert "\n" not in str(err.value)


@pytest.mark.slow
def test_bad_codebook_version_exits_1_from_the_shell(tmp_path):
    """The real process: one readable line on stderr and exit status 1."""
    manage = fresh_project_manage(tmp_path)
    result = manage("agreement", "p", "--codebook-version", "1")
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [
        "CommandError: codebook version 1 does not exist: the project has not "
        "published a codebook version yet"
    ]
