"""import_documents, import_codebook and import_segments: good input lands
whole; bad input is refused with file, line and reason, and nothing is written."""

import json

import pytest
from django.core.management import CommandError, call_command

from annotations.models import Assignment, Code, Document, Segment

ARABIC = "قالت الشرطة إن القنوات أغلقت"


@pytest.fixture
def project(db):
    call_command("create_project", "s", "--name", "S")
    call_command("add_member", "s", "ra", "--role", "coder", "--create")
    call_command("add_member", "s", "rb", "--role", "coder", "--create")
    from annotations.models import Project

    return Project.objects.get(slug="s")


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_import_csv_jsonl_and_txt(project, tmp_path, capsys):
    csv_path = write(
        tmp_path / "docs.csv",
        "\ufeffexternal_id,title,text,source,published,section\r\n"
        'x1,First,"Line one\r\nLine two 🎉",Reuters,2024-06-14,world\r\n',
    )
    jsonl = write(
        tmp_path / "docs.jsonl",
        json.dumps(
            {"external_id": "x2", "title": "Second", "text": ARABIC, "lang": "ar"}
        )
        + "\n",
    )
    txt = write(tmp_path / "third_article.txt", "Plain\rold Mac text")
    call_command("import_documents", "s", csv_path, jsonl, txt)
    assert "imported 3 documents" in capsys.readouterr().out
    first = Document.objects.get(external_id="x1")
    assert first.text == "Line one\nLine two 🎉"
    assert first.length == len("Line one\nLine two 🎉")
    assert first.metadata == {"section": "world"}
    assert str(first.published) == "2024-06-14"
    assert Document.objects.get(external_id="x2").metadata == {"lang": "ar"}
    third = Document.objects.get(external_id="third_article")
    assert third.title == "third article" and third.text == "Plain\nold Mac text"
    # Idempotent.
    call_command("import_documents", "s", csv_path, jsonl, txt)
    assert Document.objects.count() == 3


@pytest.mark.parametrize(
    ("name", "content", "encoding", "message"),
    [
        ("latin.txt", "café", "latin-1", "latin.txt, line 1: not valid UTF-8"),
        (
            "dup.csv",
            "external_id,title,text\na,A,x\na,B,y\n",
            "utf-8",
            "duplicate external_id 'a'",
        ),
        (
            "miss.csv",
            "external_id,title,text\na,,x\n",
            "utf-8",
            "miss.csv, line 2: missing title",
        ),
        (
            "bad.jsonl",
            '{"external_id": "a"\n',
            "utf-8",
            "bad.jsonl, line 1: invalid JSON",
        ),
        (
            "date.csv",
            "external_id,title,text,published\na,A,x,June\n",
            "utf-8",
            "published must be a date",
        ),
        ("doc.pdf", "x", "utf-8", "unsupported file type"),
    ],
)
def test_import_documents_bad_input(
    project, tmp_path, name, content, encoding, message
):
    good = write(tmp_path / "good.txt", "fine")
    with pytest.raises(CommandError, match=message):
        call_command(
            "import_documents", "s", good, write(tmp_path / name, content, encoding)
        )
    assert not Document.objects.exists()


def test_import_jsonl_with_bom_crlf_and_a_bad_byte_late(project, tmp_path):
    lines = [
        json.dumps(
            {"external_id": f"x{i}", "title": "T", "text": f"{ARABIC}\r\n🎉 {i}"},
            ensure_ascii=False,
        ).encode()
        for i in range(3)
    ]
    good = b"\xef\xbb\xbf" + b"\r\n".join(lines) + b"\r\n"
    bad = good + b'{"external_id": "x9", "title": "caf\xe9", "text": "t"}\r\n'
    # Decoding line by line still names the line and the byte's offset.
    offset = len(good) - 3 + len(b'{"external_id": "x9", "title": "caf')
    with pytest.raises(
        CommandError,
        match=rf"docs.jsonl, line 4: not valid UTF-8 \(byte 0xe9 at offset {offset}\)",
    ):
        call_command("import_documents", "s", write_bytes(tmp_path / "docs.jsonl", bad))
    assert not Document.objects.exists()
    call_command("import_documents", "s", write_bytes(tmp_path / "docs.jsonl", good))
    assert Document.objects.get(external_id="x2").text == f"{ARABIC}\n🎉 2"


def write_bytes(path, data):
    path.write_bytes(data)
    return str(path)


def test_import_documents_refuses_changed_text(project, tmp_path):
    path = tmp_path / "a.txt"
    call_command("import_documents", "s", write(path, "first"))
    with pytest.raises(CommandError, match="different text"):
        call_command("import_documents", "s", write(path, "second"))
    assert Document.objects.get().text == "first"


CODEBOOK = """name,parent,description,definition,when_to_use,when_not_to_use,example,color,key,order,value,level
actor,,Who acts,Agencies and groups,Named agents,Not passive mentions,Europol,#ffd6a5,a,,,
law_enforcement,actor,Police,Police bodies,,,,#ffc6ff,l,,,
severity,,Severity,How severe,,,,#caffbf,,,,ordinal
low,severity,,,,,,#dddddd,,1,1,
high,severity,,,,,,#eeeeee,,2,3,
"""


