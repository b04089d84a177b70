"""Imports of documents, codebooks and segments: validate all, then write all.

Each import runs in one transaction after every row was checked, so a bad
row means nothing is written.
"""

import json

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import connection, transaction
from django.utils import timezone

from ..importers.codebook import CodeRow, code_path
from ..importers.documents import DocumentRow
from ..importers.segments import SegmentRow
from ..models import (
    Assignment,
    Code,
    Document,
    HistoryEvent,
    Membership,
    Project,
    Segment,
    text_checksum,
)
from .bulk import ids_reserve, ordered_uuids, rows_insert
from .errors import InputError, Problem
from .history import code_snapshot, history_record

BATCH = 2000


def documents_import(
    *, project: Project, rows: list[DocumentRow], via: str = "command"
) -> dict[str, int]:
    """Create documents; rows whose external id exists with the same text are
    skipped, so re-running an import is harmless. Returns counts.

    Every row is checked first; then the new ones are written in one
    transaction (COPY on PostgreSQL, bulk_create elsewhere), without building
    model instances.
    """
    problems: list[Problem] = []
    existing: dict[str, str] = {}
    wanted = [r.external_id for r in rows]
    for first in range(0, len(wanted), BATCH):
        existing.update(
            Document.objects.filter(
                project=project, external_id__in=wanted[first : first + BATCH]
            ).values_list("external_id", "checksum")
        )
    url_ok = URLValidator()
    new: list[int] = []
    for i, row in enumerate(rows):
        if len(row.external_id) > 255:
            problems.append(
                Problem("external_id is longer than 255 characters", row.origin)
            )
            continue
        if row.url:
            try:
                url_ok(row.url)
            except ValidationError:
                problems.append(Problem(f"invalid url {row.url[:100]!r}", row.origin))
                continue
        if row.external_id in existing:
            if existing[row.external_id] != text_checksum(row.text):
                problems.append(
                    Problem(
                        f"external_id {row.external_id!r} already exists in the "
                        "project with a different text",
                        row.origin,
                    )
                )
            continue
        if not row.text.strip():
            problems.append(Problem("the text is empty", row.origin))
            continue
        new.append(i)
    if problems:
        raise InputError(problems)
    # Once per text, for the document and its history row (hashing 100 MB of
    # text takes a few tenths of a second).
    checksums = [text_checksum(rows[i].text) for i in new]
    now = timezone.now()
    with transaction.atomic():
        # Explicit ids, so each document's history row can name it.
        doc_ids = ids_reserve(Document, len(new))
        rows_insert(
            Document,
            ["id", "project_id", "external_id", "title", "source", "url", "published",
             "metadata", "text", "length", "checksum", "created_at"],
            ((pk, project.pk, r.external_id, r.title, r.source, r.url, r.published,
              r.metadata, r.text, len(r.text), checksum, now)
             for pk, r, checksum in zip(doc_ids, (rows[i] for i in new), checksums,
                                        strict=True)),
        )  # fmt: skip
        rows_insert(
            HistoryEvent,
            ["project_id", "document_id", "user_id", "entity", "entity_id", "action",
             "before", "after", "via", "created_at"],
            ((project.pk, pk, None, "document", pk, "create", None,
              {"external_id": rows[i].external_id, "checksum": checksum}, via, now)
             for pk, i, checksum in zip(doc_ids, new, checksums, strict=True)),
        )  # fmt: skip
    return {"created": len(new), "skipped": len(rows) - len(new)}


def _codes_by_path(project: Project) -> dict[str, Code]:
    codes = list(Code.objects.filter(project=project))
    by_id = {c.pk: c for c in codes}

    def path(code: Code) -> str:
        parts = [code.name]
        while code.parent_id:
            code = by_id[code.parent_id]
            parts.append(code.name)
        return "/".join(reversed(parts))

    return {path(c): c for c in codes}


def code_lookup(project: Project) -> dict[str, Code]:
    """Codes by full path, and by bare name where the name is unambiguous."""
    by_path = _codes_by_path(project)
    lookup = dict(by_path)
    names: dict[str, list[Code]] = {}
    for code in by_path.values():
        names.setdefault(code.name, []).append(code)
    for name, codes in names.items():
        if len(codes) == 1:
            lookup.setdefault(name, codes[0])
    return lookup


