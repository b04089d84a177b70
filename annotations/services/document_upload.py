"""Uploading documents from the browser: a preview first, then the import.

The preview sorts every row into *new* (will be imported), *present* (the
same external id with the same text is already in the project: skipped) and
*rejected* (with the file, line and reason). The import then runs the same
``documents_import`` service as the command, on the new rows only.
"""

import datetime as dt
from dataclasses import asdict, dataclass, field
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from ..importers.documents import DocumentRow, _parse_table, parse_document_files
from ..models import Document, Project, text_checksum
from .errors import InputError, Problem
from .imports import documents_import


@dataclass
class UploadPreview:
    new: list[DocumentRow] = field(default_factory=list)
    present: list[DocumentRow] = field(default_factory=list)
    rejected: list[Problem] = field(default_factory=list)


def _parse_one(name: str, data: bytes, rejected: list[Problem]) -> list[DocumentRow]:
    """Rows of one file; a bad row of a table is rejected alone, not the file."""
    suffix = PurePath(name).suffix.lower()
    try:
        if suffix in {".csv", ".jsonl", ".ndjson"}:
            problems: list[Problem] = []
            # The importer's table parser collects bad rows and keeps the rest.
            rows = _parse_table(data, name, problems)
            rejected.extend(problems)
            return rows
        return parse_document_files([(name, data)])
    except InputError as exc:
        rejected.extend(exc.problems)
        return []


def documents_upload_preview(
    *, project: Project, files: list[tuple[str, bytes]]
) -> UploadPreview:
    """What importing ``files`` into ``project`` would do; writes nothing."""
    preview = UploadPreview()
    rows: list[DocumentRow] = []
    for name, data in files:
        rows.extend(_parse_one(name, data, preview.rejected))
    existing = dict(
        Document.objects.filter(
            project=project, external_id__in=[r.external_id for r in rows]
        ).values_list("external_id", "checksum")
    )
    seen: dict[str, str] = {}
    url_ok = URLValidator()
    for row in rows:
        reason = None
        if row.external_id in seen:
            reason = f"duplicate external_id {row.external_id!r} (also in {seen[row.external_id]})"
        elif len(row.external_id) > 255:
            reason = "external_id is longer than 255 characters"
        elif not row.text.strip():
            reason = "the text is empty"
        elif row.url:
            try:
                url_ok(row.url)
            except ValidationError:
                reason = f"invalid url {row.url[:100]!r}"
        if reason is None and row.external_id in existing:
            if existing[row.external_id] != text_checksum(row.text):
                reason = (
                    f"external_id {row.external_id!r} already exists in the project "
                    "with a different text"
                )
            else:
                preview.present.append(row)
                seen[row.external_id] = row.origin
                continue
        if reason:
            preview.rejected.append(Problem(reason, row.origin))
        else:
            preview.new.append(row)
        seen.setdefault(row.external_id, row.origin)
    return preview


def rows_to_plain(rows: list[DocumentRow]) -> list[dict]:
    """Rows as JSON-safe dicts (to keep a preview in the session)."""
    out = []
    for row in rows:
        data = asdict(row)
        data["published"] = row.published.isoformat() if row.published else None
        out.append(data)
    return out


def rows_from_plain(data: list[dict]) -> list[DocumentRow]:
    rows = []
    for item in data:
        item = dict(item)
        if item.get("published"):
            item["published"] = dt.date.fromisoformat(item["published"])
        rows.append(DocumentRow(**item))
    return rows


def documents_upload_confirm(
    *, project: Project, rows: list[DocumentRow], via: str = "web"
) -> dict[str, int]:
    """Import the previewed rows through the same service as the command."""
    if not rows:
        raise InputError([Problem("nothing to import")])
    return documents_import(project=project, rows=rows, via=via)
