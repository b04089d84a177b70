"""Zip bundles: ``bundle.zip`` (every format) and ``r_bundle.zip`` (CSVs and
``load.R``), each with a ``README.txt``, every published codebook version
(``codebook/v<N>.json`` and ``.csv``: the segments' ``codebook_version``
refers to them) and, for the full bundle, a ``MANIFEST.json`` with the
SHA-256 of every file so a reader can check that nothing changed since the
export."""

import hashlib
import json
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

from ..sampling import stratify_label
from .codebook import codebook_file_csv, codebook_file_rows
from .rows import CodebookVersionInfo, ExportContext, iso_utc

DESCRIPTIONS = {
    "segments.csv": "One row per coded segment: document, coder, code and code path, "
    "codebook version, start, end, quote, memo, times (UTC ISO 8601).",
    "documents.csv": "One row per document with its metadata (meta_<key> columns), "
    "length in code points and SHA-256 of the text.",
    "document_codes.csv": "One row per document and coder (and the consensus): "
    "n_<code> segments and has_<code> 0/1 per code, subcodes rolled up into parents.",
    "reliability.csv": "Per document and code, one column per coder: 1 applied, 0 "
    "marked done without it, empty = not assigned or not marked done; the "
    "agreement report's sample is n_done >= 2 (irr/psych/kap shape).",
    "consensus.csv": "One row per consensus segment (coder consensus) and per "
    "coder's segment a rejection left out (decision reject): decision, support "
    "(unanimous, majority, half, minority, none: how many of the document's "
    "coders made a segment it used), source coders and segment ids, whether a "
    "source changed since, who decided, when, and the adjudicator's note. Holds "
    "the consensus whenever the export does; dates select by decided_at.",
    "assignments.csv": "One row per document and coder: status, assigned, "
    "started and done times (UTC) and the coder's note on the document; one "
    "per document whose adjudication started (coder consensus): status, "
    "adjudicator, overlap threshold, override reason. Date filters do not apply.",
    "codebook.csv": "Every code in codebook order with its definition, rules, "
    "colour, key, the stem of its columns and segments per coder.",
    "codebook.md": "The codebook as a readable methods appendix.",
    "agreement.csv": "Every agreement coefficient with its confidence interval, "
    "units and coders, on the whole reliability sample (the coder and date "
    "filters do not apply; with the consensus included, coders are also "
    "compared with it).",
    "agreement.json": "The same agreement records as JSON.",
    "METHODS.txt": "A draft reliability paragraph for a methods section, written "
    "from agreement.json: it says only what the data shows; check it against "
    "your study before use.",
    "segments.dta": "segments.csv for Stata 14+ (format 118): value labels for coder "
    "and code, strL text, times as %tc UTC.",
    "document_codes.dta": "document_codes.csv for Stata 14+ (format 118).",
    "load.R": "Base-R script: source('load.R', chdir = TRUE) reads the CSVs with "
    "types, factors, labels and builds the document x code matrices.",
    "project.qdpx": "REFI-QDA 1.5 project for ATLAS.ti, MAXQDA, NVivo, QualCoder: "
    "texts, codes, coders and coded selections.",
    "codebook.qdc": "REFI-QDA 1.5 codebook (codes with hierarchy and colours).",
    "annotations.jsonld": "W3C Web Annotation JSON-LD: one annotation per segment "
    "with position and quote selectors.",
    "MANIFEST.json": "Project, export time, software version, codebook hash, the "
    "codebook versions, row counts and the SHA-256 of every file.",
}
OFFSETS = (
    "Offsets: start and end are half-open [start, end) intervals counted in "
    "Unicode code points of the document text (Python str indices; R's substr "
    "and Stata's usubstr count the same way). So text[start:end] == quote in "
    "Python, substr(text, start + 1, end) == quote in R, and "
    "usubstr(text, start + 1, end - start) == quote in Stata. REFI-QDA "
    "startPosition/endPosition and the Web Annotation TextPositionSelector use "
    "the same numbers."
)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def codebook_hash(ctx: ExportContext) -> str:
    """SHA-256 of the codebook's canonical JSON (ids, paths, definitions,
    colours, keys...): equal hashes mean the same codebook."""
    codes = [
        {
            k: getattr(c, k)
            for k in (
                "id",
                "path",
                "parent_id",
                "description",
                "definition",
                "when_to_use",
                "when_not_to_use",
                "example",
                "color",
                "key",
                "retired",
                "level",
                "value",
            )
        }  # fmt: skip
        for c in ctx.codes
    ]
    data = json.dumps(codes, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def readme_text(
    ctx: ExportContext,
    names: Sequence[str],
    coder_columns: Mapping[str, str],
    *,
    left_out: Mapping[str, str] | None = None,
) -> str:
    """README.txt: what each file is, the offset rule and the coder names."""
    lines = [
        f"Coding workbench export of project {ctx.project_name!r} ({ctx.project_slug})",
        f"Exported {ctx.stamp} (UTC) by coding workbench {ctx.software_version}.",
        f"Coding included: {ctx.filter_text}.",
        "",
        "Files:",
    ]
    for name in names:
        lines.append(f"  {name}: {DESCRIPTIONS.get(name, '')}")
    for name, why in (left_out or {}).items():
        lines.append(f"  {name}: left out, {why}")
    lines += ["", codebook_versions_text(ctx)]
    if ctx.reliability_sample:
        lines += ["", reliability_text(ctx.reliability_sample)]
    lines += ["", OFFSETS, "", "Text is UTF-8 without a byte order mark; CSV files use "
              "RFC 4180 quoting and \\n line ends; times are UTC. R's read.csv turns a "
              "\\r\\n or \\r inside a memo into \\n (the .dta keeps them)."]  # fmt: skip
    if coder_columns:
        lines += ["", "Coder columns (usernames made valid variable names):"]
        lines += [f"  {col}: {name}" for name, col in coder_columns.items()]
    return "\n".join(lines) + "\n"


def reliability_text(sample: Mapping[str, object]) -> str:
    """How the reliability sample was drawn, as one README sentence.

    >>> reliability_text({"share": 0.2, "coders_per_document": 2, "seed": 7,
    ...                   "stratified_by": "source"})
    'Reliability sample (as last drawn): 20 % of the documents, 2 coders each, stratified by outlet (source), seed 7.'
    """
    share = sample["share"]
    spec = str(sample.get("stratified_by") or "")
    strata = (
        f"stratified by {stratify_label(spec)} ({spec})" if spec else "not stratified"
    )
    return (
        f"Reliability sample (as last drawn): {100 * float(share or 0):g} % of "
        f"the documents, {sample['coders_per_document']} coders each, {strata}, "
        f"seed {sample['seed']}."
    )


def version_file(number: int, suffix: str) -> str:
    """The bundle's name of a codebook version's file: ``codebook/v3.json``."""
    return f"codebook/v{number}.{suffix}"


def version_json(version: CodebookVersionInfo) -> str:
    """A version's snapshot as JSON: ``{"codes": [...]}`` in codebook order,
    each code with its ``id`` (segments.csv's ``code_id``) and then the
    fields of the codebook file, which the codebook import reads back.

    The version's checksum is the SHA-256 of the same codes without ``id``
    as canonical JSON (sorted keys, no spaces, UTF-8). Keys are written in
    one order whatever the database stored them in.
    """
    codes = [
        {"id": raw.get("id"), **row}
        for raw, row in zip(
            version.codes, codebook_file_rows(version.codes), strict=True
        )
    ]
    return json.dumps({"codes": codes}, ensure_ascii=False, indent=2) + "\n"


def codebook_version_files(ctx: ExportContext) -> dict[str, str]:
    """``codebook/v<N>.json`` (:func:`version_json`) and ``codebook/v<N>.csv``
    (the codebook file's CSV, as the Codebook page writes it) for every
    published codebook version, oldest first: the bundles' members besides
    the export's own files."""
    return {name: text for v in ctx.codebook_versions for name, text in _files_of(v)}


def _files_of(version: CodebookVersionInfo) -> list[tuple[str, str]]:
    return [
        (version_file(version.number, "json"), version_json(version)),
        (version_file(version.number, "csv"), codebook_file_csv(version.codes)),
    ]


def codebook_versions_text(ctx: ExportContext) -> str:
    """The README's paragraph on the codebook versions.

    >>> import datetime as dt
    >>> from annotations.exporters.rows import CodebookVersionInfo
    >>> made = dt.datetime(2025, 3, 1, 9, tzinfo=dt.UTC)
    >>> v = [CodebookVersionInfo(n, made, "", "", {"codes": []}) for n in (1, 2)]
    >>> ctx = ExportContext("P", "p", made, "1", [], [], [], {},
    ...                     codebook_versions=v, codebook_version=2)
    >>> print(codebook_versions_text(ctx))  # doctest: +NORMALIZE_WHITESPACE
    Codebook versions: version 2 is the current one (published
    2025-03-01T09:00:00Z; 2 published). Each segment's codebook_version
    (segments.csv, segments.dta, consensus.csv, annotations.jsonld) is the version
    its code and boundaries were set under, empty when that was before the first;
    codebook/v<N>.json (each code with its id, the code_id of segments.csv) and
    codebook/v<N>.csv hold version N's codebook.
    """
    versions = ctx.codebook_versions
    if not versions:
        return (
            "Codebook versions: none published yet, so codebook_version is empty "
            "for every segment."
        )
    current = next(
        (v for v in versions if v.number == ctx.codebook_version), versions[-1]
    )
    return (
        f"Codebook versions: version {current.number} is the current one "
        f"(published {iso_utc(current.created_at)}; {len(versions)} published). "
        "Each segment's codebook_version (segments.csv, segments.dta, "
        "consensus.csv, annotations.jsonld) is the version its code and boundaries "
        "were set under, empty when that was before the first; codebook/v<N>.json "
        "(each code with its id, the code_id of segments.csv) and codebook/v<N>.csv "
        "hold version N's codebook."
    )


def _text_entry(text: str, rows: int) -> dict:
    data = text.encode("utf-8")
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
            "rows": rows}  # fmt: skip


