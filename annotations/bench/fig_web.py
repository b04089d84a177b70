"""Web figures: the coding page rendered in-process, and creating segments
under load through gunicorn."""

from __future__ import annotations

import random
import shutil
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
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
from ..services.bulk import rows_insert
from . import textgen
from .data import coder_password
from .db import tables_tidy
from .figures import Ctx, NotAvailable, live_segments
from .paced import paced_run

PAGE_SLUG = "bench-coding-page"
PAGE_MARK = "bench_coding_page v1: 10000 words, 500 segments"


def _page_project() -> tuple[Project, Document, object]:
    """A project with one 10,000-word article and 500 segments by one coder."""
    project = Project.objects.filter(slug=PAGE_SLUG).first()
    User = get_user_model()
    if project is not None and project.description == PAGE_MARK:
        doc = project.documents.get()
        return project, doc, User.objects.get(username=f"{PAGE_SLUG}-coder")
    if project is not None:
        from .data import bench_project_delete

        bench_project_delete(PAGE_SLUG)
    rng = random.Random(3)
    article, spans = textgen.long_article(rng, words=10_000, segments=500, codes=20)
    specs = textgen.codebook_spec(20)
    with transaction.atomic():
        project = Project.objects.create(slug=PAGE_SLUG, name="Benchmark: coding page",
                                         description=PAGE_MARK)  # fmt: skip
        coder, _ = User.objects.get_or_create(username=f"{PAGE_SLUG}-coder")
        Membership.objects.create(
            project=project, user=coder, role=Membership.Role.CODER
        )
        ids: list[int] = []
        for order, s in enumerate(specs):
            ids.append(Code.objects.create(
                project=project, name=s.name, color=s.color, key=s.key, order=order,
                parent_id=ids[s.parent] if s.parent is not None else None,
                level=s.level, value=s.value,
                definition=f"Apply {s.name} where the text is about it.",
            ).pk)  # fmt: skip
        doc = Document.objects.create(
            project=project, external_id="long", title=article.title,
            source=article.source, published=article.published, text=article.text,
        )  # fmt: skip
        Assignment.objects.create(document=doc, coder=coder, status="in_progress",
                                  started_at=timezone.now())  # fmt: skip
        now = timezone.now()
        rows_insert(
            Segment,
            ["document_id", "coder_id", "code_id", "start", "end", "quote", "memo",
             "client_id", "version", "created_at", "updated_at"],
            [(doc.pk, coder.pk, ids[k], a, b, article.text[a:b],
              "memo" if i % 10 == 0 else "", uuid.uuid4(), 1, now, now)
             for i, (k, a, b) in enumerate(spans)],
        )  # fmt: skip
    return project, doc, coder


def _percentiles(ms: list[float]) -> tuple[float, float]:
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def fig_coding_page(ctx: Ctx) -> dict:
    """GET the coding page with Django's test Client (the real view, middleware
    and templates, in this process): server time per request."""
    try:
        reverse("coding_page", args=["x", 1])
    except NoReverseMatch:
        raise NotAvailable("the coding page (issue 3) is not built yet") from None
    project, doc, coder = _page_project()
    client = Client()
    client.force_login(coder)
    url = reverse("coding_page", args=[project.slug, doc.pk])
    for _ in range(3):  # warm up: template loading, caches
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    queries = len(captured)  # now: the next request clears the log
    html_kb = len(response.content) / 1024
    shown = response.content.count(b"data-segment") or response.content.count(b"seg-")
    n = 20 if ctx.quick else 200
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200
    p50, p95 = _percentiles(times)
    create = _create_in_process(client, project, doc, coder, 10 if ctx.quick else 100)
    return {
        "requests": n,
        "p50_ms": p50,
        "p95_ms": p95,
        "max_ms": max(times),
        "queries": queries,
        "html_kb": html_kb,
        "segments_marked": shown,
        **create,
    }


# The pages a PI opens on a project, by URL name (each takes the slug), and
# what they are called in the figure. The Agreement and Analysis pages have
# figures of their own (their first view computes a report).
PI_PAGES = (
    ("project_detail", "dashboard"),
    ("document_list", "documents"),
    ("assignments", "assignments"),
    ("progress", "progress"),
    ("codebook", "codebook"),
    ("team", "team"),
    ("history", "history"),
    ("export_page", "export"),
)


