"""REFI-QDA: the .qdpx and .qdc exports validated with lxml against the
schemas in ../shared/refi-qda, and the import back (round trip, refusals)."""

import io
import zipfile

import pytest
from lxml import etree

from annotations.importers.refi_qda import newline_map, parse_qdpx
from annotations.models import Code, ConsensusSegment, Document, Membership, Segment
from annotations.services import exports
from annotations.services.errors import InputError
from annotations.services.qdpx import qdpx_import
from tests import factories

from .conftest import LONG_MEMO

NS = {"q": "urn:QDA-XML:project:1.0", "c": "urn:QDA-XML:codebook:1.0"}


def export(coded, name, tmp_path, **filters):
    filt = exports.export_filter_build(project=coded.project, **filters)
    path = tmp_path / name
    exports.export_write(project=coded.project, name=name, filt=filt, path=path)
    return path


def qde_of(path):
    with zipfile.ZipFile(path) as z:
        return etree.fromstring(z.read("project.qde")), {
            n: z.read(n).decode("utf-8")
            for n in z.namelist()
            if n.startswith("sources/")
        }


def test_project_qde_is_valid_and_complete(coded, tmp_path, refi_schemas):
    root, sources = qde_of(export(coded, "project.qdpx", tmp_path))
    refi_schemas["project"].assertValid(root)
    users = {u.get("name"): u.get("guid") for u in root.iterfind("q:Users/q:User", NS)}
    assert set(users) == {"coder1", "coder2", "consensus"}
    law = root.find(".//q:Code[@name='actor']/q:Code[@name='law_enforcement']", NS)
    assert law is not None and law.get("color") == "#FFC6FF"
    assert {c.get("isCodable") for c in root.iterfind(".//q:Code", NS)} == {"true"}
    assert len(sources) == 4
    selections = root.findall(".//q:PlainTextSelection", NS)
    assert len(selections) == coded.live_count
    for source in root.iterfind(".//q:TextSource", NS):
        text = sources["sources/" + source.get("plainTextPath")[len("internal://") :]]
        for sel in source.iterfind("q:PlainTextSelection", NS):
            start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            quote = text[start:end]
            assert quote.startswith(sel.get("name"))  # the name is the quote's start
            coding = sel.find("q:Coding", NS)
            assert coding.get("creatingUser") == sel.get("creatingUser")
            assert coding.find("q:CodeRef", NS).get("targetGUID")
    uni = root.find(".//q:TextSource[@name='Unicode']", NS)
    starts = {
        int(s.get("startPosition")) for s in uni.iterfind("q:PlainTextSelection", NS)
    }
    assert {11, 22, 31, 63} <= starts  # after the emoji: code points, not UTF-16
    memos = {d.text for d in root.iterfind(".//q:PlainTextSelection/q:Description", NS)}
    assert LONG_MEMO in memos


def test_guids_are_stable_across_exports(coded, tmp_path, refi_schemas):
    first, _ = qde_of(export(coded, "project.qdpx", tmp_path))
    (tmp_path / "project.qdpx").unlink()
    second, _ = qde_of(export(coded, "project.qdpx", tmp_path))

    def guids(root):
        return sorted(e.get("guid") for e in root.iter() if e.get("guid"))

    assert guids(first) == guids(second)
    assert len(set(guids(first))) == len(guids(first))


def test_codebook_qdc_is_valid(coded, tmp_path, refi_schemas):
    code = coded.study.codes["action"]
    code.definition = "Taking down accounts <& friends>"
    code.save()
    root = etree.parse(str(export(coded, "codebook.qdc", tmp_path))).getroot()
    refi_schemas["codebook"].assertValid(root)
    assert [c.get("name") for c in root.iterfind("c:Codes/c:Code", NS)] == [
        "actor", "action", "platform",
    ]  # fmt: skip
    action = root.find("c:Codes/c:Code[@name='action']/c:Description", NS)
    assert "Definition: Taking down accounts <& friends>" in action.text


