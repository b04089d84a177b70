"""The codebook version each segment was coded under, in every segment-level
export (segments.csv on both writers, segments.dta, load.R, consensus.csv,
the Web Annotation), and the published versions in the bundles (their files,
MANIFEST.json, README.txt).

Versions and the segments' numbers are set through the ORM, as a publish and
the coding services would leave them: v1 and v2 (current); three segments
under v1, three under v2, three and a consensus segment coded before the
first version (empty)."""

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass

import pandas as pd
import pyreadstat
import pytest
from django.core.management import call_command

from annotations.exporters import bundle
from annotations.exporters.dta_tables import CODEBOOK_VERSION_LABEL
from annotations.exporters.refi_qda import guid
from annotations.importers.codebook import parse_codebook_file
from annotations.models import (
    Code,
    CodebookVersion,
    ConsensusSegment,
    Project,
    Segment,
)
from annotations.selectors import export as sel
from annotations.services import exports
from annotations.services.codebook_versions import codebook_snapshot, snapshot_checksum
from tests import factories

from .test_bundle import RSCRIPT, rscript_in_locales

NOW = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
FILE_FIELDS = [
    "name", "description", "definition", "when_to_use", "when_not_to_use",
    "example", "color", "key", "order", "value", "level", "retired", "parent",
]  # fmt: skip


@dataclass
class Versioned:
    coded: object
    versions: list  # CodebookVersion, oldest first
    expected: dict  # (coder is consensus, segment id) -> number or None

    @property
    def project(self):
        return self.coded.project


