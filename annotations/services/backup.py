"""Backup and restore of one project as a single zip file.

The file holds ``manifest.json`` (format, version, counts, the SHA-256 of
every table and the field list of every table) and one JSON Lines file per
table. Rows keep their own primary keys in the file; references between
tables use those keys, users are named by username. Restore checks the
checksums, counts and fields before writing, then creates every row afresh
in one transaction (new primary keys, references remapped), keeping every
other value as it was: timestamps, versions, soft deletions, client ids.

Two things cannot be kept verbatim when restoring a copy beside the original
(``--as NEWSLUG`` in the same database): segment client ids are unique
database-wide, so a colliding one is replaced by a deterministic uuid5 of
the new slug and the old id; and ids inside history snapshots (``before``,
``after``) are remapped for the known reference keys (``REF_KEYS``), while
ids of rows that no longer exist (a merged code, a moved assignment) stay
as they were, dangling as they already did.

The codes' ids in a published codebook version's snapshot are remapped too;
the id of a code that no longer exists is left out of its row rather than
kept (in another database it could name another code), so that row is
compared by path. A version's checksum does not cover the ids (see
services/codebook_versions.py), so it stays true.
"""

import datetime as dt
import hashlib
import json
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.utils import timezone

from ..models import (
    AdjudicationState,
    Assignment,
    Code,
    CodebookVersion,
    ConsensusRejection,
    ConsensusSegment,
    Document,
    HistoryEvent,
    Membership,
    Project,
    Segment,
)
from .errors import InputError, Problem

FORMAT = "coding-workbench-project-backup"
VERSION = 1
BATCH = 2000
USER_FIELDS = ["username", "first_name", "last_name", "email", "is_active"]


@dataclass(frozen=True)
class Table:
    name: str  # file name without .jsonl; also the history entity name
    model: type[models.Model]
    # How to select this table's rows of one project.
    project_path: str


# Dependency order: a table only refers to tables above it (codes to
# themselves: parents first, see _code_rows).
TABLES = [
    Table("project", Project, "pk"),
    Table("membership", Membership, "project"),
    Table("document", Document, "project"),
    Table("code", Code, "project"),
    Table("codebook_version", CodebookVersion, "project"),
    Table("assignment", Assignment, "document__project"),
    Table("segment", Segment, "document__project"),
    Table("adjudication", AdjudicationState, "document__project"),
    Table("consensus", ConsensusSegment, "document__project"),
    Table("rejection", ConsensusRejection, "document__project"),
    Table("history", HistoryEvent, "project"),
]
BY_MODEL = {t.model: t for t in TABLES}
# Tables added since VERSION 1: a backup made before them restores none.
LATER_TABLES = {"codebook_version"}
# Models of the app deliberately left out of a project backup, with why.
NOT_BACKED_UP: dict[str, str] = {
    "AgreementCache": "a cache of computed reports, recomputed on demand",
}

# Keys in history snapshots that hold ids, and the table (or "user") they name.
REF_KEYS = {
    "document": "document",
    "code": "code",
    "parent": "code",
    "merged_into": "code",
    "segment": "segment",
    "sources": "segment",
    "coder": "user",
    "user": "user",
    "moved_to": "user",
    "adjudicator": "user",
    "decided_by": "user",
}


