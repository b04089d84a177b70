"""Recode rounds and intra-coder (test-retest) reliability.

A recode round is its own blind project (``Project.recode_of`` = the source,
``Project.recode_coder`` = the coder) holding copies of documents that one
coder marked done in the source, for that coder to code again weeks later.
The round-1 coding stays in the source project; the coder sees only their
new coding in the round.

Intra-coder reliability is the agreement engine run on two "coders":
``"<username> (round 1)"``, the coder's live segments in the source, and
``"<username> (round 2)"``, their live segments in the round, on the
round's documents the coder marked done in both projects.

Matching a copy to its source document needs no extra column: the copy
keeps the source's external id and text, so a round document is the source
document with the same ``(external_id, checksum)``; when the external id was
changed since, the one source document with the same checksum and title.
The history row of each copied document also records the source document's
id, for people (ids do not survive a backup and restore; the pair does).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from ..models import (
    Assignment,
    Code,
    Document,
    HistoryEvent,
    Membership,
    Project,
    Segment,
)
from ..selectors.agreement import AgreementRows, codebook_structure
from ..selectors.codebook import code_paths
from ..stats import (
    DEFAULT_RESAMPLES,
    DEFAULT_SEED,
    AgreementInput,
    Variable,
    compute_agreement,
)
from .agreement import CONFIDENCE, Engine, agreement_params, result_record
from .assignments import assignments_apply
from .codebook import code_create
from .codebook_versions import codebook_publish
from .history import history_record
from .projects import member_add

ROUND_1, ROUND_2 = 1, 2  # the two "coders" of the engine's arrays
_IN_BATCH = 5000  # ids per IN list (SQLite's limit on parameters)


# -- creating a round ------------------------------------------------------------


def recode_round_create(
    *,
    source: Project,
    coder: AbstractBaseUser,
    actor: AbstractBaseUser | None,
    share: float | None = None,
    count: int | None = None,
    seed: int = 1,
    documents: Sequence[int] | None = None,
    slug: str | None = None,
    via: str = "web",
) -> Project:
    """A new recode round of ``source`` for ``coder``: copies of a draw of
    the documents the coder marked done there.

    Exactly one of ``share`` (0 < share <= 1: ``max(1, round(share * N))``
    documents), ``count`` (1 to N) or ``documents`` (ids of such documents).
    The draw is ``random.Random(seed).sample`` over the sorted ids, so the
    same seed draws the same documents. Refused with a ``ValidationError``
    (keys coder, share, count, documents, slug), with nothing written.
    """
    done = _done_ids(source, coder)
    chosen = _choose(
        source=source, coder=coder, done=done, share=share, count=count,
        seed=seed, documents=documents,
    )  # fmt: skip
    number, slug = _round_slug(source, slug)
    name = f"{source.name} — recode {number} ({coder.username})"
    how = _how(share=share, count=count, documents=documents, seed=seed)
    project = Project(
        name=name if len(name) <= 200 else f"{name[:199]}…",
        slug=slug,
        description=(
            f"Recode round {number} of {source.name} ({source.slug}): "
            f"{len(chosen)} of the {len(done)} documents {coder.username} marked "
            f"done there, {how}, for {coder.username} to code again, blind."
        ),
        blind=True,
        recode_of=source,
        recode_coder=coder,
    )
    try:
        project.full_clean()
    except ValidationError as exc:
        raise ValidationError(
            {"slug" if k in ("slug", "__all__") else k: v
             for k, v in exc.message_dict.items()}
        ) from None  # fmt: skip
    after = {
        "coder": coder.pk, "documents": len(chosen), "drawn": how, "seed": seed,
    }  # fmt: skip
    try:
        with transaction.atomic():
            project.save()
            _members_copy(source, project, coder, actor, via)
            _codebook_copy(source, project, actor, via)
            copies = _documents_copy(source, project, chosen, actor, via)
            assignments_apply(
                project=project, plan=[(d, coder.pk) for d in copies], actor=actor,
                via=via,
            )  # fmt: skip
            history_record(
                project=project, user=actor, entity="project", entity_id=project.pk,
                action="create", after=after | {"recode_of": source.slug}, via=via,
            )  # fmt: skip
            history_record(
                project=source, user=actor, entity="recode_round",
                entity_id=project.pk, action="create",
                after=after | {"project": project.slug}, via=via,
            )  # fmt: skip
            if source.codebook_version is not None and _has_codes(project):
                _version_copy(source, project, actor, via)
    except IntegrityError:
        # Another round took the slug between the check and the insert.
        if Project.objects.filter(slug=slug).exists():
            raise ValidationError(
                {"slug": f"The slug {slug!r} is taken: choose another."}
            ) from None
        raise
    return project


def _has_codes(project: Project) -> bool:
    return Code.objects.filter(project=project).exists()


def _done_ids(source: Project, coder: AbstractBaseUser) -> list[int]:
    return sorted(
        Assignment.objects.filter(
            document__project=source, coder=coder, status=Assignment.Status.DONE
        ).values_list("document_id", flat=True)
    )


def _choose(
    *,
    source: Project,
    coder: AbstractBaseUser,
    done: list[int],
    share: float | None,
    count: int | None,
    seed: int,
    documents: Sequence[int] | None,
) -> list[int]:
    """The drawn ids (sorted), or a ValidationError."""
    given = [v for v in (share, count, documents) if v is not None]
    if len(given) != 1:
        raise ValidationError(
            {"share": "Give exactly one of a share, a number of documents or a "
             "list of documents."}
        )  # fmt: skip
    role = (
        Membership.objects.filter(project=source, user=coder)
        .values_list("role", flat=True)
        .first()
    )
    if role is None:
        raise ValidationError(
            {"coder": f"{coder.username} is not a coder of {source.slug}."}
        )
    if not done:
        raise ValidationError(
            {"coder": f"{coder.username} has not marked any document done in "
             f"{source.slug}: there is nothing to code again."}
        )  # fmt: skip
    n = len(done)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValidationError({"seed": "The seed must be a whole number."})
    if documents is not None:
        wanted = sorted(set(documents))
        allowed = set(done)
        stray = [d for d in wanted if d not in allowed]
        if not wanted:
            raise ValidationError({"documents": "Choose at least one document."})
        if stray:
            raise ValidationError(
                {"documents": f"{len(stray)} of the documents chosen "
                 f"({', '.join(map(str, stray[:10]))}) are not documents "
                 f"{coder.username} marked done in {source.slug}."}
            )  # fmt: skip
        return wanted
    if share is not None:
        ok = isinstance(share, int | float) and not isinstance(share, bool)
        if not ok or not 0 < share <= 1:
            raise ValidationError(
                {"share": "The share must be more than 0 and at most 1 (100 %)."}
            )
        k = max(1, round(share * n))
    else:
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValidationError(
                {"count": "The number of documents must be a whole number of at "
                 "least 1."}
            )  # fmt: skip
        if count > n:
            raise ValidationError(
                {"count": f"{coder.username} marked {n} document"
                 f"{'' if n == 1 else 's'} done in {source.slug}: choose at most "
                 f"{n}."}
            )  # fmt: skip
        k = count
    return sorted(random.Random(seed).sample(done, k))


def _how(
    *,
    share: float | None,
    count: int | None,
    documents: Sequence[int] | None,
    seed: int,
) -> str:
    if documents is not None:
        return "chosen by hand"
    if share is not None:
        return f"a share of {share:g} drawn at random with seed {seed}"
    return f"{count} drawn at random with seed {seed}"


def _round_slug(source: Project, slug: str | None) -> tuple[int, str]:
    """The round's number (one more than the rounds so far, or the next free
    ``<source>-recode-<n>`` after it) and its slug."""
    number = Project.objects.filter(recode_of=source).count() + 1
    if slug is not None:
        slug = slug.strip()
        if Project.objects.filter(slug=slug).exists():
            raise ValidationError(
                {"slug": f"The slug {slug!r} is taken: choose another."}
            )
        return number, slug
    stem = f"{source.slug}-recode-"
    taken = set(
        Project.objects.filter(slug__startswith=stem).values_list("slug", flat=True)
    )
    while f"{stem}{number}" in taken:
        number += 1
    return number, f"{stem}{number}"


def _members_copy(
    source: Project,
    project: Project,
    coder: AbstractBaseUser,
    actor: AbstractBaseUser | None,
    via: str,
) -> None:
    """Every PI of the source as a PI; the coder as a coder (a PI who codes
    stays a PI). Nobody else: no other coder can open the round."""
    pis = (
        Membership.objects.filter(project=source, role=Membership.Role.PI)
        .select_related("user")
        .order_by("pk")
    )
    pi_ids = set()
    for membership in pis:
        member_add(
            project=project, user=membership.user, role=Membership.Role.PI,
            actor=actor, via=via,
        )  # fmt: skip
        pi_ids.add(membership.user_id)
    if coder.pk not in pi_ids:
        member_add(
            project=project, user=coder, role=Membership.Role.CODER, actor=actor,
            via=via,
        )  # fmt: skip


CODE_FIELDS = (
    "description", "definition", "when_to_use", "when_not_to_use", "example",
    "color", "key", "order", "retired", "value", "level",
)  # fmt: skip


def _codebook_copy(
    source: Project, project: Project, actor: AbstractBaseUser | None, via: str
) -> None:
    """Every code (retired ones too), parents first, with its fields and order,
    through :func:`code_create` (checks and history as for any new code)."""
    ordered, *_ = codebook_structure(source)
    codes = {c.pk: c for c in Code.objects.filter(project=source)}
    copies: dict[int, Code] = {}
    for pk in ordered:
        code = codes[pk]
        copies[pk] = code_create(
            project=project, actor=actor, name=code.name,
            parent=copies[code.parent_id] if code.parent_id else None, via=via,
            **{f: getattr(code, f) for f in CODE_FIELDS},
        )  # fmt: skip


def _documents_copy(
    source: Project,
    project: Project,
    ids: list[int],
    actor: AbstractBaseUser | None,
    via: str,
) -> list[int]:
    """Copies of the documents (same external id, text, metadata...), in the
    order of ``ids``; returns the copies' ids."""
    now = timezone.now()
    user = actor if actor is not None and actor.is_authenticated else None
    made: list[int] = []
    for first in range(0, len(ids), 500):  # bounded memory for long texts
        chunk = ids[first : first + 500]
        originals = {d.pk: d for d in Document.objects.filter(pk__in=chunk)}
        docs = [
            Document(
                project=project,
                external_id=d.external_id,
                title=d.title,
                source=d.source,
                url=d.url,
                published=d.published,
                metadata=d.metadata,
                text=d.text,
                length=d.length,
                checksum=d.checksum,
            )  # fmt: skip
            for d in (originals[pk] for pk in chunk)
        ]
        Document.objects.bulk_create(docs)
        by_external = dict(
            Document.objects.filter(
                project=project, external_id__in=[d.external_id for d in docs]
            ).values_list("external_id", "pk")
        )
        events = []
        for pk in chunk:
            d = originals[pk]
            copy = by_external[d.external_id]
            made.append(copy)
            events.append(
                HistoryEvent(
                    project=project,
                    document_id=copy,
                    user=user,
                    entity="document",
                    entity_id=copy,
                    action="create",
                    via=via,
                    created_at=now,
                    after={
                        "external_id": d.external_id,
                        "checksum": d.checksum,
                        "copy_of": {"project": source.slug, "document": d.pk},
                    },
                )  # fmt: skip
            )
        HistoryEvent.objects.bulk_create(events)
    return made


