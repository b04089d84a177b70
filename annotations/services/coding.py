"""Coding: creating, changing and deleting segments; marking work done."""

import datetime as dt
import uuid

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import DateTimeField, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..models import Assignment, Code, Document, Segment
from .errors import ConflictError
from .history import history_record, segment_snapshot


def span_validate(*, document: Document, start: int, end: int, quote: str) -> None:
    """Check that ``[start, end)`` lies in the text and ``quote`` is what it covers.

    The quote check catches any disagreement about the offset unit (UTF-16 in
    the browser, code points here) before it corrupts the data.
    """
    if start < 0 or end > document.length:
        raise ValidationError(
            {"start": f"The span [{start}, {end}) lies outside the text "
             f"(0 to {document.length} characters)."}
        )  # fmt: skip
    if end <= start:
        raise ValidationError({"end": "The span is empty or reversed: end must be "
                               "greater than start."})  # fmt: skip
    actual = document.text[start:end]
    if quote != actual:
        raise ValidationError(
            {"quote": f"The selected text does not match the article at "
             f"[{start}, {end}): expected {actual[:80]!r}, got {quote[:80]!r}."}
        )  # fmt: skip


def code_validate_for(*, code: Code, document: Document) -> None:
    if code.project_id != document.project_id:
        raise ValidationError({"code": "That code belongs to another project."})
    if code.retired:
        raise ValidationError(
            {"code": f"The code {code.name!r} is retired and can no longer be "
             "applied; existing segments keep it."}
        )  # fmt: skip


def _open_assignment(
    *,
    document: Document,
    coder: AbstractBaseUser,
    assignment: Assignment | None = None,
) -> Assignment:
    """The coder's assignment of the document (``assignment`` if the caller
    has it already), refused when missing or done."""
    if assignment is None or (assignment.document_id, assignment.coder_id) != (
        document.pk,
        coder.pk,
    ):
        assignment = Assignment.objects.filter(document=document, coder=coder).first()
    if assignment is None:
        raise ValidationError(
            {"document": "This document is not assigned to this coder."}
        )
    if assignment.status == Assignment.Status.DONE:
        raise ValidationError(
            {"document": "This document is marked done: reopen it to change it."}
        )
    return assignment


