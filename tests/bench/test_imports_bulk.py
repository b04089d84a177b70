"""The fast import paths (COPY on PostgreSQL, bulk_create on SQLite) keep the
behaviour: exact rows, one history row per segment naming it, duplicates
skipped, assignments created, a bad row anywhere writes nothing."""

import pytest

from annotations.importers.documents import DocumentRow
from annotations.importers.segments import SegmentRow
from annotations.models import Assignment, Document, HistoryEvent, Segment
from annotations.services import imports
from annotations.services.errors import InputError

TEXT = "Europol 🎉 took down قنوات Amaq channels in café\u0301 land"


@pytest.fixture
def docs(study):
    made = imports.documents_import(
        project=study.project,
        rows=[
            DocumentRow(
                external_id=f"x{i}", title=f"X {i}", text=TEXT, metadata={"i": i}
            )
            for i in range(5)
        ],
    )
    assert made == {"created": 5, "skipped": 0}
    return list(Document.objects.filter(external_id__startswith="x").order_by("pk"))


def row(doc, coder, code, start, end, line, quote=None):
    return SegmentRow(doc, coder, code, start, end, quote, "", line)


def test_documents_import_writes_length_checksum_and_metadata(docs):
    doc = docs[2]
    assert doc.text == TEXT and doc.length == len(TEXT)
    assert doc.metadata == {"i": 2} and len(doc.checksum) == 64
    doc.refresh_from_db()
    assert doc.created_at is not None


def test_segments_import_in_chunks_with_history(study, docs, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_DOCUMENTS", 2)  # several chunks
    start = TEXT.index("took")
    rows = [
        row(f"x{i}", coder, "actor", start, start + 9, line=i * 2 + n)
        for i in range(5)
        for n, coder in enumerate(("coder1", "coder2"))
    ]
    rows.append(row("x0", "coder1", "actor", start, start + 9, line=99))  # duplicate
    rows.append(
        row("X 4", "coder1", "law_enforcement", 0, 7, line=100, quote="Europol")
    )
    for doc in docs:  # coder2 has none: the import makes them
        Assignment.objects.create(document=doc, coder=study.coder1)
    counts = imports.segments_import(
        project=study.project, rows=rows, source="s.csv", mark_done=True
    )
    assert counts == {"created": 11, "skipped": 1, "assignments_created": 5,
                      "marked_done": 10}  # fmt: skip
    segments = Segment.objects.filter(document__in=docs)
    assert segments.count() == 11
    for seg in segments:
        assert TEXT[seg.start : seg.end] == seg.quote
        assert seg.client_id and seg.version == 1 and seg.created_at
    history = HistoryEvent.objects.filter(
        entity="segment", action="create", via="command"
    )
    assert history.count() == 11
    by_id = {s.pk: s for s in segments}
    for event in history:
        seg = by_id[event.entity_id]
        assert event.document_id == seg.document_id and event.project == study.project
        assert event.after == {"code": seg.code_id, "coder": seg.coder_id,
                               "start": seg.start, "end": seg.end, "source": "s.csv"}  # fmt: skip
    assert set(
        Assignment.objects.filter(document__in=docs).values_list("status", flat=True)
    ) == {"done"}


def test_segments_import_bad_row_in_a_later_chunk_writes_nothing(
    study, docs, monkeypatch
):
    monkeypatch.setattr(imports, "CHUNK_DOCUMENTS", 1)
    rows = [row(f"x{i}", "coder1", "actor", 0, 7, line=i + 2) for i in range(5)]
    rows.append(row("x4", "coder1", "actor", 0, 7, line=9, quote="Europa"))
    rows.append(row("x3", "coder1", "actor", 0, 999, line=8))
    n = HistoryEvent.objects.count()
    with pytest.raises(InputError) as caught:
        imports.segments_import(project=study.project, rows=rows, source="s.csv")
    assert [p.line for p in caught.value.problems] == [8, 9]  # in file order
    assert not Segment.objects.exists() and HistoryEvent.objects.count() == n
