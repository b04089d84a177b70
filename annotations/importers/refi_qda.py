"""Read a REFI-QDA project (``.qdpx``): users, codes, text sources and their
coded selections, as plain rows. No database access here.

The archive is checked before anything is read from it (``uploads.archive_open``:
number of entries, total unpacked size, compression ratio, absolute paths,
``..``, symlinks, encryption, duplicates), ``project.qde`` is parsed without
entities, DTDs or network access and validated against the REFI-QDA
``Project.xsd`` shipped in ``schemas/``.

Offsets: ``startPosition``/``endPosition`` count Unicode code points from 0,
end exclusive. The workbench stores text with ``\\n`` line ends, so sources
with ``\\r\\n`` are normalised and every offset after a removed ``\\r`` is
shifted back accordingly (:func:`newline_map`). A leading byte order mark is
dropped and not counted.
"""

import bisect
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from lxml import etree

from ..services.errors import InputError, Problem
from ..uploads import archive_open, archive_read

NS = "urn:QDA-XML:project:1.0"
Q = f"{{{NS}}}"
SCHEMA = Path(__file__).parent / "schemas" / "Project.xsd"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
CODEBOOK_SCHEMA = Path(__file__).parent / "schemas" / "Codebook.xsd"
CONSENSUS_USER_ID = "workbench:consensus"
SHORT_COLOR = re.compile(r"^#([0-9a-fA-F])([0-9a-fA-F])([0-9a-fA-F])$")
OTHER_SOURCES = ("PictureSource", "PDFSource", "AudioSource", "VideoSource")


@dataclass(frozen=True)
class QdaUser:
    guid: str
    name: str
    id: str = ""

    @property
    def is_consensus(self) -> bool:
        return self.id == CONSENSUS_USER_ID


@dataclass(frozen=True)
class QdaCode:
    guid: str
    name: str
    parent: str | None  # the parent's guid
    color: str  # #rrggbb, or "" when the file has none
    description: str = ""
    codable: bool = True
    line: int | None = None  # in the XML file


@dataclass(frozen=True)
class QdaCoding:
    code: str  # code guid
    user: str | None  # user guid


@dataclass(frozen=True)
class QdaSelection:
    guid: str
    start: int  # code points of the normalised text
    end: int
    memo: str
    user: str | None
    codings: tuple[QdaCoding, ...]


@dataclass(frozen=True)
class QdaSource:
    guid: str
    name: str
    text: str  # line ends normalised to \n
    variables: dict[str, str] = field(default_factory=dict)
    selections: tuple[QdaSelection, ...] = ()


@dataclass(frozen=True)
class QdaProject:
    name: str
    creating_user: str | None
    users: tuple[QdaUser, ...]
    codes: tuple[QdaCode, ...]  # parents before children
    sources: tuple[QdaSource, ...]
    skipped: tuple[str, ...] = ()  # what was left out, in words


@functools.cache
def _schema(path: Path = SCHEMA) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(path)))


def newline_map(raw: str) -> tuple[str, Callable[[int], int]]:
    """Normalise line ends to ``\\n`` and return a function that moves an
    offset of the raw text to the same place in the normalised one.

    >>> text, move = newline_map("a\\r\\nb\\rc")
    >>> text, move(3), move(5)
    ('a\\nb\\nc', 2, 4)
    """
    removed = [m.start() for m in re.finditer("\r\n", raw)]
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    if not removed:
        return text, lambda offset: offset
    return text, lambda offset: offset - bisect.bisect_left(removed, offset)


def _color(value: str | None) -> str:
    if not value:
        return ""
    short = SHORT_COLOR.match(value)
    if short:
        return "#" + "".join(c * 2 for c in short.groups()).lower()
    return value.lower()


def _text(el: etree._Element | None) -> str:
    return "" if el is None or el.text is None else el.text


