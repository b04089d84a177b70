"""Reads of a project's codebook."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..exporters.codebook import CODEBOOK_FILE_FIELDS
from ..models import Code, Project


@dataclass
class CodeNode:
    code: Code
    path: str
    depth: int
    children: list["CodeNode"] = field(default_factory=list)
    segments: int = 0


def code_tree(
    project: Project, *, include_retired: bool = True, with_counts: bool = True
) -> list[CodeNode]:
    """The codebook as a tree of nodes in display order, with each code's
    number of live segments."""
    counts = segment_counts(project) if with_counts else {}
    codes = list(Code.objects.filter(project=project).order_by("order", "id"))
    if not include_retired:
        codes = [c for c in codes if not c.retired]
    by_parent: dict[int | None, list[Code]] = {}
    for code in codes:
        by_parent.setdefault(code.parent_id, []).append(code)

    def build(parent_id: int | None, prefix: str, depth: int) -> list[CodeNode]:
        nodes = []
        for code in by_parent.get(parent_id, []):
            path = f"{prefix}/{code.name}" if prefix else code.name
            children = build(code.pk, path, depth + 1)
            nodes.append(CodeNode(code, path, depth, children, counts.get(code.pk, 0)))
        return nodes

    return build(None, "", 0)


def paths_of(names: dict[int, tuple[int | None, str]]) -> dict[int, str]:
    """Each code's full path ("parent/child") by id, from (parent id, name)
    by id. A missing parent ends a path; a cycle (a corrupt codebook) stops
    after 100 steps.

    >>> paths_of({1: (None, "actor"), 2: (1, "police"), 3: (9, "orphan")})
    {1: 'actor', 2: 'actor/police', 3: 'orphan'}
    """
    paths: dict[int, str] = {}
    for pk, (parent, name) in names.items():
        parts, seen = [name], 0
        while parent is not None and parent in names and seen < 100:
            parent, parent_name = names[parent]
            parts.append(parent_name)
            seen += 1
        paths[pk] = "/".join(reversed(parts))
    return paths


def code_paths(project: Project) -> dict[int, str]:
    """Each code's full path ("parent/child") by id."""
    rows = Code.objects.filter(project=project).values_list("pk", "parent_id", "name")
    return paths_of({pk: (parent, name) for pk, parent, name in rows})


def segment_counts(project: Project) -> dict[int, int]:
    """Live segments per code (codes without any left out)."""
    # Imported here: tallies reads the data's fingerprint from .agreement,
    # which imports this module.
    from .tallies import project_tallies

    return project_tallies(project).by_code


def codebook_rows(
    project: Project, *, codes: Iterable[Code] | None = None
) -> list[dict[str, Any]]:
    """Every code (retired ones included) as a row of the codebook file, with
    its parent as a path, parents before children; each row also carries the
    code's ``id``, which the files leave out
    (:func:`~annotations.exporters.codebook.codebook_file_rows`) and a
    published version's snapshot keeps, to tell a renamed code from a new one.

    ``codes``: every code of the project, if the caller has loaded them (the
    Codebook page's tree), to save the query.
    """
    codes = sorted(
        Code.objects.filter(project=project) if codes is None else codes,
        key=lambda c: (c.order, c.pk),
    )
    paths = paths_of({c.pk: (c.parent_id, c.name) for c in codes})
    rows = []
    for code in codes:
        row: dict[str, Any] = {"id": code.pk}
        row.update({f: getattr(code, f) for f in CODEBOOK_FILE_FIELDS if f != "parent"})
        row["parent"] = paths.get(code.parent_id, "") if code.parent_id else ""
        rows.append(row)
    # Stable: siblings stay in (order, id) order.
    rows.sort(
        key=lambda r: (
            r["parent"].count("/") if r["parent"] else -1,
            r["parent"],
            r["order"],
        )
    )
    return rows
