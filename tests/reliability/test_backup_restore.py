"""Backup and restore bring a project back exactly: every row of every table,
compared field by field, with references compared by what they point at."""

import datetime as dt
import json
import uuid
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from annotations.models import (
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
from annotations.services import adjudication, codebook, coding
from annotations.services.backup import backup_tables_cover_the_app
from annotations.services.codebook_versions import codebook_publish
from tests import factories

# (model, how to find a project's rows)
TABLES = [
    (Project, "id"),
    (Membership, "project"),
    (Document, "project"),
    (Code, "project"),
    (CodebookVersion, "project"),
    (Assignment, "document__project"),
    (Segment, "document__project"),
    (AdjudicationState, "document__project"),
    (ConsensusSegment, "document__project"),
    (ConsensusRejection, "document__project"),
    (HistoryEvent, "project"),
]
ENTITIES = {
    "project": Project, "membership": Membership, "document": Document,
    "code": Code, "assignment": Assignment, "segment": Segment,
    "adjudication": AdjudicationState, "consensus": ConsensusSegment,
    "rejection": ConsensusRejection, "codebook_version": CodebookVersion,
}  # fmt: skip
SNAPSHOT_REFS = {
    "document": Document, "code": Code, "parent": Code, "merged_into": Code,
    "sources": Segment, "segment": Segment, "coder": "user", "user": "user",
    "moved_to": "user", "adjudicator": "user", "decided_by": "user",
}  # fmt: skip


def canonical(project: Project, *, skip: frozenset = frozenset()) -> dict:
    """Every row of the project, each id replaced by the row it names: a
    rank within its table (restore keeps the order) or a username."""
    from django.contrib.auth import get_user_model

    users = dict(get_user_model().objects.values_list("pk", "username"))
    ranks = {}
    for model, path in TABLES:
        pks = model.objects.filter(
            **{path: project.pk if path == "id" else project}
        ).order_by("pk")
        ranks[model] = {pk: i for i, pk in enumerate(pks.values_list("pk", flat=True))}

    def ref(target, value):
        if value is None:
            return None
        if target == "user":
            return ("user", users.get(value, f"?{value}"))
        return (target.__name__, ranks[target].get(value, f"dangling {value}"))

    def snapshot(data):
        if not isinstance(data, dict):
            return data
        out = {}
        for key, value in data.items():
            target = SNAPSHOT_REFS.get(key)
            if target and isinstance(value, int) and not isinstance(value, bool):
                value = ref(target, value)
            elif target and isinstance(value, list):
                value = [ref(target, v) for v in value]
            out[key] = value
        return out

    result = {}
    for model, path in TABLES:
        rows = []
        for obj in model.objects.filter(
            **{path: project.pk if path == "id" else project}
        ).order_by("pk"):
            row = {}
            for field in model._meta.concrete_fields:
                if field.primary_key or field.name in skip:
                    continue
                value = getattr(obj, field.attname)
                if field.is_relation:
                    target = field.related_model
                    value = ref("user" if target not in ranks else target, value)
                row[field.name] = value
            for field in model._meta.many_to_many:
                row[field.name] = sorted(
                    ref(field.related_model, pk)
                    for pk in getattr(obj, field.name).values_list("pk", flat=True)
                )
            if model is HistoryEvent:
                target = ENTITIES.get(obj.entity)
                row["entity_id"] = (
                    ref(target, obj.entity_id) if target else obj.entity_id
                )
                row["before"], row["after"] = snapshot(obj.before), snapshot(obj.after)
            if model is CodebookVersion:
                # Codes by rank; a code that no longer exists has no id.
                row["snapshot"] = [
                    {**r, "id": ref(Code, r["id"])}
                    if r.get("id") in ranks[Code]
                    else {k: v for k, v in r.items() if k != "id"}
                    for r in obj.snapshot["codes"]
                ]
            rows.append(row)
        result[model.__name__] = rows
    return result


@pytest.fixture
def coded(study):
    """The study with everything a backup must carry: coding with memos,
    edits, soft deletions, a retired code, a merge, adjudication with
    consensus, a rejection and history."""
    s = study
    doc, doc2 = s.documents[0], s.documents[3]
    actor, action = s.codes["actor"], s.codes["action"]
    made = {}
    for coder in (s.coder1, s.coder2):
        made[coder], _ = coding.segment_create(
            document=doc, coder=coder, code=actor, start=0, end=7,
            quote=doc.text[0:7], memo=f"memo by {coder.username}",
            client_id=uuid.uuid4(),
        )  # fmt: skip
    odd, _ = coding.segment_create(
        document=doc, coder=s.coder1, code=action, start=8, end=19,
        quote=doc.text[8:19],
    )  # fmt: skip
    coding.segment_update(
        segment=odd, actor=s.coder1, memo="changed", expected_version=1
    )
    gone, _ = coding.segment_create(
        document=doc, coder=s.coder2, code=s.codes["platform"], start=20, end=30,
        quote=doc.text[20:30],
    )  # fmt: skip
    coding.segment_delete(segment=gone, actor=s.coder2)
    text = doc2.text
    start = text.index("🎉")
    coding.segment_create(
        document=doc2, coder=s.coder1, code=s.codes["law_enforcement"],
        start=start, end=start + 1, quote="🎉",
    )  # fmt: skip
    extra = codebook.code_create(project=s.project, actor=s.pi, name="extra")
    extra = extra[0] if isinstance(extra, tuple) else extra
    codebook_publish(project=s.project, actor=s.pi, note="with extra")
    coding.segment_create(
        document=doc2, coder=s.coder2, code=extra, start=0, end=8, quote=text[0:8]
    )
    codebook.code_merge(source=extra, target=action, actor=s.pi)
    codebook_publish(project=s.project, actor=s.pi, note="extra merged")
    codebook.code_retire(code=s.codes["platform"], actor=s.pi)
    for coder in (s.coder1, s.coder2):
        a = Assignment.objects.get(document=doc, coder=coder)
        coding.assignment_set_status(assignment=a, status="done", actor=coder)
    adjudication.adjudication_start(document=doc, actor=s.pi)
    adjudication.consensus_reject(
        document=doc, actor=s.pi, segment_ids=[odd.pk], note="not an action"
    )
    adjudication.consensus_add(
        document=doc, actor=s.pi, code=action, start=40, end=50, note="missed"
    )
    assert ConsensusSegment.objects.filter(sources__isnull=False).exists()
    return s


def delete_project(project: Project) -> None:
    HistoryEvent.objects.filter(project=project).delete()
    ConsensusSegment.objects.filter(document__project=project).delete()
    ConsensusRejection.objects.filter(document__project=project).delete()
    Segment.objects.filter(document__project=project).delete()
    Assignment.objects.filter(document__project=project).delete()
    while Code.objects.filter(project=project).exists():
        Code.objects.filter(project=project, children__isnull=True).delete()
    project.delete()


def test_backup_then_restore_after_loss_gives_back_every_row_exactly(coded, tmp_path):
    project = coded.project
    before = canonical(project)
    assert len(before["Segment"]) >= 5 and len(before["HistoryEvent"]) > 10
    path = tmp_path / "takedowns.zip"
    call_command("backup", "takedowns", "--output", str(path))
    delete_project(project)
    assert not Segment.objects.exists()

    call_command("restore", str(path))
    after = canonical(Project.objects.get(slug="takedowns"))
    for table in before:
        assert after[table] == before[table], table
    # Spot checks of what "exactly" means.
    seg = Segment.objects.filter(deleted_at__isnull=False).get()
    assert seg.version == 2 and seg.code.name == "platform" and seg.code.retired
    # Version 1 names the merged code "extra" without its (gone) id, and its
    # checksum still holds.
    from annotations.services.codebook_versions import snapshot_checksum

    v1 = CodebookVersion.objects.get(number=1)
    extra = next(r for r in v1.snapshot["codes"] if r["name"] == "extra")
    assert "id" not in extra and v1.checksum == snapshot_checksum(v1.snapshot)
    assert Project.objects.get(slug="takedowns").codebook_version == 2


def test_restore_as_a_copy_beside_the_original(coded, tmp_path):
    original = canonical(coded.project)
    path = tmp_path / "b.zip"
    call_command("backup", "takedowns", "-o", str(path))
    call_command("restore", str(path), "--as", "takedowns-copy")
    copy = Project.objects.get(slug="takedowns-copy")
    after = canonical(copy, skip=frozenset({"client_id"}))
    before = canonical(coded.project, skip=frozenset({"client_id"}))
    before["Project"][0]["slug"] = "takedowns-copy"
    for table in before:
        assert after[table] == before[table], table
    # Client ids are unique database-wide: the copy's are new and stable.
    originals = set(
        Segment.objects.filter(document__project=coded.project).values_list(
            "client_id", flat=True
        )
    )
    copies = set(
        Segment.objects.filter(document__project=copy).values_list(
            "client_id", flat=True
        )
    )
    assert len(copies) == len(originals) and not copies & originals
    # The original is untouched.
    assert canonical(coded.project) == original


def test_restore_refuses_an_existing_slug_and_writes_nothing(coded, tmp_path):
    path = tmp_path / "b.zip"
    call_command("backup", "takedowns", "-o", str(path))
    counts = {m: m.objects.count() for m, _ in TABLES}
    with pytest.raises(CommandError, match="slug 'takedowns' exists already"):
        call_command("restore", str(path))
    assert {m: m.objects.count() for m, _ in TABLES} == counts


def test_a_damaged_backup_is_refused_before_anything_is_written(coded, tmp_path):
    path = tmp_path / "b.zip"
    call_command("backup", "takedowns", "-o", str(path))
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(damaged, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "segment.jsonl":
                data = data.replace(b'"end": 7', b'"end": 8', 1)
            dst.writestr(info, data)
    counts = {m: m.objects.count() for m, _ in TABLES}
    with pytest.raises(CommandError, match="does not match its checksum"):
        call_command("restore", str(damaged), "--as", "x")
    assert {m: m.objects.count() for m, _ in TABLES} == counts


@pytest.mark.parametrize("content", [b"", b"not a zip", None])
def test_not_a_backup_is_refused(db, tmp_path, content):
    path = tmp_path / "x.zip"
    if content is None:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("manifest.json", json.dumps({"format": "something else"}))
    else:
        path.write_bytes(content)
    with pytest.raises(CommandError):
        call_command("restore", str(path), "--as", "x")
    assert not Project.objects.exists()


def test_a_failure_midway_rolls_everything_back(coded, tmp_path):
    """One transaction: a row that cannot be written undoes the whole restore."""
    path = tmp_path / "b.zip"
    call_command("backup", "takedowns", "-o", str(path))
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(broken, "w") as dst:
        manifest = json.loads(src.read("manifest.json"))
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "history.jsonl":
                # A history row naming a document the backup does not hold.
                row = json.loads(data.splitlines()[0])
                row["document_id"] = 10**9
                data = json.dumps(row).encode() + b"\n" + data
                manifest["tables"]["history"]["rows"] += 1
                import hashlib

                manifest["tables"]["history"]["sha256"] = hashlib.sha256(
                    data
                ).hexdigest()
            if info.filename != "manifest.json":
                dst.writestr(info, data)
        dst.writestr("manifest.json", json.dumps(manifest))
    users = factories.UserFactory._meta.model.objects.count()
    counts = {m: m.objects.count() for m, _ in TABLES}
    with pytest.raises(Exception):  # noqa: B017 - any error; the point is the rollback
        call_command("restore", str(broken), "--as", "x")
    assert {m: m.objects.count() for m, _ in TABLES} == counts
    assert factories.UserFactory._meta.model.objects.count() == users


def test_users_are_matched_by_username_and_missing_ones_created(
    coded, tmp_path, capsys
):
    path = tmp_path / "b.zip"
    call_command("backup", "takedowns", "-o", str(path))
    delete_project(coded.project)
    Membership.objects.filter(user=coded.coder2).delete()
    coded.coder2.delete()
    call_command("restore", str(path))
    out = capsys.readouterr().out
    assert "created 1 users without a password (coder2)" in out
    from django.contrib.auth import get_user_model

    coder2 = get_user_model().objects.get(username="coder2")
    assert not coder2.has_usable_password()
    assert Segment.objects.filter(coder=coder2).count() == 3
    assert get_user_model().objects.get(username="coder1").pk == coded.coder1.pk


def test_the_backup_file_has_a_manifest_with_counts_and_checksums(coded, tmp_path):
    path = tmp_path / "b.zip"
    call_command("backup", "takedowns", "-o", str(path))
    with zipfile.ZipFile(path) as z:
        manifest = json.loads(z.read("manifest.json"))
        assert manifest["format"] == "coding-workbench-project-backup"
        for name, meta in manifest["tables"].items():
            lines = z.read(f"{name}.jsonl").decode().splitlines()
            assert len(lines) == meta["rows"], name
    segs = manifest["tables"]["segment"]
    assert (
        segs["rows"] == Segment.objects.filter(document__project=coded.project).count()
    )
    assert {"client_id", "version", "deleted_at", "created_at", "coder"} <= set(
        segs["fields"]
    )
    assert dt.datetime.fromisoformat(manifest["created_at"])


def test_backup_of_an_unknown_project_fails_clearly(db, tmp_path):
    with pytest.raises(CommandError, match="no project with slug 'nope'"):
        call_command("backup", "nope", "-o", str(tmp_path / "x.zip"))


def test_every_model_of_the_app_is_backed_up():
    assert backup_tables_cover_the_app() == []


def test_a_backup_made_before_codebook_versions_restores(coded, tmp_path):
    path, older = tmp_path / "b.zip", tmp_path / "older.zip"
    call_command("backup", "takedowns", "-o", str(path))
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(older, "w") as dst:
        manifest = json.loads(src.read("manifest.json"))
        del manifest["tables"]["codebook_version"]
        for item in src.namelist():
            if item not in ("manifest.json", "codebook_version.jsonl"):
                dst.writestr(item, src.read(item))
        dst.writestr("manifest.json", json.dumps(manifest))
    call_command("restore", str(older), "--as", "older")
    copy = Project.objects.get(slug="older")
    assert not CodebookVersion.objects.filter(project=copy).exists()
    assert Segment.objects.filter(document__project=copy).count() == 6


def test_a_recode_round_restores_linked_to_its_source_by_slug(study, tmp_path):
    factories.ProjectFactory(
        slug="recode-1", recode_of=study.project, recode_coder=study.coder1
    )
    path = tmp_path / "recode.zip"
    call_command("backup", "recode-1", "-o", str(path))
    with zipfile.ZipFile(path) as z:
        (row,) = [json.loads(line) for line in z.read("project.jsonl").splitlines()]
    assert row["recode_of"] == "takedowns" and row["recode_coder"] == "coder1"
    call_command("restore", str(path), "--as", "recode-2")
    copy = Project.objects.get(slug="recode-2")
    assert copy.recode_of == study.project and copy.recode_coder == study.coder1
    # Restored where its source does not exist: kept, unlinked.
    Project.objects.filter(pk=study.project.pk).update(slug="elsewhere")
    call_command("restore", str(path), "--as", "recode-3")
    assert Project.objects.get(slug="recode-3").recode_of is None
