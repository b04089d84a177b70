"""Codebook versions: publishing a numbered, frozen copy of the codebook, and
what changed between two copies.

A snapshot is the codebook as its JSON file writes it (``{"codes": [...]}``,
retired codes included), each row with the code's id besides, so that a
renamed or moved code is told apart from a removed one and a new one. The
checksum is the SHA-256 of the canonical JSON of the file's rows, without
the ids: the codebook's content, which a downloaded version's file carries
and which a restore into another database (new ids) keeps.

The diff is pure (snapshots in, changes out): :func:`codebook_diff`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import EllipsisType
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from ..exporters.codebook import codebook_file_rows
from ..models import Code, CodebookVersion, Project
from ..selectors.codebook import codebook_rows
from .history import history_record

# CodebookVersion.note is a TextField (no max_length, which would need a
# migration): this is the limit every writer keeps.
NOTE_MAX_LENGTH = 2_000

# The fields the diff compares, with their labels, in the order it lists them.
DIFF_FIELDS = [
    ("description", "Description"),
    ("definition", "Definition"),
    ("when_to_use", "When to use"),
    ("when_not_to_use", "When not to use"),
    ("example", "Example"),
    ("color", "Colour"),
    ("key", "Key"),
    ("value", "Value"),
    ("level", "Level"),
    ("order", "Position among its siblings"),
]


# --- pure helpers ---------------------------------------------------------------


def snapshot_checksum(snapshot: Mapping[str, Any]) -> str:
    """SHA-256 of the snapshot's codes as the codebook file writes them (no
    ids), as canonical JSON: sorted keys, no spaces, UTF-8.

    The same as ``sha256(json.dumps({"codes": rows}, sort_keys=True,
    separators=(",", ":"), ensure_ascii=False).encode())`` over the rows of
    the version's JSON download.

    >>> snapshot = {"codes": [{"id": 3, "name": "café", "parent": ""}]}
    >>> file = '{"codes":[{"name":"café","parent":""}]}'.encode()
    >>> snapshot_checksum(snapshot) == hashlib.sha256(file).hexdigest()
    True
    """
    canonical = json.dumps(
        {"codes": codebook_file_rows(snapshot.get("codes", []))},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    old: Any
    new: Any

    @property
    def old_text(self) -> str:
        return _text(self.old)

    @property
    def new_text(self) -> str:
        return _text(self.new)


def _text(value: Any) -> str:
    """A field's value for people: "(empty)" rather than nothing, 2 not 2.0."""
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class CodeChange:
    """What happened to one code between two snapshots.

    ``kind`` is ``added``, ``removed`` or ``changed``; ``path`` is the code's
    path in the newer snapshot (the older one's when removed) and
    ``old_path`` its path before when it was renamed or moved; ``retired``
    is True when it was retired, False when it was brought back, None when
    neither.
    """

    kind: str
    code_id: int | None
    path: str
    old_path: str = ""
    renamed: bool = False
    moved: bool = False
    retired: bool | None = None
    fields: tuple[FieldChange, ...] = ()

    @property
    def summary(self) -> str:
        """One line: "renamed from 'x'; moved from 'a/x'; retired; definition
        changed"."""
        if self.kind != "changed":
            return self.kind
        parts = []
        if self.renamed:
            parts.append(f"renamed from {self.old_path.rsplit('/', 1)[-1]!r}")
        if self.moved:
            parts.append(f"moved from {self.old_path!r}")
        if self.retired is not None:
            parts.append("retired" if self.retired else "brought back")
        if self.fields:
            names = ", ".join(f.label.lower() for f in self.fields)
            parts.append(f"{names} changed")
        return "; ".join(parts)


@dataclass(frozen=True)
class CodebookDiff:
    changes: tuple[CodeChange, ...]

    def __bool__(self) -> bool:
        return bool(self.changes)

    def count(self, kind: str) -> int:
        return sum(c.kind == kind for c in self.changes)

    @property
    def summary(self) -> str:
        """The counts for people, headline first: "1 code changed, 2 added".

        >>> CodebookDiff((CodeChange("added", 1, "a"),)).summary
        '1 code added'
        >>> kinds = ["changed", "added", "added", "removed"]
        >>> CodebookDiff(tuple(CodeChange(k, None, k) for k in kinds)).summary
        '1 code changed, 2 added, 1 removed'
        >>> CodebookDiff(()).summary
        'no changes'
        """
        parts = [
            (n, kind)
            for kind in ("changed", "added", "removed")
            if (n := self.count(kind))
        ]
        if not parts:
            return "no changes"
        (n, kind), rest = parts[0], parts[1:]
        head = f"{n} code{'s' if n != 1 else ''} {kind}"
        return ", ".join([head, *(f"{n} {kind}" for n, kind in rest)])


