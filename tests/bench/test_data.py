"""bench_data makes honest data; the report keeps rows from other runs."""

import pytest
from django.core.management import CommandError, call_command

from annotations.bench.report import markdown_update
from annotations.models import Assignment, Code, Document, Membership, Segment


@pytest.mark.django_db
def test_bench_data_generates_a_coded_project(capsys):
    call_command(
        "bench_data", "bench-t", documents=6, coders=3, codes=10,
        segments_per_document=5, seed=4,
    )  # fmt: skip
    assert "generated 'bench-t'" in capsys.readouterr().out
    docs = list(Document.objects.filter(project__slug="bench-t"))
    assert len(docs) == 6
    for doc in docs:
        assert doc.length == len(doc.text) and 600 < len(doc.text.split()) < 1000
    assert any(any(ord(ch) > 0xFFFF for ch in d.text) for d in docs)  # emoji
    segments = Segment.objects.filter(document__project__slug="bench-t")
    assert segments.count() > 6 * 3 * 3
    for seg in segments.select_related("document"):
        assert seg.document.text[seg.start : seg.end] == seg.quote
    assert Code.objects.filter(project__slug="bench-t").count() == 10
    assert Code.objects.get(project__slug="bench-t", name="tone").level == "ordinal"
    assert Membership.objects.filter(project__slug="bench-t").count() == 4  # + PI
    assert Assignment.objects.filter(document__in=docs).count() == 18
    # Coders mostly agree: most segments of one coder match another's exactly.
    spans = {}
    for d, c, k, a, b in segments.values_list(
        "document", "coder", "code", "start", "end"
    ):
        spans.setdefault((d, k, a, b), set()).add(c)
    assert sum(len(v) >= 2 for v in spans.values()) > len(spans) / 3


@pytest.mark.django_db
def test_bench_data_refuses_an_existing_slug_unless_replace():
    call_command("bench_data", "bench-u", documents=1, coders=1, codes=8)
    with pytest.raises(CommandError, match="exists already"):
        call_command("bench_data", "bench-u", documents=1, coders=1, codes=8)
    call_command("bench_data", "bench-u", documents=2, coders=1, codes=8, replace=True)
    assert Document.objects.filter(project__slug="bench-u").count() == 2
    with pytest.raises(CommandError, match="at least 8"):
        call_command("bench_data", "bench-v", documents=1, coders=1, codes=3)


def _results(size, measured, date):
    return {
        "size": size,
        "command": f"python manage.py bench --size {size} # {date}",
        "machine": {
            "date": date,
            "commit": "c",
            "cores": 2,
            "memory_gb": 1,
            "cpu": "x",
            "database": "PostgreSQL 15",
            "python": "3.11",
            "django": "5.2",
        },  # fmt: skip
        "figures": {
            "import_documents": {
                "title": "importing documents",
                "data": size,
                "target": "t",
                "measured": measured,
                "summary": {},
                "verdict": "met",
            }  # fmt: skip
        },
    }


def test_markdown_update_replaces_only_the_rows_of_the_run(tmp_path):
    md = tmp_path / "B.md"
    md.write_text("# Title\n\nHand-written notes stay.\n")
    markdown_update(md, _results("medium", "1 s", "day 1"))
    markdown_update(md, _results("large", "9 s", "day 2"))
    markdown_update(md, _results("medium", "2 s", "day 3"))
    text = md.read_text()
    assert "Hand-written notes stay." in text
    assert "| importing documents | medium | t | 2 s |  | ✅ met | day 3 |" in text
    assert "| importing documents | large | t | 9 s |  | ✅ met | day 2 |" in text
    assert "1 s" not in text
    assert text.index("| medium |") < text.index("| large |")
    # The machines table keeps the runs that figures still refer to.
    assert "# day 3" in text and "# day 2" in text and "# day 1" not in text