@transaction.atomic
def codebook_import(
    *,
    project: Project,
    rows: list[CodeRow],
    actor: AbstractBaseUser | None = None,
    via: str = "command",
) -> dict[str, int]:
    """Create or update codes by path; parents before children."""
    by_path = _codes_by_path(project)
    paths = {code_path(r) for r in rows}
    created = updated = 0
    sibling_order: dict[str, int] = {}
    pending = list(rows)
    while pending:
        progressed = False
        for row in list(pending):
            parent_path = row.parent
            if parent_path and parent_path not in by_path:
                # A bare parent name refers to the one code of that name.
                matches = [p for p in by_path if p.rsplit("/", 1)[-1] == parent_path]
                if len(matches) == 1:
                    parent_path = matches[0]
                elif parent_path in paths or any(
                    p.rsplit("/", 1)[-1] == parent_path for p in paths
                ):
                    continue  # parent comes later in this file
            parent = by_path.get(parent_path) if parent_path else None
            if parent_path and parent is None:
                raise InputError(
                    [Problem(f"unknown parent {row.parent!r}", "codebook", row.line)]
                )
            path = f"{parent_path}/{row.name}" if parent_path else row.name
            order = sibling_order.get(parent_path, 0)
            sibling_order[parent_path] = order + 1
            code = by_path.get(path) or Code(
                project=project, parent=parent, name=row.name
            )
            before = code_snapshot(code) if code.pk else None
            for field in (
                "description", "definition", "when_to_use", "when_not_to_use",
                "example", "key", "value", "level",
            ):  # fmt: skip
                setattr(code, field, getattr(row, field))
            if row.color:
                code.color = row.color
            code.order = row.order if row.order is not None else order
            try:
                code.full_clean()
            except ValidationError as exc:
                raise InputError(
                    [
                        Problem(f"{path}: {m}", "codebook", row.line)
                        for m in exc.messages
                    ]
                ) from None
            code.save()
            history_record(
                project=project, user=actor, entity="code", entity_id=code.pk,
                action="update" if before else "create", before=before,
                after=code_snapshot(code), via=via,
            )  # fmt: skip
            if before:
                updated += 1
            else:
                created += 1
            by_path[path] = code
            pending.remove(row)
            progressed = True
        if not progressed:
            raise InputError(
                [Problem(f"cannot place {code_path(r)!r}: a parent cycle?", "codebook",
                         r.line) for r in pending]
            )  # fmt: skip
    return {"created": created, "updated": updated}


def segments_import(
    *,
    project: Project,
    rows: list[SegmentRow],
    source: str,
    mark_done: bool = False,
    via: str = "command",
) -> dict[str, int]:
    """Import coding done elsewhere: resolve, check every row, then write.

    Exact duplicates of live segments are skipped, so re-importing a file is
    harmless. Missing assignments are created.

    Rows are checked and written document by document, a chunk of documents
    at a time, so memory beyond the rows themselves stays flat: no model
    instances, texts fetched per chunk. On PostgreSQL the segments and their
    history go in with COPY; elsewhere with bulk_create. Everything is written
    in one transaction, and only after every row passed its checks.
    """
    doc_ids, coder_ids, code_ids, by_doc, problems = _segments_resolve(
        project, rows, source
    )
    for chunk, texts in _document_texts(by_doc):
        for doc_id in chunk:
            text = texts[doc_id]
            for i in by_doc[doc_id]:
                row = rows[i]
                if row.end > len(text):
                    problems.append(
                        Problem(
                            f"span [{row.start}, {row.end}) runs past the end of the "
                            f"text ({len(text)} characters)",
                            source,
                            row.line,
                        )
                    )
                elif row.quote is not None and row.quote != text[row.start : row.end]:
                    quote = text[row.start : row.end]
                    problems.append(
                        Problem(
                            f"quote does not match the text at [{row.start}, {row.end}): "
                            f"expected {quote[:60]!r}, got {row.quote[:60]!r}",
                            source,
                            row.line,
                        )
                    )
    if problems:
        problems.sort(key=lambda p: p.line or 0)
        raise InputError(problems)

    counts = {"created": 0, "skipped": 0, "assignments_created": 0, "marked_done": 0}
    with transaction.atomic():
        for chunk, texts in _document_texts(by_doc):
            _segments_write_chunk(
                project=project, rows=rows, chunk=chunk, texts=texts, by_doc=by_doc,
                ids=(doc_ids, coder_ids, code_ids), source=source,
                mark_done=mark_done, via=via, counts=counts,
            )  # fmt: skip
    return counts