def _version_copy(
    source: Project, project: Project, actor: AbstractBaseUser | None, via: str
) -> None:
    """Publish v1 of the copied codebook, so recoded segments record a
    version; the note says which source version it copies (and when the
    source's codebook has changed since that version)."""
    version = codebook_publish(
        project=project, actor=actor, via=via,
        note=f"Copy of {source.slug} codebook v{source.codebook_version}",
    )  # fmt: skip
    published = (
        source.codebook_versions.filter(number=source.codebook_version)
        .values_list("checksum", flat=True)
        .first()
    )
    if published is not None and published != version.checksum:
        version.note += " with its changes since that version (not yet published)"
        version.save(update_fields=["note"])


# -- listing rounds ----------------------------------------------------------------


@dataclass
class RecodeRound:
    project: Project
    coder_username: str
    documents: int
    done: int
    created_at: datetime


def recode_rounds(source: Project) -> list[RecodeRound]:
    """The recode rounds of ``source``, newest first, with their documents
    and how many of them the round's coder has marked done (one query)."""
    done = Q(
        documents__assignments__status=Assignment.Status.DONE,
        documents__assignments__coder=F("recode_coder"),
    )
    rows = (
        Project.objects.filter(recode_of=source)
        .select_related("recode_coder")
        .annotate(
            n_documents=Count("documents", distinct=True),
            n_done=Count("documents__assignments", filter=done, distinct=True),
        )
        .order_by("-created_at", "-pk")
    )
    return [
        RecodeRound(
            project=p,
            coder_username=p.recode_coder.username if p.recode_coder else "",
            documents=p.n_documents,
            done=p.n_done,
            created_at=p.created_at,
        )
        for p in rows
    ]


