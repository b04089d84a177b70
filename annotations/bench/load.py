"""Load generator: many coders creating segments at once through the real
HTTP stack, the way the coding page does (an htmx POST with a client id).

``load_run(base_url, coders, requests_per_coder)`` logs each coder in (a
real login form POST), finds their assigned articles on *My work*, reads an
article's text and codes from its coding page, then sends
``requests_per_coder`` segment creations one after another; all coders run
at the same time. Nothing is retried: the point is to count errors. It
returns a dict of plain numbers plus the client ids the server confirmed, so
a caller can check the database holds exactly those segments.

``app_server()`` runs the app under gunicorn on 127.0.0.1 (a free port,
production-like: DEBUG off, static files from whitenoise) against a given
database; it can be killed and started again on the same port (the fault
test does that). Used by tests/reliability/test_load.py,
tests/browser/test_fault_restart.py and the benchmark's
``create_segment_load`` figure.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import html
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urljoin

import httpx

ROOT = Path(__file__).resolve().parents[2]
CODING_LINK = re.compile(r'href="(/p/[^/"]+/d/\d+/)"')
CODE_BUTTON = re.compile(
    r'<button type="submit" name="code" value="(\d+)"[^>]*?(disabled)?>'
)
SEGMENTS_URL = re.compile(r'data-segments-url="([^"]+)"')


# ------------------------------------------------------------------ the page


class _TextBlock(HTMLParser):
    """The textContent of ``#text-block``: what the browser's script sees."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += 1
        elif dict(attrs).get("id") == "text-block":
            self.depth = 1

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


@dataclass
class CodingPage:
    url: str
    segments_url: str
    text: str
    codes: list[int]


def coding_page_parse(url: str, page: str) -> CodingPage:
    parser = _TextBlock()
    parser.feed(page)
    text = "".join(parser.parts)
    codes = [int(m[0]) for m in CODE_BUTTON.findall(page) if not m[1]]
    found = SEGMENTS_URL.search(page)
    if not text or not codes or not found:
        raise RuntimeError(f"{url}: not a coding page this coder can code")
    return CodingPage(url, html.unescape(found.group(1)), text, codes)


def span_pick(text: str, rng: random.Random, max_len: int = 40) -> tuple[int, int]:
    """A random non-blank ``[start, end)`` in code points."""
    for _ in range(100):
        start = rng.randrange(0, max(1, len(text) - 1))
        end = min(len(text), start + rng.randint(1, max_len))
        if text[start:end].strip():
            return start, end
    return 0, len(text)


# ------------------------------------------------------------------ the load


@dataclass
class CoderResult:
    ok: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    client_ids: list[str] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)


async def _login(client: httpx.AsyncClient, username: str, password: str) -> None:
    page = await client.get("/accounts/login/")
    token = client.cookies.get("csrftoken")
    response = await client.post(
        "/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        headers={"Referer": str(page.url)},
    )
    if response.status_code != 302:
        raise RuntimeError(f"{username}: login answered {response.status_code}")


class _Gate:
    """Every coder logs in and reads their pages first; posting starts when
    all are ready (or have failed), so the clock measures the load alone."""

    def __init__(self, coders: int):
        self.waiting = coders
        self.all_ready = asyncio.Event()
        self.go = asyncio.Event()

    def ready(self) -> None:
        self.waiting -= 1
        if self.waiting <= 0:
            self.all_ready.set()


async def _coder(
    base_url: str,
    username: str,
    password: str,
    n: int,
    seed: int,
    gate: _Gate,
    request_timeout: float,
    pages_per_coder: int,
) -> CoderResult:
    result = CoderResult()
    rng = random.Random(seed)
    async with httpx.AsyncClient(
        base_url=base_url, timeout=request_timeout, follow_redirects=False
    ) as client:
        try:
            await _login(client, username, password)
            mywork = await client.get("/")
            links = sorted(set(CODING_LINK.findall(mywork.text)))
            if not links:
                raise RuntimeError(f"{username}: no article to code on My work")
            pages = []
            for link in rng.sample(links, min(pages_per_coder, len(links))):
                response = await client.get(link)
                pages.append(coding_page_parse(link, response.text))
        except (httpx.HTTPError, RuntimeError) as exc:
            result.errors += n
            result.error_samples.append(f"{username} setup: {exc!r}"[:300])
            gate.ready()
            return result
        gate.ready()
        await gate.go.wait()  # everyone starts posting together
        for i in range(n):
            page = pages[i % len(pages)]
            s, e = span_pick(page.text, rng)
            client_id = str(uuid.uuid4())
            form = {
                "code": str(rng.choice(page.codes)),
                "start": str(s),
                "end": str(e),
                "quote": page.text[s:e],
                "client_id": client_id,
            }
            headers = {
                "HX-Request": "true",
                "X-CSRFToken": client.cookies.get("csrftoken", ""),
                "Referer": urljoin(base_url, page.url),
            }
            t0 = time.perf_counter()
            try:
                response = await client.post(
                    page.segments_url, data=form, headers=headers
                )
                status = response.status_code
            except httpx.HTTPError as exc:
                status, response = 0, exc
            result.latencies_ms.append((time.perf_counter() - t0) * 1000)
            if status == 201:
                result.ok += 1
                result.client_ids.append(client_id)
            else:
                result.errors += 1
                detail = response.text[:200] if status else repr(response)
                result.error_samples.append(f"{username}: {status} {detail}"[:300])
    return result