def test_codebook_qdc_needs_a_code(db, tmp_path):
    from django.core.exceptions import ValidationError

    empty = factories.ProjectFactory()
    filt = exports.export_filter_build(project=empty)
    with pytest.raises(ValidationError, match="no codes"):
        exports.export_write(
            project=empty, name="codebook.qdc", filt=filt, path=tmp_path / "c.qdc"
        )
    assert not (tmp_path / "c.qdc").exists()


def segment_set(project):
    rows = Segment.objects.filter(document__project=project, deleted_at__isnull=True)
    result = set()
    for s in rows.select_related("document", "code__parent", "coder"):
        path = f"{s.code.parent.name}/{s.code.name}" if s.code.parent else s.code.name
        result.add(
            (
                s.document.external_id,
                s.coder.username,
                path,
                s.start,
                s.end,
                s.quote,
                s.memo,
            )
        )
    return result


def consensus_set(project):
    return {
        (c.document.external_id, c.code.name, c.start, c.end, c.quote, c.memo)
        for c in ConsensusSegment.objects.filter(
            document__project=project
        ).select_related("document", "code")
    }


def test_round_trip_gives_the_same_segments(coded, tmp_path):
    path = export(coded, "project.qdpx", tmp_path)
    target = factories.ProjectFactory(slug="copy")
    parsed = parse_qdpx(path.read_bytes(), "project.qdpx")
    counts = qdpx_import(project=target, parsed=parsed, source="project.qdpx")
    assert counts["segments_created"] == len(coded.segments)
    assert counts["consensus_created"] == len(coded.consensus)
    assert counts["users_created"] == []  # coder1 and coder2 exist already
    assert set(counts["members_added"]) == {"coder1", "coder2"}
    assert segment_set(target) == segment_set(coded.project)
    assert consensus_set(target) == consensus_set(coded.project)
    copied = {d.external_id: d for d in Document.objects.filter(project=target)}
    for doc in coded.study.documents:
        assert copied[doc.external_id].text == doc.text
        assert copied[doc.external_id].title == doc.title
    codes = {c.name: c for c in Code.objects.filter(project=target)}
    assert codes["law_enforcement"].parent == codes["actor"]
    assert codes["law_enforcement"].color == "#ffc6ff"
    # Importing the same file again changes nothing.
    again = qdpx_import(project=target, parsed=parsed, source="project.qdpx")
    assert again["segments_created"] == again["consensus_created"] == 0
    assert again["segments_skipped"] == coded.live_count


QDE_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="urn:QDA-XML:project:1.0" name="Other tool">'
U1 = "11111111-1111-1111-1111-111111111111"
C1 = "22222222-2222-2222-2222-222222222222"
C2 = "33333333-3333-3333-3333-333333333333"
S1 = "44444444-4444-4444-4444-444444444444"