def _check_version(segment: Segment, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != segment.version:
        raise ConflictError(
            "This segment was changed elsewhere since you opened it.",
            current=segment_snapshot(segment),
        )


def _already_applied(
    segment: Segment,
    *,
    code: Code | None,
    memo: str | None,
    span: tuple[int, int, str] | None,
) -> bool:
    if segment.deleted_at is not None:
        return False
    return (
        (code is None or code.pk == segment.code_id)
        and (memo is None or memo == segment.memo)
        and (span is None or tuple(span) == (segment.start, segment.end, segment.quote))
    )


def segment_create(
    *,
    document: Document,
    coder: AbstractBaseUser,
    code: Code,
    start: int,
    end: int,
    quote: str,
    memo: str = "",
    client_id: uuid.UUID | None = None,
    via: str = "web",
    assignment: Assignment | None = None,
) -> tuple[Segment, bool]:
    """Create a segment; return it and whether it is new.

    With a ``client_id`` the call is idempotent: a retry of the same request
    returns the segment the first one made. ``assignment``, the coder's
    assignment of the document if the caller has loaded it, saves a query;
    it is updated in place when coding starts.
    """
    try:
        code_validate_for(code=code, document=document)
        span_validate(document=document, start=start, end=end, quote=quote)
        assignment = _open_assignment(
            document=document, coder=coder, assignment=assignment
        )
        # No full_clean(): the checks above cover the span, the quote and the
        # code, and the document, coder and code were just loaded. The
        # database's constraints remain the backstop.
        with transaction.atomic():
            segment = Segment.objects.create(
                document=document, coder=coder, code=code, start=start, end=end,
                quote=quote, memo=memo, client_id=client_id or uuid.uuid4(),
                # The caller's project: no query (see Project.codebook_version).
                codebook_version=document.project.codebook_version,
            )  # fmt: skip
            if assignment.status == Assignment.Status.TODO:
                assignment.document = document  # loaded: no query for history
                assignment_set_status(
                    assignment=assignment, status=Assignment.Status.IN_PROGRESS,
                    actor=coder, via=via,
                )  # fmt: skip
            history_record(
                project=document.project, document=document, user=coder,
                entity="segment", entity_id=segment.pk, action="create",
                after=segment_snapshot(segment), via=via,
            )  # fmt: skip
    except (ValidationError, IntegrityError):
        # A retry whose first request was saved (perhaps an instant ago, by a
        # concurrent request that won the unique client_id): that segment is
        # the answer, whatever changed since. Looked up only on this path, so
        # a new segment costs no query for it.
        existing = (
            Segment.objects.filter(client_id=client_id).first() if client_id else None
        )
        if existing is None:
            raise
        if existing.coder_id != coder.pk or existing.document_id != document.pk:
            raise ValidationError({"client_id": "This id is already in use."}) from None
        return existing, False
    return segment, True


@transaction.atomic
def segment_update(
    *,
    segment: Segment,
    actor: AbstractBaseUser,
    code: Code | None = None,
    memo: str | None = None,
    span: tuple[int, int, str] | None = None,
    expected_version: int | None = None,
    via: str = "web",
) -> Segment:
    """Change a segment's code, memo or span, refusing stale edits.

    A new code or new boundaries record the codebook version published now;
    a memo alone keeps the version the segment was coded under.
    """
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    if _already_applied(segment, code=code, memo=memo, span=span):
        # A retry of an edit that was saved, or an edit that changes nothing:
        # neither is a conflict, and neither is worth a new version.
        return segment
    _check_version(segment, expected_version)
    if segment.deleted_at is not None:
        raise ValidationError({"segment": "This segment was deleted."})
    document = segment.document
    _open_assignment(document=document, coder=segment.coder)
    before = segment_snapshot(segment)
    recoded = False
    if code is not None and code.pk != segment.code_id:
        code_validate_for(code=code, document=document)
        segment.code = code
        recoded = True
    if memo is not None:
        segment.memo = memo
    if span is not None:
        start, end, quote = span
        span_validate(document=document, start=start, end=end, quote=quote)
        recoded = recoded or (start, end) != (segment.start, segment.end)
        segment.start, segment.end, segment.quote = start, end, quote
    if recoded:
        # document.project is loaded once either way: history_record reads it.
        segment.codebook_version = document.project.codebook_version
    segment.version += 1
    segment.full_clean(exclude=["client_id"])
    segment.save()
    history_record(
        project=document.project, document=document, user=actor,
        entity="segment", entity_id=segment.pk, action="update",
        before=before, after=segment_snapshot(segment), via=via,
    )  # fmt: skip
    return segment


@transaction.atomic
def segment_delete(
    *,
    segment: Segment,
    actor: AbstractBaseUser,
    expected_version: int | None = None,
    via: str = "web",
) -> Segment:
    """Soft-delete: the row stays, so the history and undo can bring it back."""
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    if segment.deleted_at is not None:
        # Deleting twice (a retried request) is not a conflict.
        return segment
    _check_version(segment, expected_version)
    return _set_deleted(
        segment, deleted_at=timezone.now(), actor=actor, action="delete", via=via
    )


@transaction.atomic
def segment_restore(
    *,
    segment: Segment,
    actor: AbstractBaseUser,
    expected_version: int | None = None,
    via: str = "web",
) -> Segment:
    segment = Segment.objects.select_for_update().get(pk=segment.pk)
    if segment.deleted_at is None:
        # Restoring twice (a retried request) is not a conflict.
        return segment
    _check_version(segment, expected_version)
    return _set_deleted(
        segment, deleted_at=None, actor=actor, action="restore", via=via
    )


def _set_deleted(
    segment: Segment,
    *,
    deleted_at: dt.datetime | None,
    actor: AbstractBaseUser,
    action: str,
    via: str,
) -> Segment:
    """Soft-delete or restore a locked segment (its assignment must still be
    open): a new version and a history event."""
    _open_assignment(document=segment.document, coder=segment.coder)
    before = segment_snapshot(segment)
    segment.deleted_at = deleted_at
    segment.version += 1
    segment.save(update_fields=["deleted_at", "version", "updated_at"])
    history_record(
        project=segment.document.project, document=segment.document, user=actor,
        entity="segment", entity_id=segment.pk, action=action,
        before=before, after=segment_snapshot(segment), via=via,
    )  # fmt: skip
    return segment


# No savepoint: inside a caller's transaction (a segment's creation) a failure
# here fails the whole change anyway.
@transaction.atomic(savepoint=False)
def assignment_set_status(
    *,
    assignment: Assignment,
    status: str,
    actor: AbstractBaseUser | None,
    via: str = "web",
) -> Assignment:
    if status not in Assignment.Status.values:
        raise ValidationError({"status": f"Unknown status {status!r}."})
    if assignment.status == status:
        return assignment
    before = {"status": assignment.status}
    now = timezone.now()
    started = None if status == Assignment.Status.TODO else now
    done = now if status == Assignment.Status.DONE else None
    # A conditional UPDATE: of two concurrent requests making the same change
    # (two first segments of an article, a double-clicked Done) only one
    # changes the row and records it.
    changed = Assignment.objects.filter(
        pk=assignment.pk, status=assignment.status
    ).update(
        status=status,
        started_at=Coalesce("started_at", Value(started, output_field=DateTimeField())),
        done_at=done,
        updated_at=now,
    )
    if not changed:
        assignment.refresh_from_db()
        return assignment
    assignment.status, assignment.done_at, assignment.updated_at = status, done, now
    assignment.started_at = assignment.started_at or started
    history_record(
        project=assignment.document.project, document=assignment.document,
        user=actor, entity="assignment", entity_id=assignment.pk, action="update",
        before=before, after={"status": status, "coder": assignment.coder_id},
        via=via,
    )  # fmt: skip
    return assignment


# Assignment.note is a TextField with no max_length (adding one would need a
# migration): this is the limit the coding page and any other writer keep.
ASSIGNMENT_NOTE_MAX_LENGTH = 5_000


@transaction.atomic
def assignment_note_set(
    *,
    assignment: Assignment,
    note: str,
    actor: AbstractBaseUser | None,
    via: str = "web",
) -> Assignment:
    """Set the coder's note on the document, refused once the assignment is
    done (like the segments: reopen to change), with a history event."""
    note = note.replace("\r\n", "\n")
    if len(note) > ASSIGNMENT_NOTE_MAX_LENGTH:
        raise ValidationError(
            {"note": f"The note is {len(note):,} characters long; the limit is "
             f"{ASSIGNMENT_NOTE_MAX_LENGTH:,}."}
        )  # fmt: skip
    locked = Assignment.objects.select_for_update().get(pk=assignment.pk)
    if locked.note == note:
        # A retry of a saved note, or no change: nothing to record.
        assignment.note = note
        return assignment
    if locked.status == Assignment.Status.DONE:
        raise ValidationError(
            {"note": "This document is marked done: reopen it to change it."}
        )
    before = {"note": locked.note}
    now = timezone.now()
    Assignment.objects.filter(pk=assignment.pk).update(note=note, updated_at=now)
    assignment.note, assignment.updated_at = note, now
    history_record(
        project=assignment.document.project, document=assignment.document,
        user=actor, entity="assignment", entity_id=assignment.pk, action="update",
        before=before, after={"note": note, "coder": assignment.coder_id},
        via=via,
    )  # fmt: skip
    return assignment
