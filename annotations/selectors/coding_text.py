"""The article as HTML, and code colours: pure functions, no database.

The article is rendered as one pre-wrapped block whose ``textContent`` equals
``Document.text`` exactly, so the browser can turn a DOM selection into
offsets by counting characters. Segments are drawn over it by splitting the
text at every segment boundary (:func:`text_pieces`): each piece is wrapped in
one ``<span>`` that lists the segments covering it, with one underline lane
per overlapping segment (:func:`span_lanes`).
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.safestring import SafeString, mark_safe

# Underline lanes drawn under the text; deeper overlaps share the last lane.
MAX_LANES = 4
INK = (0x1A, 0x1A, 0x1A)  # the page's text colour (app.css --ink)
WHITE = (0xFF, 0xFF, 0xFF)


# ---------------------------------------------------------------- pure text


@dataclass(frozen=True, slots=True)
class Piece:
    """``text[start:end]``, covered by the spans listed in ``covering``
    (indexes into the sequence given to :func:`text_pieces`, ascending)."""

    start: int
    end: int
    covering: tuple[int, ...] = ()


def text_pieces(length: int, spans: Sequence[tuple[int, int]]) -> list[Piece]:
    """Split ``[0, length)`` at every span boundary.

    Every piece lies wholly inside or wholly outside each span, so one element
    per piece can carry the list of spans covering it. Pieces tile the text in
    order without gaps; spans outside the text are clipped, empty ones ignored.

    >>> text_pieces(10, [(2, 6), (4, 8)])  # doctest: +NORMALIZE_WHITESPACE
    [Piece(start=0, end=2, covering=()), Piece(start=2, end=4, covering=(0,)),
     Piece(start=4, end=6, covering=(0, 1)), Piece(start=6, end=8, covering=(1,)),
     Piece(start=8, end=10, covering=())]
    """
    starts_at: dict[int, list[int]] = defaultdict(list)
    ends_at: dict[int, list[int]] = defaultdict(list)
    bounds = {0, length}
    for index, (start, end) in enumerate(spans):
        start, end = max(0, min(start, length)), max(0, min(end, length))
        if end <= start:
            continue
        bounds.update((start, end))
        starts_at[start].append(index)
        ends_at[end].append(index)
    order = sorted(bounds)
    active: set[int] = set()
    pieces = []
    for a, b in zip(order, order[1:], strict=False):
        active.difference_update(ends_at.get(a, ()))
        active.update(starts_at.get(a, ()))
        pieces.append(Piece(a, b, tuple(sorted(active))))
    return pieces


def span_lanes(spans: Sequence[tuple[int, int]]) -> list[int]:
    """A lane per span such that overlapping spans never share a lane.

    Greedy interval colouring in order of (start, longest first): outer spans
    get the low lanes, so nested ones are drawn beneath them consistently
    along their whole length.

    >>> span_lanes([(0, 10), (2, 4), (5, 12), (10, 11)])
    [0, 1, 1, 0]
    """
    order = sorted(range(len(spans)), key=lambda i: (spans[i][0], -spans[i][1], i))
    lane_ends: list[int] = []
    lanes = [0] * len(spans)
    for i in order:
        start, end = spans[i]
        for lane, lane_end in enumerate(lane_ends):
            if lane_end <= start:
                lane_ends[lane] = end
                lanes[i] = lane
                break
        else:
            lanes[i] = len(lane_ends)
            lane_ends.append(end)
    return lanes


def text_escape(text: str) -> str:
    """HTML-escape text so the parsed DOM text equals it exactly.

    The HTML parser turns a raw CR into LF; as a character reference it
    survives, so offsets stay exact even for text that kept a CR.
    """
    return html.escape(text).replace("\r", "&#13;")


@dataclass(frozen=True, slots=True)
class SpanView:
    """What the text block needs to know about one segment."""

    id: int
    start: int
    end: int
    code_id: int
    label: str
    own: bool = True


def text_html(text: str, spans: Sequence[SpanView]) -> SafeString:
    """The article as HTML: escaped text, segments as ``span.seg`` pieces.

    Each covered piece gets ``data-segs`` (segment ids, outermost first), a
    ``title`` naming the codes, ``b-<code>`` for the background of the
    innermost own segment and ``u<lane>-<code>`` for each underline. An empty
    ``span#at-<id>`` marks where each segment starts (for jump links). No
    markup adds text, so the block's ``textContent`` equals ``text``.
    """
    spans = sorted(spans, key=lambda s: (s.start, -s.end, s.id))
    bounds = [(s.start, s.end) for s in spans]
    lanes = span_lanes(bounds)
    out: list[str] = []
    for piece in text_pieces(len(text), bounds):
        chunk = text_escape(text[piece.start : piece.end])
        if not piece.covering:
            out.append(chunk)
            continue
        covering = [spans[i] for i in piece.covering]
        out.extend(
            f'<span id="at-{s.id}" class="anchor"></span>'
            for s in covering
            if s.start == piece.start
        )
        own = [i for i in piece.covering if spans[i].own]
        classes = ["seg"]
        if own:
            top = max(own, key=lambda i: (lanes[i], i))
            classes.append(f"b-{spans[top].code_id}")
        else:
            classes.append("only-other")
        if len(covering) > 1:
            classes.append("multi")
        classes.extend(
            f"u{min(lanes[i], MAX_LANES - 1)}-{spans[i].code_id}"
            for i in piece.covering
        )
        ids = " ".join(str(s.id) for s in covering)
        title = html.escape("; ".join(s.label for s in covering))
        out.append(
            f'<span class="{" ".join(classes)}" data-segs="{ids}" '
            f'title="{title}">{chunk}</span>'
        )
    return mark_safe("".join(out))  # noqa: S308 - every piece of text is escaped


def short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class SegmentItem:
    """One line of the segment list."""

    id: int
    quote: str
    memo: str = ""
    coder: str = ""  # set for other coders' segments (read only)


def segment_items_html(
    items: Sequence[SegmentItem], *, page_url: str, segments_url: str
) -> SafeString:
    """The ``<li>`` lines of the segment list: a jump link to the segment's
    place in the text and a link opening its panel (a plain link without JS).

    Built here rather than in a template loop: 500 lines through the template
    engine cost hundreds of milliseconds, this a few.
    """
    esc = html.escape
    out = []
    for item in items:
        i = item.id
        quote = esc(short(item.quote, 90))
        extra = (
            f' <span class="muted">{esc(item.coder)}</span>'
            if item.coder
            else (
                f' <span class="memo-flag" title="{esc(item.memo)}">memo</span>'
                if item.memo
                else ""
            )
        )
        verb = "View" if item.coder else "Edit"
        out.append(
            f'<li id="seg-{i}"><a class="jump" href="#at-{i}" data-seg="{i}">{quote}</a>'
            f'{extra} <a class="edit" href="{esc(page_url)}?seg={i}#panel" '
            f'data-panel="{esc(segments_url)}{i}/" aria-label="{verb} segment: '
            f'{esc(short(item.quote, 40))}">{verb}</a></li>'
        )
    return mark_safe("".join(out))  # noqa: S308 - every value is escaped


# ---------------------------------------------------------------- pure colour


def _rgb(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return int(color[0:2], 16), int(color[2:4], 16), int(color[4:6], 16)


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{round(max(0, min(255, c))):02x}" for c in rgb)


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """WCAG 2 contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _mix(a, b, t: float) -> tuple[float, float, float]:
    return tuple(x + (y - x) * t for x, y in zip(a, b, strict=True))