def qdpx(qde: str, files: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("project.qde", qde.encode("utf-8"))
        for name, data in (files or {}).items():
            z.writestr(name, data)
    return buffer.getvalue()


def other_tool_project(start=9, end=14):
    return (
        QDE_HEAD
        + f'<Users><User guid="{U1}" name="Jane Doe"/></Users>'
        + f'<CodeBook><Codes><Code guid="{C1}" name="Themes" isCodable="false" color="#F0A">'
        + f'<Code guid="{C2}" name="fear/anger" isCodable="true"/></Code></Codes></CodeBook>'
        + f'<Sources><TextSource guid="{S1}" name="Interview 1" plainTextPath="internal://{S1}.txt">'
        + f'<PlainTextSelection guid="{S1[:-1]}5" startPosition="{start}" endPosition="{end}" creatingUser="{U1}">'
        + '<Description>a memo</Description>'
        + f'<Coding guid="{S1[:-1]}6"><CodeRef targetGUID="{C2}"/></Coding>'
        + "</PlainTextSelection></TextSource></Sources></Project>"
    )  # fmt: skip


def test_import_from_another_tool_with_crlf_and_a_new_user(study):
    raw = "Line one\r\nscared 🎉 of it\r\nend".encode()
    data = qdpx(other_tool_project(10, 16), {f"sources/{S1}.txt": raw})
    # In the raw text [10, 16) is "scared"; after \r\n -> \n it is [9, 15).
    counts = qdpx_import(
        project=study.project, parsed=parse_qdpx(data), source="x.qdpx"
    )
    assert counts["users_created"] == ["Jane_Doe"]
    seg = Segment.objects.get(
        document__project=study.project, coder__username="Jane_Doe"
    )
    assert (seg.start, seg.end, seg.quote, seg.memo) == (9, 15, "scared", "a memo")
    assert seg.code.name == "fear-anger" and seg.code.parent.name == "Themes"
    assert seg.code.parent.color == "#ff00aa"
    assert not seg.coder.has_usable_password()
    assert Membership.objects.get(project=study.project, user=seg.coder).role == "coder"
    assert seg.document.text == "Line one\nscared 🎉 of it\nend"


def test_newline_map():
    text, move = newline_map("ab\r\ncd\r\n\r\nef")
    assert text == "ab\ncd\n\nef"
    assert text[move(4) : move(6)] == "cd" and text[move(10) : move(12)] == "ef"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a zip", "not a valid zip"),
        (qdpx("<Project/>"), "schema"),
        (qdpx("<Project"), "well-formed"),
        (qdpx(QDE_HEAD + "<Bogus/></Project>"), "schema"),
        (qdpx(other_tool_project(), {}), "not in the archive"),
        (
            qdpx(other_tool_project(5, 400), {f"sources/{S1}.txt": b"short text here"}),
            "outside the text",
        ),
        (
            qdpx(other_tool_project(), {f"sources/{S1}.txt": b"\xff\xfe bad"}),
            "not UTF-8",
        ),
        (qdpx(other_tool_project(), {"../evil.txt": b"x"}), "'..'"),
        (qdpx(other_tool_project(), {"/etc/evil": b"x"}), "absolute path"),
    ],
)
def test_bad_archives_are_refused_before_anything_is_written(study, data, message):
    before = (Document.objects.count(), Code.objects.count(), Segment.objects.count())
    with pytest.raises(InputError, match=message):
        qdpx_import(project=study.project, parsed=parse_qdpx(data), source="x.qdpx")
    assert (
        Document.objects.count(),
        Code.objects.count(),
        Segment.objects.count(),
    ) == before


def test_zip_bombs_and_too_many_files_are_refused(settings):
    bomb = qdpx(other_tool_project(), {f"sources/{S1}.txt": b"0" * (20 * 1024 * 1024)})
    with pytest.raises(InputError, match="zip bomb"):
        parse_qdpx(bomb)
    settings.ARCHIVE_MAX_TOTAL_BYTES = 1000
    with pytest.raises(InputError, match="unpacks to more than"):
        parse_qdpx(qdpx(other_tool_project(), {f"sources/{S1}.txt": b"x" * 2000}))
    settings.ARCHIVE_MAX_TOTAL_BYTES = 10**9
    settings.ARCHIVE_MAX_FILES = 3
    many = {f"sources/{i}.txt": b"x" for i in range(5)}
    with pytest.raises(InputError, match="entries"):
        parse_qdpx(qdpx(other_tool_project(), many))


def test_a_conflicting_document_rolls_back_everything(study):
    data = qdpx(other_tool_project(), {f"sources/{S1}.txt": b"some other text here"})
    Document.objects.create(
        project=study.project, external_id="Interview 1", title="x", text="different"
    )
    before = (Code.objects.count(), Segment.objects.count(), Membership.objects.count())
    with pytest.raises(InputError, match="another text"):
        qdpx_import(project=study.project, parsed=parse_qdpx(data), source="x.qdpx")
    assert (
        Code.objects.count(),
        Segment.objects.count(),
        Membership.objects.count(),
    ) == before
