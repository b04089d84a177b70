"""Generate a synthetic project at research scale, straight into the database.

Rows are streamed in chunks of documents (COPY on PostgreSQL, bulk_create on
SQLite), so memory stays flat at any size. No history events are written for
the generated coding (it did not happen in the app); everything else is what
the app itself would store.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from ..models import (
    Assignment,
    Code,
    Document,
    Membership,
    Project,
    Segment,
    text_checksum,
)
from ..services.bulk import ids_reserve, rows_insert
from . import textgen

CHUNK = 250  # documents per write batch


@dataclass(frozen=True)
class DataSpec:
    documents: int
    coders: int
    codes: int
    segments_per_document: int  # gold segments per document; each coder ~ this many
    seed: int = 1
    words: int = 800
    done_share: float = 0.85  # assignments marked done; the rest in progress or to do
    with_segments: bool = True


SIZES: dict[str, DataSpec] = {
    "small": DataSpec(documents=50, coders=3, codes=10, segments_per_document=10),
    "medium": DataSpec(documents=2_000, coders=5, codes=20, segments_per_document=20),
    "large": DataSpec(documents=20_000, coders=10, codes=30, segments_per_document=20),
}


def coder_password(slug: str) -> str:
    """The generated coders' password: benchmark data only, never real users."""
    return f"bench-{slug}-password"


def coder_names(slug: str, coders: int) -> list[str]:
    return [f"{slug}-coder{i + 1:02d}" for i in range(coders)]


def spec_of(project: Project) -> DataSpec | None:
    """The spec a generated project was made with (kept in its description)."""
    marker = "bench_data "
    if not project.description.startswith(marker):
        return None
    try:
        return DataSpec(**json.loads(project.description[len(marker) :]))
    except (TypeError, ValueError):
        return None