def fig_pages(ctx: Ctx) -> dict:
    """Server time of the PI's project pages and the coder's "My work" page
    on the generated project, in-process with Django's test Client: the first
    view with an empty cache ("cold", as after a change of the data) and the
    median of the next five ("warm")."""
    from django.core.cache import cache

    project = Project.objects.get(slug=ctx.slug)
    pi = Membership.objects.filter(project=project, role=Membership.Role.PI).first()
    coder = Membership.objects.filter(
        project=project, role=Membership.Role.CODER
    ).first()
    if pi is None or coder is None:
        raise RuntimeError(f"{project.slug} has no PI or no coder")
    pages = [(reverse(name, args=[project.slug]), label, pi.user)
             for name, label in PI_PAGES]  # fmt: skip
    pages.append((reverse("home"), "my work (coder)", coder.user))  # all assigned
    warm_n = 2 if ctx.quick else 5
    result: dict = {}
    for url, label, user in pages:
        client = Client()
        client.force_login(user)
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            t0 = time.perf_counter()
            response = client.get(url)
            cold = (time.perf_counter() - t0) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
        warm = []
        for _ in range(warm_n):
            t0 = time.perf_counter()
            client.get(url)
            warm.append((time.perf_counter() - t0) * 1000)
        key = label.replace(" (coder)", "").replace(" ", "_")
        result[f"{key}_cold_ms"] = cold
        result[f"{key}_warm_ms"] = float(np.median(warm))
        result[f"{key}_queries"] = len(captured)
        result[f"{key}_kb"] = len(response.content) / 1024
    for kind in ("cold", "warm"):
        result[f"slowest_{kind}_ms"] = max(
            v for k, v in result.items() if k.endswith(f"_{kind}_ms")
        )
    result["pages"] = len(pages)
    result["segments"] = live_segments(project)
    return result


def pages_show(m: dict) -> str:
    """The figure's cell: every page once warm, then the slowest first view."""

    def by(suffix: str) -> dict[str, float]:
        return {
            k[: -len(suffix)]: v
            for k, v in m.items()
            if k.endswith(suffix) and not k.startswith("slowest")
        }

    warm, cold = by("_warm_ms"), by("_cold_ms")
    slow = max(cold, key=cold.get)
    pages = ", ".join(f"{k.replace('_', ' ')} {v:,.0f}" for k, v in warm.items())
    return (
        f"warm (ms): {pages}; slowest first view (empty cache): "
        f"{slow.replace('_', ' ')} {cold[slow]:,.0f} ms; "
        f"{m['segments']:,.0f} segments"
    )


def _create_in_process(client, project, doc, coder, n) -> dict:
    """htmx POSTs creating segments, in-process; removed again afterwards."""
    url = reverse("segment_create", args=[project.slug, doc.pk])
    code_id = Code.objects.filter(project=project, parent__isnull=False).first().pk
    rng = random.Random(5)
    text = doc.text
    before = set(Segment.objects.filter(document=doc).values_list("pk", flat=True))
    times = []
    try:
        for _ in range(n):
            a = rng.randrange(0, len(text) - 80)
            b = a + rng.randint(5, 80)
            data = {"code": code_id, "start": a, "end": b, "quote": text[a:b],
                    "client_id": str(uuid.uuid4())}  # fmt: skip
            t0 = time.perf_counter()
            response = client.post(url, data, headers={"HX-Request": "true"})
            times.append((time.perf_counter() - t0) * 1000)
            if response.status_code not in (200, 201):
                raise RuntimeError(f"POST {url} answered {response.status_code}")
    finally:
        made = Segment.objects.filter(document=doc).exclude(pk__in=before)
        ids = list(made.values_list("pk", flat=True))
        HistoryEvent.objects.filter(entity="segment", entity_id__in=ids).delete()
        made.delete()
    p50, p95 = _percentiles(times)
    return {"create_p50_ms": p50, "create_p95_ms": p95}


# ------------------------------------------------------------------ load

LOAD_CODERS = 20
LOAD_DOCUMENTS = 3  # articles in progress per load coder


def _load_coders(project: Project, count: int) -> list[tuple[str, str]]:
    """``count`` coders of ``project`` with a few articles each in progress
    (among the generated ones, already coded by the dataset's coders)."""
    User = get_user_model()
    password = coder_password(project.slug)
    names = [f"{project.slug}-load{i + 1:02d}" for i in range(count)]
    existing = set(
        User.objects.filter(username__in=names).values_list("username", flat=True)
    )
    hashed = make_password(password)
    User.objects.bulk_create(
        User(username=n, password=hashed) for n in names if n not in existing
    )
    users = list(User.objects.filter(username__in=names).order_by("username"))
    docs = list(
        Document.objects.filter(project=project).order_by("id")
        .values_list("pk", flat=True)[: count * LOAD_DOCUMENTS]
    )  # fmt: skip
    with transaction.atomic():
        for i, user in enumerate(users):
            Membership.objects.get_or_create(
                project=project, user=user, defaults={"role": Membership.Role.CODER}
            )
            for doc in docs[i * LOAD_DOCUMENTS : (i + 1) * LOAD_DOCUMENTS] or docs[:1]:
                Assignment.objects.update_or_create(
                    document_id=doc, coder=user,
                    defaults={"status": Assignment.Status.IN_PROGRESS, "done_at": None},
                )  # fmt: skip
    return [(u.username, password) for u in users]


