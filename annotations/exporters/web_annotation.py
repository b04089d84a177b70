"""W3C Web Annotation (JSON-LD): one annotation per segment.

The file is an ``AnnotationCollection`` whose first ``AnnotationPage`` holds
every annotation. Each annotation:

- ``target``: the document (``urn:uuid:`` of its REFI-QDA GUID) with a
  ``TextPositionSelector`` (``start`` inclusive, ``end`` exclusive, Unicode
  code points) and a ``TextQuoteSelector`` (``exact`` plus 32 code points of
  ``prefix`` and ``suffix``);
- ``body``: a ``SpecificResource`` with purpose ``classifying`` whose
  ``source`` is the code's IRI (with ``schema:version``, the codebook version
  the segment was coded under, when it has one: the context's ``schema``
  prefix is http://schema.org/), a ``TextualBody`` with purpose ``tagging``
  holding the code path, and the memo as a ``commenting`` ``TextualBody``;
- ``creator``: the coder (a ``Person``; the consensus is an ``Organization``).

IRIs are ``urn:uuid:`` of the same GUIDs as the REFI-QDA export, so the two
exports can be joined. Written as a stream: one annotation per line.
"""

import json
from collections.abc import Iterable, Iterator

from .refi_qda import guid, segment_guid, user_guid
from .rows import ExportContext, SegmentRow, iso_utc

CONTEXT = "http://www.w3.org/ns/anno.jsonld"
AFFIX = 32


def annotation(
    ctx: ExportContext, s: SegmentRow, text: str, iris: dict | None = None
) -> dict:
    """One segment as a Web Annotation (a plain dict). ``iris`` caches the
    IRIs of codes and coders across calls."""
    slug = ctx.project_slug
    coder = ctx.coder_by_key[s.coder]
    code = ctx.code_by_id[s.code_id]
    iris = {} if iris is None else iris
    code_iri = iris.get(("code", code.id))
    if code_iri is None:
        code_iri = iris[("code", code.id)] = f"urn:uuid:{guid(slug, 'code', code.id)}"
    coder_iri = iris.get(("user", coder.key))
    if coder_iri is None:
        coder_iri = iris[("user", coder.key)] = f"urn:uuid:{user_guid(slug, coder)}"
    classifying = {"type": "SpecificResource", "purpose": "classifying",
                   "source": code_iri}  # fmt: skip
    if s.codebook_version is not None:
        classifying["schema:version"] = s.codebook_version
    body: list[dict] = [
        classifying,
        {"type": "TextualBody", "purpose": "tagging", "value": code.path,
         "format": "text/plain"},
    ]  # fmt: skip
    if s.memo:
        body.append(
            {"type": "TextualBody", "purpose": "commenting", "value": s.memo,
             "format": "text/plain"}
        )  # fmt: skip
    return {
        "id": f"urn:uuid:{segment_guid(slug, s)}",
        "type": "Annotation",
        "motivation": "classifying",
        "created": iso_utc(s.created),
        "modified": iso_utc(s.updated),
        "creator": {
            "id": coder_iri,
            "type": "Organization" if coder.is_consensus else "Person",
            "nickname": coder.name,
        },
        "body": body,
        "target": {
            "source": f"urn:uuid:{guid(slug, 'document', s.document_id)}",
            "selector": [
                {"type": "TextPositionSelector", "start": s.start, "end": s.end},
                {
                    "type": "TextQuoteSelector",
                    "exact": text[s.start : s.end],
                    "prefix": text[max(0, s.start - AFFIX) : s.start],
                    "suffix": text[s.end : s.end + AFFIX],
                },
            ],
        },
    }


def annotations_jsonld(
    ctx: ExportContext, segments: Iterable[SegmentRow], texts: Iterable[tuple[int, str]]
) -> Iterator[str]:
    """The collection as text chunks. ``segments`` and ``texts`` must both be
    sorted by document id; a document's text is held only while its segments
    are written."""
    slug = ctx.project_slug
    head = {
        "@context": CONTEXT,
        "id": f"urn:uuid:{guid(slug, 'project', slug)}",
        "type": "AnnotationCollection",
        "label": f"{ctx.project_name}: coded segments, exported {ctx.stamp}",
        "generator": {
            "type": "Software",
            "name": f"coding workbench {ctx.software_version}",
        },
        "generated": ctx.stamp,
    }
    opening = json.dumps(head, ensure_ascii=False, indent=1)[:-2]
    page_id = f"urn:uuid:{guid(slug, 'page', 1)}"
    yield (
        opening
        + ',\n "first": {"id": "'
        + page_id
        + '", "type": "AnnotationPage", "items": [\n'
    )
    text_iter = iter(texts)
    doc_id, text = -1, ""
    first = True
    iris: dict = {}
    for s in segments:
        while doc_id < s.document_id:
            doc_id, text = next(text_iter)
        if doc_id != s.document_id:
            raise ValueError(f"no text for document {s.document_id}")
        prefix = "" if first else ",\n"
        first = False
        yield prefix + json.dumps(annotation(ctx, s, text, iris), ensure_ascii=False)
    yield "\n]}\n}\n"