def _path(row: Mapping[str, Any]) -> str:
    return f"{row['parent']}/{row['name']}" if row.get("parent") else row["name"]


def _parent_key(row: Mapping[str, Any], ids_by_path: Mapping[str, Any]) -> Any:
    """The parent's id when the snapshot has ids (a renamed parent is the same
    parent), else its path."""
    parent = row.get("parent") or ""
    return ids_by_path.get(parent, parent) if parent else None


def codebook_diff(
    old: Mapping[str, Any] | None, new: Mapping[str, Any]
) -> CodebookDiff:
    """The codes added, removed and changed from snapshot ``old`` (None: an
    empty codebook) to ``new``.

    Codes are matched by id where both rows carry one, otherwise by path. A
    change lists a rename (same parent, another name), a move (another
    parent), retiring or bringing back, and the fields in ``DIFF_FIELDS``
    that differ. Order: the newer snapshot's rows in its order (parents
    before children), then the removed codes in the older one's order.

    >>> old = {"codes": [{"id": 1, "name": "actor", "parent": "", "key": "a"}]}
    >>> new = {"codes": [{"id": 1, "name": "actors", "parent": "", "key": "b"},
    ...                  {"id": 2, "name": "police", "parent": "actors"}]}
    >>> [(c.kind, c.path, c.summary) for c in codebook_diff(old, new).changes]
    [('changed', 'actors', "renamed from 'actor'; key changed"), ('added', 'actors/police', 'added')]
    """
    old_rows: Sequence[Mapping[str, Any]] = list((old or {}).get("codes", []))
    new_rows: Sequence[Mapping[str, Any]] = list(new.get("codes", []))
    old_ids = {_path(r): r.get("id", _path(r)) for r in old_rows}
    new_ids = {_path(r): r.get("id", _path(r)) for r in new_rows}
    old_by_id = {r["id"]: r for r in old_rows if r.get("id") is not None}
    old_by_path = {_path(r): r for r in old_rows}
    matched: set[int] = set()  # id() of the old rows matched so far
    changes: list[CodeChange] = []
    for row in new_rows:
        code_id = row.get("id")
        before = old_by_id.get(code_id) if code_id is not None else None
        if before is None:
            # By path only when one of the two rows has no id: a code merged
            # away and a new one under the same name are two codes.
            candidate = old_by_path.get(_path(row))
            if candidate is not None and None in (code_id, candidate.get("id")):
                before = candidate
        if before is None or id(before) in matched:
            changes.append(CodeChange("added", code_id, _path(row)))
            continue
        matched.add(id(before))
        change = _compare(before, row, old_ids, new_ids)
        if change is not None:
            changes.append(change)
    for row in old_rows:
        if id(row) not in matched:
            changes.append(CodeChange("removed", row.get("id"), _path(row)))
    return CodebookDiff(tuple(changes))


def _compare(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    old_ids: Mapping[str, Any],
    new_ids: Mapping[str, Any],
) -> CodeChange | None:
    moved = _parent_key(before, old_ids) != _parent_key(after, new_ids)
    renamed = before["name"] != after["name"]
    was, now = bool(before.get("retired")), bool(after.get("retired"))
    fields = tuple(
        FieldChange(f, label, before.get(f), after.get(f))
        for f, label in DIFF_FIELDS
        if before.get(f) != after.get(f)
    )
    if not (moved or renamed or was != now or fields):
        return None
    return CodeChange(
        "changed",
        after.get("id"),
        _path(after),
        old_path=_path(before) if (moved or renamed) else "",
        renamed=renamed,
        moved=moved,
        retired=now if was != now else None,
        fields=fields,
    )


# --- reads ------------------------------------------------------------------------


def codebook_snapshot(
    project: Project, *, codes: Iterable[Code] | None = None
) -> dict[str, Any]:
    """The project's codebook now, as a version would freeze it (``codes``:
    all of them, if the caller has them loaded)."""
    return {"codes": codebook_rows(project, codes=codes)}