# -- intra-coder reliability ---------------------------------------------------------


@dataclass
class _Pairs:
    """The round's documents matched to their source documents."""

    pairs: dict[int, int]  # round document -> source document, done in both
    external_ids: dict[int, str]
    lengths: dict[int, int]
    warnings: list[str]


def intra_coder_report(
    recode: Project,
    *,
    levels: Iterable[str] | None = None,
    bootstrap: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    engine: Engine = compute_agreement,
) -> dict[str, Any]:
    """The intra-coder agreement of a recode round, in the shape of
    :func:`annotations.services.agreement.agreement_report` plus ``source``
    and ``coder``; the two "coders" are ``"<username> (round 1)"`` and
    ``"<username> (round 2)"``. ``engine`` is a seam for tests. Raises
    ``ValidationError`` when the project is not a recode round (or its
    source or coder was deleted) and for bad parameters."""
    params = agreement_params(levels=levels, bootstrap=bootstrap, seed=seed)
    source, coder = _round_of(recode)
    started = time.perf_counter()
    rows = intra_coder_rows(recode, source=source, coder=coder)
    kw = {"levels": params.levels, "bootstrap": params.bootstrap, "seed": params.seed,
          "confidence": CONFIDENCE}  # fmt: skip
    data = rows.data
    records = engine(data, **kw) if data.documents else []
    names = rows.coder_names
    return {
        "project": recode.slug,
        "source": source.slug,
        "coder": coder.username,
        "sample": {
            "description": (
                f"documents {coder.username} marked done in both rounds: round 1 "
                f"in {source.slug}, round 2 in {recode.slug}"
            ),
            "documents": len(data.documents),
            "external_ids": [rows.external_ids[d] for d in data.documents],
            "coders": [names[ROUND_1], names[ROUND_2]],
            "levels": list(params.levels),
            "bootstrap": params.bootstrap,
            "seed": params.seed,
            "confidence": CONFIDENCE,
            "segments": int(data.seg_document.size),
            "warnings": rows.warnings,
            "computed_at": timezone.now().isoformat(),
            "seconds": round(time.perf_counter() - started, 3),
        },
        "results": [result_record(r, rows) for r in records],
    }


