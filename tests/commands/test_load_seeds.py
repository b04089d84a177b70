from django.contrib.auth import authenticate
from django.core.management import call_command

from annotations.models import (
    Assignment,
    Code,
    Document,
    HistoryEvent,
    Membership,
    Project,
    Segment,
)


def snapshot():
    return [
        m.objects.count()
        for m in (
            Project,
            Membership,
            Document,
            Code,
            Assignment,
            Segment,
            HistoryEvent,
        )
    ]


def test_load_seeds_builds_the_study_and_is_idempotent(db, capsys):
    call_command("load_seeds")
    project = Project.objects.get(slug="takedowns")
    assert project.documents.count() == 5
    top = set(project.codes.filter(parent=None).values_list("name", flat=True))
    assert top == {"actor", "action", "platform", "outcome", "skepticism"}
    for code in project.codes.filter(parent=None):
        assert code.definition and code.when_to_use and code.when_not_to_use
        assert code.key and code.color.startswith("#")
        # Examples are quoted from the articles.
        assert any(code.example in d.text for d in project.documents.all())
    roles = dict(project.memberships.values_list("user__username", "role"))
    assert roles == {
        "pi": "pi",
        "coder1": "coder",
        "coder2": "coder",
        "coder3": "coder",
    }
    for doc in project.documents.all():
        assert doc.assignments.count() >= 2
        assert "\r" not in doc.text
    assert authenticate(username="coder1", password="coder1-demo-2026")
    before = snapshot()
    call_command("load_seeds")
    assert snapshot() == before


def test_load_seeds_demo_coding_leaves_coder1_fresh(db):
    call_command("load_seeds", "--demo-coding")
    segments = Segment.objects.all()
    assert segments.exists()
    assert not segments.filter(coder__username="coder1").exists()
    for s in segments.select_related("document"):
        assert s.document.text[s.start : s.end] == s.quote
    done = Assignment.objects.filter(status="done")
    assert set(done.values_list("coder__username", flat=True)) == {"coder2", "coder3"}
    before = snapshot()
    call_command("load_seeds", "--demo-coding")
    assert snapshot() == before
