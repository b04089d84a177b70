import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from annotations.models import Assignment, Membership, Project


@pytest.fixture
def pi(db):
    return get_user_model().objects.create_user("boss", password="x-very-long-pw")


def test_create_project_and_members(pi, capsys):
    call_command("create_project", "study", "--name", "A study", "--pi", "boss")
    project = Project.objects.get(slug="study")
    assert project.blind
    assert Membership.objects.get(project=project, user=pi).role == "pi"
    call_command("create_project", "study", "--name", "A study")
    assert "exists already" in capsys.readouterr().out

    call_command("add_member", "study", "ra1", "--role", "coder", "--create")
    out = capsys.readouterr().out
    assert "created with password" in out
    password = out.rsplit(" ", 1)[-1].strip()
    assert get_user_model().objects.get(username="ra1").check_password(password)


def test_add_member_refuses_unknown_user_and_project(pi):
    call_command("create_project", "study", "--name", "A study")
    with pytest.raises(CommandError, match="no user 'ghost'"):
        call_command("add_member", "study", "ghost", "--role", "coder")
    with pytest.raises(CommandError, match="no project"):
        call_command("add_member", "nope", "boss", "--role", "coder")
    assert not Membership.objects.exists()


@pytest.fixture
def project_with_docs(db, tmp_path):
    call_command("create_project", "s", "--name", "S")
    for name in ("a", "b", "c"):
        call_command("add_member", "s", name, "--role", "coder", "--create")
    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(10):
        (folder / f"article_{i:02d}.txt").write_text(
            f"Text number {i}.", encoding="utf-8"
        )
    call_command("import_documents", "s", str(folder))
    return Project.objects.get(slug="s")


def test_assign_all_to_all(project_with_docs):
    call_command("assign", "s", "--coders", "a,b")
    assert Assignment.objects.count() == 20


def test_assign_reliability_sample_is_reproducible_and_balanced(project_with_docs):
    call_command("assign", "s", "--coders", "a,b,c", "--overlap", "0.4", "--seed", "7")
    first = sorted(
        Assignment.objects.values_list("document__external_id", "coder__username")
    )
    per_doc = {}
    for doc, coder in first:
        per_doc.setdefault(doc, []).append(coder)
    counts = sorted(len(v) for v in per_doc.values())
    assert counts == [1] * 6 + [2] * 4
    load = {c: sum(c in v for v in per_doc.values()) for c in "abc"}
    assert max(load.values()) - min(load.values()) <= 1
    Assignment.objects.all().delete()
    call_command("assign", "s", "--coders", "a,b,c", "--overlap", "0.4", "--seed", "7")
    again = sorted(
        Assignment.objects.values_list("document__external_id", "coder__username")
    )
    assert again == first
    project_with_docs.refresh_from_db()
    assert project_with_docs.reliability_share == 0.4
    assert project_with_docs.reliability_seed == 7


def test_assign_sets_status_and_refuses_strangers(project_with_docs):
    call_command(
        "assign", "s", "--coders", "a", "--documents", "article_00", "--status", "done"
    )
    assert Assignment.objects.get().status == "done"
    with pytest.raises(CommandError, match="zed: unknown users"):
        call_command("assign", "s", "--coders", "a,zed")
    with pytest.raises(CommandError, match="unknown documents: nope"):
        call_command("assign", "s", "--coders", "a", "--documents", "nope")
    assert Assignment.objects.count() == 1
