"""REFI-QDA 1.5 (QDA-XML 1.0): ``project.qdpx`` and ``codebook.qdc``.

A ``.qdpx`` is a zip archive with ``project.qde`` (XML, namespace
``urn:QDA-XML:project:1.0``) and one UTF-8 ``sources/<guid>.txt`` per
document. What goes where:

- every coder is a ``User`` (name and id = username; the consensus is the
  user named ``consensus`` with id ``workbench:consensus``);
- every code is a ``Code`` nested under its parent, with its colour and a
  ``Description`` holding its definition and rules. All codes have
  ``isCodable="true"``: in the workbench every code can be applied, a parent
  included, even one that has no segments of its own;
- every document is a ``TextSource`` (``plainTextPath="internal://<guid>.txt"``)
  with its external id, source, URL and date as ``VariableValue``s;
- every segment is a ``PlainTextSelection`` with ``startPosition`` and
  ``endPosition`` in Unicode code points from 0, end exclusive (the
  standard's examples: ``text[start:end]``), the coder as ``creatingUser``,
  the memo as ``Description`` and one ``Coding`` (``CodeRef`` to the code,
  same ``creatingUser``).

GUIDs are UUID 5 of the project slug, the kind of thing and its id, so two
exports of the same project give the same GUIDs (:func:`guid`). The XML is
written incrementally (``lxml.etree.xmlfile``): one document's selections in
memory at a time.
"""

import re
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from hashlib import sha1
from typing import BinaryIO

from lxml import etree

from .rows import CodeInfo, CoderInfo, ExportContext, SegmentRow, iso_utc

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
GUID_NAMESPACE = uuid.UUID("6f1c3c1e-8f1a-5b7e-9a57-2f1f6f0e6a11")
CONSENSUS_USER_ID = "workbench:consensus"
_NS_BYTES = GUID_NAMESPACE.bytes
# Characters XML 1.0 cannot hold (most C0 controls, lone surrogates, U+FFFE/F).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
VARIABLES = [
    ("external_id", "Text"), ("source", "Text"), ("url", "Text"), ("published", "Date"),
]  # fmt: skip