def bench_project_generate(
    *,
    slug: str,
    spec: DataSpec,
    progress: Callable[[str], None] | None = None,
) -> Project:
    """Create project ``slug`` with generated documents, coders, codebook,
    assignments and segments. Refuses an existing slug."""
    if Project.objects.filter(slug=slug).exists():
        raise ValueError(f"project {slug!r} exists already")
    say = progress or (lambda _m: None)
    rng = random.Random(spec.seed)
    t0 = time.perf_counter()
    with transaction.atomic():
        project = Project.objects.create(
            slug=slug,
            name=f"Benchmark {slug}",
            description="bench_data " + json.dumps(asdict(spec)),
            reliability_coders=2,
        )
        users = _users(slug, spec.coders)
        pi = users.pop()
        Membership.objects.create(project=project, user=pi, role=Membership.Role.PI)
        Membership.objects.bulk_create(
            Membership(project=project, user=u, role=Membership.Role.CODER)
            for u in users
        )
        specs = textgen.codebook_spec(spec.codes)
        code_ids = _codes(project, specs)
    say(f"project, {len(users)} coders and {len(specs)} codes")
    made = {"documents": 0, "segments": 0, "assignments": 0}
    for first in range(0, spec.documents, CHUNK):
        count = min(CHUNK, spec.documents - first)
        with transaction.atomic():
            chunk = _chunk_write(
                project, rng, spec, first, count, [u.pk for u in users], code_ids, specs
            )
        for k, v in chunk.items():
            made[k] += v
        if (first // CHUNK) % 20 == 19 or first + count == spec.documents:
            rate = made["segments"] / max(time.perf_counter() - t0, 1e-9)
            say(
                f"{made['documents']:,} documents, {made['segments']:,} segments "
                f"({rate:,.0f} segments/s)"
            )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (Document, Assignment, Segment):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
    return project


def _users(slug: str, coders: int):
    User = get_user_model()
    names = coder_names(slug, coders) + [f"{slug}-pi"]
    # One hash for all: hashing ten passwords at full strength costs seconds.
    password = make_password(coder_password(slug))
    existing = {u.username: u for u in User.objects.filter(username__in=names)}
    new = [User(username=n, password=password) for n in names if n not in existing]
    User.objects.bulk_create(new)
    by_name = {u.username: u for u in User.objects.filter(username__in=names)}
    return [by_name[n] for n in names]


def _codes(project: Project, specs: list[textgen.CodeSpec]) -> list[int]:
    ids: list[int] = []
    for order, s in enumerate(specs):
        code = Code.objects.create(
            project=project,
            parent_id=ids[s.parent] if s.parent is not None else None,
            name=s.name,
            description=f"Synthetic code {s.name}",
            definition=f"Apply {s.name} where the text is about {s.name.replace('_', ' ')}.",
            color=s.color,
            key=s.key,
            order=order,
            level=s.level,
            value=s.value,
        )
        ids.append(code.pk)
    return ids


def _chunk_write(project, rng, spec, first, count, coder_ids, code_ids, specs):
    now = timezone.now()
    doc_ids = ids_reserve(Document, count)
    articles = [textgen.article_make(rng, first + i, spec.words) for i in range(count)]
    rows_insert(
        Document,
        ["id", "project_id", "external_id", "title", "source", "url", "published",
         "metadata", "text", "length", "checksum", "created_at"],
        (
            (doc_id, project.pk, a.external_id, a.title, a.source, "", a.published,
             {"section": rng.choice(("world", "tech", "security"))}, a.text,
             len(a.text), text_checksum(a.text), now)
            for doc_id, a in zip(doc_ids, articles, strict=True)
        ),
    )  # fmt: skip
    assignments = []
    segments = []
    for doc_id, article in zip(doc_ids, articles, strict=True):
        coding = (
            textgen.coding_make(
                rng,
                article,
                coders=len(coder_ids),
                per_document=spec.segments_per_document,
                codes=specs,
            )  # fmt: skip
            if spec.with_segments
            else [[] for _ in coder_ids]
        )
        for coder_id, mine in zip(coder_ids, coding, strict=True):
            roll = rng.random()
            if roll < spec.done_share:
                status = Assignment.Status.DONE
            elif roll < spec.done_share + (1 - spec.done_share) * 0.7:
                status = Assignment.Status.IN_PROGRESS
            else:
                status = Assignment.Status.TODO
            started = now - dt.timedelta(days=rng.randint(1, 60))
            assignments.append(
                (doc_id, coder_id, status, "", now,
                 None if status == Assignment.Status.TODO else started,
                 now if status == Assignment.Status.DONE else None, now)
            )  # fmt: skip
            if status == Assignment.Status.TODO or not spec.with_segments:
                continue
            for code, start, end in mine:
                segments.append(
                    (doc_id, coder_id, code_ids[code], start, end,
                     article.text[start:end], "", uuid.uuid4(), 1, started, started)
                )  # fmt: skip
    rows_insert(
        Assignment,
        ["document_id", "coder_id", "status", "note", "created_at", "started_at",
         "done_at", "updated_at"],
        assignments,
    )  # fmt: skip
    rows_insert(
        Segment,
        ["document_id", "coder_id", "code_id", "start", "end", "quote", "memo",
         "client_id", "version", "created_at", "updated_at"],
        segments,
    )  # fmt: skip
    return {
        "documents": count,
        "segments": len(segments),
        "assignments": len(assignments),
    }


def bench_project_delete(slug: str) -> bool:
    """Delete a generated project and everything in it (bench data only)."""
    project = Project.objects.filter(slug=slug).first()
    if project is None:
        return False
    if spec_of(project) is None and not slug.startswith("bench-"):
        raise ValueError(f"{slug!r} was not made by bench_data: refusing to delete it")
    with transaction.atomic():
        docs = Document.objects.filter(project=project)
        Segment.objects.filter(document__in=docs).delete()
        Assignment.objects.filter(document__in=docs).delete()
        docs.delete()
        codes = Code.objects.filter(project=project)
        while codes.exists():  # leaves first: a parent is protected by its children
            codes.filter(children__isnull=True).delete()
        project.delete()
    return True
