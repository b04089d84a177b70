"""segments.csv straight from PostgreSQL's ``COPY``, in two streams.

The database does nearly all the work of this export (formatting 17 cells a
row), on one core per connection. A large project is split at its middle
document: a second connection copies the second half into a temporary file
while this one streams the first, both reading one snapshot
(``pg_export_snapshot``), so the file is what a single ``COPY`` would write
at one moment. BENCHMARKS.md has the figures.
"""

import tempfile
import threading
from collections.abc import Iterator

from django.db import connection, connections, transaction

from ..exporters.rows import ExportContext
from ..models import Document, Project
from .export import ExportFilter, segments_copy_sql

COPY_BLOCK = 256 * 1024
# Below this many documents a second connection costs more than it saves.
SPLIT_DOCUMENTS = 400
ALL = (0, 2**63 - 1)


def _blocks(copy) -> Iterator[bytes]:
    """``COPY`` sends one message per row: gather them into blocks so the
    per-row work in Python is one append (it was a third of the export)."""
    block = bytearray()
    for row in copy:
        block += row
        if len(block) >= COPY_BLOCK:
            yield bytes(block)
            block.clear()
    if block:
        yield bytes(block)


class SegmentCsvCopy:
    """The rows of segments.csv as ``COPY`` writes them, in blocks of whole
    lines of about :data:`COPY_BLOCK` bytes; ``rows`` holds how many once the
    iteration ends. Nothing in memory holds more than a block."""

    def __init__(self, project: Project, filt: ExportFilter, ctx: ExportContext):
        self.project, self.filt, self.ctx = project, filt, ctx
        self.rows = 0

    def _query(self, documents=ALL):
        return segments_copy_sql(self.project, self.filt, self.ctx, documents)

    def _middle(self) -> int | None:
        """The id of the middle document, when the project is worth splitting
        and a second connection can see what this one sees (outside a
        transaction: tests and callers inside one stay on one stream)."""
        if connection.in_atomic_block:
            return None
        ids = Document.objects.filter(project=self.project).order_by("id")
        n = ids.count()
        if n < SPLIT_DOCUMENTS:
            return None
        return ids.values_list("id", flat=True)[n // 2 - 1]

    def __iter__(self) -> Iterator[bytes]:
        whole = self._query()
        if whole is None:
            return
        middle = self._middle()
        with transaction.atomic(), connection.cursor() as django_cursor:
            cursor = django_cursor.cursor
            second = None
            if middle is not None:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                snapshot = cursor.execute("SELECT pg_export_snapshot()").fetchone()[0]
                second = _SecondHalf(self._query((middle, ALL[1])), snapshot)
                second.start()
            # Times are timestamps cast to text: ISO whatever the server's
            # default DateStyle.
            cursor.execute("SET LOCAL DateStyle TO ISO, YMD")
            statement, params = self._query((0, middle)) if second else whole
            try:
                if second:
                    second.ready.wait()  # it holds the snapshot from here on
                with cursor.copy(statement, params) as copy:
                    yield from _blocks(copy)
                self.rows = cursor.rowcount
                if second:
                    yield from second.result()
                    self.rows += second.rows
            finally:
                if second:
                    second.stop()


class _SecondHalf(threading.Thread):
    """Copies the documents after the middle into a temporary file on a
    connection of its own, in the snapshot of the first."""

    def __init__(self, query, snapshot: str):
        super().__init__(daemon=True)
        self.query, self.snapshot = query, snapshot
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop())
        self.ready = threading.Event()
        self.rows = 0
        self.error: BaseException | None = None
        self.conn = None

    def run(self) -> None:
        from psycopg import sql

        other = connections.create_connection("default")
        try:
            other.ensure_connection()
            self.conn = other.connection
            self.conn.autocommit = True
            cursor = self.conn.cursor()
            cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            cursor.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(self.snapshot))
            cursor.execute("SET LOCAL DateStyle TO ISO, YMD")
            self.ready.set()
            statement, params = self.query
            with cursor.copy(statement, params) as copy:
                for block in _blocks(copy):
                    self.file.write(block)
            self.rows = cursor.rowcount
            cursor.execute("COMMIT")
        except BaseException as exc:  # handed to the caller by result()
            self.error = exc
        finally:
            self.ready.set()
            other.close()

    def result(self) -> Iterator[bytes]:
        self.join()
        if self.error is not None:
            raise self.error
        self.file.seek(0)
        while block := self.file.read(COPY_BLOCK):
            yield block

    def stop(self) -> None:
        """Cancel the copy if the reader left early; wait for the thread."""
        if self.is_alive() and self.conn is not None:
            self.conn.cancel_safe()
        self.join()
        self.file.close()
