"""Imports of documents, codebooks and segments: validate all, then write all.

Each import runs in one transaction after every row was checked, so a bad
row means nothing is written.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
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
from .errors import InputError, Problem
from .history import code_snapshot, history_record

BATCH = 2000


def documents_import(
    *, project: Project, rows: list[DocumentRow], via: str = "command"
) -> dict[str, int]:
    """Create documents; rows whose external id exists with the same text are
    skipped, so re-running an import is harmless. Returns counts."""
    problems: list[Problem] = []
    existing = dict(
        Document.objects.filter(
            project=project, external_id__in=[r.external_id for r in rows]
        ).values_list("external_id", "checksum")
    )
    url_ok = URLValidator()
    new: list[Document] = []
    for row in rows:
        if len(row.external_id) > 255:
            problems.append(Problem("external_id is longer than 255 characters", row.origin))
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
        new.append(
            Document(
                project=project, external_id=row.external_id, title=row.title,
                source=row.source, url=row.url, published=row.published,
                metadata=row.metadata, text=row.text, length=len(row.text),
                checksum=text_checksum(row.text),
            )
        )  # fmt: skip
    if problems:
        raise InputError(problems)
    with transaction.atomic():
        Document.objects.bulk_create(new, batch_size=BATCH)
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
            code = by_path.get(path) or Code(project=project, parent=parent, name=row.name)
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
                    [Problem(f"{path}: {m}", "codebook", row.line) for m in exc.messages]
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
    """
    documents: dict[str, Document] = {}
    for doc in Document.objects.filter(project=project).only(
        "id", "external_id", "title", "text", "project_id"
    ):
        documents.setdefault(doc.title, doc)
        documents[doc.external_id] = doc  # external ids win over titles
    members = {
        m.user.username: m.user
        for m in Membership.objects.filter(project=project).select_related("user")
    }
    codes = code_lookup(project)
    problems: list[Problem] = []
    resolved = []
    for row in rows:
        doc = documents.get(row.document)
        coder = members.get(row.coder)
        code = codes.get(row.code)
        if doc is None:
            problems.append(Problem(f"unknown document {row.document!r}", source, row.line))
        if coder is None:
            problems.append(
                Problem(f"{row.coder!r} is not a member of the project", source, row.line)
            )
        if code is None:
            problems.append(Problem(f"unknown code {row.code!r}", source, row.line))
        if doc is None or coder is None or code is None:
            continue
        if row.end > len(doc.text):
            problems.append(
                Problem(
                    f"span [{row.start}, {row.end}) runs past the end of the text "
                    f"({len(doc.text)} characters)",
                    source,
                    row.line,
                )
            )
            continue
        quote = doc.text[row.start : row.end]
        if row.quote is not None and row.quote != quote:
            problems.append(
                Problem(
                    f"quote does not match the text at [{row.start}, {row.end}): "
                    f"expected {quote[:60]!r}, got {row.quote[:60]!r}",
                    source,
                    row.line,
                )
            )
            continue
        resolved.append((doc, coder, code, row, quote))
    if problems:
        raise InputError(problems)

    with transaction.atomic():
        doc_ids = {d.pk for d, *_ in resolved}
        existing = set(
            Segment.objects.filter(document_id__in=doc_ids, deleted_at__isnull=True)
            .values_list("document_id", "coder_id", "code_id", "start", "end")
        )
        assignments = {
            (a.document_id, a.coder_id): a
            for a in Assignment.objects.filter(document_id__in=doc_ids)
        }
        new_assignments = {}
        segments = []
        for doc, coder, code, row, quote in resolved:
            key = (doc.pk, coder.pk, code.pk, row.start, row.end)
            if key in existing:
                continue
            existing.add(key)
            if (doc.pk, coder.pk) not in assignments:
                a = Assignment(document=doc, coder=coder, status=Assignment.Status.IN_PROGRESS)
                assignments[(doc.pk, coder.pk)] = new_assignments[(doc.pk, coder.pk)] = a
            segments.append(
                Segment(
                    document=doc, coder=coder, code=code, start=row.start,
                    end=row.end, quote=quote, memo=row.memo,
                )
            )  # fmt: skip
        Assignment.objects.bulk_create(new_assignments.values(), batch_size=BATCH)
        Segment.objects.bulk_create(segments, batch_size=BATCH)
        HistoryEvent.objects.bulk_create(
            [
                HistoryEvent(
                    project=project, document_id=s.document_id, user=None,
                    entity="segment", entity_id=s.pk or 0, action="create",
                    after={"code": s.code_id, "coder": s.coder_id, "start": s.start,
                           "end": s.end, "source": source},
                    via=via,
                )  # fmt: skip
                for s in segments
            ],
            batch_size=BATCH,
        )
        done = 0
        if mark_done:
            touched = {(d.pk, c.pk) for d, c, *_ in resolved}
            now = timezone.now()
            done = Assignment.objects.filter(
                pk__in=[assignments[k].pk for k in touched]
            ).exclude(status=Assignment.Status.DONE).update(
                status=Assignment.Status.DONE, done_at=now, updated_at=now
            )
    return {
        "created": len(segments),
        "skipped": len(resolved) - len(segments),
        "assignments_created": len(new_assignments),
        "marked_done": done,
    }


def user_get(username: str):
    User = get_user_model()
    return User.objects.filter(username=username).first()
