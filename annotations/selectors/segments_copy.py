"""segments.csv straight from PostgreSQL's ``COPY``, in two streams.

The database does nearly all the work of this export (formatting 18 cells a
row), on one core per connection. A large project is split at its middle
document: a second connection copies the second half into a temporary file
while this one streams the first, both reading one snapshot
(``pg_export_snapshot``), so the file is what a single ``COPY`` would write
at one moment. BENCHMARKS.md has the figures.
"""

import select
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


class CopyOut:
    """The rows ``COPY (...) TO STDOUT`` writes, run on the psycopg
    connection ``conn`` and gathered into blocks of whole rows of about
    :data:`COPY_BLOCK` bytes; ``rows`` holds the row count once the
    iteration ends.

    ``COPY`` sends one message per row. psycopg's ``Copy`` iterator resumes a
    generator and returns a buffer per message: 2.2 s of CPU per 1.9 million
    rows against 1.25 s for this loop over libpq's ``PQgetCopyData`` (through
    psycopg's public ``pq`` wrapper), which only waits on the socket when
    libpq has no whole row left. The statement is bound client-side, as
    psycopg does for ``COPY`` (it takes no server-side parameters).
    """

    def __init__(self, conn, statement, params):
        self.conn, self.statement, self.params = conn, statement, params
        self.pgconn = conn.pgconn
        self.rows = 0

    def _wait(self, event: int) -> None:
        poll = select.poll()
        poll.register(self.pgconn.socket, event)
        poll.poll()

    def _result(self):
        """The next result, once libpq has all of it (None after the last)."""
        while True:
            self.pgconn.consume_input()
            if not self.pgconn.is_busy():
                return self.pgconn.get_result()
            self._wait(select.POLLIN)

    def _raise(self, result) -> None:
        """Read what is left, so the connection is idle, and raise psycopg's
        error for ``result``."""
        from psycopg import errors

        while self._result() is not None:
            pass
        raise errors.error_from_result(result, encoding=self.conn.info.encoding)

    def __iter__(self) -> Iterator[bytes]:
        from psycopg import ClientCursor, OperationalError, pq

        pgconn = self.pgconn
        with ClientCursor(self.conn) as cursor:
            query = cursor.mogrify(self.statement, self.params)
        pgconn.send_query(query.encode())
        while pgconn.flush():
            self._wait(select.POLLOUT)
        if (started := self._result()).status != pq.ExecStatus.COPY_OUT:
            self._raise(started)
        streaming = True
        try:
            block = bytearray()
            get = pgconn.get_copy_data
            while True:  # the hot loop: one pass per row
                nbytes, data = get(1)
                if nbytes > 0:
                    block += data
                    if len(block) >= COPY_BLOCK:
                        yield bytes(block)
                        block.clear()
                elif nbytes == 0:  # no whole row buffered: wait for the server
                    self._wait(select.POLLIN)
                    pgconn.consume_input()
                else:
                    break
            streaming = False
            if nbytes == -2:
                raise OperationalError(pgconn.get_error_message())
            if (ended := self._result()).status != pq.ExecStatus.COMMAND_OK:
                self._raise(ended)
            while self._result() is not None:
                pass
            if block:
                yield bytes(block)
            self.rows = ended.command_tuples or 0
        finally:
            if streaming:  # left early: stop the server, empty the line
                self.conn.cancel_safe()
                while (nbytes := pgconn.get_copy_data(1)[0]) >= 0:
                    if nbytes == 0:
                        self._wait(select.POLLIN)
                        pgconn.consume_input()
                while self._result() is not None:
                    pass


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
                first = CopyOut(cursor.connection, statement, params)
                yield from first
                self.rows = first.rows
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
            copied = CopyOut(self.conn, statement, params)
            for block in copied:
                self.file.write(block)
            self.rows = copied.rows
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
