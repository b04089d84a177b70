"""Import a REFI-QDA project (parsed by ``importers/refi_qda.py``) into a
project, in one transaction: either everything is imported or nothing.

- sources become documents (the ``external_id`` variable, else the source
  name, identifies them; a document with that id and the same text is
  reused, one with another text is refused);
- codes keep their hierarchy and colours; a code that exists at the same
  path is reused (its definition is not changed). ``isCodable="false"``
  codes are imported as ordinary codes: every workbench code is codable;
- users become coders of the project: an existing user is matched by
  username (the REFI-QDA name, made a valid username), a missing one is
  created **without a usable password** (a PI sets one later);
  the workbench's own ``consensus`` user (id ``workbench:consensus``)
  becomes consensus segments instead;
- every coding of a selection becomes a segment of the coding's user
  (``creatingUser`` of the coding, else of the selection, else of the
  project, else the user ``qda-import``); the selection's description is
  the memo. Exact duplicates of live segments are skipped, so importing the
  same file twice is harmless. Missing assignments are created.
"""

import re

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ..importers.refi_qda import QdaProject, qda_code_name
from ..models import (
    Assignment,
    Code,
    ConsensusSegment,
    Document,
    HistoryEvent,
    Membership,
    Project,
    Segment,
    text_checksum,
)
from .errors import InputError, Problem

BATCH = 2000
FALLBACK_USER = "qda-import"


def username_for(name: str) -> str:
    """A valid Django username close to a REFI-QDA user name.

    >>> username_for("Jane Doe (MAXQDA)")
    'Jane_Doe_MAXQDA'
    """
    cleaned = re.sub(r"[^\w.@+-]+", "_", name.strip()).strip("_")
    return cleaned[:150] or FALLBACK_USER


