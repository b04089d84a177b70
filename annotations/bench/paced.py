"""Coders at human pace: each creates a segment, then thinks for a while.

``load.load_run`` (issue 9) sends every coder's requests back to back: 20
requests are always in flight, so on 2 cores each waits for the others and
latency measures the queue as much as the server. Real coders read and
select text between two codes. Here each of the coders waits a random
think time (exponential, mean ``think_s``) before each request, so the
figure shows the server time a coder feels when 20 people code at once.
Pages are read with the same helpers as the load generator.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
import uuid
from urllib.parse import urljoin

import httpx


async def _setup(client, username, password, rng, parse):
    """Log in and open one article's coding page, as the coder's browser does."""
    from .load import CODING_LINK

    page = await client.get("/accounts/login/")
    response = await client.post(
        "/accounts/login/",
        data={"username": username, "password": password,
              "csrfmiddlewaretoken": client.cookies.get("csrftoken")},
        headers={"Referer": str(page.url)},
    )  # fmt: skip
    if response.status_code != 302:
        raise RuntimeError(f"{username}: login answered {response.status_code}")
    links = sorted(set(CODING_LINK.findall((await client.get("/")).text)))
    link = rng.choice(links)
    return parse(link, (await client.get(link)).text)


async def _code(client, base_url, coding, n, think_s, rng, deadline, pick):
    latencies: list[float] = []
    promised: list[str] = []
    errors: list[str] = []
    for _ in range(n):
        await asyncio.sleep(rng.expovariate(1 / think_s))
        if time.monotonic() > deadline:
            errors.append("out of time")
            continue
        s, e = pick(coding.text, rng)
        client_id = str(uuid.uuid4())
        form = {"code": str(rng.choice(coding.codes)), "start": str(s), "end": str(e),
                "quote": coding.text[s:e], "client_id": client_id}  # fmt: skip
        headers = {"HX-Request": "true",
                   "X-CSRFToken": client.cookies.get("csrftoken", ""),
                   "Referer": urljoin(base_url, coding.url)}  # fmt: skip
        t0 = time.perf_counter()
        try:
            response = await client.post(
                coding.segments_url, data=form, headers=headers
            )
            status = response.status_code
        except httpx.HTTPError as exc:
            status = repr(exc)
        latencies.append((time.perf_counter() - t0) * 1000)
        if status == 201:
            promised.append(client_id)
        else:
            errors.append(str(status))
    return latencies, promised, errors


def paced_run(
    base_url: str,
    coders: list[tuple[str, str]],
    requests_per_coder: int,
    *,
    think_s: float = 2.0,
    timeout: float = 300.0,
) -> dict:
    """Every coder at once, ``requests_per_coder`` segments each, a random
    think time (mean ``think_s`` seconds) before each; latency percentiles,
    errors and the client ids the server confirmed."""
    from .load import coding_page_parse, span_pick

    async def main():
        clients = [httpx.AsyncClient(base_url=base_url, timeout=30) for _ in coders]
        rngs = [random.Random(i) for i in range(len(coders))]
        try:
            pages = await asyncio.gather(
                *(_setup(c, u, p, r, coding_page_parse)
                  for c, (u, p), r in zip(clients, coders, rngs, strict=True))
            )  # fmt: skip
            deadline = time.monotonic() + timeout
            started = time.perf_counter()
            results = await asyncio.gather(
                *(_code(c, base_url, page, requests_per_coder, think_s, r, deadline,
                        span_pick)
                  for c, page, r in zip(clients, pages, rngs, strict=True))
            )  # fmt: skip
            return results, time.perf_counter() - started
        finally:
            for c in clients:
                await c.aclose()

    results, seconds = asyncio.run(main())
    latencies = sorted(x for r in results for x in r[0])
    promised = [c for r in results for c in r[1]]
    errors = [e for r in results for e in r[2]]
    return {
        "requests": len(latencies) + errors.count("out of time"),
        "ok": len(promised),
        "errors": len(errors),
        "seconds": seconds,
        "p50_ms": statistics.median(latencies) if latencies else 0.0,
        "p95_ms": latencies[int(0.95 * (len(latencies) - 1))] if latencies else 0.0,
        "client_ids": promised,
        "error_samples": errors[:5],
    }