def _parse_xml(data: bytes, source: str, schema_path: Path = SCHEMA) -> etree._Element:
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise InputError([Problem(f"not well-formed XML: {exc}", source)]) from None
    # REFI-QDA files have no DTD. One declaring entities would leave them
    # unresolved (resolve_entities=False), which the schema validator takes
    # for an internal error instead of an invalid file.
    if root.getroottree().docinfo.internalDTD is not None:
        raise InputError(
            [Problem("a DOCTYPE is not allowed in REFI-QDA files", source)]
        )
    schema = _schema(schema_path)
    if not schema.validate(root):
        problems = [
            Problem(f"does not match the REFI-QDA schema: {e.message}", source, e.line)
            for e in list(schema.error_log)[:20]
        ]
        raise InputError(problems)
    return root


def _source_text(
    el: etree._Element, members: dict[str, object], archive, source: str
) -> str:
    content = el.find(f"{Q}PlainTextContent")
    if content is not None:
        return _text(content)
    path = el.get("plainTextPath")
    if not path:
        raise ValueError("has neither plainTextPath nor PlainTextContent")
    if path.startswith("internal://"):
        member = "sources/" + path[len("internal://") :]
    elif path.startswith("relative://"):
        member = path[len("relative://") :]
    else:
        raise ValueError(f"points outside the archive ({path[:100]!r})")
    key = str(PurePosixPath(member))
    info = members.get(key) or members.get(key.lower())
    if info is None:
        raise ValueError(f"its text file {member!r} is not in the archive")
    data = archive_read(archive, info, source=source)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"its text file {member!r} is not UTF-8") from None
    if "\x00" in text:
        # No database stores it; it means a binary or UTF-16 file anyway.
        raise ValueError(f"its text file {member!r} contains NUL characters")
    return text


def _selection(el: etree._Element, move, length: int) -> QdaSelection:
    start, end = int(el.get("startPosition")), int(el.get("endPosition"))
    if start > end:  # some tools write a backwards selection
        start, end = end, start
    start, end = move(start), move(end)
    if start < 0 or end > length or end <= start:
        raise ValueError(
            f"selection {el.get('guid')} spans [{start}, {end}), outside the text "
            f"(0 to {length} characters) or empty"
        )
    user = el.get("creatingUser")
    codings = tuple(
        QdaCoding(
            c.find(f"{Q}CodeRef").get("targetGUID"), c.get("creatingUser") or user
        )
        for c in el.findall(f"{Q}Coding")
    )
    return QdaSelection(
        el.get("guid"), start, end, _text(el.find(f"{Q}Description")), user, codings
    )


def parse_qdpx(
    data: bytes,
    name: str = "project.qdpx",
    *,
    max_total: int | None = None,
    max_files: int | None = None,
) -> QdaProject:
    """Check, validate and read a ``.qdpx`` archive; raise ``InputError``
    (with every problem found) rather than return a partial project."""
    archive, infos = archive_open(data, max_total, max_files, source=name)
    with archive:
        members = {}
        for info in infos:
            key = str(PurePosixPath(info.filename.replace("\\", "/")))
            members[key] = info
            members.setdefault(key.lower(), info)
        qde = members.get("project.qde") or next(
            (i for k, i in members.items() if k.endswith(".qde") and "/" not in k), None
        )
        if qde is None:
            raise InputError([Problem("no project.qde in the archive", name)])
        root = _parse_xml(
            archive_read(archive, qde, source=name), f"{name}: project.qde"
        )
        return _read_project(root, members, archive, name)


def _codes(codes_el: etree._Element, q: str) -> list[QdaCode]:
    """The codes under a ``Codes`` element, parents before children."""
    codes: list[QdaCode] = []

    def walk(parent_el, parent_guid):
        for el in parent_el.findall(f"{q}Code"):
            codes.append(
                QdaCode(
                    el.get("guid"), el.get("name"), parent_guid, _color(el.get("color")),
                    _text(el.find(f"{q}Description")),
                    el.get("isCodable") in ("true", "1"), el.sourceline,
                )
            )  # fmt: skip
            walk(el, el.get("guid"))

    walk(codes_el, None)
    return codes


# The titled parts of a code's Description, as exporters.refi_qda's
# code_description writes them after the description itself.
DESCRIPTION_TITLES = {
    "Definition": "definition", "When to use": "when_to_use",
    "When not to use": "when_not_to_use", "Example": "example",
}  # fmt: skip


