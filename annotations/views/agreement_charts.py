"""Server-rendered SVG for the agreement pages: coefficients with their
confidence intervals, coder-pair heat maps, and one document's coders as
lanes along its text.

Plain inline SVG, no chart library and no script. Colours are SVG
presentation attributes (``fill="#..."``), which the CSP allows; every text
goes through ``format_html`` and is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from ..stats.thresholds import GOOD, TENTATIVE


def band(value: float | None) -> str:
    """The threshold band of a chance-corrected coefficient."""
    if value is None:
        return "undefined"
    if value >= GOOD:
        return "good"
    if value >= TENTATIVE:
        return "tentative"
    return "poor"


def _mix(a: str, b: str, t: float) -> str:
    ca = [int(a[i : i + 2], 16) for i in (1, 3, 5)]
    cb = [int(b[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(
        f"{round(x + (y - x) * t):02x}" for x, y in zip(ca, cb, strict=True)
    )


# red below .667, amber between the thresholds, green above .8
_SCALE = [(-1.0, "#7f1d1d"), (0.0, "#b91c1c"), (0.5, "#f87171"), (TENTATIVE, "#fbbf24"),
          (GOOD, "#86efac"), (1.0, "#15803d")]  # fmt: skip


def heat_color(value: float | None) -> str:
    if value is None:
        return "#e5e5e0"
    v = max(-1.0, min(1.0, value))
    for (x0, c0), (x1, c1) in zip(_SCALE, _SCALE[1:], strict=False):
        if v <= x1:
            return _mix(c0, c1, (v - x0) / (x1 - x0) if x1 > x0 else 0.0)
    return _SCALE[-1][1]


def _ink(fill: str) -> str:
    r, g, b = (int(fill[i : i + 2], 16) for i in (1, 3, 5))
    return "#ffffff" if 0.299 * r + 0.587 * g + 0.114 * b < 140 else "#1a1a1a"


def fmt(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


# -- coefficients with CI bars ---------------------------------------------------


@dataclass(frozen=True)
class Series:
    label: str
    shape: str  # "circle" or "diamond"
    color: str
    points: Sequence[tuple[float | None, float | None, float | None]]  # per row


def ci_chart(
    labels: Sequence[str], series: Sequence[Series], *, title: str
) -> SafeString:
    """One row per label; each series draws its value with a CI whisker;
    dashed lines mark .667 and .800."""
    row_h, left, right, top = 22, 210, 30, 34
    width = 760
    plot_w = width - left - right
    values = [x for s in series for p in s.points for x in p if x is not None]
    lo = min([0.0, *values])
    lo = -1.0 if lo < -0.5 else (-0.5 if lo < 0 else 0.0)
    height = top + row_h * max(len(labels), 1) + 30

    def x(v: float) -> float:
        return round(left + (v - lo) / (1.0 - lo) * plot_w, 1)

    parts = [
        format_html(
            '<svg class="ci-chart" viewBox="0 0 {} {}" width="100%" role="img" '
            'aria-labelledby="ci-title" xmlns="http://www.w3.org/2000/svg">'
            '<title id="ci-title">{}</title>',
            width,
            height,
            title,
        )  # fmt: skip
    ]
    # bands and thresholds
    parts.append(format_html(
        '<rect x="{}" y="{}" width="{}" height="{}" fill="#fdecec"/>'
        '<rect x="{}" y="{}" width="{}" height="{}" fill="#fff7e0"/>'
        '<rect x="{}" y="{}" width="{}" height="{}" fill="#eaf6ec"/>',
        x(lo), top - 6, x(TENTATIVE) - x(lo), height - top - 24,
        x(TENTATIVE), top - 6, x(GOOD) - x(TENTATIVE), height - top - 24,
        x(GOOD), top - 6, x(1.0) - x(GOOD), height - top - 24,
    ))  # fmt: skip
    ticks = [t / 10 for t in range(int(lo * 10), 11, 2 if lo < 0 else 1)]
    for t in ticks:
        parts.append(format_html(
            '<line x1="{0}" x2="{0}" y1="{1}" y2="{2}" stroke="#d6d6d6"/>'
            '<text x="{0}" y="{3}" text-anchor="middle" class="tick">{4}</text>',
            x(t), top - 6, height - 30, height - 14, f"{t:.1f}".replace("0.", ".") if t else "0",
        ))  # fmt: skip
    for t, name in ((TENTATIVE, ".667"), (GOOD, ".800")):
        parts.append(format_html(
            '<line x1="{0}" x2="{0}" y1="{1}" y2="{2}" stroke="#555" '
            'stroke-dasharray="4 3"/><text x="{0}" y="{3}" text-anchor="middle" '
            'class="tick">{4}</text>',
            x(t), top - 6, height - 30, top - 10, name,
        ))  # fmt: skip
    # legend
    lx = left
    for s in series:
        parts.append(_marker(s.shape, lx + 6, 12, s.color))
        parts.append(format_html(
            '<text x="{}" y="16" class="key">{}</text>', lx + 16, s.label
        ))  # fmt: skip
        lx += 18 + 7 * len(s.label) + 20
    n = len(series)
    for i, label in enumerate(labels):
        y = top + i * row_h + row_h / 2
        parts.append(format_html(
            '<text x="{}" y="{}" text-anchor="end" class="label">{}</text>',
            left - 8, y + 4, label if len(label) <= 30 else label[:29] + "…",
        ))  # fmt: skip
        for j, s in enumerate(series):
            value, low, high = s.points[i]
            yy = round(y + (j - (n - 1) / 2) * 6, 1)
            if value is None:
                continue
            if low is not None and high is not None:
                parts.append(format_html(
                    '<line x1="{0}" x2="{1}" y1="{2}" y2="{2}" stroke="{3}" stroke-width="2"/>'
                    '<line x1="{0}" x2="{0}" y1="{4}" y2="{5}" stroke="{3}"/>'
                    '<line x1="{1}" x2="{1}" y1="{4}" y2="{5}" stroke="{3}"/>',
                    x(max(low, lo)), x(high), yy, s.color, yy - 3, yy + 3,
                ))  # fmt: skip
            ci = f" [{fmt(low)}, {fmt(high)}]" if low is not None else ""
            parts.append(format_html(
                "<g>{}<title>{}: {} {}{}</title></g>",
                _marker(s.shape, x(max(value, lo)), yy, s.color),
                label, s.label, fmt(value), ci,
            ))  # fmt: skip
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(parts))  # noqa: S308 - every part is format_html


def _marker(shape: str, cx: float, cy: float, color: str) -> SafeString:
    if shape == "diamond":
        return format_html(
            '<path d="M{} {}l4 4l-4 4l-4 -4z" fill="{}"/>', cx, cy - 4, color
        )
    return format_html('<circle cx="{}" cy="{}" r="4" fill="{}"/>', cx, cy, color)


# -- pair heat map -----------------------------------------------------------------


def heat_map(
    coders: Sequence[str],
    values: dict[tuple[str, str], float | None],
    *,
    title: str,
    compact: bool = False,
) -> SafeString:
    """A symmetric coder x coder matrix of a pairwise coefficient."""
    cell = 34 if compact else 46
    label_w = max(7 * max((len(c) for c in coders), default=4), 40) + 10
    n = len(coders)
    width = max(label_w + n * cell + 4, 7 * len(title) + 10)
    height = 24 + label_w + n * cell
    parts = [
        format_html(
            '<svg class="heat" viewBox="0 0 {} {}" width="{}" role="img" '
            'xmlns="http://www.w3.org/2000/svg"><title>{}</title>'
            '<text x="0" y="14" class="heat-title">{}</text>',
            width,
            height,
            width,
            title,
            title,
        )  # fmt: skip
    ]
    top = 24 + label_w
    for i, name in enumerate(coders):
        cx = label_w + i * cell + cell / 2
        parts.append(format_html(
            '<text x="{0}" y="{1}" transform="rotate(-60 {0} {1})" class="label">{2}</text>'
            '<text x="{3}" y="{4}" text-anchor="end" class="label">{2}</text>',
            cx, top - 4, name, label_w - 6, top + i * cell + cell / 2 + 4,
        ))  # fmt: skip
    for i, a in enumerate(coders):
        for j, b in enumerate(coders):
            x0, y0 = label_w + j * cell, top + i * cell
            if i == j:
                parts.append(format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="#f0f0ec"/>',
                    x0, y0, cell - 2, cell - 2,
                ))  # fmt: skip
                continue
            key = (a, b) if (a, b) in values else (b, a)
            if key not in values:
                continue
            v = values[key]
            fill = heat_color(v)
            parts.append(format_html(
                '<g class="cell" data-pair="{};{}" data-value="{}"><rect x="{}" y="{}" '
                'width="{}" height="{}" fill="{}"/><text x="{}" y="{}" '
                'text-anchor="middle" fill="{}" class="cell-value">{}</text>'
                "<title>{} × {}: {}</title></g>",
                a, b, "" if v is None else repr(v), x0, y0, cell - 2, cell - 2, fill,
                x0 + cell / 2 - 1, y0 + cell / 2 + 4, _ink(fill),
                fmt(v, 2).replace("0.", ".") if v is not None else "—", a, b, fmt(v),
            ))  # fmt: skip
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(parts))  # noqa: S308 - every part is format_html


# -- lanes of one document -----------------------------------------------------------


def lanes_chart(
    length: int,
    lanes: Sequence[tuple[str, Sequence[tuple[int, int, str, str]]]],
    disagreements: Sequence[tuple[int, int]],
) -> SafeString:
    """Each coder's segments ``(start, end, colour, label)`` as a lane along
    the text (x = offset), then a lane marking where the coders disagree."""
    width, left, lane_h = 1000, 110, 20
    plot_w = width - left - 10
    height = 10 + lane_h * (len(lanes) + 1) + 20
    scale = plot_w / max(length, 1)
    parts = [
        format_html(
            '<svg class="lanes" viewBox="0 0 {} {}" width="100%" role="img" '
            'xmlns="http://www.w3.org/2000/svg"><title>{}</title>',
            width,
            height,
            "Each coder's segments along the text",
        )  # fmt: skip
    ]
    rows = [
        *lanes,
        ("disagreement", [(s, e, "#b91c1c", "disagreement") for s, e in disagreements]),
    ]
    for i, (name, segs) in enumerate(rows):
        y = 10 + i * lane_h
        parts.append(format_html(
            '<rect x="{}" y="{}" width="{}" height="{}" fill="#f4f4f0"/>'
            '<text x="{}" y="{}" text-anchor="end" class="label">{}</text>',
            left, y, plot_w, lane_h - 6, left - 6, y + lane_h - 9, name,
        ))  # fmt: skip
        parts.append(format_html_join(
            "",
            '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" opacity="0.85">'
            "<title>{}</title></rect>",
            (
                (round(left + s * scale, 1), y, max(round((e - s) * scale, 1), 1.0),
                 lane_h - 6, color, f"{name}: {label} [{s}, {e})")
                for s, e, color, label in segs
            ),
        ))  # fmt: skip
    y = 10 + len(rows) * lane_h + 8
    for t in range(0, 11, 2):
        offset = round(length * t / 10)
        parts.append(format_html(
            '<text x="{}" y="{}" text-anchor="middle" class="tick">{}</text>',
            left + plot_w * t / 10, y, offset,
        ))  # fmt: skip
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(parts))  # noqa: S308 - every part is format_html
