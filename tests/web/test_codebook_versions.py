"""Publishing codebook versions, and the version every way of coding records."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from annotations.importers.segments import SegmentRow
from annotations.models import (
    CodebookVersion,
    HistoryEvent,
    Project,
    Segment,
)
from annotations.services import codebook, coding
from annotations.services.codebook_versions import (
    NOTE_MAX_LENGTH,
    codebook_publish,
    codebook_snapshot,
    codebook_status,
    codebook_version_diff,
    snapshot_checksum,
)
from annotations.services.imports import segments_import
from tests import factories

pytestmark = pytest.mark.django_db


def publish(study, note="", actor=None):
    return codebook_publish(project=study.project, actor=actor or study.pi, note=note)


def counts():
    return (
        CodebookVersion.objects.count(),
        HistoryEvent.objects.filter(entity="codebook_version").count(),
        list(Project.objects.values_list("slug", "codebook_version").order_by("pk")),
    )


# --- publishing -------------------------------------------------------------------


def test_the_first_publish_is_version_1_with_every_code_and_a_history_row(study):
    version = publish(study, note="After the pilot.\r\nFour codes.")
    assert version.number == 1 and version.created_by == study.pi
    assert version.note == "After the pilot.\nFour codes."
    rows = version.snapshot["codes"]
    assert [r["parent"] + "/" + r["name"] for r in rows] == [
        "/actor", "/action", "/platform", "actor/law_enforcement",
    ]  # fmt: skip
    assert {r["id"] for r in rows} == {c.pk for c in study.codes.values()}
    assert version.checksum == snapshot_checksum(version.snapshot)
    assert len(version.checksum) == 64
    study.project.refresh_from_db()
    assert study.project.codebook_version == 1
    event = HistoryEvent.objects.get(entity="codebook_version")
    assert (event.entity_id, event.action, event.user, event.via) == (
        version.pk, "create", study.pi, "web",
    )  # fmt: skip
    assert event.after == {
        "number": 1, "note": "After the pilot.\nFour codes.",
        "checksum": version.checksum, "codes": 4,
    }  # fmt: skip


def test_numbers_follow_on_and_retired_codes_are_kept(study):
    publish(study)
    codebook.code_retire(code=study.codes["platform"], actor=study.pi)
    v2 = publish(study, note="platform retired")
    assert (
        v2.number == 2 and v2.checksum != CodebookVersion.objects.get(number=1).checksum
    )
    platform = next(r for r in v2.snapshot["codes"] if r["name"] == "platform")
    assert platform["retired"] is True
    assert study.project.codebook_version == 2  # the caller's instance too
    diff = codebook_version_diff(v2)
    assert [(c.path, c.summary) for c in diff.changes] == [("platform", "retired")]
    # The first version's diff: everything added.
    v1 = CodebookVersion.objects.get(number=1)
    assert codebook_version_diff(v1).count("added") == 4


def test_an_unchanged_codebook_is_refused_and_nothing_written(study):
    publish(study)
    before = counts()
    with pytest.raises(ValidationError, match="not changed since version 1"):
        publish(study, note="again")
    assert counts() == before
    # A change and its undoing: the same codebook again.
    code = codebook.code_update(
        code=study.codes["actor"], actor=study.pi, changes={"definition": "x"}
    )
    codebook.code_update(code=code, actor=study.pi, changes={"definition": ""})
    with pytest.raises(ValidationError, match="not changed since version 1"):
        publish(study)
    assert counts() == before


def test_a_code_merged_away_and_made_again_alike_is_a_change(study):
    """Its segments get a new code_id, which the next version's file must
    hold, although the checksum (no ids) is the same."""
    from annotations.services.recode import CODE_FIELDS

    first = publish(study)
    gone = study.codes["law_enforcement"]
    fields = {f: getattr(gone, f) for f in CODE_FIELDS}
    codebook.code_merge(source=gone, target=study.codes["actor"], actor=study.pi)
    again = codebook.code_create(
        project=study.project, actor=study.pi, name=gone.name,
        parent=study.codes["actor"], **fields,
    )  # fmt: skip
    assert codebook_status(study.project).changed
    second = publish(study)
    assert second.number == 2 and second.checksum == first.checksum
    assert again.pk in {row["id"] for row in second.snapshot["codes"]}
    assert gone.pk not in {row["id"] for row in second.snapshot["codes"]}


def test_a_note_over_the_limit_is_refused_and_nothing_written(study):
    before = counts()
    with pytest.raises(ValidationError, match="the limit is 2,000"):
        publish(study, note="x" * (NOTE_MAX_LENGTH + 1))
    assert counts() == before
    assert publish(study, note="é" * NOTE_MAX_LENGTH).number == 1


def test_an_empty_codebook_is_refused(db):
    project = factories.ProjectFactory()
    with pytest.raises(ValidationError, match="no codes yet"):
        codebook_publish(project=project, actor=None)
    assert not CodebookVersion.objects.exists()


def test_projects_are_numbered_apart(study):
    other = factories.ProjectFactory()
    factories.CodeFactory(project=other, name="x")
    publish(study)
    assert codebook_publish(project=other, actor=None).number == 1
    numbered = CodebookVersion.objects.order_by("project", "number")
    assert list(numbered.values_list("project", "number")) == sorted(
        [(study.project.pk, 1), (other.pk, 1)]
    )


def test_status_says_what_changed_since_the_last_version(study):
    status = codebook_status(study.project)
    assert status.latest is None and status.next_number == 1 and status.changed
    publish(study)
    status = codebook_status(study.project)
    assert status.latest.number == 1 and not status.changed and status.next_number == 2
    codebook.code_update(
        code=study.codes["law_enforcement"], actor=study.pi,
        changes={"name": "police", "color": "#000000"},
    )  # fmt: skip
    codebook.code_create(project=study.project, actor=study.pi, name="victim")
    status = codebook_status(study.project)
    assert [(c.kind, c.path, c.summary) for c in status.diff.changes] == [
        ("added", "victim", "added"),
        ("changed", "actor/police", "renamed from 'law_enforcement'; colour changed"),
    ]
    assert status.code_count == 5


def test_the_snapshot_is_what_the_json_export_writes_plus_ids(study, client):
    client.force_login(study.pi)
    exported = client.get(f"/p/{study.project.slug}/codebook/export.json").json()
    snapshot = codebook_snapshot(study.project)
    assert [
        {k: v for k, v in r.items() if k != "id"} for r in snapshot["codes"]
    ] == exported["codes"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_publish_waits_for_the_lock_on_the_project(study):
    """A publish locks the project's row before it reads the last number:
    while another transaction holds the lock, it waits."""
    locked = threading.Event()
    release = threading.Event()
    results = []

    def hold():
        try:
            with transaction.atomic():
                Project.objects.select_for_update().get(pk=study.project.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    def publish_now():
        try:
            results.append(publish(study).number)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion
            results.append(exc)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(10)
    publisher = threading.Thread(target=publish_now)
    publisher.start()
    time.sleep(0.5)
    assert publisher.is_alive() and results == []  # waiting for the lock
    release.set()
    holder.join(10)
    publisher.join(10)
    assert results == [1]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_publishes_at_once_make_one_version(study):
    barrier = threading.Barrier(2)
    results = []

    def run():
        try:
            barrier.wait(5)
            results.append(publish(study).number)
        except ValidationError as exc:
            results.append(exc.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(map(str, results)) == [
        "1",
        "The codebook has not changed since version 1: there is nothing new to "
        "publish.",
    ]
    assert CodebookVersion.objects.count() == 1


# --- what coding records ----------------------------------------------------------


@pytest.fixture
def v1(study):
    return publish(study)


def create(study, coder=None, code="actor", start=0, end=7, doc=0):
    document = study.documents[doc]
    segment, _ = coding.segment_create(
        document=document, coder=coder or study.coder1, code=study.codes[code],
        start=start, end=end, quote=document.text[start:end],
    )  # fmt: skip
    return segment


def test_a_segment_coded_before_any_version_records_none(study):
    assert create(study).codebook_version is None
    event = HistoryEvent.objects.get(entity="segment")
    assert event.after["codebook_version"] is None


def test_a_new_segment_records_the_version_and_its_history_says_so(study, v1):
    segment = create(study)
    assert segment.codebook_version == 1
    assert Segment.objects.get(pk=segment.pk).codebook_version == 1
    event = HistoryEvent.objects.get(entity="segment", entity_id=segment.pk)
    assert event.after["codebook_version"] == 1


def test_a_new_code_or_span_records_the_new_version_a_memo_does_not(study, v1):
    segment = create(study)
    codebook.code_update(code=study.codes["action"], actor=study.pi,
                         changes={"definition": "Changed."})  # fmt: skip
    publish(study)
    study.project.refresh_from_db()
    segment = coding.segment_update(segment=segment, actor=study.coder1, memo="note")
    assert segment.version == 2 and segment.codebook_version == 1
    segment = coding.segment_update(
        segment=segment, actor=study.coder1, code=study.codes["action"]
    )
    assert segment.codebook_version == 2
    event = HistoryEvent.objects.filter(entity="segment").latest("pk")
    assert (event.before["codebook_version"], event.after["codebook_version"]) == (1, 2)

    other = create(study, code="platform", start=8, end=19)
    assert other.codebook_version == 2
    codebook.code_update(code=study.codes["platform"], actor=study.pi,
                         changes={"example": "Telegram"})  # fmt: skip
    publish(study)
    doc = study.documents[0]
    # The same span again (with the memo): not a re-coding.
    same = coding.segment_update(
        segment=other, actor=study.coder1, span=(8, 19, doc.text[8:19]), memo="m"
    )
    assert same.codebook_version == 2
    moved = coding.segment_update(
        segment=other, actor=study.coder1, span=(8, 20, doc.text[8:20])
    )
    assert moved.codebook_version == 3


def test_delete_and_restore_keep_the_version(study, v1):
    segment = create(study)
    codebook.code_update(code=study.codes["actor"], actor=study.pi,
                         changes={"example": "Europol"})  # fmt: skip
    publish(study)
    coding.segment_delete(segment=segment, actor=study.coder1)
    restored = coding.segment_restore(segment=segment, actor=study.coder1)
    assert restored.codebook_version == 1


def test_imported_segments_record_the_version(study, v1, on_postgres):
    doc = study.documents[1]
    rows = [
        SegmentRow(doc.external_id, "coder1", "actor", 0, 7, None, "", 2),
        SegmentRow(doc.external_id, "coder2", "actor/law_enforcement", 8, 19,
                   None, "", 3),
    ]  # fmt: skip
    counts = segments_import(project=study.project, rows=rows, source="x.csv")
    assert counts["created"] == 2
    assert list(
        Segment.objects.filter(document=doc).values_list("codebook_version", flat=True)
    ) == [1, 1]
    events = HistoryEvent.objects.filter(entity="segment", document=doc)
    assert [e.after["codebook_version"] for e in events] == [1, 1]
    assert {e.after["source"] for e in events} == {"x.csv"}


def test_merged_segments_record_the_current_version(study):
    kept = create(study, code="platform", start=8, end=19)
    assert kept.codebook_version is None
    # Before any version the merge records none.
    extra = codebook.code_create(project=study.project, actor=study.pi, name="extra")
    before = create(study, code="platform", start=20, end=30)
    codebook.code_merge(source=study.codes["platform"], target=extra, actor=study.pi)
    assert Segment.objects.get(pk=before.pk).codebook_version is None
    publish(study)
    study.project.refresh_from_db()
    moved = create(study, code="action", start=40, end=50)
    Segment.objects.filter(pk=moved.pk).update(codebook_version=None)
    target = Segment.objects.get(pk=kept.pk).code
    codebook.code_merge(source=study.codes["action"], target=target, actor=study.pi)
    assert Segment.objects.get(pk=moved.pk).codebook_version == 1
    event = HistoryEvent.objects.filter(entity="segment", action="merge").latest("pk")
    assert event.after["codebook_version"] == 1


def test_a_refi_qda_import_records_the_version(study, tmp_path):
    from django.core.management import call_command

    create(study)
    path = tmp_path / "p.qdpx"
    call_command(
        "export", "takedowns", "--format", "project.qdpx", "--output", str(path)
    )
    copy = factories.ProjectFactory(slug="copy")
    factories.CodeFactory(project=copy, name="seed")
    assert codebook_publish(project=copy, actor=None).number == 1
    call_command("import_qdpx", "copy", str(path))
    recorded = Segment.objects.filter(document__project=copy).values_list(
        "codebook_version", flat=True
    )
    assert list(recorded) == [1]
    (event,) = HistoryEvent.objects.filter(project=copy, entity="segment")
    assert event.after["codebook_version"] == 1