def _round_of(recode: Project) -> tuple[Project, AbstractBaseUser]:
    if recode.recode_of_id is None:
        raise ValidationError(
            {"project": f"{recode.slug} is not a recode round, or its source "
             "project was deleted."}
        )  # fmt: skip
    if recode.recode_coder_id is None:
        raise ValidationError(
            {"project": f"The coder of the recode round {recode.slug} was deleted."}
        )
    return recode.recode_of, recode.recode_coder


def intra_coder_rows(
    recode: Project, *, source: Project, coder: AbstractBaseUser
) -> AgreementRows:
    """The round's reliability sample as engine input: the round's documents
    (ids of the round's copies) with round 1 (``ROUND_1``) and round 2
    (``ROUND_2``) as the two coders; codes matched by path."""
    matched = _matched_documents(recode, source, coder)
    codes, parents, variables, labels, colors, warnings, code_of = _code_union(
        recode, source
    )
    segs = [
        (d, ROUND_2, code, start, end)
        for d, code, start, end in _segments(list(matched.pairs), coder)
    ]
    back = {s: d for d, s in matched.pairs.items()}
    segs += [
        (back[s], ROUND_1, code_of[code], start, end)
        for s, code, start, end in _segments(list(back), coder)
    ]
    segs.sort()
    docs = sorted(matched.pairs)
    data = AgreementInput.from_arrays(
        document=[s[0] for s in segs], coder=[s[1] for s in segs],
        code=[s[2] for s in segs], start=[s[3] for s in segs],
        end=[s[4] for s in segs],
        document_lengths={d: matched.lengths[d] for d in docs},
        assignments=[(d, c) for d in docs for c in (ROUND_1, ROUND_2)],
        code_parents=parents, codes=codes, coders=(ROUND_1, ROUND_2),
        variables=variables,
    )  # fmt: skip
    return AgreementRows(
        rule="done",
        data=data,
        consensus=None,
        external_ids=matched.external_ids,
        coder_names={
            ROUND_1: f"{coder.username} (round 1)",
            ROUND_2: f"{coder.username} (round 2)",
        },
        code_labels=labels,
        code_colors=colors,
        warnings=matched.warnings + warnings,
    )