def code_tint(color: str, *, minimum: float = 7.0) -> str:
    """The code's colour, lightened until dark text on it reaches ``minimum``
    contrast (WCAG AAA is 7:1): light codebook colours stay as they are."""
    rgb = _rgb(color)
    for step in range(11):
        mixed = _hex(_mix(rgb, WHITE, step / 10))
        if contrast(_rgb(mixed), INK) >= minimum:
            return mixed
    return "#ffffff"


def code_ink(color: str, *, minimum: float = 3.0) -> str:
    """The code's colour, darkened until it stands out from white by
    ``minimum`` (WCAG's 3:1 for graphics): used for underlines and swatches."""
    rgb = _rgb(color)
    for step in range(11):
        mixed = _hex(_mix(rgb, (0, 0, 0), step / 10))
        if contrast(_rgb(mixed), WHITE) >= minimum:
            return mixed
    return "#000000"


def codes_css(codes: Sequence[tuple[int, str]]) -> str:
    """One small stylesheet with a class per code colour (the CSP forbids
    ``style=""``): ``b-ID`` background tint, ``k-ID`` sets --cink (swatch and border ink) and --tint,
    ``u<lane>-ID`` the underline variable of each lane."""
    rules = []
    for code_id, color in codes:
        tint, ink = code_tint(color), code_ink(color)
        rules.append(f".b-{code_id}{{background-color:{tint}}}")
        rules.append(f".k-{code_id}{{--cink:{ink};--tint:{tint}}}")
        rules.extend(
            f".u{lane}-{code_id}{{--u{lane}:{ink}}}" for lane in range(MAX_LANES)
        )
    return "\n".join(rules) + "\n"
