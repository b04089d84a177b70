"""Fuzzing the REFI-QDA (.qdpx) import: generated projects with random
users, code trees, sources and selections (bad offsets, odd characters,
missing or broken text files), plus random bytes. Every case ends in an
InputError with a readable message or a correct import: never another
exception, never a partial write."""

import io
import os
import uuid
import zipfile
from xml.sax.saxutils import escape, quoteattr

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from annotations.importers.refi_qda import parse_qdpx
from annotations.services.errors import InputError
from annotations.services.qdpx import qdpx_import
from tests.security.test_fuzz_importers import assert_readable, counts, run_isolated

FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

guid = st.uuids().map(str)
# Mostly characters XML allows (so examples get past the parser), sometimes any.
xml_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))
    | st.sampled_from("\n\t"),
    max_size=20,
)
name = st.one_of(
    xml_text,
    xml_text,
    st.text(max_size=20),
    st.sampled_from(["", "a/b", " ", "x" * 300, "<b>", "Jane Doe", "🎉", "consensus"]),
)
body = st.one_of(
    xml_text,
    xml_text,
    st.text(max_size=60),
    st.sampled_from(["a\r\nb\r\nc", "\x00nul", "🎉🇪🇺 قناة", "   ", ""]),
)
position = st.one_of(
    st.integers(min_value=-5, max_value=80).map(str),
    st.sampled_from(["", "x", "1.5", "99999999999999999999999"]),
)


def attr(key, value):
    return f" {key}={quoteattr(value)}" if value is not None else ""


@st.composite
def projects(draw):
    users = draw(st.lists(st.tuples(guid, name), max_size=3))
    codes = draw(st.lists(st.tuples(guid, name, st.sampled_from(
        [None, "#ff0000", "#F0A", "red", ""])), max_size=4))  # fmt: skip
    nest = draw(st.booleans())
    sources = []
    files = {}
    for _ in range(draw(st.integers(0, 3))):
        sguid = draw(guid)
        text = draw(body)
        inline = draw(st.booleans())
        if not inline:
            raw = draw(st.one_of(
                st.just(text.encode("utf-8", "surrogatepass")),
                st.binary(max_size=30),
            ))  # fmt: skip
            if draw(st.booleans()):
                files[f"sources/{sguid}.txt"] = raw
        selections = []
        for _ in range(draw(st.integers(0, 3))):
            user = draw(st.sampled_from([u for u, _ in users] + [None]))
            code = draw(st.sampled_from([c for c, _, _ in codes] + [str(uuid.uuid4())]))
            selections.append(
                f"<PlainTextSelection{attr('guid', draw(guid))}"
                f"{attr('startPosition', draw(position))}"
                f"{attr('endPosition', draw(position))}{attr('creatingUser', user)}>"
                f"<Description>{escape(draw(body))}</Description>"
                f"<Coding{attr('guid', draw(guid))}><CodeRef{attr('targetGUID', code)}/>"
                "</Coding></PlainTextSelection>"
            )
        content = (
            f"<PlainTextContent>{escape(text)}</PlainTextContent>" if inline else ""
        )
        path = None if inline else f"internal://{sguid}.txt"
        sources.append(
            f"<TextSource{attr('guid', sguid)}{attr('name', draw(name))}"
            f"{attr('plainTextPath', path)}>{content}{''.join(selections)}</TextSource>"
        )
    code_xml = ""
    for cguid, cname, color in reversed(codes):
        inner = code_xml if nest else ""
        code_xml = (
            f'<Code{attr("guid", cguid)}{attr("name", cname)} isCodable="true"'
            f"{attr('color', color)}>{inner}</Code>" + ("" if nest else code_xml)
        )
    qde = (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<Project xmlns="urn:QDA-XML:project:1.0"{attr("name", draw(name))}>'
        + ("<Users>" + "".join(f"<User{attr('guid', g)}{attr('name', n)}/>"
                               for g, n in users) + "</Users>" if users else "")
        + (f"<CodeBook><Codes>{code_xml}</Codes></CodeBook>" if codes else "")
        + (f"<Sources>{''.join(sources)}</Sources>" if sources else "")
        + "</Project>"
    )  # fmt: skip
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", qde.encode("utf-8", "surrogatepass"))
        for path, data in files.items():
            archive.writestr(path, data)
    return buffer.getvalue()


@FUZZ
@given(data=st.one_of(projects(), st.binary(max_size=300)))
def test_qdpx_import_is_all_or_nothing(study, data):
    def go():
        return qdpx_import(
            project=study.project, parsed=parse_qdpx(data), source="f.qdpx"
        )

    outcome, before, after = run_isolated(go)
    if isinstance(outcome, InputError):
        event("refused: " + outcome.problems[0].message[:25])
        assert_readable(outcome)
        assert after == before
    else:
        event("imported")
        assert after[0] == before[0] + outcome.get("documents_created", 0)
        assert after[2] >= before[2]


def test_a_source_file_with_nul_bytes_is_refused_clearly(study):
    sguid = str(uuid.uuid4())
    qde = (
        '<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0"'
        f' name="p"><Sources><TextSource guid="{sguid}" name="s"'
        f' plainTextPath="internal://{sguid}.txt"/></Sources></Project>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("project.qde", qde)
        archive.writestr(f"sources/{sguid}.txt", b"text\x00with a NUL")
    before = counts()
    try:
        qdpx_import(project=study.project, parsed=parse_qdpx(buffer.getvalue()),
                    source="f.qdpx")  # fmt: skip
    except InputError as exc:
        assert "NUL" in str(exc)
    else:
        raise AssertionError("a NUL character was imported")
    assert counts() == before
