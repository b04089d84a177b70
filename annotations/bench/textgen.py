"""Synthetic articles and coding for benchmarks: pure Python, no Django.

Articles are word salad drawn from a news vocabulary, laid out in sentences
and paragraphs, about 800 words each. Some words are not ASCII (accents,
Arabic, emoji outside the Basic Multilingual Plane, a flag, a combining
accent), so every offset is honest: a quote is ``text[start:end]`` in code
points, never in bytes or UTF-16 units.

Coding imitates several coders reading the same article: they mostly agree
with a hidden "gold" coding, with jittered boundaries, some missed segments,
some different codes and a few segments of their own.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

COMMON = (  # noqa: SIM905
    "the of and to in a is that for on with as was by it at from were this be "
    "have are has an which their not but had its they also been more after "
    "than over who into other about some would could most when there many "
    "said new two three first last year years week month day people state"
).split()
DOMAIN = (  # noqa: SIM905
    "police agency operation platform channel account accounts network content "
    "propaganda recruitment removal takedown server servers website websites "
    "group groups online messaging encrypted telegram europol interpol court "
    "law enforcement referral action video videos newsletter claims attack "
    "supporters followers moderation policy government ministry officials "
    "analysts researchers report reports investigation arrests suspects "
    "cooperation international european national security terrorism extremist "
    "violent digital infrastructure hosting providers cryptocurrency donations "
    "users community guidelines appeal transparency oversight rights privacy "
    "journalists media outlets archive archives mirror mirrors migration "
    "alternative apps decentralised resilient effect effective impact "
    "evidence data removed suspended banned blocked restored coordinated "
    "northern southern region province conflict insurgents militants civilians"
).split()
# Non-ASCII words keep offsets honest: 2-byte, RTL, astral-plane and combining.
SPECIAL = [
    "café",
    "naïve",
    "Zürich",
    "São",
    "Paulo",
    "Málaga",
    "Wrocław",
    "قناة",
    "الدولة",
    "مؤسسة",
    "🎉",
    "🇪🇺",
    "e\u0301lite",
    "“critical”",
    "—",
]
OUTLETS = [
    "Reuters",
    "Le Monde",
    "Al Jazeera",
    "The Guardian",
    "El País",
    "Der Spiegel",
]

CODE_NAMES = [
    "takedown",
    "propaganda",
    "recruitment",
    "legal_basis",
    "criticism",
    "effectiveness",
    "cooperation",
    "victims",
    "financing",
    "encryption",
    "platform_migration",
    "human_rights",
    "transparency",
    "automation",
    "appeal",
    "counter_narrative",
    "state_actor",
    "journalism",
    "research",
    "violence",
    "arrests",
    "infrastructure",
    "moderation",
    "resilience",
]
PALETTE = [
    "#ffd6a5", "#caffbf", "#9bf6ff", "#bdb2ff", "#ffc6ff", "#fdffb6",
    "#ffadad", "#a0c4ff", "#d0f4de", "#fcf6bd", "#e4c1f9", "#b8f2e6",
]  # fmt: skip
KEYS = "abcdefghijklmnopqrstuvwxyz0123456789"


@dataclass(frozen=True)
class CodeSpec:
    """One codebook entry; ``parent`` is an index into the list or None."""

    name: str
    parent: int | None
    color: str
    key: str
    level: str = ""
    value: float | None = None
    applied: bool = True


def codebook_spec(n_codes: int) -> list[CodeSpec]:
    """A codebook of ``n_codes`` entries: an ``actor`` parent with three
    children, an ordinal ``tone`` variable with three values, and flat codes.

    Parents are not applied; every other code is.
    """
    if n_codes < 8:
        raise ValueError("at least 8 codes (two parents with three children each)")
    specs: list[CodeSpec] = []

    def add(name, parent=None, level="", value=None, applied=True):
        i = len(specs)
        key = KEYS[i] if i < len(KEYS) else ""
        specs.append(
            CodeSpec(
                name, parent, PALETTE[i % len(PALETTE)], key, level, value, applied
            )
        )
        return i

    actor = add("actor", applied=False)
    for name in ("law_enforcement", "platform", "extremist_group"):
        add(name, parent=actor)
    tone = add("tone", level="ordinal", applied=False)
    for value, name in enumerate(("negative", "neutral", "positive"), start=1):
        add(name, parent=tone, value=float(value))
    for i in range(n_codes - len(specs)):
        name = CODE_NAMES[i] if i < len(CODE_NAMES) else f"code_{i + 1:02d}"
        add(name)
    return specs


@dataclass
class Article:
    external_id: str
    title: str
    source: str
    published: dt.date
    text: str
    # (start, end) of every word, in code points.
    words: list[tuple[int, int]]


def article_make(rng: random.Random, index: int, n_words: int = 800) -> Article:
    """One article of about ``n_words`` words (paragraphs of sentences)."""
    vocab = COMMON * 3 + DOMAIN
    parts: list[str] = []
    words: list[tuple[int, int]] = []
    pos = 0
    count = 0
    target = max(20, int(rng.gauss(n_words, n_words * 0.1)))
    while count < target:
        if parts:
            parts.append("\n\n")
            pos += 2
        for s in range(rng.randint(3, 6)):
            if count >= target:
                break
            if s:
                parts.append(" ")
                pos += 1
            length = rng.randint(8, 24)
            sentence = rng.choices(vocab, k=length)
            if rng.random() < 0.35:
                sentence[rng.randrange(length)] = rng.choice(SPECIAL)
            sentence[0] = sentence[0][:1].upper() + sentence[0][1:]
            for w, word in enumerate(sentence):
                if w:
                    parts.append(" ")
                    pos += 1
                words.append((pos, pos + len(word)))
                parts.append(word)
                pos += len(word)
            parts.append(".")
            pos += 1
            count += length
    text = "".join(parts)
    title_words = rng.choices(DOMAIN, k=rng.randint(5, 10))
    if rng.random() < 0.2:
        title_words.append(rng.choice(SPECIAL))
    return Article(
        external_id=f"bench-{index:07d}",
        title=" ".join(title_words).capitalize(),
        source=rng.choice(OUTLETS),
        published=dt.date(2020, 1, 1) + dt.timedelta(days=rng.randrange(5 * 365)),
        text=text,
        words=words,
    )


@dataclass(frozen=True)
class CodingProfile:
    """How coders deviate from the gold coding."""

    miss: float = 0.10  # leave a gold segment out
    other_code: float = 0.07  # apply a different code
    jitter: float = 0.30  # move a boundary by one to three words
    extra: float = 0.05  # per gold segment: add a segment of one's own
    tone_disagree: float = 0.15  # pick an adjacent value of the variable


def coding_make(
    rng: random.Random,
    article: Article,
    *,
    coders: int,
    per_document: int,
    codes: list[CodeSpec],
    profile: CodingProfile = CodingProfile(),
) -> list[list[tuple[int, int, int]]]:
    """Segments ``(code index, start, end)`` for each of ``coders`` coders.

    ``per_document`` gold segments of 2-25 words each, plus one value of the
    ``tone`` variable per coder on the first sentence.
    """
    leaf = [
        i
        for i, c in enumerate(codes)
        if c.applied and codes_parent_name(codes, i) != "tone"
    ]
    tone_values = [
        i for i, c in enumerate(codes) if codes_parent_name(codes, i) == "tone"
    ]
    words = article.words
    n = len(words)
    gold = []
    for _ in range(per_document):
        length = rng.randint(2, min(25, n))
        first = rng.randrange(0, n - length + 1)
        gold.append((rng.choice(leaf), first, first + length - 1))
    gold_tone = rng.randrange(len(tone_values))
    first_sentence_end = min(n - 1, 12)
    out = []
    for _ in range(coders):
        mine: list[tuple[int, int, int]] = []
        for code, a, b in gold:
            if rng.random() < profile.miss:
                continue
            if rng.random() < profile.other_code:
                code = rng.choice(leaf)
            if rng.random() < profile.jitter:
                a = min(max(0, a + rng.choice((-3, -2, -1, 1, 2, 3))), b)
            if rng.random() < profile.jitter:
                b = max(min(n - 1, b + rng.choice((-3, -2, -1, 1, 2, 3))), a)
            mine.append((code, words[a][0], words[b][1]))
        for _ in range(sum(rng.random() < profile.extra for _ in gold)):
            length = rng.randint(2, min(15, n))
            a = rng.randrange(0, n - length + 1)
            mine.append((rng.choice(leaf), words[a][0], words[a + length - 1][1]))
        tone = gold_tone
        if rng.random() < profile.tone_disagree:
            tone = min(max(0, tone + rng.choice((-1, 1))), len(tone_values) - 1)
        mine.append((tone_values[tone], words[0][0], words[first_sentence_end][1]))
        out.append(mine)
    return out


def codes_parent_name(codes: list[CodeSpec], i: int) -> str | None:
    parent = codes[i].parent
    return None if parent is None else codes[parent].name


def long_article(rng: random.Random, *, words: int, segments: int, codes: int):
    """A long article (``words`` words) with ``segments`` segments by one coder,
    for the coding-page figure: ``(article, [(code index, start, end), ...])``."""
    article = article_make(rng, 0, n_words=words)
    spec = codebook_spec(codes)
    leaf = [i for i, c in enumerate(spec) if c.applied]
    n = len(article.words)
    spans = []
    for _ in range(segments):
        length = rng.randint(1, 30)
        a = rng.randrange(0, n - length)
        spans.append(
            (rng.choice(leaf), article.words[a][0], article.words[a + length][1])
        )
    return article, spans
