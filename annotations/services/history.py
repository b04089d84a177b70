from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from ..models import Code, ConsensusSegment, Document, HistoryEvent, Project, Segment


def segment_snapshot(segment: Segment | ConsensusSegment) -> dict[str, Any]:
    data = {
        "document": segment.document_id,
        "code": segment.code_id,
        "start": segment.start,
        "end": segment.end,
        "quote": segment.quote,
        "memo": segment.memo,
        "version": segment.version,
        "codebook_version": segment.codebook_version,
        "deleted": segment.deleted_at is not None,
    }
    if isinstance(segment, Segment):
        data["coder"] = segment.coder_id
    else:
        data["decision"] = segment.decision
        data["note"] = segment.note
    return data


def code_snapshot(code: Code) -> dict[str, Any]:
    fields = [
        "name", "description", "definition", "when_to_use", "when_not_to_use",
        "example", "color", "key", "order", "retired", "value", "level",
    ]  # fmt: skip
    data = {f: getattr(code, f) for f in fields}
    data["parent"] = code.parent_id
    return data


def history_record(
    *,
    project: Project,
    user: AbstractBaseUser | None,
    entity: str,
    entity_id: int,
    action: str,
    before: dict | None = None,
    after: dict | None = None,
    document: Document | None = None,
    via: str = "web",
) -> HistoryEvent:
    return HistoryEvent.objects.create(
        project=project,
        document=document,
        user=user if user is not None and user.is_authenticated else None,
        entity=entity,
        entity_id=entity_id,
        action=action,
        before=before,
        after=after,
        via=via,
    )