def checksum(snap: dict) -> str:
    """SHA-256 of the codes without their ids, as canonical JSON: what the
    bundle's README and version_json say a reader can recompute."""
    rows = [{k: v for k, v in r.items() if k != "id"} for r in snap["codes"]]
    text = json.dumps(
        {"codes": rows}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def publish(project, number: int, note: str, when: dt.datetime) -> CodebookVersion:
    """A version as codebook_publish makes it, written through the ORM."""
    snap = codebook_snapshot(project)
    version = CodebookVersion.objects.create(
        project=project, number=number, note=note, snapshot=snap,
        checksum=snapshot_checksum(snap),
    )  # fmt: skip
    CodebookVersion.objects.filter(pk=version.pk).update(created_at=when)
    Project.objects.filter(pk=project.pk).update(codebook_version=number)
    version.refresh_from_db()
    return version


@pytest.fixture
def versioned(coded) -> Versioned:
    project = coded.project
    v1 = publish(project, 1, "first", dt.datetime(2025, 3, 1, 9, tzinfo=dt.UTC))
    Code.objects.filter(pk=coded.study.codes["action"].pk).update(
        definition='Done to content, "removal" included;\nنعم 🎉'
    )
    v2 = publish(project, 2, "action defined", dt.datetime(2025, 4, 1, tzinfo=dt.UTC))
    numbers = [1, 1, 1, 2, 2, 2, None, None, None]
    expected = {}
    for seg, number in zip(coded.segments, numbers, strict=True):
        Segment.objects.filter(pk=seg.pk).update(codebook_version=number)
        expected[(False, seg.pk)] = number
    first, second = coded.consensus
    ConsensusSegment.objects.filter(pk=first.pk).update(codebook_version=2)
    expected[(True, first.pk)] = 2
    expected[(True, second.pk)] = None
    project.refresh_from_db()
    return Versioned(coded, [v1, v2], expected)


def export(project, name, tmp_path, **filters):
    filt = exports.export_filter_build(project=project, **filters)
    path = tmp_path / name
    exports.export_write(project=project, name=name, filt=filt, path=path, now=NOW)
    return path


def read_csv(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# ------------------------------------------------------------- segments.csv


def test_segments_csv_has_each_segments_version_and_empty_before_the_first(
    versioned, tmp_path
):
    """On PostgreSQL the file is PostgreSQL's COPY, on SQLite the Python writer:
    the same cells either way."""
    path = export(versioned.project, "segments.csv", tmp_path)
    rows = read_csv(path)
    assert list(rows[0]).index("codebook_version") == list(rows[0]).index("code_id") + 1
    got = {
        (r["coder"] == "consensus", int(r["segment_id"])): r["codebook_version"]
        for r in rows
    }
    want = {k: "" if v is None else str(v) for k, v in versioned.expected.items()}
    assert got == want
    # An empty cell, not a quoted "" nor a 0: missing in R, pandas and Stata.
    df = pd.read_csv(path)
    assert str(df.codebook_version.dtype) == "float64"  # integers with NaN
    assert df.codebook_version.isna().sum() == 4
    assert set(df.codebook_version.dropna()) == {1.0, 2.0}
    line = next(
        ln for ln in path.read_text(encoding="utf-8").splitlines()
        if ln.startswith(f"takedowns,{versioned.coded.segments[6].pk},")
    )  # fmt: skip
    code = versioned.coded.segments[6].code
    assert f",{code.pk},,{versioned.coded.segments[6].start}," in line


@pytest.mark.postgres
def test_copy_and_python_writers_write_the_same_version_cells(versioned):
    from .test_csv_copy import copy_bytes, python_bytes

    filt = exports.export_filter_build(project=versioned.project)
    expected = python_bytes(versioned.project, filt)
    assert b",2,0,7," in expected or b",1,0,7," in expected
    assert copy_bytes(versioned.project, filt) == expected


# ------------------------------------------------------------- segments.dta


def test_segments_dta_has_an_integer_version_with_a_label_and_missing(
    versioned, tmp_path
):
    path = export(versioned.project, "segments.dta", tmp_path)
    raw, meta = pyreadstat.read_dta(str(path))
    assert meta.readstat_variable_types["codebook_version"] == "int32"
    assert meta.column_names_to_labels["codebook_version"] == CODEBOOK_VERSION_LABEL
    assert len(CODEBOOK_VERSION_LABEL) <= 80
    names = list(raw.columns)
    assert names.index("codebook_version") == names.index("code_path") + 1
    got = {
        (coder == 0, int(seg)): None if pd.isna(v) else int(v)
        for coder, seg, v in zip(
            raw.coder, raw.segment_id, raw.codebook_version, strict=True
        )
    }
    assert got == versioned.expected
    # Stata's system missing ".", not an extended missing (.a) or a number.
    df = pd.read_stata(path, convert_missing=True, convert_dates=False)
    missing = [
        v for v in df.codebook_version if isinstance(v, pd.io.stata.StataMissingValue)
    ]
    assert len(missing) == 4 and {m.string for m in missing} == {"."}


# --------------------------------------------------------------------- load.R


def test_load_r_reads_the_version_as_an_integer_with_its_label(versioned, tmp_path):
    path = export(versioned.project, "r_bundle.zip", tmp_path)
    with zipfile.ZipFile(path) as z:
        script = z.read("load.R").decode("ascii")
    # codebook_version is read with the integer columns, in the CSV's order.
    classes = script.split('segments <- wb_read("segments.csv", ')[1].split(")\n")[0]
    cells = [c.strip(' "\n') for c in classes.removeprefix("c(").split(",")]
    header = read_csv_header(tmp_path, path, "segments.csv")
    assert cells[header.index("codebook_version")] == "integer"
    assert 'attr(segments[["codebook_version"]], "label")' in script
    assert 'attr(consensus[["codebook_version"]], "label")' in script


def read_csv_header(tmp_path, zip_path, name) -> list[str]:
    with zipfile.ZipFile(zip_path) as z:
        return next(csv.reader(io.StringIO(z.read(name).decode("utf-8"))))


@pytest.mark.skipif(RSCRIPT is None, reason="Rscript is not installed")
def test_r_reads_the_versions_as_integers_with_na(versioned, tmp_path):
    path = export(versioned.project, "bundle.zip", tmp_path)
    folder = tmp_path / "bundle"
    with zipfile.ZipFile(path) as z:
        z.extractall(folder)
    (folder / "check.R").write_text(
        """
source("load.R", chdir = TRUE)
stopifnot(is.integer(segments$codebook_version))
stopifnot(sum(is.na(segments$codebook_version)) == 4)
stopifnot(identical(sort(unique(na.omit(segments$codebook_version))), c(1L, 2L)))
stopifnot(attr(segments$codebook_version, "label") != "")
stopifnot(is.integer(consensus$codebook_version))
library(haven)
d <- read_dta("segments.dta")
stopifnot(sum(is.na(d$codebook_version)) == 4)
stopifnot(attr(d$codebook_version, "label") == "LABEL")
cat("R OK\\n")
""".replace("LABEL", CODEBOOK_VERSION_LABEL),
        encoding="utf-8",
    )
    for out in rscript_in_locales(folder, "check.R"):
        assert "R OK" in out


# ---------------------------------------------------------- Web Annotation


def test_web_annotation_classifying_body_carries_the_version(versioned, tmp_path):
    path = export(versioned.project, "annotations.jsonld", tmp_path)
    items = json.loads(path.read_text(encoding="utf-8"))["first"]["items"]
    slug = versioned.project.slug
    want = {}
    for (is_consensus, pk), number in versioned.expected.items():
        seg = (ConsensusSegment if is_consensus else Segment).objects.get(pk=pk)
        coder = "consensus" if is_consensus else seg.coder.username
        doc = f"urn:uuid:{guid(slug, 'document', seg.document_id)}"
        want[coder, doc, seg.start, seg.end] = number
    got = {}
    for a in items:
        (classifying,) = [b for b in a["body"] if b.get("purpose") == "classifying"]
        assert classifying["type"] == "SpecificResource"
        position = a["target"]["selector"][0]
        key = (a["creator"]["nickname"], a["target"]["source"], position["start"],
               position["end"])  # fmt: skip
        # Absent (not null) before the first version; "schema:" is a prefix
        # of the Web Annotation context (http://schema.org/version).
        got[key] = classifying.get("schema:version")
        assert classifying.get("schema:version", 1) is not None
    assert got == want


# ------------------------------------------------------------------ bundles


def context(project):
    return sel.export_context(
        project, exports.export_filter_build(project=project),
        exported_at=NOW, software_version="test",
    )  # fmt: skip


def test_manifest_lists_every_version_and_the_current_one(versioned):
    ctx = context(versioned.project)
    content = bundle.manifest(ctx, {}, {}, filters={})
    assert content["codebook_version"] == 2
    assert len(content["codebook_sha256"]) == 64  # the codebook as exported: kept
    v1, v2 = versioned.versions
    assert content["codebook_versions"] == [
        {"number": 1, "created_at": "2025-03-01T09:00:00Z", "note": "first",
         "checksum": v1.checksum, "codes": 4,
         "files": ["codebook/v1.json", "codebook/v1.csv"]},
        {"number": 2, "created_at": "2025-04-01T00:00:00Z", "note": "action defined",
         "checksum": v2.checksum, "codes": 4,
         "files": ["codebook/v2.json", "codebook/v2.csv"]},
    ]  # fmt: skip
    files = bundle.codebook_version_files(ctx)
    assert list(files) == [
        "codebook/v1.json", "codebook/v1.csv", "codebook/v2.json", "codebook/v2.csv",
    ]  # fmt: skip
    for name, text in files.items():
        entry = content["files"][name]
        assert entry["sha256"] == hashlib.sha256(text.encode()).hexdigest()
        assert entry["bytes"] == len(text.encode()) and entry["rows"] == 4
    json.dumps(content)  # plain JSON


def test_version_files_hold_the_snapshot_and_its_checksum(versioned):
    files = bundle.codebook_version_files(context(versioned.project))
    for version in versioned.versions:
        data = json.loads(files[f"codebook/v{version.number}.json"])
        # Every code with its id, in the snapshot's order, keys in one order.
        assert data["codes"] == version.snapshot["codes"]
        assert all(list(r) == ["id", *FILE_FIELDS] for r in data["codes"])
        # The checksum recorded at publishing is the file's codes without ids.
        assert checksum(data) == version.checksum
        table = list(
            csv.DictReader(io.StringIO(files[f"codebook/v{version.number}.csv"]))
        )
        assert [r["name"] for r in table] == [r["name"] for r in data["codes"]]
    v1 = json.loads(files["codebook/v1.json"])["codes"]
    v2 = json.loads(files["codebook/v2.json"])["codes"]
    action = [r for r in v2 if r["name"] == "action"][0]
    assert action["definition"].endswith("نعم 🎉")
    assert [r for r in v1 if r["name"] == "action"][0]["definition"] == ""


def test_readme_says_which_version_is_current(versioned):
    ctx = context(versioned.project)
    text = bundle.readme_text(ctx, ["segments.csv"], {})
    assert "version 2 is the current one (published 2025-04-01T00:00:00Z" in text
    assert "codebook_version" in text and "codebook/v<N>.json" in text


def test_readme_of_a_project_without_versions(coded):
    text = bundle.readme_text(context(coded.project), ["segments.csv"], {})
    assert "none published yet, so codebook_version is empty" in text
    content = bundle.manifest(context(coded.project), {}, {}, filters={})
    assert content["codebook_version"] is None
    assert content["codebook_versions"] == []


@pytest.mark.parametrize("suffix", ["json", "csv"])
def test_a_version_file_imports_back_as_that_codebook(versioned, tmp_path, suffix):
    """The files are the codebook import's input: importing v1 into an empty
    project gives v1's codes, fields and hierarchy."""
    text = bundle.codebook_version_files(context(versioned.project))[
        f"codebook/v1.{suffix}"
    ]
    path = tmp_path / f"v1.{suffix}"
    path.write_text(text, encoding="utf-8")
    assert parse_codebook_file(path.name, path.read_bytes())
    other = factories.ProjectFactory(slug="other-study")
    call_command("import_codebook", "other-study", str(path))
    imported = {
        (c.parent.name if c.parent else "", c.name): c
        for c in Code.objects.filter(project=other).select_related("parent")
    }
    v1 = versioned.versions[0].snapshot["codes"]
    assert set(imported) == {(r["parent"], r["name"]) for r in v1}
    for row in v1:
        code = imported[row["parent"], row["name"]]
        for field in ("definition", "color", "key", "description"):
            assert getattr(code, field) == row[field]


def test_bundles_hold_the_version_files(versioned, tmp_path):
    for name in ("bundle.zip", "r_bundle.zip"):
        path = export(versioned.project, name, tmp_path)
        with zipfile.ZipFile(path) as z:
            files = bundle.codebook_version_files(context(versioned.project))
            for member, text in files.items():
                assert z.read(member).decode("utf-8") == text
            if name == "bundle.zip":
                content = json.loads(z.read("MANIFEST.json"))
                for member, entry in content["files"].items():
                    assert hashlib.sha256(z.read(member)).hexdigest() == entry["sha256"]