def guid(slug: str, kind: str, key: object) -> str:
    """A stable GUID for one thing of a project: the UUID 5 (RFC 4122, SHA-1)
    of ``<slug>/<kind>/<key>`` in :data:`GUID_NAMESPACE`, computed without
    building ``uuid.UUID`` objects (this runs twice per exported segment).

    >>> guid("takedowns", "code", 7) == str(uuid.uuid5(GUID_NAMESPACE, "takedowns/code/7"))
    True
    """
    digest = bytearray(sha1(_NS_BYTES + f"{slug}/{kind}/{key}".encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def user_guid(slug: str, coder: CoderInfo) -> str:
    return guid(slug, "user", "consensus" if coder.is_consensus else coder.key)


def segment_guid(slug: str, segment: SegmentRow, kind: str = "selection") -> str:
    owner = "consensus" if segment.coder == 0 else "segment"
    return guid(slug, f"{kind}/{owner}", segment.id)


def code_description(code: CodeInfo) -> str:
    """The code's text fields as one plain-text description."""
    parts = [code.description.strip()] if code.description.strip() else []
    for field, title in (
        ("definition", "Definition"), ("when_to_use", "When to use"),
        ("when_not_to_use", "When not to use"), ("example", "Example"),
    ):  # fmt: skip
        value = getattr(code, field).strip()
        if value:
            parts.append(f"{title}: {value}")
    return "\n\n".join(parts)


def _xml_text(text: str) -> str:
    """XML 1.0 cannot hold most control characters: drop them."""
    return _NOT_XML.sub("", text)


def _code_tree(
    ctx: ExportContext, ns: str, with_note_refs: bool = False
) -> etree._Element:
    codes = etree.Element(f"{{{ns}}}Codes")
    elements: dict[int, etree._Element] = {}
    for code in ctx.codes:
        parent = elements.get(code.parent_id, codes)
        el = etree.SubElement(
            parent, f"{{{ns}}}Code",
            guid=guid(ctx.project_slug, "code", code.id), name=_xml_text(code.name),
            isCodable="true", color=code.color.upper(),
        )  # fmt: skip
        description = code_description(code)
        if description:
            etree.SubElement(el, f"{{{ns}}}Description").text = _xml_text(description)
        elements[code.id] = el
    return codes


def write_qdc(out: BinaryIO, ctx: ExportContext) -> int:
    """Write ``codebook.qdc`` (the REFI-QDA codebook); return the number of codes.

    The schema needs at least one code: an empty codebook is refused.
    """
    if not ctx.codes:
        raise ValueError("the project has no codes: a REFI-QDA codebook needs one")
    root = etree.Element(
        f"{{{CODEBOOK_NS}}}CodeBook", nsmap={None: CODEBOOK_NS},
        origin=f"coding workbench {ctx.software_version}",
    )  # fmt: skip
    root.append(_code_tree(ctx, CODEBOOK_NS))
    out.write(
        etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    )
    return len(ctx.codes)


def _selection(
    ctx: ExportContext, s: SegmentRow, users: dict[int, str], codes: dict[int, str]
) -> etree._Element:
    ns = PROJECT_NS
    user = users[s.coder]
    el = etree.Element(
        f"{{{ns}}}PlainTextSelection",
        guid=segment_guid(ctx.project_slug, s),
        name=_xml_text(s.quote[:60]),
        startPosition=str(s.start), endPosition=str(s.end), creatingUser=user,
        creationDateTime=iso_utc(s.created), modifyingUser=user,
        modifiedDateTime=iso_utc(s.updated),
    )  # fmt: skip
    if s.memo:
        etree.SubElement(el, f"{{{ns}}}Description").text = _xml_text(s.memo)
    coding = etree.SubElement(
        el, f"{{{ns}}}Coding", guid=segment_guid(ctx.project_slug, s, "coding"),
        creatingUser=user, creationDateTime=iso_utc(s.created),
    )  # fmt: skip
    etree.SubElement(coding, f"{{{ns}}}CodeRef", targetGUID=codes[s.code_id])
    return el


def _variable_values(ctx: ExportContext, doc_id: int) -> Iterator[etree._Element]:
    doc = ctx.documents[doc_id]
    values = {
        "external_id": doc.external_id, "source": doc.source, "url": doc.url,
        "published": doc.published.isoformat() if doc.published else "",
    }  # fmt: skip
    for name, kind in VARIABLES:
        if not values[name]:
            continue
        el = etree.Element(f"{{{PROJECT_NS}}}VariableValue")
        etree.SubElement(
            el, f"{{{PROJECT_NS}}}VariableRef",
            targetGUID=guid(ctx.project_slug, "variable", name),
        )  # fmt: skip
        tag = "DateValue" if kind == "Date" else "TextValue"
        etree.SubElement(el, f"{{{PROJECT_NS}}}{tag}").text = _xml_text(values[name])
        yield el


def source_path(ctx: ExportContext, doc_id: int) -> str:
    return f"{guid(ctx.project_slug, 'document', doc_id)}.txt"


def write_project_qde(
    out: BinaryIO,
    ctx: ExportContext,
    segments: Iterable[SegmentRow],
    users: list[CoderInfo],
) -> int:
    """Write ``project.qde`` to a binary stream; return the number of selections.

    ``segments`` must be sorted by document (as the selector yields them).
    """
    ns = PROJECT_NS
    slug = ctx.project_slug
    user_guids = {u.key: user_guid(slug, u) for u in users}
    code_guids = {c.id: guid(slug, "code", c.id) for c in ctx.codes}
    count = 0
    pending = iter(segments)
    current = next(pending, None)
    with etree.xmlfile(out, encoding="utf-8") as xf:
        xf.write_declaration()
        attrs = {
            "name": _xml_text(ctx.project_name),
            "origin": f"coding workbench {ctx.software_version}",
            "creationDateTime": ctx.stamp, "modifiedDateTime": ctx.stamp,
        }  # fmt: skip
        with xf.element(f"{{{ns}}}Project", attrs, nsmap={None: ns}):
            if users:
                el = etree.Element(f"{{{ns}}}Users")
                for u in users:
                    etree.SubElement(
                        el, f"{{{ns}}}User", guid=user_guids[u.key], name=u.name,
                        id=CONSENSUS_USER_ID if u.is_consensus else u.name,
                    )  # fmt: skip
                xf.write(el)
            if ctx.codes:
                book = etree.Element(f"{{{ns}}}CodeBook")
                book.append(_code_tree(ctx, ns))
                xf.write(book)
            if ctx.documents:
                variables = etree.Element(f"{{{ns}}}Variables")
                for name, kind in VARIABLES:
                    etree.SubElement(
                        variables, f"{{{ns}}}Variable",
                        guid=guid(slug, "variable", name), name=name, typeOfVariable=kind,
                    )  # fmt: skip
                xf.write(variables)
                with xf.element(f"{{{ns}}}Sources"):
                    for doc in ctx.documents.values():
                        source = etree.Element(
                            f"{{{ns}}}TextSource", guid=guid(slug, "document", doc.id),
                            name=_xml_text(doc.title),
                            plainTextPath=f"internal://{source_path(ctx, doc.id)}",
                            creationDateTime=iso_utc(doc.created),
                        )  # fmt: skip
                        while current is not None and current.document_id == doc.id:
                            source.append(
                                _selection(ctx, current, user_guids, code_guids)
                            )
                            count += 1
                            current = next(pending, None)
                        for value in _variable_values(ctx, doc.id):
                            source.append(value)
                        xf.write(source)
                        xf.flush()
            if ctx.project_description.strip():
                description = etree.Element(f"{{{ns}}}Description")
                description.text = _xml_text(ctx.project_description)
                xf.write(description)
    if current is not None:
        raise ValueError("segments are not sorted by document id")
    return count


def write_qdpx(
    out: BinaryIO,
    ctx: ExportContext,
    segments: Iterable[SegmentRow],
    texts: Iterable[tuple[int, str]],
    users: list[CoderInfo],
) -> int:
    """Write ``project.qdpx`` (a zip of ``project.qde`` and ``sources/``);
    return the number of selections."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        with archive.open("project.qde", "w", force_zip64=True) as qde:
            count = write_project_qde(qde, ctx, segments, users)
        for doc_id, text in texts:
            archive.writestr(
                f"sources/{source_path(ctx, doc_id)}", text.encode("utf-8")
            )
    return count
