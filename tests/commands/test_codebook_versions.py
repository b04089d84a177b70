"""manage.py codebook_publish and codebook_export."""

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from annotations.models import CodebookVersion, HistoryEvent
from annotations.services import codebook
from tests.support.manage_process import fresh_project_manage

pytestmark = pytest.mark.django_db


def test_publish_then_export_a_version(study, tmp_path, capsys):
    call_command("codebook_publish", "takedowns", "--note", "Pilot done", "--by", "pi")
    out = capsys.readouterr().out
    version = CodebookVersion.objects.get()
    assert out.strip() == (
        f"published codebook v1 of takedowns: 4 codes, sha256 {version.checksum}"
    )
    assert (version.note, version.created_by) == ("Pilot done", study.pi)
    event = HistoryEvent.objects.get(entity="codebook_version")
    assert event.via == "command" and event.user == study.pi
    codebook.code_update(
        code=study.codes["actor"], actor=study.pi, changes={"name": "actors"}
    )
    call_command("codebook_publish", "takedowns")  # no --by: no user
    assert CodebookVersion.objects.get(number=2).created_by is None

    call_command("codebook_export", "takedowns", "--codebook-version", "1")
    first = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    names = [c["name"] for c in first["codes"]]
    assert "actor" in names and "actors" not in names and "id" not in first["codes"][0]
    call_command("codebook_export", "takedowns")  # the codebook now
    now = json.loads(capsys.readouterr().out)
    assert "actors" in [c["name"] for c in now["codes"]]

    path = tmp_path / "v1.csv"
    call_command(
        "codebook_export", "takedowns", "--codebook-version", "1",
        "--format", "csv", "--output", str(path),
    )  # fmt: skip
    assert capsys.readouterr().out.strip() == f"wrote 4 codes of takedowns to {path}"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("name,parent,description,") and len(lines) == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v1.csv"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "no project with slug 'nope'"),
        (["takedowns", "--by", "ghost"], "no user 'ghost'"),
        (["takedowns", "--by", "coder1"], "coder1 is not a PI of takedowns"),
        (["takedowns", "--note", "x" * 2001], "the limit is 2,000"),
    ],
)
def test_publish_refusals_write_nothing(study, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("codebook_publish", *args)
    assert not CodebookVersion.objects.exists()
    assert not HistoryEvent.objects.filter(entity="codebook_version").exists()


def test_publishing_an_unchanged_codebook_is_refused(study):
    call_command("codebook_publish", "takedowns")
    with pytest.raises(CommandError, match="not changed since version 1"):
        call_command("codebook_publish", "takedowns")
    assert CodebookVersion.objects.count() == 1


def test_export_of_a_missing_version_is_refused(study, tmp_path):
    out = tmp_path / "x.json"
    with pytest.raises(CommandError, match="takedowns has no codebook version 3"):
        call_command(
            "codebook_export", "takedowns", "--codebook-version", "3", "--output",
            str(out),
        )  # fmt: skip
    assert not out.exists()
    with pytest.raises(CommandError, match="no project with slug"):
        call_command("codebook_export", "nope")


def test_export_writes_whole_files_or_none(study, tmp_path, monkeypatch):
    missing = tmp_path / "no-such-folder" / "x.json"
    with pytest.raises(CommandError, match="does not exist"):
        call_command("codebook_export", "takedowns", "--output", str(missing))
    out = tmp_path / "x.json"
    out.write_text("the old file")

    def broken(self, *args, **kwargs):
        Path.write_bytes(self, b"half")
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_text", broken)
    with pytest.raises(OSError, match="disk full"):
        call_command("codebook_export", "takedowns", "--output", str(out))
    monkeypatch.undo()
    assert out.read_text() == "the old file"
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]  # no temporary left


@pytest.mark.slow
def test_publish_exits_non_zero_from_the_shell(tmp_path):
    """The real process: a readable line on stderr and exit status 1."""
    manage = fresh_project_manage(tmp_path)
    for args, message in [
        (["codebook_publish", "nope"], "no project with slug 'nope'"),
        (["codebook_publish", "p"], "The codebook has no codes yet"),
        (["codebook_export", "p", "--codebook-version", "1"], "no codebook version 1"),
    ]:
        result = manage(*args)
        assert result.returncode == 1, result.stderr
        assert message in result.stderr and "Traceback" not in result.stderr