@dataclass(frozen=True)
class CodebookStatus:
    """Where the codebook stands against its last published version."""

    latest: CodebookVersion | None
    diff: CodebookDiff  # from the latest version (or nothing) to the codebook now
    code_count: int

    @property
    def changed(self) -> bool:
        return bool(self.diff)

    @property
    def next_number(self) -> int:
        return self.latest.number + 1 if self.latest else 1


def codebook_status(
    project: Project,
    *,
    latest: CodebookVersion | None | EllipsisType = ...,
    codes: Iterable[Code] | None = None,
) -> CodebookStatus:
    """The last version and what changed since ("changed since v3").
    ``latest`` (None: no version yet) and ``codes`` save their queries when
    the caller has them."""
    if latest is ...:
        latest = (
            CodebookVersion.objects.filter(project=project).order_by("-number").first()
        )
    now = codebook_snapshot(project, codes=codes)
    return CodebookStatus(
        latest,
        codebook_diff(latest.snapshot if latest else None, now),
        len(now["codes"]),
    )


def codebook_version_diff(version: CodebookVersion) -> CodebookDiff:
    """What ``version`` changed from the one before it (the first: every code
    added)."""
    previous = (
        CodebookVersion.objects.filter(
            project_id=version.project_id, number=version.number - 1
        )
        .values_list("snapshot", flat=True)
        .first()
    )
    return codebook_diff(previous, version.snapshot)


@dataclass(frozen=True)
class VersionRow:
    version: CodebookVersion
    code_count: int


def codebook_version_list(project: Project) -> list[VersionRow]:
    """The project's versions, newest first, with who published them and
    their number of codes (snapshots are a few kilobytes: read whole). No
    query before the first version (the project's number says there is none).
    """
    if project.codebook_version is None:
        return []
    versions = (
        CodebookVersion.objects.filter(project=project)
        .select_related("created_by")
        .order_by("-number")
    )
    return [VersionRow(v, len(v.snapshot.get("codes", []))) for v in versions]


# --- writes -----------------------------------------------------------------------


@transaction.atomic
def codebook_publish(
    *,
    project: Project,
    actor: AbstractBaseUser | None,
    note: str = "",
    via: str = "web",
) -> CodebookVersion:
    """Publish the codebook as it is now as the next version; from then on new
    and re-coded segments record its number.

    Refused, with nothing written, when the codebook has no codes, when it is
    the same as the last version's, or when the note is too long. The
    project's row is locked first, so two publishes at once are numbered one
    after the other (and the second, finding nothing changed, is refused).
    """
    note = note.replace("\r\n", "\n").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError(
            {"note": f"The note is {len(note):,} characters long; the limit is "
             f"{NOTE_MAX_LENGTH:,}."}
        )  # fmt: skip
    locked = Project.objects.select_for_update().only("pk").get(pk=project.pk)
    snapshot = codebook_snapshot(locked)
    if not snapshot["codes"]:
        raise ValidationError(
            {"codebook": "The codebook has no codes yet: add codes, then publish."}
        )
    checksum = snapshot_checksum(snapshot)
    last = (
        CodebookVersion.objects.filter(project=locked)
        .order_by("-number")
        .only("number", "snapshot")
        .first()
    )
    # "Unchanged" is what the page's "changed since" says: the diff, which
    # matches codes by id. The checksum leaves ids out, so a code merged away
    # and made again alike changes no checksum, yet its segments carry a new
    # code_id that the next version's file must hold.
    if last is not None and not codebook_diff(last.snapshot, snapshot):
        raise ValidationError(
            {"codebook": f"The codebook has not changed since version {last.number}: "
             "there is nothing new to publish."}
        )  # fmt: skip
    version = CodebookVersion(
        project=locked,
        number=last.number + 1 if last else 1,
        note=note,
        snapshot=snapshot,
        checksum=checksum,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    version.full_clean(exclude=["project", "created_by"])
    version.save()
    Project.objects.filter(pk=project.pk).update(codebook_version=version.number)
    project.codebook_version = version.number
    history_record(
        project=project, user=actor, entity="codebook_version", entity_id=version.pk,
        action="create", via=via,
        after={"number": version.number, "note": note, "checksum": checksum,
               "codes": len(snapshot["codes"])},
    )  # fmt: skip
    return version