def _matched_documents(
    recode: Project, source: Project, coder: AbstractBaseUser
) -> _Pairs:
    """The round's documents the coder marked done, matched to the source
    document with the same (external id, checksum), else the one with the
    same checksum and title; kept when the coder marked that one done too."""
    rows = list(
        Document.objects.filter(project=recode)
        .order_by("pk")
        .values_list("pk", "external_id", "checksum", "title", "length")
    )
    done2 = set(
        Assignment.objects.filter(
            document__project=recode, coder=coder, status=Assignment.Status.DONE
        ).values_list("document_id", flat=True)
    )
    mine = [r for r in rows if r[0] in done2]
    by_key: dict[tuple[str, str], int] = {}
    for i in range(0, len(mine), _IN_BATCH):
        chunk = mine[i : i + _IN_BATCH]
        by_key.update(
            ((ext, checksum), pk)
            for pk, ext, checksum in Document.objects.filter(
                project=source, external_id__in=[r[1] for r in chunk]
            ).values_list("pk", "external_id", "checksum")
        )
    pairs: dict[int, int] = {}
    unmatched = []
    for pk, ext, checksum, title, _ in mine:
        found = by_key.get((ext, checksum))
        if found is None:
            unmatched.append((pk, checksum, title))
        else:
            pairs[pk] = found
    if unmatched:
        # The external id changed in the source: the one document with the
        # same text and title (ambiguous ones are left out).
        candidates: dict[tuple[str, str], list[int]] = {}
        for spk, checksum, title in Document.objects.filter(
            project=source, checksum__in={c for _, c, _ in unmatched}
        ).values_list("pk", "checksum", "title"):
            candidates.setdefault((checksum, title), []).append(spk)
        for pk, checksum, title in unmatched:
            found = candidates.get((checksum, title), [])
            if len(found) == 1:
                pairs[pk] = found[0]
    taken = list(pairs.values())
    done1: set[int] = set()
    for i in range(0, len(taken), _IN_BATCH):
        done1.update(
            Assignment.objects.filter(
                document_id__in=taken[i : i + _IN_BATCH],
                coder=coder,
                status=Assignment.Status.DONE,
            ).values_list("document_id", flat=True)
        )
    no_copy = len(mine) - len(pairs)
    pairs = {d: s for d, s in pairs.items() if s in done1}
    not_done1 = len(mine) - no_copy - len(pairs)
    info = {pk: (ext, length) for pk, ext, _, _, length in rows}
    warnings = []
    open2 = len(rows) - len(mine)
    if open2:
        warnings.append(
            f"{_docs(open2)} of the round's {len(rows):,} not marked done in round "
            "2 yet: left out."
        )
    if no_copy:
        warnings.append(
            f"{_docs(no_copy)} done in round 2 no longer found in {source.slug} "
            "with the same text (deleted, or the text changed): left out."
        )
    if not_done1:
        warnings.append(
            f"{_docs(not_done1)} done in round 2 no longer marked done in round 1 "
            f"({source.slug}): left out."
        )
    return _Pairs(
        pairs=pairs,
        external_ids={d: info[d][0] for d in pairs},
        lengths={d: info[d][1] for d in pairs},
        warnings=warnings,
    )


