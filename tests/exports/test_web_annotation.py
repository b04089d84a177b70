"""annotations.jsonld parsed as JSON and checked against the Web Annotation
model (the context is not fetched: no network in tests)."""

import json

from annotations.models import Document
from annotations.services import exports


def test_web_annotation_structure_and_selectors(coded, tmp_path):
    filt = exports.export_filter_build(project=coded.project)
    path = tmp_path / "annotations.jsonld"
    rows = exports.export_write(
        project=coded.project, name="annotations.jsonld", filt=filt, path=path
    )
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["@context"] == "http://www.w3.org/ns/anno.jsonld"
    assert data["type"] == "AnnotationCollection"
    items = data["first"]["items"]
    assert rows == len(items) == coded.live_count
    assert len({a["id"] for a in items}) == len(items)
    texts = {
        f"urn:uuid:{_doc_guid(coded, d.pk)}": d.text for d in Document.objects.all()
    }
    quotes = {(s.start, s.end, s.quote) for s in coded.segments + coded.consensus}
    for a in items:
        assert a["type"] == "Annotation" and a["motivation"] == "classifying"
        position, quote = a["target"]["selector"]
        assert position["type"] == "TextPositionSelector"
        assert quote["type"] == "TextQuoteSelector"
        text = texts[a["target"]["source"]]
        assert text[position["start"] : position["end"]] == quote["exact"]
        assert (position["start"], position["end"], quote["exact"]) in quotes
        assert text[: position["start"]].endswith(quote["prefix"])
        assert text[position["end"] :].startswith(quote["suffix"])
        classifying = [b for b in a["body"] if b.get("purpose") == "classifying"]
        tagging = [b for b in a["body"] if b.get("purpose") == "tagging"]
        assert classifying[0]["source"].startswith("urn:uuid:")
        assert tagging[0]["type"] == "TextualBody" and tagging[0]["value"]
        assert a["creator"]["nickname"] in {"coder1", "coder2", "consensus"}
    flag = [a for a in items if a["target"]["selector"][1]["exact"] == "🇪🇺"]
    assert {a["target"]["selector"][0]["start"] for a in flag} == {22}
    assert {a["creator"]["type"] for a in flag} == {"Person", "Organization"}


def _doc_guid(coded, pk):
    from annotations.exporters.refi_qda import guid

    return guid(coded.project.slug, "document", pk)