CHUNK_DOCUMENTS = 500


def _segments_resolve(project: Project, rows: list[SegmentRow], source: str):
    """Map every row to (document, coder, code) ids; group rows by document.

    Returns one id per row in compact arrays, the row indices per document
    (in file order) and the problems found.
    """
    from array import array

    documents: dict[str, int] = {}
    external: dict[str, int] = {}
    for pk, external_id, title in (
        Document.objects.filter(project=project)
        .order_by("pk")
        .values_list("pk", "external_id", "title")
    ):
        documents.setdefault(title, pk)
        external[external_id] = pk
    documents.update(external)  # external ids win over titles
    members = dict(
        Membership.objects.filter(project=project).values_list(
            "user__username", "user_id"
        )
    )
    codes = {key: code.pk for key, code in code_lookup(project).items()}
    problems: list[Problem] = []
    doc_ids, coder_ids, code_ids = array("q"), array("q"), array("q")
    by_doc: dict[int, list[int]] = {}
    for i, row in enumerate(rows):
        doc = documents.get(row.document)
        coder = members.get(row.coder)
        code = codes.get(row.code)
        if doc is None:
            problems.append(
                Problem(f"unknown document {row.document!r}", source, row.line)
            )
        if coder is None:
            problems.append(
                Problem(
                    f"{row.coder!r} is not a member of the project", source, row.line
                )
            )
        if code is None:
            problems.append(Problem(f"unknown code {row.code!r}", source, row.line))
        doc_ids.append(doc or 0)
        coder_ids.append(coder or 0)
        code_ids.append(code or 0)
        if doc is not None and coder is not None and code is not None:
            by_doc.setdefault(doc, []).append(i)
    return doc_ids, coder_ids, code_ids, by_doc, problems


def _document_texts(by_doc: dict[int, list[int]]):
    """Yield (document ids, {id: text}) a chunk of documents at a time."""
    order = sorted(by_doc)
    for first in range(0, len(order), CHUNK_DOCUMENTS):
        chunk = order[first : first + CHUNK_DOCUMENTS]
        texts = dict(Document.objects.filter(pk__in=chunk).values_list("pk", "text"))
        yield chunk, texts


