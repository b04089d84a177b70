"""Web figures: the coding page rendered in-process, and creating segments
under load through gunicorn."""

from __future__ import annotations

import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
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
from .data import coder_names, coder_password
from .figures import Ctx, NotAvailable, live_segments

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
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
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
        "queries": len(queries),
        "html_kb": html_kb,
        "segments_marked": shown,
        **create,
    }


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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 - our own server
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer at {url} within {timeout} s")


def gunicorn_start(workers: int, log: Path) -> tuple[subprocess.Popen, str]:
    """The app under gunicorn on 127.0.0.1, production-like (DEBUG off), on
    this process's database."""
    port = _free_port()
    env = dict(os.environ)
    env.update(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(40),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
    )
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    cmd = [
        sys.executable, "-m", "gunicorn", "workbench.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
        "--worker-class", "gthread", "--threads", "4",
        "--timeout", "60", "--log-level", "warning",
    ]  # fmt: skip
    out = log.open("wb")
    proc = subprocess.Popen(
        cmd, cwd=settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base + "/accounts/login/", proc)
    except Exception:
        gunicorn_stop(proc)
        raise
    return proc, base


def gunicorn_stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def fig_create_segment_load(ctx: Ctx) -> dict:
    """20 coders at once create segments through gunicorn (htmx POSTs), with
    the load generator of issue 9; then count the segments in the database."""
    try:
        from .load import load_run
    except ImportError:
        raise NotAvailable(
            "the load generator annotations/bench/load.py (issue 9) is not there yet"
        ) from None
    project = Project.objects.get(slug=ctx.slug)
    names = coder_names(project.slug, 10 if ctx.data_size != "small" else 3)
    coders = [(n, coder_password(project.slug)) for n in names]
    per_coder = 5 if ctx.quick else 50
    workers = 2 if ctx.quick else 4
    before = live_segments(project)
    started = timezone.now()
    proc, base = gunicorn_start(workers, ctx.tmp / "gunicorn.log")
    try:
        result = load_run(base, _twenty(coders), per_coder)
    finally:
        gunicorn_stop(proc)
    after = live_segments(project)
    return _load_metrics(result, before, after, workers, started, project)


def _twenty(coders: list[tuple[str, str]]) -> list[tuple[str, str]]:
    # 20 concurrent coders: the dataset has 10 (large) or 3 (small); coders
    # log in more than once, as with two tabs or two machines.
    return [coders[i % len(coders)] for i in range(20)]


def _load_metrics(result, before, after, workers, started, project) -> dict:
    data = result if isinstance(result, dict) else vars(result)
    ok = int(data.get("ok", data.get("created", 0)))
    errors = int(data.get("errors", 0))
    latencies = data.get("latencies_ms") or data.get("latencies") or []
    p50, p95 = (
        _percentiles(latencies) if latencies else (data["p50_ms"], data["p95_ms"])
    )
    seconds = float(data.get("seconds", data.get("duration", 0)) or 0)
    created = after - before
    Segment.objects.filter(document__project=project, created_at__gte=started).delete()
    HistoryEvent.objects.filter(project=project, created_at__gte=started).delete()
    return {
        "coders": 20,
        "workers": workers,
        "ok": ok,
        "errors": errors,
        "lost": ok - created,
        "p50_ms": p50,
        "p95_ms": p95,
        "requests_per_s": (ok + errors) / seconds if seconds else 0.0,
        "raw": json.dumps({k: v for k, v in data.items() if not isinstance(v, list)}),
    }