def _fields(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _m2m(model: type[models.Model]) -> list[models.ManyToManyField]:
    return list(model._meta.many_to_many)


def _of(table: Table, project: Project) -> dict[str, Any]:
    """The filter selecting the table's rows of one project."""
    return {table.project_path: project.pk if table.project_path == "pk" else project}


def _is_user(field: models.Field) -> bool:
    return field.is_relation and field.related_model is get_user_model()


def _to_project(field: models.Field) -> bool:
    return field.is_relation and field.related_model is Project


def _by_name(field: models.Field) -> bool:
    """Written under the field's name, not its id: users (by username) and
    other projects (by slug)."""
    return _is_user(field) or _to_project(field)


def _encode(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- backup -------------------------------------------------------------------


def _rows(table: Table, project: Project, usernames: dict[int, str]) -> Iterator[dict]:
    model = table.model
    fields = _fields(model)
    m2m = _m2m(model)
    qs = model.objects.filter(**_of(table, project)).order_by("pk")
    if table.model is Code:
        yield from _code_rows(qs, fields, usernames)
        return
    names = ["pk"] + [f.attname for f in fields]
    through = {}
    for field in m2m:
        pairs: dict[int, list[int]] = {}
        rel = field.remote_field.through
        src = field.m2m_field_name() + "_id"
        dst = field.m2m_reverse_field_name() + "_id"
        filtered = rel.objects.filter(
            **{f"{field.m2m_field_name()}__in": qs.values("pk")}
        ).values_list(src, dst)
        for a, b in filtered.order_by(src, dst).iterator(chunk_size=BATCH):
            pairs.setdefault(a, []).append(b)
        through[field.name] = pairs
    for values in qs.values_list(*names).iterator(chunk_size=BATCH):
        row = {"pk": values[0]}
        for field, value in zip(fields, values[1:], strict=True):
            if _is_user(field):
                row[field.name] = usernames.get(value) if value is not None else None
            elif _to_project(field):
                if table.model is Project and value is not None:
                    # Another project (a recode round's source): by its slug.
                    row[field.name] = _slug(value)
                continue
            else:
                row[field.attname] = _encode(value)
        for field in m2m:
            row[field.name] = through[field.name].get(values[0], [])
        yield row


def _slug(project_id: int) -> str | None:
    return Project.objects.filter(pk=project_id).values_list("slug", flat=True).first()


def _code_rows(qs, fields, usernames) -> Iterator[dict]:
    codes = list(qs.values("pk", *[f.attname for f in fields]))
    by_parent: dict[int | None, list[dict]] = {}
    for code in codes:
        by_parent.setdefault(code["parent_id"], []).append(code)
    queue = list(by_parent.get(None, []))
    while queue:  # breadth first: every parent before its children
        code = queue.pop(0)
        queue.extend(by_parent.get(code["pk"], []))
        yield {k: _encode(v) for k, v in code.items() if k != "project_id"}


def _referenced_users(project: Project) -> dict[int, str]:
    """Every user a backed-up row names, by id."""
    ids: set[int] = set()
    for table in TABLES:
        user_fields = [f.attname for f in _fields(table.model) if _is_user(f)]
        if not user_fields:
            continue
        qs = table.model.objects.filter(**_of(table, project))
        for name in user_fields:
            ids.update(
                # order_by(): Meta.ordering would enter the DISTINCT.
                qs.exclude(**{name: None})
                .order_by()
                .values_list(name, flat=True)
                .distinct()
            )
    User = get_user_model()
    return dict(User.objects.filter(pk__in=ids).values_list("pk", "username"))


def project_backup(*, project: Project, path: str | Path) -> dict[str, Any]:
    """Write the project to ``path`` (a zip file); return the manifest."""
    usernames = _referenced_users(project)
    User = get_user_model()
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "project": project.slug,
        "created_at": timezone.now().isoformat(),
        "tables": {},
    }
    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:

        def write(name: str, rows, fields: list[str]) -> None:
            digest = hashlib.sha256()
            count = 0
            with archive.open(f"{name}.jsonl", "w") as out:
                for row in rows:
                    line = (
                        json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n"
                    ).encode()
                    digest.update(line)
                    out.write(line)
                    count += 1
            manifest["tables"][name] = {
                "rows": count, "sha256": digest.hexdigest(), "fields": fields,
            }  # fmt: skip

        users = User.objects.filter(pk__in=usernames).order_by("username")
        write("user", users.values("pk", *USER_FIELDS).iterator(), ["pk", *USER_FIELDS])
        for table in TABLES:
            fields = [
                f.name if _by_name(f) else f.attname
                for f in _fields(table.model)
                # the project of every row goes without saying; only the
                # project's own row names another (recode_of)
                if not (_to_project(f) and table.model is not Project)
            ] + [f.name for f in _m2m(table.model)]
            write(table.name, _rows(table, project, usernames), ["pk", *fields])
        archive.writestr(
            "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False)
        )
    tmp.replace(path)
    return manifest


# --- restore ------------------------------------------------------------------


def _refuse(message: str, source: str) -> InputError:
    return InputError([Problem(message, source)])


def _read_backup(path: Path) -> tuple[dict, dict[str, list[dict]]]:
    source = str(path)
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise _refuse(f"not a backup file ({exc})", source) from None
    with archive:
        try:
            manifest = json.loads(archive.read("manifest.json"))
        except (KeyError, ValueError) as exc:
            raise _refuse(f"no readable manifest.json ({exc})", source) from None
        if manifest.get("format") != FORMAT:
            raise _refuse("not a coding workbench project backup", source)
        if manifest.get("version") != VERSION:
            raise _refuse(
                f"backup format version {manifest.get('version')} is not supported "
                f"(this version reads {VERSION})",
                source,
            )
        tables: dict[str, list[dict]] = {}
        for name in ["user", *[t.name for t in TABLES]]:
            meta = manifest["tables"].get(name)
            if meta is None and name in LATER_TABLES:
                tables[name] = []
                continue
            if meta is None:
                raise _refuse(f"the table {name!r} is missing", source)
            try:
                data = archive.read(f"{name}.jsonl")
            except (KeyError, zipfile.BadZipFile, OSError) as exc:
                raise _refuse(f"{name}.jsonl cannot be read ({exc})", source) from None
            if _sha256(data) != meta["sha256"]:
                raise _refuse(
                    f"{name}.jsonl does not match its checksum: the backup is damaged",
                    source,
                )
            rows = [json.loads(line) for line in data.decode().splitlines() if line]
            if len(rows) != meta["rows"]:
                raise _refuse(
                    f"{name}.jsonl has {len(rows)} rows, not {meta['rows']}", source
                )
            tables[name] = rows
    return manifest, tables


def _check_fields(manifest: dict, source: str) -> None:
    """Refuse a backup with fields this version does not know (data would be
    lost); fields missing from an older backup get their defaults."""
    for table in TABLES:
        if table.name not in manifest["tables"]:
            continue  # a later table an older backup lacks (_read_backup)
        known = (
            {"pk"}
            | {f.name if _by_name(f) else f.attname for f in _fields(table.model)}
            | {f.name for f in _m2m(table.model)}
        )
        unknown = set(manifest["tables"][table.name]["fields"]) - known
        if unknown:
            raise _refuse(
                f"the table {table.name!r} has fields this version does not know: "
                f"{', '.join(sorted(unknown))}; restore with the version that made it",
                source,
            )


def _users(rows: list[dict]) -> tuple[dict[str, int], dict[int, int], list[str]]:
    """Match users by username, creating missing ones without a usable
    password. Returns ids by username, new ids by backed-up id, and the
    usernames created."""
    User = get_user_model()
    existing = {
        u.username: u
        for u in User.objects.filter(username__in=[r["username"] for r in rows])
    }
    created = []
    for row in rows:
        if row["username"] not in existing:
            user = User(**{k: row[k] for k in USER_FIELDS if k in row})
            user.set_unusable_password()
            user.save()
            existing[user.username] = user
            created.append(user.username)
    by_name = {name: u.pk for name, u in existing.items()}
    by_old_id = {r["pk"]: by_name[r["username"]] for r in rows if "pk" in r}
    return by_name, by_old_id, created


def _remap_snapshot(data: Any, maps: dict[str, dict[int, int]]) -> Any:
    if not isinstance(data, dict):
        return data
    out = {}
    for key, value in data.items():
        target = maps.get(REF_KEYS.get(key, ""))
        if (
            target is not None
            and isinstance(value, int)
            and not isinstance(value, bool)
        ):
            value = target.get(value, value)
        elif target is not None and isinstance(value, list):
            value = [
                target.get(v, v)
                if isinstance(v, int) and not isinstance(v, bool)
                else v
                for v in value
            ]
        out[key] = value
    return out


def _remap_codebook(snapshot: Any, codes: dict[int, int]) -> Any:
    """A version's snapshot with its codes' new ids; a code that no longer
    exists loses its id (see the module's docstring)."""
    if not isinstance(snapshot, dict) or not isinstance(snapshot.get("codes"), list):
        return snapshot
    rows = []
    for row in snapshot["codes"]:
        row = dict(row)
        old = row.pop("id", None)
        if old in codes:
            row["id"] = codes[old]
        rows.append(row)
    return {**snapshot, "codes": rows}


def project_restore(*, path: str | Path, slug: str | None = None) -> dict[str, Any]:
    """Restore a backup as a new project (``slug``, default the original's);
    refuse when that slug exists. Returns counts and the users created."""
    path = Path(path)
    source = str(path)
    manifest, tables = _read_backup(path)
    _check_fields(manifest, source)
    slug = slug or manifest["project"]
    if Project.objects.filter(slug=slug).exists():
        raise _refuse(
            f"a project with slug {slug!r} exists already; restore under another "
            "slug with --as NEWSLUG",
            source,
        )
    with transaction.atomic():
        user_ids, user_map, created_users = _users(tables["user"])
        maps: dict[str, dict[int, int]] = {"user": user_map}
        if len(tables["project"]) != 1:
            raise _refuse("the backup must hold exactly one project", source)
        project_row = tables["project"][0]
        project = None
        counts = {}
        for table in TABLES:
            rows = tables[table.name]
            if table.model is Project:
                project_row = {**project_row, "slug": slug}
                objs = [_build(table, project_row, None, user_ids, maps)]
            else:
                objs = [_build(table, row, project, user_ids, maps) for row in rows]
            if table.model is Code:
                _create_codes(objs, rows, maps)
            else:
                if table.model is HistoryEvent:
                    for obj, row in zip(objs, rows, strict=True):
                        target = maps.get(row["entity"])
                        if target is not None:
                            obj.entity_id = target.get(
                                row["entity_id"], row["entity_id"]
                            )
                        obj.before = _remap_snapshot(row.get("before"), maps)
                        obj.after = _remap_snapshot(row.get("after"), maps)
                if table.model is Segment:
                    _free_client_ids(objs, slug)
                if table.model is CodebookVersion:
                    for obj in objs:
                        obj.snapshot = _remap_codebook(obj.snapshot, maps["code"])
                table.model.objects.bulk_create(objs, batch_size=BATCH)
                maps[table.name] = {
                    row["pk"]: obj.pk for row, obj in zip(rows, objs, strict=True)
                }
            if table.model is Project:
                project = objs[0]
            _restore_m2m(table, rows, objs, maps)
            _restore_auto_times(table, rows, objs)
            counts[table.name] = len(objs)
    return {"project": project, "counts": counts, "users_created": created_users}


def _build(table: Table, row: dict, project, user_ids, maps) -> models.Model:
    model = table.model
    obj = model()
    for field in _fields(model):
        if _to_project(field):
            if project is None:  # the project's own row: another project, by slug
                slug = row.get(field.name)
                other = Project.objects.filter(slug=slug).first() if slug else None
                setattr(obj, field.attname, other.pk if other else None)
            else:
                setattr(obj, field.attname, project.pk)
            continue
        if _is_user(field):
            if field.name not in row:
                continue
            username = row[field.name]
            setattr(obj, field.attname, user_ids[username] if username else None)
            continue
        if field.attname not in row:
            continue  # an older backup: keep the default
        value = row[field.attname]
        if field.is_relation:
            target = BY_MODEL[field.related_model].name
            if value is not None and target != table.name:
                value = maps[target][value]
            elif target == table.name:
                value = None  # codes' parents: set level by level
        else:
            value = field.to_python(value)
        setattr(obj, field.attname, value)
    return obj


def _create_codes(objs: list[Code], rows: list[dict], maps) -> None:
    """Parents before children, level by level (the rows come breadth first)."""
    mapping: dict[int, int] = {}
    maps["code"] = mapping
    pending = list(zip(rows, objs, strict=True))
    while pending:
        level = [
            (r, o)
            for r, o in pending
            if r["parent_id"] is None or r["parent_id"] in mapping
        ]
        if not level:
            raise _refuse("the codebook's parents form a cycle", "code.jsonl")
        for row, obj in level:
            obj.parent_id = (
                mapping[row["parent_id"]] if row["parent_id"] is not None else None
            )
        Code.objects.bulk_create([o for _, o in level], batch_size=BATCH)
        for row, obj in level:
            mapping[row["pk"]] = obj.pk
        done = {id(o) for _, o in level}
        pending = [(r, o) for r, o in pending if id(o) not in done]


def _free_client_ids(objs: list[Segment], slug: str) -> None:
    ids = [o.client_id for o in objs]
    taken = set()
    for i in range(0, len(ids), BATCH):
        taken.update(
            Segment.objects.filter(client_id__in=ids[i : i + BATCH]).values_list(
                "client_id", flat=True
            )
        )
    for obj in objs:
        if obj.client_id in taken:
            obj.client_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{slug}/{obj.client_id}")


def _restore_m2m(table: Table, rows: list[dict], objs: list, maps) -> None:
    for field in _m2m(table.model):
        target = maps[BY_MODEL[field.related_model].name]
        through = field.remote_field.through
        src = field.m2m_field_name() + "_id"
        dst = field.m2m_reverse_field_name() + "_id"
        links = [
            through(**{src: obj.pk, dst: target[old]})
            for row, obj in zip(rows, objs, strict=True)
            for old in row.get(field.name, [])
        ]
        through.objects.bulk_create(links, batch_size=BATCH)


def _restore_auto_times(table: Table, rows: list[dict], objs: list) -> None:
    """bulk_create stamps auto_now(_add) fields with the current time; put
    the backed-up values back (bulk_update does not stamp them)."""
    auto = [
        f
        for f in _fields(table.model)
        if (getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))
    ]
    auto = [f for f in auto if rows and f.attname in rows[0]]
    if not auto or not objs:
        return
    for row, obj in zip(rows, objs, strict=True):
        for field in auto:
            setattr(obj, field.attname, field.to_python(row[field.attname]))
    table.model.objects.bulk_update(objs, [f.attname for f in auto], batch_size=BATCH)


def backup_tables_cover_the_app() -> list[str]:
    """Models of the app that neither the backup nor NOT_BACKED_UP mention
    (a test keeps this empty)."""
    from django.apps import apps

    missing = []
    for model in apps.get_app_config("annotations").get_models():
        if model not in BY_MODEL and model.__name__ not in NOT_BACKED_UP:
            missing.append(model.__name__)
    return missing
