"""`manage.py export` and `manage.py import_qdpx`: good runs, refusals with a
readable line and a non-zero exit, and no partial file."""

from pathlib import Path

import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from annotations.models import Segment
from tests import factories
from tests.support.manage_process import fresh_project_manage


@pytest.mark.parametrize(
    "name", ["segments.csv", "segments.dta", "project.qdpx", "bundle"]
)
def test_export_command_writes_the_file(coded, tmp_path, capsys, name):
    out = tmp_path / "out.file"
    call_command("export", "takedowns", "--format", name, "--output", str(out))
    assert out.exists() and out.stat().st_size > 0
    assert "rows" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["out.file"]


def test_export_command_filters(coded, tmp_path):
    out = tmp_path / "s.csv"
    call_command(
        "export", "takedowns", "--format", "segments.csv", "--output", str(out),
        "--coder", "coder2", "--consensus",
    )  # fmt: skip
    assert set(pd.read_csv(out).coder) == {"coder2", "consensus"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["takedowns", "--format", "segments.xlsx"], "Unknown export format"),
        (
            ["takedowns", "--format", "segments.csv", "--coder", "outsider"],
            "not a member",
        ),
        (["takedowns", "--format", "segments.csv", "--coder", "ghost"], "not a member"),
        (["nope", "--format", "segments.csv"], "no project"),
        (
            ["takedowns", "--format", "segments.csv", "--since", "yesterday"],
            "must be a date",
        ),
    ],
)
def test_export_command_refusals_leave_no_file(coded, tmp_path, args, message):
    out = tmp_path / "x.csv"
    with pytest.raises(CommandError, match=message):
        call_command("export", *args, "--output", str(out))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_export_command_exits_non_zero_from_the_shell(tmp_path):
    """The real process: a readable line on stderr and exit status 1."""
    out = tmp_path / "x.csv"
    manage = fresh_project_manage(tmp_path)
    for args, message in [
        (["no-such-project", "--format", "segments.csv"], "no project with slug"),
        (["p", "--format", "segments.xlsx"], "Unknown export format"),
        (["p", "--format", "segments.csv", "--coder", "ghost"], "not a member"),
    ]:
        result = manage("export", *args, "--output", str(out))
        assert result.returncode == 1, result.stderr
        assert message in result.stderr and "Traceback" not in result.stderr
        assert not out.exists()
    assert (
        manage("export", "p", "--format", "bundle", "--output", str(out)).returncode
        == 0
    )
    assert out.exists()


def test_import_qdpx_command_round_trip(coded, tmp_path, capsys):
    out = tmp_path / "p.qdpx"
    call_command(
        "export", "takedowns", "--format", "project.qdpx", "--output", str(out)
    )
    factories.ProjectFactory(slug="copy")
    capsys.readouterr()
    call_command("import_qdpx", "copy", str(out))
    text = capsys.readouterr().out
    assert f"{len(coded.segments)} segments and 2 consensus segments" in text
    assert "WITHOUT a password" not in text  # coder1 and coder2 exist
    assert Segment.objects.filter(document__project__slug="copy").count() == len(
        coded.segments
    )


def test_import_qdpx_command_creates_users_without_password(coded, tmp_path, capsys):
    out = tmp_path / "p.qdpx"
    call_command(
        "export", "takedowns", "--format", "project.qdpx", "--output", str(out)
    )
    Segment.objects.all().delete()
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(username="coder1").update(username="someone_else")
    factories.ProjectFactory(slug="copy")
    capsys.readouterr()
    call_command("import_qdpx", "copy", str(out))
    text = capsys.readouterr().out
    assert "created users WITHOUT a password" in text and "coder1" in text
    assert not get_user_model().objects.get(username="coder1").has_usable_password()


def test_import_qdpx_command_refuses_a_traversal_archive(study, tmp_path):
    import zipfile

    bad = tmp_path / "bad.qdpx"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("project.qde", "<x/>")
        z.writestr("../../escape.txt", "x")
    with pytest.raises(CommandError, match=r"(?s)nothing was written:.*'\.\.'"):
        call_command("import_qdpx", "takedowns", str(bad))
    assert not (Path(tmp_path).parent / "escape.txt").exists()