def manifest(
    ctx: ExportContext,
    files: Mapping[str, Path],
    rows: Mapping[str, int],
    *,
    filters: Mapping[str, object],
) -> dict:
    """MANIFEST.json's content for the files written so far."""
    return {
        "project": {"name": ctx.project_name, "slug": ctx.project_slug},
        "exported_at": ctx.stamp,
        "software": {"name": "coding workbench", "version": ctx.software_version},
        "filters": dict(filters),
        "codebook_sha256": codebook_hash(ctx),
        "codebook_version": ctx.codebook_version,
        "codebook_versions": [
            {
                "number": v.number,
                "created_at": iso_utc(v.created_at),
                "note": v.note,
                "checksum": v.checksum,
                "codes": len(v.codes),
                "files": [
                    version_file(v.number, "json"),
                    version_file(v.number, "csv"),
                ],
            }
            for v in ctx.codebook_versions
        ],
        "reliability_sample": ctx.reliability_sample,
        "offsets": "half-open [start, end) in Unicode code points",
        "files": {
            name: {
                "sha256": sha256_file(path),
                "bytes": path.stat().st_size,
                **({"rows": rows[name]} if name in rows else {}),
            }
            for name, path in files.items()
        }  # fmt: skip
        | {
            name: _text_entry(text, len(v.codes))
            for v in ctx.codebook_versions
            for name, text in _files_of(v)
        },
    }


def zip_files(
    out: BinaryIO, files: Mapping[str, Path], extra: Mapping[str, str]
) -> None:
    """Zip files from disk (read in chunks) plus small text members."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for name, path in files.items():
            archive.write(path, name)
        for name, text in extra.items():
            archive.writestr(name, text.encode("utf-8"))