def _run_async(factory):
    """Run the coroutine ``factory()`` makes, from sync code.

    Inside a test session that also drives Playwright's sync API, this thread
    already has a running event loop, so the load runs in a thread of its own.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


def load_run(
    base_url: str,
    coders: list[tuple[str, str]],
    requests_per_coder: int,
    *,
    seed: int = 0,
    timeout: float = 60.0,
    request_timeout: float = 30.0,
    pages_per_coder: int = 1,
) -> dict:
    """Run the load; return ``ok``, ``errors``, ``requests``, ``seconds``
    (posting only, after every coder logged in and read their pages),
    ``requests_per_s``, ``p50_ms``, ``p95_ms``, ``max_ms``, and the lists
    ``latencies_ms``, ``client_ids`` (confirmed by a 201) and
    ``error_samples``. ``coders`` is a list of (username, password); a
    username may appear more than once (two tabs). Each coder codes
    ``pages_per_coder`` of their articles, drawn at random."""

    async def main() -> tuple[list[CoderResult], float]:
        gate = _Gate(len(coders))
        tasks = [
            asyncio.create_task(
                _coder(
                    base_url,
                    u,
                    p,
                    requests_per_coder,
                    seed * 1000 + i,
                    gate,
                    request_timeout,
                    pages_per_coder,
                )
            )  # fmt: skip
            for i, (u, p) in enumerate(coders)
        ]
        deadline = time.monotonic() + timeout
        # Stragglers that never get ready are counted as errors below.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(gate.all_ready.wait(), timeout)
        t0 = time.perf_counter()
        gate.go.set()
        remaining = max(1.0, deadline - time.monotonic())
        done, pending = await asyncio.wait(tasks, timeout=remaining)
        for task in pending:
            task.cancel()
        results = [t.result() for t in done if not t.cancelled() and not t.exception()]
        for task in done:
            if task.exception():
                results.append(CoderResult(errors=requests_per_coder,
                                           error_samples=[repr(task.exception())]))  # fmt: skip
        results += [
            CoderResult(errors=requests_per_coder, error_samples=["timed out"])
            for _ in pending
        ]
        return results, time.perf_counter() - t0

    results, seconds = _run_async(main)
    latencies = sorted(x for r in results for x in r.latencies_ms)
    ok = sum(r.ok for r in results)
    errors = sum(r.errors for r in results)
    return {
        "coders": len(coders),
        "requests": ok + errors,
        "ok": ok,
        "errors": errors,
        "seconds": seconds,
        "requests_per_s": (ok + errors) / seconds if seconds else 0.0,
        "p50_ms": statistics.median(latencies) if latencies else 0.0,
        "p95_ms": latencies[int(0.95 * (len(latencies) - 1))] if latencies else 0.0,
        "max_ms": latencies[-1] if latencies else 0.0,
        "latencies_ms": latencies,
        "client_ids": [c for r in results for c in r.client_ids],
        "error_samples": [e for r in results for e in r.error_samples][:20],
    }


# ------------------------------------------------------------------ the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url(db: dict) -> str:
    """A DATABASE_URL for a Django DATABASES entry (PostgreSQL or a SQLite file)."""
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{quote(db['NAME'], safe='')}"


def static_collect(dest: Path, secret_key: str) -> None:
    """Collect static files as the Docker image does (hashed, compressed)."""
    env = {**os.environ, "DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": secret_key,
           "DJANGO_STATIC_ROOT": str(dest)}  # fmt: skip
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT, env=env, check=True, capture_output=True, timeout=300,
    )  # fmt: skip


@dataclass
class AppServer:
    """gunicorn serving the app; ``kill()`` and ``start()`` keep the port."""

    env: dict[str, str]
    port: int
    workers: int
    threads: int
    log: Path
    proc: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        cmd = [
            # The deployed settings (deploy/gunicorn.conf.py: threaded workers),
            # with this server's own address, size and a quick shutdown.
            sys.executable, "-m", "gunicorn", "--config", "deploy/gunicorn.conf.py",
            "workbench.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
            "--threads", str(self.threads), "--graceful-timeout", "5",
            "--log-level", "warning",
        ]  # fmt: skip
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                cmd, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.proc.returncode}:\n{self.log.read_text()[-2000:]}"
                )
            try:
                urllib.request.urlopen(self.base_url + "/accounts/login/", timeout=2)  # noqa: S310
                return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"gunicorn did not answer within {timeout} s")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Stop the server at once (SIGKILL: in-flight requests die with it)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None


@contextmanager
def app_server(
    *,
    db: dict,
    static_root: Path,
    secret_key: str,
    log: Path,
    workers: int = 2,
    threads: int = 4,
    extra_env: dict[str, str] | None = None,
) -> Iterator[AppServer]:
    """gunicorn on a free port against the database ``db`` (a DATABASES
    entry); stopped on exit whatever happens."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(db),
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secret_key,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_STATIC_ROOT": str(static_root),
        # No access log: a line per request would be part of what is timed.
        "GUNICORN_ACCESS_LOG": "",
        **(extra_env or {}),
    }
    server = AppServer(
        env=env, port=free_port(), workers=workers, threads=threads, log=log
    )
    server.start()
    try:
        yield server
    finally:
        server.kill(signal.SIGTERM)


def secret() -> str:
    return secrets.token_urlsafe(50)
