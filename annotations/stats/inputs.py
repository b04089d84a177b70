"""Input of the agreement engine: plain rows in, compact arrays inside.

The Django side flattens its querysets into these types (or straight into
arrays with :meth:`AgreementInput.from_arrays`, which is what large projects
should use: building four million dataclass instances costs seconds).

Offsets are half-open ``[start, end)`` in Unicode code points of the stored
document text, as everywhere in the workbench.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from annotations.stats.formulas import LEVELS_OF_MEASUREMENT

MAX_CODERS = 64  # coder sets are uint64 bit masks in the interval sweeps


@dataclass(frozen=True)
class SegmentRow:
    """One coded span: ``document``, ``coder`` and ``code`` are hashable ids,
    ``[start, end)`` code point offsets into the document text."""

    document: Hashable
    coder: Hashable
    code: Hashable
    start: int
    end: int


@dataclass(frozen=True)
class Variable:
    """A parent code declared a variable.

    Its children are the values: ``values`` lists ``(child code, number)`` in
    the declared order, which ordinal metrics use (never alphabetical order);
    interval and ratio metrics use the numbers. ``level`` is ``"nominal"``,
    ``"ordinal"``, ``"interval"`` or ``"ratio"``.
    """

    code: Hashable
    level: str
    values: tuple[tuple[Hashable, float], ...]

    def __post_init__(self) -> None:
        if self.level not in LEVELS_OF_MEASUREMENT:
            raise ValueError(f"unknown level of measurement: {self.level!r}")
        children = [c for c, _ in self.values]
        if len(set(children)) != len(children):
            raise ValueError(f"variable {self.code!r} lists a child twice")


def _index(ids: Sequence[Hashable]) -> dict[Hashable, int]:
    out: dict[Hashable, int] = {}
    for i, x in enumerate(ids):
        if x in out:
            raise ValueError(f"duplicate id: {x!r}")
        out[x] = i
    return out


def _factorize(values: np.ndarray, known: dict[Hashable, int], what: str) -> np.ndarray:
    """Map ids to their positions; integer ids go through numpy, the rest
    through a dict."""
    if values.size == 0:
        return np.zeros(0, dtype=np.int64)
    keys = list(known)
    if values.dtype.kind in "iu" and all(
        isinstance(k, int | np.integer) and not isinstance(k, bool) for k in keys
    ):
        ordered = np.asarray(keys, dtype=np.int64)
        order = np.argsort(ordered)
        pos = np.searchsorted(ordered[order], values)
        pos = np.clip(pos, 0, len(keys) - 1)
        hit = ordered[order][pos] == values
        if not hit.all():
            bad = values[~hit][0]
            raise ValueError(f"unknown {what}: {bad!r}")
        return np.asarray([known[k] for k in keys], dtype=np.int64)[order][pos]
    try:
        return np.fromiter((known[v] for v in values.tolist()), np.int64, values.size)
    except KeyError as exc:
        raise ValueError(f"unknown {what}: {exc.args[0]!r}") from None


@dataclass(frozen=True, eq=False)
class AgreementInput:
    """Everything the engine needs, as compact arrays.

    * ``documents``, ``coders``, ``codes``: the ids; arrays below refer to
      them by position.
    * ``document_lengths[d]``: length of document ``d`` in code points.
    * ``assigned[d, c]``: coder ``c`` is in the reliability sample for
      document ``d``. A coder without an assignment is *missing* for the
      document, not "coded nothing".
    * ``parent[k]``: position of code ``k``'s parent, ``-1`` for a root. A code
      counts as applied wherever it or any of its descendants is applied.
    * ``seg_*``: one entry per segment (document, coder, code, start, end).
    * ``variables``: parent codes declared variables.
    * ``dropped_segments``: segments ignored because their coder was not
      assigned to their document (they cannot count as agreement or as
      disagreement).
    """

    documents: tuple[Hashable, ...]
    coders: tuple[Hashable, ...]
    codes: tuple[Hashable, ...]
    document_lengths: np.ndarray
    assigned: np.ndarray
    parent: np.ndarray
    seg_document: np.ndarray
    seg_coder: np.ndarray
    seg_code: np.ndarray
    seg_start: np.ndarray
    seg_end: np.ndarray
    variables: tuple[Variable, ...] = ()
    dropped_segments: int = 0
    _ancestors: list[np.ndarray] = field(default_factory=list, repr=False)

    # -- constructors --

    @classmethod
    def from_rows(
        cls,
        segments: Iterable[SegmentRow],
        document_lengths: Mapping[Hashable, int],
        assignments: Iterable[tuple[Hashable, Hashable]],
        *,
        code_parents: Mapping[Hashable, Hashable | None] | None = None,
        codes: Iterable[Hashable] | None = None,
        coders: Iterable[Hashable] | None = None,
        variables: Iterable[Variable] = (),
    ) -> AgreementInput:
        """Build from :class:`SegmentRow` objects.

        ``assignments`` are ``(document, coder)`` pairs of the reliability
        sample. ``code_parents`` maps each code to its parent (``None`` for a
        root); ``codes`` lists codes in report order (default: every code
        named anywhere, in order of appearance).
        """
        rows = list(segments)
        return cls.from_arrays(
            document=[r.document for r in rows],
            coder=[r.coder for r in rows],
            code=[r.code for r in rows],
            start=[r.start for r in rows],
            end=[r.end for r in rows],
            document_lengths=document_lengths,
            assignments=assignments,
            code_parents=code_parents,
            codes=codes,
            coders=coders,
            variables=variables,
        )

    @classmethod
    def from_arrays(
        cls,
        *,
        document: Sequence[Hashable] | np.ndarray,
        coder: Sequence[Hashable] | np.ndarray,
        code: Sequence[Hashable] | np.ndarray,
        start: Sequence[int] | np.ndarray,
        end: Sequence[int] | np.ndarray,
        document_lengths: Mapping[Hashable, int],
        assignments: Iterable[tuple[Hashable, Hashable]],
        code_parents: Mapping[Hashable, Hashable | None] | None = None,
        codes: Iterable[Hashable] | None = None,
        coders: Iterable[Hashable] | None = None,
        variables: Iterable[Variable] = (),
    ) -> AgreementInput:
        """Build from parallel columns (one entry per segment).

        Raises ``ValueError`` for offsets outside ``0 <= start < end <=
        length``, unknown documents, codes or coders, and cyclic hierarchies.
        """
        doc_ids = tuple(document_lengths)
        doc_index = _index(doc_ids)
        lengths = np.asarray([int(document_lengths[d]) for d in doc_ids], np.int64)
        if (lengths < 0).any():
            raise ValueError("document lengths must be >= 0")

        pairs = list(assignments)
        code_arr = np.asarray(code)
        coder_arr = np.asarray(coder)
        variables = tuple(variables)

        if coders is None:
            seen: dict[Hashable, None] = {}
            for _, c in pairs:
                seen.setdefault(c, None)
            for c in coder_arr.tolist():
                seen.setdefault(c, None)
            coders = seen
        coder_ids = tuple(coders)
        coder_index = _index(coder_ids)
        if len(coder_ids) > MAX_CODERS:
            raise ValueError(f"at most {MAX_CODERS} coders are supported")

        parents = dict(code_parents or {})
        if codes is None:
            order: dict[Hashable, None] = {}
            for k, p in parents.items():
                order.setdefault(k, None)
                if p is not None:
                    order.setdefault(p, None)
            for v in variables:
                order.setdefault(v.code, None)
                for child, _ in v.values:
                    order.setdefault(child, None)
            for k in code_arr.tolist():
                order.setdefault(k, None)
            codes = order
        code_ids = tuple(codes)
        code_index = _index(code_ids)
        parent = np.full(len(code_ids), -1, dtype=np.int64)
        for k, p in parents.items():
            if k not in code_index:
                raise ValueError(f"unknown code in hierarchy: {k!r}")
            if p is not None:
                if p not in code_index:
                    raise ValueError(f"unknown parent code: {p!r}")
                parent[code_index[k]] = code_index[p]
        for v in variables:
            for key in (v.code, *(c for c, _ in v.values)):
                if key not in code_index:
                    raise ValueError(f"unknown code in variable: {key!r}")

        assigned = np.zeros((len(doc_ids), len(coder_ids)), dtype=bool)
        for d, c in pairs:
            if d not in doc_index:
                raise ValueError(f"assignment for unknown document: {d!r}")
            if c not in coder_index:
                raise ValueError(f"assignment for unknown coder: {c!r}")
            assigned[doc_index[d], coder_index[c]] = True

        seg_doc = _factorize(np.asarray(document), doc_index, "document")
        seg_coder = _factorize(coder_arr, coder_index, "coder")
        seg_code = _factorize(code_arr, code_index, "code")
        seg_start = np.asarray(start, dtype=np.int64)
        seg_end = np.asarray(end, dtype=np.int64)
        n = seg_doc.size
        if not (seg_coder.size == seg_code.size == seg_start.size == seg_end.size == n):
            raise ValueError("segment columns differ in length")
        bad = (seg_start < 0) | (seg_end <= seg_start) | (seg_end > lengths[seg_doc])
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"segment offsets outside 0 <= start < end <= length: document "
                f"{doc_ids[seg_doc[i]]!r} [{seg_start[i]}, {seg_end[i]}) with "
                f"length {lengths[seg_doc[i]]}"
            )
        keep = assigned[seg_doc, seg_coder]
        dropped = int(n - keep.sum())

        return cls(
            documents=doc_ids,
            coders=coder_ids,
            codes=code_ids,
            document_lengths=lengths,
            assigned=assigned,
            parent=parent,
            seg_document=seg_doc[keep],
            seg_coder=seg_coder[keep],
            seg_code=seg_code[keep],
            seg_start=seg_start[keep],
            seg_end=seg_end[keep],
            variables=variables,
            dropped_segments=dropped,
            _ancestors=_ancestor_lists(parent),
        )

    # -- derived --

    def ancestors(self, k: int) -> np.ndarray:
        """Positions of code ``k`` and all its ancestors."""
        return self._ancestors[k]

    def descendants_mask(self, k: int) -> np.ndarray:
        """Boolean mask over codes: ``k`` and everything below it."""
        return np.asarray([k in a for a in self._ancestors], dtype=bool)


def _ancestor_lists(parent: np.ndarray) -> list[np.ndarray]:
    out: list[np.ndarray] = []
    for k in range(parent.size):
        chain = [k]
        p = int(parent[k])
        while p >= 0:
            if p in chain:
                raise ValueError("the code hierarchy has a cycle")
            chain.append(p)
            p = int(parent[p])
        out.append(np.asarray(chain, dtype=np.int64))
    return out
