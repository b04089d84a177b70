"""Multi-row writes are all or nothing.

The fault is real, not mocked: a PostgreSQL trigger makes the history insert
(the last step of every service) fail, and the rows written before it in the
same service call must be gone afterwards.
"""

import psycopg
import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection

from annotations.importers.segments import SegmentRow
from annotations.models import AdjudicationState, Assignment, ConsensusSegment, Segment
from annotations.services.adjudication import adjudication_start
from annotations.services.assignments import assignment_plan, assignments_apply
from annotations.services.codebook import code_merge
from annotations.services.imports import segments_import


@pytest.fixture
def history_fails(db, on_postgres):
    """Make every insert into the history table fail for ``entity``."""
    if not on_postgres:
        pytest.skip("the injected fault is a PostgreSQL trigger")

    def arm(entity: str):
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                CREATE OR REPLACE FUNCTION wb_test_fail() RETURNS trigger AS $$
                BEGIN
                  IF NEW.entity = '{entity}' THEN
                    RAISE EXCEPTION 'injected failure for %', NEW.entity;
                  END IF;
                  RETURN NEW;
                END $$ LANGUAGE plpgsql;
                CREATE TRIGGER wb_test_fail BEFORE INSERT ON annotations_historyevent
                  FOR EACH ROW EXECUTE FUNCTION wb_test_fail();
                """
            )

    return arm


def test_assignments_batch_rolls_back(study, history_fails):
    Assignment.objects.all().delete()
    plan = assignment_plan(
        documents=[d.pk for d in study.documents],
        coders=[study.coder1.pk, study.coder2.pk],
        overlap=0.5,
        seed=3,
    )
    history_fails("assignment")
    with pytest.raises(DatabaseError, match="injected failure"):
        assignments_apply(project=study.project, plan=plan)
    assert not Assignment.objects.exists()


def test_segment_import_rolls_back(study, history_fails):
    doc = study.documents[0]
    rows = [
        SegmentRow(doc.external_id, "coder1", "actor", 0, 7, None, "", 2),
        SegmentRow(doc.external_id, "coder2", "action", 8, 20, None, "", 3),
    ]
    history_fails("segment")
    # Raised by psycopg's COPY directly, or through Django's cursor.
    with pytest.raises((DatabaseError, psycopg.Error), match="injected failure"):
        segments_import(
            project=study.project, rows=rows, source="x.csv", mark_done=True
        )
    assert not Segment.objects.exists()
    assert not Assignment.objects.filter(status="done").exists()


def test_code_merge_rolls_back(study, history_fails):
    doc = study.documents[0]
    for coder in (study.coder1, study.coder2):
        Segment.objects.create(
            document=doc, coder=coder, code=study.codes["action"], start=0, end=7,
            quote=doc.text[0:7],
        )  # fmt: skip
    history_fails("code")
    with pytest.raises(DatabaseError, match="injected failure"):
        code_merge(
            source=study.codes["action"], target=study.codes["platform"], actor=study.pi
        )
    # The code's row and its segments are back (in memory it lost its pk).
    assert Segment.objects.filter(code__name="action").count() == 2
    assert not Segment.objects.filter(code=study.codes["platform"]).exists()


def test_adjudication_auto_accept_rolls_back(study, history_fails):
    doc = study.documents[0]
    for coder in (study.coder1, study.coder2):
        Segment.objects.create(
            document=doc, coder=coder, code=study.codes["actor"], start=0, end=7,
            quote=doc.text[0:7],
        )  # fmt: skip
    Assignment.objects.filter(document=doc).update(status="done")
    history_fails("consensus")
    with pytest.raises(DatabaseError, match="injected failure"):
        adjudication_start(document=doc, actor=study.pi)
    assert not ConsensusSegment.objects.exists()
    assert not AdjudicationState.objects.exists()


def test_codebook_command_rolls_back_on_a_late_bad_row(study, tmp_path):
    # Runs on every database: the third row is bad, the first two must not land.
    path = tmp_path / "cb.csv"
    path.write_text(
        "name,parent,color\nnew1,,#ffffff\nnew2,,#ffffff\nnew3,ghost,#ffffff\n"
    )
    with pytest.raises(Exception, match="ghost"):
        call_command("import_codebook", study.project.slug, str(path))
    assert not study.project.codes.filter(name__startswith="new").exists()
