"""python manage.py adjudicate SLUG --auto"""

import pytest
from django.core.management import CommandError, call_command

from annotations.models import (
    AdjudicationState,
    Assignment,
    ConsensusSegment,
    HistoryEvent,
)


def run(*args):
    from io import StringIO

    out = StringIO()
    call_command("adjudicate", *args, stdout=out)
    return out.getvalue()


def test_auto_accepts_agreements_and_reports_whats_left(disputed):
    d = disputed
    out = run("takedowns", "--auto", "--user", "pi")
    assert f"{d.doc.external_id} " in out
    assert "2 accepted, 3 disagreement(s) left of 3" in out
    # Other documents have no segments yet: coders not done, so skipped.
    assert "skipped: Not every coder is done" in out
    assert out.strip().endswith(
        "2 segment(s) accepted automatically, 3 disagreement(s) left, 3 skipped"
    )
    cs = ConsensusSegment.objects.filter(document=d.doc)
    assert {c.decision for c in cs} == {"auto"} and cs.count() == 2
    assert {c.decided_by.username for c in cs} == {"pi"}
    events = HistoryEvent.objects.filter(document=d.doc, via="command")
    assert events.filter(entity="consensus", action="create").count() == 2
    assert events.filter(entity="adjudication").count() == 1
    # Idempotent.
    out = run("takedowns", "--auto", "--documents", d.doc.external_id)
    assert "0 accepted, 3 disagreement(s) left" in out
    assert ConsensusSegment.objects.count() == 2


def test_overlap_documents_and_override(disputed):
    d = disputed
    other = d.study.documents[1]
    Assignment.objects.filter(document=other).update(status="in_progress")
    out = run(
        "takedowns", "--auto", "--overlap", "0.5",
        "--documents", f"{d.doc.external_id},{other.pk}",
        "--override-reason", "pilot round",
    )  # fmt: skip
    assert "3 accepted, 2 disagreement(s) left" in out
    assert (
        AdjudicationState.objects.get(document=other).override_reason == "pilot round"
    )
    assert AdjudicationState.objects.get(document=d.doc).overlap == 0.5
    assert "2 document(s)" in out


def test_report_only_without_auto(disputed):
    out = run("takedowns")
    assert "3 disagreement(s) left of 3" in out
    assert (
        not ConsensusSegment.objects.exists() and not AdjudicationState.objects.exists()
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["nope", "--auto"], "no project"),
        (["takedowns", "--auto", "--overlap", "2"], "--overlap"),
        (["takedowns", "--auto", "--documents", "zzz"], "unknown document 'zzz'"),
        (["takedowns", "--auto", "--user", "coder1"], "not a PI"),
    ],
)
def test_bad_arguments_exit_non_zero_and_write_nothing(disputed, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not ConsensusSegment.objects.exists()