def qda_code_name(name: str) -> str:
    """A code name from another tool: "/" separates levels in the
    workbench's code paths everywhere, so it becomes "-"."""
    return name.replace("/", "-").strip()


def description_fields(text: str) -> dict[str, str]:
    """A ``Description`` back into the workbench's text fields: the parts the
    workbench's own export titles ("Definition: ...", "When to use: ...")
    go to their fields and an untitled head to ``description``; a
    description with no such parts (another tool's) is the definition.

    >>> description_fields("Who acts.\\n\\nDefinition: A person.\\n\\nExample: Europol")
    {'description': 'Who acts.', 'definition': 'A person.', 'example': 'Europol'}
    >>> description_fields("Any state agency.")
    {'definition': 'Any state agency.'}
    """
    fields: dict[str, str] = {}
    current = "description"
    for part in text.split("\n\n"):
        for title, name in DESCRIPTION_TITLES.items():
            if part.startswith(f"{title}: "):
                current, part = name, part[len(title) + 2 :]
                break
        fields[current] = f"{fields[current]}\n\n{part}" if current in fields else part
    fields = {k: v.strip() for k, v in fields.items() if v.strip()}
    if set(fields) <= {"description"}:
        return {"definition": fields["description"]} if fields else {}
    return fields


def parse_qdc(data: bytes, source: str) -> list[QdaCode]:
    """The codes of a REFI-QDA codebook (``.qdc``, ``urn:QDA-XML:codebook:1.0``),
    checked against the standard's schema; parents before children."""
    root = _parse_xml(data, source, CODEBOOK_SCHEMA)
    return _codes(root.find(f"{{{CODEBOOK_NS}}}Codes"), f"{{{CODEBOOK_NS}}}")


def _read_project(root, members, archive, name: str) -> QdaProject:
    users = tuple(
        QdaUser(u.get("guid"), u.get("name") or u.get("id") or "", u.get("id") or "")
        for u in root.iterfind(f"{Q}Users/{Q}User")
    )
    codes_el = root.find(f"{Q}CodeBook/{Q}Codes")
    codes = [] if codes_el is None else _codes(codes_el, Q)
    variables = {
        v.get("guid"): v.get("name") for v in root.iterfind(f"{Q}Variables/{Q}Variable")
    }
    problems: list[Problem] = []
    sources = []
    skipped: list[str] = []
    sources_el = root.find(f"{Q}Sources")
    for el in [] if sources_el is None else sources_el:
        tag = etree.QName(el).localname
        if tag in OTHER_SOURCES:
            skipped.append(f"{tag} {el.get('name') or el.get('guid')!r}")
            continue
        label = f"TextSource {el.get('name') or el.get('guid')!r}"
        try:
            raw = _source_text(el, members, archive, name)
        except ValueError as exc:
            problems.append(Problem(f"{label} {exc}", name, el.sourceline))
            continue
        text, move = newline_map(raw)
        selections = []
        for sel_el in el.findall(f"{Q}PlainTextSelection"):
            try:
                selections.append(_selection(sel_el, move, len(text)))
            except ValueError as exc:
                problems.append(Problem(f"{label}: {exc}", name, sel_el.sourceline))
        if el.findall(f"{Q}Coding"):
            skipped.append(f"codings of the whole of {label}")
        values = {}
        for value in el.findall(f"{Q}VariableValue"):
            var = variables.get(value.find(f"{Q}VariableRef").get("targetGUID"))
            children = [c for c in value if etree.QName(c).localname != "VariableRef"]
            content = children[0] if children else None
            if var and content is not None:
                values[var] = _text(content)
        sources.append(
            QdaSource(
                el.get("guid"), el.get("name") or "", text, values, tuple(selections)
            )
        )
    if problems:
        raise InputError(problems)
    return QdaProject(
        name=root.get("name") or "",
        creating_user=root.get("creatingUserGUID"),
        users=users,
        codes=tuple(codes),
        sources=tuple(sources),
        skipped=tuple(skipped),
    )