def test_import_codebook_csv_and_json_update(project, tmp_path, capsys):
    call_command("import_codebook", "s", write(tmp_path / "cb.csv", CODEBOOK))
    assert "5 codes created" in capsys.readouterr().out
    child = Code.objects.get(name="law_enforcement")
    assert child.parent.name == "actor" and child.key == "l"
    assert Code.objects.get(name="severity").level == "ordinal"
    assert Code.objects.get(name="high").value == 3
    cb = [{"name": "actor", "definition": "Changed", "color": "#ffffff", "key": "a"}]
    call_command("import_codebook", "s", write(tmp_path / "cb.json", json.dumps(cb)))
    assert Code.objects.get(name="actor").definition == "Changed"
    assert Code.objects.count() == 5


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,parent,color\nx,,red\n", "line 2: colour must look like"),
        ("name,parent,key\nx,,a\ny,,a\n", "key 'a' is used by 'x' and 'y'"),
        ("name,parent\nx,ghost\n", "parent 'ghost' of 'x' is not defined"),
        ("name,parent,level\nx,,fuzzy\n", "level must be nominal"),
        ("name,parent\nx,\nx,\n", "code 'x' is defined twice"),
    ],
)
def test_import_codebook_bad_input(project, tmp_path, content, message):
    with pytest.raises(CommandError, match=message):
        call_command("import_codebook", "s", write(tmp_path / "cb.csv", content))
    assert not Code.objects.exists()


TEXT = "Europol 🎉 took down قنوات Amaq"


@pytest.fixture
def coded_project(project, tmp_path):
    write(tmp_path / "art.csv", f"external_id,title,text\nart,Article,{TEXT}\n")
    call_command("import_documents", "s", str(tmp_path / "art.csv"))
    call_command("import_codebook", "s", write(tmp_path / "cb.csv", CODEBOOK))
    return project


def test_import_segments_exact_offsets(coded_project, tmp_path, capsys):
    start = TEXT.index("took")
    rows = (
        "document,coder,code,start,end,quote,memo\n"
        f"art,ra,actor/law_enforcement,0,7,Europol,police\n"
        f"Article,rb,actor,{start},{start + 9},took down,\n"
        f"art,rb,low,{TEXT.index('ق')},{len(TEXT)},,\n"
    )
    call_command(
        "import_segments", "s", write(tmp_path / "seg.csv", rows), "--mark-done"
    )
    assert "imported 3 segments" in capsys.readouterr().out
    for seg in Segment.objects.all():
        assert TEXT[seg.start : seg.end] == seg.quote
    assert Segment.objects.get(coder__username="ra").code.name == "law_enforcement"
    assert set(Assignment.objects.values_list("status", flat=True)) == {"done"}
    call_command("import_segments", "s", str(tmp_path / "seg.csv"))
    assert Segment.objects.count() == 3


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("art,ra,nope,0,7,,", "line 3: unknown code 'nope'"),
        ("art,ra,actor,0,999,,", "runs past the end of the text"),
        ("art,ra,actor,0,7,Europa,", "quote does not match"),
        ("art,ra,actor,7,3,,", "invalid span"),
        ("ghost,ra,actor,0,7,,", "unknown document 'ghost'"),
        ("art,zed,actor,0,7,,", "'zed' is not a member"),
        ("art,ra,actor,x,7,,", "start must be a whole number"),
    ],
)
def test_import_segments_bad_input(coded_project, tmp_path, row, message):
    rows = (
        f"document,coder,code,start,end,quote,memo\nart,ra,actor,0,7,Europol,\n{row}\n"
    )
    with pytest.raises(CommandError, match=message):
        call_command("import_segments", "s", write(tmp_path / "seg.csv", rows))
    assert not Segment.objects.exists()
    assert not Assignment.objects.exists()


def test_imports_record_history(coded_project, tmp_path):
    from annotations.models import HistoryEvent

    def kinds():
        return sorted(HistoryEvent.objects.values_list("entity", "action"))

    documents = HistoryEvent.objects.filter(entity="document", action="create")
    assert (
        documents.count() == 1
        and documents.get().entity_id == Document.objects.get().pk
    )
    HistoryEvent.objects.all().delete()
    rows = "document,coder,code,start,end\nart,ra,actor,0,7\n"
    call_command(
        "import_segments", "s", write(tmp_path / "seg.csv", rows), "--mark-done"
    )
    assert kinds() == [
        ("assignment", "create"),
        ("assignment", "update"),
        ("segment", "create"),
    ]
    HistoryEvent.objects.all().delete()
    call_command("assign", "s", "--coders", "rb", "--status", "done")
    call_command("assign", "s", "--coders", "rb", "--status", "todo")
    assert kinds() == [("assignment", "create"), ("assignment", "update")]
