"""The coding page: read an article, highlight and tag spans, memo, undo and
redo, done.

Every change is a POST that works as a plain form (redirect back with a
message, or the page with the error and a 4xx) and, sent with
``HX-Request``, answers with the changed regions of the page as
out-of-band fragments (``coding.html#changed``). Writes go through
``services.coding``; who sees what through ``permissions``.
"""

from .base import REDO_KEY, UNDO_DOCUMENTS, UNDO_KEY, UNDO_LIMIT
from .pages import (
    assignment_done,
    assignment_note,
    assignment_reopen,
    codes_css,
    coding_page,
    next_article,
)
from .segments import (
    coding_redo,
    coding_undo,
    segment_create,
    segment_delete,
    segment_detail,
    segment_restore,
    segment_update,
)

__all__ = [
    "REDO_KEY",
    "UNDO_DOCUMENTS",
    "UNDO_KEY",
    "UNDO_LIMIT",
    "assignment_done",
    "assignment_note",
    "assignment_reopen",
    "codes_css",
    "coding_page",
    "coding_redo",
    "coding_undo",
    "next_article",
    "segment_create",
    "segment_delete",
    "segment_detail",
    "segment_restore",
    "segment_update",
]
