"""The pure text rendering of the coding page (no database).

The browser turns a selection into offsets by counting characters of the
text block, so the block's text must equal the stored text exactly, however
the segments split and nest it.
"""

from html.parser import HTMLParser

from hypothesis import given
from hypothesis import strategies as st

from annotations.importers.text import normalise_newlines
from annotations.selectors.coding_text import (
    INK,
    WHITE,
    Piece,
    SpanView,
    _rgb,
    code_ink,
    code_tint,
    codes_css,
    contrast,
    span_lanes,
    text_escape,
    text_html,
    text_pieces,
)


class _Text(HTMLParser):
    """Collects what a browser's textContent would be, and the spans."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.spans, self.tags = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attrs = dict(attrs)
        if "data-segs" in attrs:
            self.spans.append((len("".join(self.parts)), attrs))

    def handle_data(self, data):
        self.parts.append(data)

    @property
    def text(self):
        return "".join(self.parts)


def parse(html: str) -> _Text:
    p = _Text()
    p.feed(html)
    p.close()
    return p


def check_tiling(text: str, spans: list[tuple[int, int]]) -> list[Piece]:
    pieces = text_pieces(len(text), spans)
    assert "".join(text[p.start : p.end] for p in pieces) == text
    for a, b in zip(pieces, pieces[1:], strict=False):
        assert a.end == b.start
    for p in pieces:
        for i, (s, e) in enumerate(spans):
            inside = s <= p.start and p.end <= e and s < e
            outside = p.end <= s or e <= p.start or e <= s
            assert inside or outside, (p, (s, e))
            assert (i in p.covering) == inside
    return pieces


def test_pieces_split_at_every_boundary():
    assert text_pieces(10, [(2, 6), (4, 8)]) == [
        Piece(0, 2, ()),
        Piece(2, 4, (0,)),
        Piece(4, 6, (0, 1)),
        Piece(6, 8, (1,)),
        Piece(8, 10, ()),
    ]


def test_pieces_of_empty_text_and_no_spans():
    assert text_pieces(0, []) == []
    assert text_pieces(5, []) == [Piece(0, 5, ())]


def test_pieces_ignore_empty_and_clip_out_of_range_spans():
    assert text_pieces(4, [(2, 2), (3, 99)]) == [Piece(0, 3, ()), Piece(3, 4, (1,))]


def test_nested_and_identical_spans():
    pieces = check_tiling("abcdefghij", [(0, 10), (2, 4), (2, 4), (3, 8)])
    assert Piece(3, 4, (0, 1, 2, 3)) in pieces


def test_emoji_flags_and_combining_accents_are_whole_pieces():
    text = "a🎉b🇪🇺c cafe\u0301\u0301 e"
    flag = text.index("🇪🇺")
    accent = text.index("e\u0301")
    pieces = check_tiling(text, [(flag, flag + 2), (accent, accent + 3)])
    covered = [text[p.start : p.end] for p in pieces if p.covering]
    assert covered == ["🇪🇺", "e\u0301\u0301"]


def test_arabic_and_hebrew():
    text = "Telegram قناة مغلقة and שלום עולם end"
    arabic = text.index("قناة")
    hebrew = text.index("עולם")
    pieces = check_tiling(text, [(arabic, arabic + 10), (hebrew, hebrew + 4)])
    assert [text[p.start : p.end] for p in pieces if p.covering] == [
        "قناة مغلقة",
        "עולם",
    ]


def test_crlf_imported_text_counts_one_character_per_line_break():
    imported = "Line one\r\nLine two\r\nLine three"
    text = normalise_newlines(imported)
    start = text.index("two")
    pieces = check_tiling(text, [(start, start + 3)])
    assert [text[p.start : p.end] for p in pieces if p.covering] == ["two"]
    assert start == len("Line one\nLine ")


def test_lanes_never_shared_by_overlapping_spans():
    spans = [(0, 10), (2, 4), (5, 12), (10, 11)]
    assert span_lanes(spans) == [0, 1, 1, 0]


@given(
    st.lists(
        st.tuples(st.integers(0, 40), st.integers(0, 40)).map(sorted).map(tuple),
        max_size=12,
    )
)
def test_pieces_and_lanes_for_any_spans(spans):
    text = "x" * 40
    check_tiling(text, spans)
    real = [(s, e) for s, e in spans if s < e]
    lanes = span_lanes(real)
    for i, (s1, e1) in enumerate(real):
        for j, (s2, e2) in enumerate(real):
            if i != j and s1 < e2 and s2 < e1:
                assert lanes[i] != lanes[j]


def test_html_text_equals_stored_text_and_script_is_only_text():
    text = 'Telegram 🎉 قناة <script>alert("x")</script> &amp; cafe\u0301 🇪🇺\nend'
    s = text.index("<script>")
    spans = [
        SpanView(1, 0, 8, 11, "actor"),
        SpanView(2, s, s + 33, 12, 'code "<b>"'),
        SpanView(3, s + 20, len(text) - 4, 13, "other (coder2)", own=False),
    ]
    html = text_html(text, spans)
    assert "<script" not in html and "</script" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)" in html
    assert "&amp;amp;" in html
    parsed = parse(html)
    assert parsed.text == text
    assert set(parsed.tags) == {"span"}
    # Titles are escaped too.
    assert "code &quot;&lt;b&gt;&quot;" in html


def test_html_marks_pieces_with_segments_lanes_and_anchors():
    text = "abcdefghij"
    html = text_html(text, [SpanView(7, 2, 6, 1, "a"), SpanView(8, 4, 8, 2, "b")])
    assert html.count('class="anchor"') == 2
    assert '<span id="at-7" class="anchor"></span>' in html
    assert html.index('id="at-8"') < html.index("efgh"[0:2])
    parsed = parse(html)
    segs = [a["data-segs"] for _, a in parsed.spans]
    assert segs == ["7", "7 8", "8"]
    # The overlap shows both underlines and is marked multi; lanes differ.
    overlap = parsed.spans[1][1]["class"].split()
    assert {"seg", "multi", "u0-1", "u1-2", "b-2"} <= set(overlap)


def test_others_only_pieces_get_no_background():
    html = text_html("abcdef", [SpanView(1, 0, 3, 5, "x (coder2)", own=False)])
    assert "only-other" in html and "b-5" not in html


def test_carriage_return_survives_as_a_character_reference():
    assert text_escape("a\rb") == "a&#13;b"
    assert parse(text_html("a\rb", [])).text == "a\rb"


@given(st.from_regex(r"#[0-9a-f]{6}", fullmatch=True))
def test_code_colours_keep_text_readable(color):
    assert contrast(_rgb(code_tint(color)), INK) >= 7
    assert contrast(_rgb(code_ink(color)), WHITE) >= 3


def test_light_codebook_colours_are_kept_as_they_are():
    assert code_tint("#f5eea3") == "#f5eea3"


def test_codes_css_has_a_class_per_code_and_lane():
    css = codes_css([(3, "#F5A3A3"), (4, "#1f5fa8")])
    assert ".b-3{background-color:#f5a3a3}" in css
    assert ".u3-4{--u3:" in css and ".k-4{--cink:" in css
    # A dark code colour is lightened under dark text.
    tint = css.split(".b-4{background-color:")[1][:7]
    assert contrast(_rgb(tint), INK) >= 7