def _docs(n: int) -> str:
    return f"{n:,} document{'' if n == 1 else 's'}"


def _segments(
    document_ids: list[int], coder: AbstractBaseUser
) -> list[tuple[int, int, int, int]]:
    """The coder's live segments in the documents: (document, code, start, end)."""
    out: list[tuple[int, int, int, int]] = []
    for i in range(0, len(document_ids), _IN_BATCH):
        out += Segment.objects.filter(
            document_id__in=document_ids[i : i + _IN_BATCH],
            coder=coder,
            deleted_at__isnull=True,
        ).values_list("document_id", "code_id", "start", "end")
    return out


def _path_map(labels: dict[int, str], source_labels: dict[int, str]) -> dict[int, int]:
    """Each source code's id -> the round's code with the same path, or itself
    when the round has none (then it counts as a code of its own)."""
    by_path = {path: pk for pk, path in labels.items()}
    return {pk: by_path.get(path, pk) for pk, path in source_labels.items()}


def _code_union(recode: Project, source: Project):
    """The round's codebook, then the source's codes whose path the round does
    not have: ids, parents, variables, labels, colours, warnings, and each
    source code's id in these codes."""
    codes, parents, variables, extra = codebook_structure(recode)
    labels = code_paths(recode)
    colors = dict(extra["colors"])
    warnings = list(extra["warnings"])
    s_codes, s_parents, s_variables, s_extra = codebook_structure(source)
    s_labels = code_paths(source)
    mapped = _path_map(labels, s_labels)
    only1 = [pk for pk in s_codes if mapped[pk] == pk]
    for pk in only1:
        parent = s_parents[pk]
        parents[pk] = None if parent is None else mapped[parent]
        labels[pk] = s_labels[pk]
        colors[pk] = s_extra["colors"][pk]
    codes = [*codes, *only1]
    only1_set = set(only1)
    variables = [
        *variables,
        *(
            Variable(code=v.code, level=v.level, values=v.values)
            for v in s_variables
            if v.code in only1_set and all(c in only1_set for c, _ in v.values)
        ),
    ]
    only2 = set(labels) - set(mapped.values()) - only1_set
    if only1:
        warnings.append(
            "Codes in round 1's codebook only (counted as codes of their own): "
            + ", ".join(sorted(s_labels[pk] for pk in only1))
        )
    if only2:
        warnings.append(
            "Codes in round 2's codebook only: "
            + ", ".join(sorted(labels[pk] for pk in only2))
        )
    return codes, parents, variables, labels, colors, warnings, mapped