def _load_clear(project: Project) -> None:
    """Remove what the load coders made, so every repetition starts alike."""
    made = Segment.objects.filter(
        document__project=project, coder__username__startswith=f"{project.slug}-load"
    )
    ids = list(made.values_list("pk", flat=True))
    HistoryEvent.objects.filter(
        project=project, entity="segment", entity_id__in=ids
    ).delete()
    users = list(
        get_user_model()
        .objects.filter(username__startswith=f"{project.slug}-load")
        .values_list("pk", flat=True)
    )
    HistoryEvent.objects.filter(project=project, user_id__in=users).delete()
    made.delete()
    tables_tidy(Segment, HistoryEvent)


def fig_create_segment_load(ctx: Ctx) -> dict:
    """20 coders at once create segments through gunicorn (the htmx POST the
    coding page sends), driven by the load generator of issue 9; then the
    segments they were promised are counted in the database."""
    try:
        from .load import app_server, load_run, secret, static_collect
    except ImportError:
        raise NotAvailable(
            "the load generator annotations/bench/load.py (issue 9) is not there yet"
        ) from None
    project = Project.objects.get(slug=ctx.slug)
    coders = _load_coders(project, LOAD_CODERS)
    _load_clear(project)
    per_coder = 5 if ctx.quick else 50
    workers, threads = (2, 4) if ctx.quick else (LOAD_WORKERS, LOAD_THREADS)
    if ctx.quick:  # the smoke run (SQLite): a few coders, to see it work
        coders, per_coder = coders[:4], 3
    think = 0.2 if ctx.quick else PACED_THINK_S
    key = secret()
    static = _static_root(static_collect, key)
    before = live_segments(project)
    try:
        with app_server(
            db=settings.DATABASES["default"], static_root=static,
            secret_key=key, log=ctx.tmp / "gunicorn.log", workers=workers,
            threads=threads,
        ) as server:  # fmt: skip
            result = load_run(server.base_url, coders, per_coder, timeout=300)
            paced = paced_run(
                server.base_url, coders, 2 if ctx.quick else PACED_REQUESTS,
                think_s=think,
            )  # fmt: skip
        after = live_segments(project)
        promised = set(result["client_ids"]) | set(paced["client_ids"])
        found = {
            str(c)
            for c in Segment.objects.filter(client_id__in=promised).values_list(
                "client_id", flat=True
            )
        }
    finally:
        _load_clear(project)
    log = ctx.tmp / "gunicorn.log"
    failed = result["errors"] or paced["errors"]
    log_tail = log.read_text(errors="replace")[-2000:] if failed else ""
    return {
        "coders": len(coders),
        "workers": workers,
        "threads": threads,
        "requests": result["requests"],
        "ok": result["ok"],
        "errors": result["errors"],
        "lost": len(promised - found),
        "extra": (after - before) - result["ok"] - paced["ok"],
        "p50_ms": result["p50_ms"],
        "p95_ms": result["p95_ms"],
        "max_ms": result["max_ms"],
        "requests_per_s": result["requests_per_s"],
        "paced_think_s": think,
        "paced_requests": paced["requests"],
        "paced_errors": paced["errors"],
        "paced_p50_ms": paced["p50_ms"],
        "paced_p95_ms": paced["p95_ms"],
        "paced_requests_per_s": paced["requests"] / paced["seconds"],
        "error_samples": " | ".join(
            e[:120] for e in result["error_samples"][:3] + paced["error_samples"][:2]
        ),
        "server_log_tail": log_tail,
    }


def _static_root(collect, key: str) -> Path:
    """Collected static files for gunicorn, kept under bench-results/ and
    collected again only when a source file changed (a new folder each time,
    renamed into place, so concurrent runs never see a half-written one)."""
    base = Path(settings.BASE_DIR)
    sources = [p for d in ("annotations/static", "static") for p in
               (base / d).rglob("*") if p.is_file()]  # fmt: skip
    stamp = int(max((p.stat().st_mtime for p in sources), default=0))
    root = base / "bench-results" / f"static-{stamp}"
    if (root / "staticfiles.json").exists():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="static-", dir=root.parent))
    collect(scratch, key)
    try:
        scratch.rename(root)
    except OSError:  # another run got there first
        shutil.rmtree(scratch, ignore_errors=True)
    return root


PACED_REQUESTS = 15  # per coder
PACED_THINK_S = 2.0  # mean seconds between two segments of one coder
LOAD_WORKERS = 4
LOAD_THREADS = 2