def _segments_write_chunk(
    *, project, rows, chunk, texts, by_doc, ids, source, mark_done, via, counts
) -> None:
    doc_ids, coder_ids, code_ids = ids
    existing = set(
        Segment.objects.filter(
            document_id__in=chunk, deleted_at__isnull=True
        ).values_list("document_id", "coder_id", "code_id", "start", "end")
    )
    assigned = set(
        Assignment.objects.filter(document_id__in=chunk).values_list(
            "document_id", "coder_id"
        )
    )
    now = timezone.now()
    new_pairs: dict[tuple[int, int], None] = {}
    touched: dict[tuple[int, int], None] = {}
    todo: list[int] = []
    for doc_id in chunk:
        for i in by_doc[doc_id]:
            row = rows[i]
            pair = (doc_id, coder_ids[i])
            touched[pair] = None
            key = (doc_id, coder_ids[i], code_ids[i], row.start, row.end)
            if key in existing:
                counts["skipped"] += 1
                continue
            existing.add(key)
            if pair not in assigned:
                assigned.add(pair)
                new_pairs[pair] = None
            todo.append(i)
    rows_insert(
        Assignment,
        ["document_id", "coder_id", "status", "note", "created_at", "started_at",
         "done_at", "updated_at"],
        ((d, c, Assignment.Status.IN_PROGRESS, "", now, None, None, now)
         for d, c in new_pairs),
    )  # fmt: skip
    counts["assignments_created"] += len(new_pairs)
    history_rows = [
        (project.pk, d, None, "assignment", pk, "create", None,
         {"coder": c, "status": Assignment.Status.IN_PROGRESS, "source": source}, via, now)
        for pk, d, c in Assignment.objects.filter(
            document_id__in={d for d, _ in new_pairs},
            coder_id__in={c for _, c in new_pairs},
        ).values_list("pk", "document_id", "coder_id")
        if (d, c) in new_pairs
    ]  # fmt: skip

    client_ids = ordered_uuids(len(todo))  # in insertion order: see ordered_uuids
    # Imported coding is recorded under the codebook version published now.
    codebook_version = project.codebook_version

    def segment_values(i: int) -> tuple:
        row = rows[i]
        d = doc_ids[i]
        return (d, coder_ids[i], code_ids[i], row.start, row.end,
                texts[d][row.start : row.end], row.memo, next(client_ids), 1,
                codebook_version, now, now)  # fmt: skip

    fields = ["document_id", "coder_id", "code_id", "start", "end", "quote", "memo",
              "client_id", "version", "codebook_version", "created_at",
              "updated_at"]  # fmt: skip
    if connection.vendor == "postgresql":
        # Explicit ids from the sequence, so the history rows can name them.
        seg_ids = ids_reserve(Segment, len(todo))
        rows_insert(Segment, ["id", *fields],
                    ((pk, *segment_values(i)) for pk, i in zip(seg_ids, todo, strict=True)))  # fmt: skip
    else:
        made = Segment.objects.bulk_create(
            [
                Segment(**dict(zip(fields, segment_values(i), strict=True)))
                for i in todo
            ],
            batch_size=BATCH,
        )
        seg_ids = [s.pk or 0 for s in made]
    after = _history_after(
        source, connection.vendor == "postgresql", project.codebook_version
    )
    rows_insert(
        HistoryEvent,
        ["project_id", "document_id", "user_id", "entity", "entity_id", "action",
         "before", "after", "via", "created_at"],
        ((project.pk, doc_ids[i], None, "segment", pk, "create", None,
          after(code_ids[i], coder_ids[i], rows[i].start, rows[i].end), via, now)
         for pk, i in zip(seg_ids, todo, strict=True)),
    )  # fmt: skip
    counts["created"] += len(todo)
    if mark_done and touched:
        open_ones = (
            Assignment.objects.filter(document_id__in=chunk)
            .exclude(status=Assignment.Status.DONE)
            .values_list("pk", "document_id", "coder_id", "status")
        )
        closing = [(pk, d, c, s) for pk, d, c, s in open_ones if (d, c) in touched]
        counts["marked_done"] += Assignment.objects.filter(
            pk__in=[pk for pk, *_ in closing]
        ).update(status=Assignment.Status.DONE, done_at=now, updated_at=now)
        history_rows += [
            (project.pk, d, None, "assignment", pk, "update", {"status": s},
             {"status": Assignment.Status.DONE, "coder": c}, via, now)
            for pk, d, c, s in closing
        ]  # fmt: skip
    rows_insert(
        HistoryEvent,
        ["project_id", "document_id", "user_id", "entity", "entity_id", "action",
         "before", "after", "via", "created_at"],
        history_rows,
    )  # fmt: skip


def _history_after(source: str, prebuilt: bool, codebook_version: int | None):
    """The ``after`` of a segment's history row (with the codebook version
    once one is published). On PostgreSQL the JSON text is built directly
    (json.dumps per row is a tenth of the import's time)."""
    extra = {"source": source}
    if codebook_version is not None:
        extra["codebook_version"] = codebook_version
    if not prebuilt:
        return lambda code, coder, start, end: {
            "code": code, "coder": coder, "start": start, "end": end, **extra,
        }  # fmt: skip
    from psycopg.types.json import Jsonb

    tail = ", " + json.dumps(extra)[1:]

    def after(code: int, coder: int, start: int, end: int):
        text = (
            f'{{"code": {code}, "coder": {coder}, "start": {start}, "end": {end}{tail}'
        )
        return Jsonb(text, dumps=str)

    return after


def user_get(username: str):
    User = get_user_model()
    return User.objects.filter(username=username).first()
