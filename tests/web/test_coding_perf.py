"""How fast the coding page renders a long, densely coded article.

Run with ``-s`` to see the figures (median of several runs):
``.venv/bin/python -m pytest tests/web/test_coding_perf.py -s -q``.
The bounds asserted here are loose (a slow CI machine must pass); the
figures go to BENCHMARKS.md.
"""

import random
import statistics
import time
import uuid

import pytest

from annotations.models import Assignment, Segment
from annotations.selectors.coding import codebook_get, coding_page_get, span_views
from annotations.selectors.coding_text import text_html
from tests import factories

pytestmark = pytest.mark.slow


def long_article(seed: int = 7, words: int = 10_000) -> str:
    rng = random.Random(seed)
    vocab = ["Europol", "Telegram", "channels", "removed", "propaganda", "the", "of",
             "accounts", "قناة", "🎉", "analysts", "doubt", "café\u0301", "and", "a"]  # fmt: skip
    out = []
    for i in range(words):
        out.append(rng.choice(vocab))
        out.append("\n\n" if i % 120 == 119 else " ")
    return "".join(out)


def timed(fn, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def test_long_article_with_500_segments_renders_in_tens_of_ms(client, study):
    text = long_article()
    doc = factories.DocumentFactory(
        project=study.project, external_id="long", text=text
    )
    Assignment.objects.create(document=doc, coder=study.coder1)
    rng = random.Random(3)
    codes = list(study.codes.values())
    spans = []
    for _ in range(500):
        start = rng.randrange(0, len(text) - 400)
        spans.append((start, start + rng.randrange(20, 400)))
    Segment.objects.bulk_create(
        Segment(
            document=doc,
            coder=study.coder1,
            code=rng.choice(codes),
            start=s,
            end=e,
            quote=text[s:e],
        )  # fmt: skip
        for s, e in spans
    )
    codebook = codebook_get(study.project)
    segments = list(Segment.objects.filter(document=doc))
    views = span_views(segments, codebook, own=True)

    pure = timed(lambda: text_html(text, views))
    selector = timed(
        lambda: coding_page_get(
            user=study.coder1, project=study.project, document=doc, show_others=False
        )
    )
    client.force_login(study.coder1)
    url = f"/p/{study.project.slug}/d/{doc.pk}/"
    assert client.get(url).status_code == 200
    page = timed(lambda: client.get(url))
    fragment = timed(
        lambda: client.post(
            url + "segments/",
            {"code": codes[0].pk, "start": 0, "end": 20, "quote": text[:20],
             "client_id": str(uuid.uuid4())},
            headers={"HX-Request": "true"},
        )
    )  # fmt: skip
    assert Segment.objects.filter(document=doc).count() == 500 + 7  # all created
    size = len(client.get(url).content)
    print(
        f"\n10,000 words ({len(text)} code points), 500 segments: "
        f"text_html {pure:.1f} ms, page selector {selector:.1f} ms, "
        f"full page GET {page:.1f} ms ({size // 1024} KiB), "
        f"htmx create response {fragment:.1f} ms"
    )
    assert pure < 100 and page < 1000
