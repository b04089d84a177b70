"""The codebook: creating, changing, ordering, retiring and merging codes.

Every change is recorded in the history with the code's state before and
after. Segments point at codes by id, so a rename needs no migration of the
coding; a merge moves the segments (and consensus segments) of one code to
another and records each move.
"""

import math
import re
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ..models import Code, ConsensusSegment, HistoryEvent, Project, Segment
from .errors import ConflictError
from .history import code_snapshot, history_record

COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
EDITABLE = (
    "name", "parent", "description", "definition", "when_to_use",
    "when_not_to_use", "example", "color", "key", "order", "retired", "value",
    "level",
)  # fmt: skip


def _check_parent(*, code: Code, parent: Code | None) -> None:
    if parent is None:
        return
    if parent.project_id != code.project_id:
        raise ValidationError({"parent": "The parent belongs to another project."})
    node: Code | None = parent
    while node is not None:
        if code.pk is not None and node.pk == code.pk:
            raise ValidationError(
                {"parent": "A code cannot be nested under itself or its own subcodes."}
            )
        node = node.parent


def _next_order(project: Project, parent: Code | None) -> int:
    last = (
        Code.objects.filter(project=project, parent=parent)
        .order_by("-order")
        .values_list("order", flat=True)
        .first()
    )
    return 0 if last is None else last + 1


@transaction.atomic
def code_create(
    *,
    project: Project,
    actor: AbstractBaseUser | None,
    name: str,
    parent: Code | None = None,
    via: str = "web",
    **fields: Any,
) -> Code:
    """Create a code at the end of its siblings (unless ``order`` is given)."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "Unknown field."))
    code = Code(project=project, name=(name or "").strip(), parent=parent)
    _check_parent(code=code, parent=parent)
    for field, value in fields.items():
        if value is not None:
            setattr(code, field, value)
    if fields.get("order") is None:
        code.order = _next_order(project, parent)
    _validate(code)
    code.save()
    history_record(
        project=project, user=actor, entity="code", entity_id=code.pk,
        action="create", after=code_snapshot(code), via=via,
    )  # fmt: skip
    return code


def _validate(code: Code) -> None:
    """Field-level messages for what the database constraints would refuse."""
    errors: dict[str, str] = {}
    if not code.name:
        errors["name"] = "A code needs a name."
    elif "/" in code.name:
        errors["name"] = (
            "A code name cannot contain '/': it separates parent and child."
        )
    else:
        siblings = Code.objects.filter(
            project=code.project_id, parent=code.parent_id, name=code.name
        ).exclude(pk=code.pk)
        if siblings.exists():
            where = (
                f"under {code.parent.name!r}" if code.parent_id else "at the top level"
            )
            errors["name"] = f"There is already a code {code.name!r} {where}."
    if not COLOR.match(code.color or ""):
        errors["color"] = f"A colour looks like #1f77b4, not {code.color!r}."
    if code.key and not code.retired:
        if len(code.key) != 1 or code.key.isspace():
            errors["key"] = "A key is one character."
        else:
            other = (
                Code.objects.filter(
                    project=code.project_id, key=code.key, retired=False
                )
                .exclude(pk=code.pk)
                .first()
            )
            if other is not None:
                errors["key"] = (
                    f"The key {code.key!r} is already used by {other.name!r}."
                )
    if code.value is not None and not math.isfinite(code.value):
        errors["value"] = "The value must be a finite number."
    if errors:
        raise ValidationError(errors)
    code.full_clean()


@transaction.atomic
def code_update(
    *,
    code: Code,
    actor: AbstractBaseUser | None,
    changes: dict[str, Any],
    expected_version: int | None = None,
    via: str = "web",
) -> Code:
    """Change any editable field: rename, recolour, re-key, nest, retire...

    Moving a code to another parent puts it at the end of its new siblings.
    """
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field cannot be changed."))
    code = Code.objects.select_for_update().get(pk=code.pk)
    if expected_version is not None and expected_version != code.version:
        raise ConflictError(
            "This code was changed elsewhere since you opened it.",
            current=code_snapshot(code) | {"version": code.version},
        )
    before = code_snapshot(code)
    if "parent" in changes:
        parent = changes["parent"]
        _check_parent(code=code, parent=parent)
        if (parent.pk if parent else None) != code.parent_id and "order" not in changes:
            code.order = _next_order(code.project, parent)
    for field, value in changes.items():
        if field == "name":
            value = (value or "").strip()
        setattr(code, field, value)
    after = code_snapshot(code)
    if after == before:
        return code
    _validate(code)
    code.version += 1
    code.save()
    history_record(
        project=code.project, user=actor, entity="code", entity_id=code.pk,
        action="update", before=before, after=after, via=via,
    )  # fmt: skip
    return code


def code_retire(
    *,
    code: Code,
    actor: AbstractBaseUser | None,
    retired: bool = True,
    via: str = "web",
) -> Code:
    """Retire (or bring back) a code: it stays on existing segments but can no
    longer be applied. Its key is freed while retired."""
    return code_update(code=code, actor=actor, changes={"retired": retired}, via=via)


@transaction.atomic
def code_reorder(
    *,
    project: Project,
    parent: Code | None,
    ordered_ids: list[int],
    actor: AbstractBaseUser | None,
    via: str = "web",
) -> list[Code]:
    """Set the order of one parent's children to ``ordered_ids`` (all of them)."""
    siblings = {
        c.pk: c
        for c in Code.objects.select_for_update().filter(project=project, parent=parent)
    }
    if sorted(ordered_ids) != sorted(siblings) or len(set(ordered_ids)) != len(
        ordered_ids
    ):
        raise ValidationError(
            {"order": "Give every code under this parent exactly once."}
        )
    changed = []
    for position, pk in enumerate(ordered_ids):
        code = siblings[pk]
        if code.order != position:
            before = code_snapshot(code)
            code.order = position
            code.version += 1
            code.save(update_fields=["order", "version", "updated_at"])
            changed.append((code, before))
    for code, before in changed:
        history_record(
            project=project, user=actor, entity="code", entity_id=code.pk,
            action="update", before=before, after=code_snapshot(code), via=via,
        )  # fmt: skip
    return [siblings[pk] for pk in ordered_ids]


