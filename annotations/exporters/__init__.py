"""Pure exporters: plain rows (tuples, dataclasses) in, a file or a stream of
text out. No models or querysets here: ``selectors/export.py`` flattens the
database into the rows defined in :mod:`.rows`, and ``services/exports.py``
wires the two together and writes files atomically.

Offsets are half-open ``[start, end)`` in Unicode code points of the stored
text, in every format.
"""