@transaction.atomic
def qdpx_import(
    *,
    project: Project,
    parsed: QdaProject,
    source: str,
    mark_done: bool = False,
    via: str = "command",
) -> dict:
    """Import ``parsed`` into ``project``; return counts and the names of
    users created without a password. Raises ``InputError`` (and writes
    nothing) if any document, code or selection cannot be imported."""
    problems: list[Problem] = []
    User = get_user_model()

    # Users.
    users_by_guid = {u.guid: u for u in parsed.users}
    used = {c.user for s in parsed.sources for sel in s.selections for c in sel.codings}
    fallback = parsed.creating_user if parsed.creating_user in users_by_guid else None
    coders: dict[str | None, object] = {}
    created_users: list[str] = []
    members_added: list[str] = []
    consensus_guids = {u.guid for u in parsed.users if u.is_consensus}
    for guid in sorted(used, key=str):
        if guid in consensus_guids:
            continue
        qda_user = users_by_guid.get(guid) or users_by_guid.get(fallback)
        username = username_for(qda_user.name) if qda_user else FALLBACK_USER
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username)
            user.set_unusable_password()
            user.full_clean(exclude=["password"])
            user.save()
            created_users.append(username)
        if not Membership.objects.filter(project=project, user=user).exists():
            Membership.objects.create(
                project=project, user=user, role=Membership.Role.CODER
            )
            members_added.append(username)
        coders[guid] = user

    # Codes, parents first (the parser yields them in tree order).
    existing: dict[tuple[int | None, str], Code] = {
        (c.parent_id, c.name): c for c in Code.objects.filter(project=project)
    }
    codes: dict[str, Code] = {}
    codes_created = 0
    for qda in parsed.codes:
        parent = codes.get(qda.parent) if qda.parent else None
        name = qda_code_name(qda.name)
        key = (parent.pk if parent else None, name)
        code = existing.get(key)
        if code is None:
            code = Code(
                project=project, parent=parent, name=name, definition=qda.description,
                order=sum(1 for k in existing if k[0] == key[0]),
            )  # fmt: skip
            if qda.color:
                code.color = qda.color
            try:
                code.full_clean()
            except ValidationError as exc:
                problems.append(
                    Problem(f"code {qda.name!r}: {'; '.join(exc.messages)}", source)
                )
                continue
            code.save()
            existing[key] = code
            codes_created += 1
        codes[qda.guid] = code

    # Documents.
    documents: dict[str, Document] = {}
    docs_created = docs_reused = 0
    for src in parsed.sources:
        external_id = (src.variables.get("external_id") or src.name or src.guid)[:255]
        doc = Document.objects.filter(project=project, external_id=external_id).first()
        if doc is not None:
            if doc.checksum != text_checksum(src.text):
                problems.append(
                    Problem(
                        f"document {external_id!r} exists in the project with "
                        "another text",
                        source,
                    )
                )
                continue
            docs_reused += 1
        else:
            if not src.text.strip():
                problems.append(Problem(f"source {src.name!r} has no text", source))
                continue
            published = src.variables.get("published") or None
            doc = Document(
                project=project, external_id=external_id,
                title=(src.name or external_id)[:500], text=src.text,
                source=src.variables.get("source", "")[:255],
                url=src.variables.get("url", "")[:1000],
                published=published[:10] if published else None,
            )  # fmt: skip
            try:
                doc.full_clean(exclude=["length", "checksum"])
            except ValidationError as exc:
                problems.append(
                    Problem(f"source {src.name!r}: {'; '.join(exc.messages)}", source)
                )
                continue
            doc.save()
            docs_created += 1
        documents[src.guid] = doc

    # Segments.
    live = set(
        Segment.objects.filter(document__project=project, deleted_at__isnull=True)
        .values_list("document_id", "coder_id", "code_id", "start", "end")
    )  # fmt: skip
    live_consensus = set(
        ConsensusSegment.objects.filter(document__project=project, deleted_at__isnull=True)
        .values_list("document_id", "code_id", "start", "end")
    )  # fmt: skip
    segments: list[Segment] = []
    consensus: list[ConsensusSegment] = []
    skipped = 0
    for src in parsed.sources:
        doc = documents.get(src.guid)
        if doc is None:
            continue
        for sel in src.selections:
            for coding in sel.codings:
                code = codes.get(coding.code)
                if code is None:
                    problems.append(
                        Problem(
                            f"selection {sel.guid} refers to an unknown code "
                            f"{coding.code}",
                            source,
                        )
                    )
                    continue
                quote = doc.text[sel.start : sel.end]
                if coding.user in consensus_guids:
                    key = (doc.pk, code.pk, sel.start, sel.end)
                    if key in live_consensus:
                        skipped += 1
                        continue
                    live_consensus.add(key)
                    consensus.append(
                        ConsensusSegment(
                            document=doc, code=code, start=sel.start, end=sel.end,
                            quote=quote, memo=sel.memo, decision="manual",
                            note=f"Imported from {source}",
                            codebook_version=project.codebook_version,
                        )
                    )  # fmt: skip
                    continue
                coder = coders[coding.user]
                key = (doc.pk, coder.pk, code.pk, sel.start, sel.end)
                if key in live:
                    skipped += 1
                    continue
                live.add(key)
                segments.append(
                    Segment(
                        document=doc, coder=coder, code=code, start=sel.start,
                        end=sel.end, quote=quote, memo=sel.memo,
                        codebook_version=project.codebook_version,
                    )
                )  # fmt: skip
    if problems:
        raise InputError(problems)

    pairs = {(s.document_id, s.coder_id) for s in segments}
    have = set(
        Assignment.objects.filter(document__project=project).values_list(
            "document_id", "coder_id"
        )
    )
    status = Assignment.Status.DONE if mark_done else Assignment.Status.IN_PROGRESS
    now = timezone.now()
    new_assignments = [
        Assignment(
            document_id=d,
            coder_id=c,
            status=status,
            started_at=now,
            done_at=now if mark_done else None,
        )  # fmt: skip
        for d, c in sorted(pairs - have)
    ]
    Assignment.objects.bulk_create(new_assignments, batch_size=BATCH)
    Segment.objects.bulk_create(segments, batch_size=BATCH)
    ConsensusSegment.objects.bulk_create(consensus, batch_size=BATCH)
    HistoryEvent.objects.bulk_create(
        (
            HistoryEvent(
                project=project,
                document_id=s.document_id,
                user=None,
                entity="segment",
                entity_id=s.pk or 0,
                action="create",
                after={
                    "code": s.code_id,
                    "coder": s.coder_id,
                    "start": s.start,
                    "end": s.end,
                    "source": source,
                }
                | _version_of(s),
                via=via,
            )  # fmt: skip
            for s in segments
        ),
        batch_size=BATCH,
    )
    return {
        "documents_created": docs_created,
        "documents_reused": docs_reused,
        "codes_created": codes_created,
        "codes_reused": len(codes) - codes_created,
        "users_created": created_users,
        "members_added": members_added,
        "segments_created": len(segments),
        "consensus_created": len(consensus),
        "segments_skipped": skipped,
        "assignments_created": len(new_assignments),
        "not_imported": list(parsed.skipped),
    }


def _version_of(segment: Segment) -> dict:
    """The codebook version for a segment's history row, once there is one."""
    if segment.codebook_version is None:
        return {}
    return {"codebook_version": segment.codebook_version}