def code_move(
    *, code: Code, direction: str, actor: AbstractBaseUser | None, via: str = "web"
) -> Code:
    """Move a code one place up or down among its siblings."""
    if direction not in ("up", "down"):
        raise ValidationError({"direction": "Direction must be up or down."})
    ids = list(
        Code.objects.filter(project=code.project, parent=code.parent_id)
        .order_by("order", "id")
        .values_list("pk", flat=True)
    )
    i = ids.index(code.pk)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(ids):
        ids[i], ids[j] = ids[j], ids[i]
    code_reorder(
        project=code.project, parent=code.parent, ordered_ids=ids, actor=actor, via=via
    )
    code.refresh_from_db()
    return code


def _descendant_ids(code: Code) -> set[int]:
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Code.objects.filter(project=code.project_id).values_list(
        "pk", "parent_id"
    ):
        children.setdefault(parent_id, []).append(pk)
    found: set[int] = set()
    stack = [code.pk]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


@transaction.atomic
def code_merge(
    *,
    source: Code,
    target: Code,
    actor: AbstractBaseUser | None,
    via: str = "web",
) -> dict[str, int]:
    """Merge ``source`` into ``target``: every segment follows, then ``source``
    is removed from the codebook (its history stays).

    Subcodes of ``source`` move under ``target``. A segment that would become
    an exact duplicate of a live one (same coder, span and code) is
    soft-deleted instead of duplicated.

    The segments' code changes, so once a codebook version is published they
    record the current one, as a re-coding would; before the first version
    they keep none.
    """
    if source.pk == target.pk:
        raise ValidationError({"into": "A code cannot be merged into itself."})
    if source.project_id != target.project_id:
        raise ValidationError({"into": "That code belongs to another project."})
    if target.retired:
        raise ValidationError({"into": f"The code {target.name!r} is retired."})
    if target.pk in _descendant_ids(source):
        raise ValidationError(
            {"into": "A code cannot be merged into one of its own subcodes."}
        )
    project = source.project
    source_before = code_snapshot(source)
    # The version the moved segments record; {} keeps theirs (none published).
    recorded = (
        {"codebook_version": project.codebook_version}
        if project.codebook_version is not None
        else {}
    )
    taken = set(target.children.values_list("name", flat=True))
    clash = sorted(
        n for n in source.children.values_list("name", flat=True) if n in taken
    )
    if clash:
        raise ValidationError(
            {"into": f"{target.name!r} already has subcodes named {', '.join(clash)}."}
        )
    for child in list(source.children.all()):
        code_update(code=child, actor=actor, changes={"parent": target}, via=via)

    now = timezone.now()
    target_spans = set(
        Segment.objects.filter(code=target, deleted_at__isnull=True).values_list(
            "document_id", "coder_id", "start", "end"
        )
    )
    moved = duplicates = 0
    events = []
    rows = Segment.objects.filter(code=source).values_list(
        "pk", "document_id", "coder_id", "start", "end", "deleted_at", "version"
    )
    dup_ids, move_ids = [], []
    for pk, doc, coder, start, end, deleted_at, version in rows:
        is_dup = deleted_at is None and (doc, coder, start, end) in target_spans
        (dup_ids if is_dup else move_ids).append(pk)
        events.append(
            HistoryEvent(
                project=project,
                document_id=doc,
                user=actor if actor and actor.is_authenticated else None,
                entity="segment",
                entity_id=pk,
                action="merge",
                before={"code": source.pk, "version": version},
                after={
                    "code": target.pk,
                    "version": version + 1,
                    "deleted": is_dup or deleted_at is not None,
                    "reason": f"code {source.name!r} merged into {target.name!r}",
                    **recorded,
                },
                via=via,
            )  # fmt: skip
        )
    if dup_ids:
        duplicates = Segment.objects.filter(pk__in=dup_ids).update(
            code=target, deleted_at=now, version=F("version") + 1, updated_at=now,
            **recorded,
        )  # fmt: skip
    if move_ids:
        moved = Segment.objects.filter(pk__in=move_ids).update(
            code=target, version=F("version") + 1, updated_at=now, **recorded
        )
    consensus = ConsensusSegment.objects.filter(code=source).update(
        code=target, version=F("version") + 1, updated_at=now, **recorded
    )
    HistoryEvent.objects.bulk_create(events, batch_size=2000)
    source_id = source.pk
    source.delete()
    history_record(
        project=project, user=actor, entity="code", entity_id=source_id,
        action="merge", before=source_before,
        after={"merged_into": target.pk, "segments": moved + duplicates,
               "duplicates_removed": duplicates, "consensus_segments": consensus},
        via=via,
    )  # fmt: skip
    target.version += 1
    target.save(update_fields=["version", "updated_at"])
    return {
        "segments": moved + duplicates,
        "duplicates": duplicates,
        "consensus": consensus,
    }
