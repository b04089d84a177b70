"""Bulk writes for imports and generated data: PostgreSQL COPY, or bulk_create.

Rows are plain tuples in the order of ``fields`` (model attribute names, e.g.
``document_id``). Nothing here validates: callers check every row before the
first write, and call inside ``transaction.atomic`` so a failure writes
nothing. Model ``save()`` and ``auto_now`` are bypassed on PostgreSQL, so
callers pass every value (timestamps, lengths, checksums) themselves.
"""

import os
import re
import time
import uuid
from collections.abc import Iterable, Iterator
from functools import cache
from itertools import islice

from django.db import connection, models

BATCH = 2000


def _pg_type(field: models.Field) -> str:
    # "varchar(255)" -> "varchar": psycopg's binary dumpers key on the base type.
    return re.sub(r"\(.*\)$", "", field.db_type(connection)).strip()


@cache
def _text_dumper() -> type:
    """A binary dumper of ``str`` to ``text`` that leaves no copy behind.

    psycopg's own encodes with ``PyUnicode_AsUTF8AndSize``, which keeps the
    UTF-8 bytes cached in every non-ASCII ``str`` for the string's life: the
    rows an import holds would grow by their size in UTF-8 (+100 MB for a
    100 MB file of articles) while it writes them.
    """
    from psycopg.adapt import Dumper
    from psycopg.postgres import types
    from psycopg.pq import Format

    class TextDumper(Dumper):
        format = Format.BINARY
        oid = types["text"].oid

        def dump(self, obj: str) -> bytes:
            return obj.encode()

    return TextDumper


def rows_insert(
    model: type[models.Model], fields: list[str], rows: Iterable[tuple]
) -> int:
    """Insert ``rows`` into ``model``'s table; return how many.

    PostgreSQL: one binary ``COPY ... FROM STDIN`` streaming the rows, so
    memory stays flat however many there are. Other databases:
    ``bulk_create`` in batches of :data:`BATCH`.
    """
    opts = model._meta
    model_fields = [opts.get_field(f) for f in fields]
    if connection.vendor == "postgresql":
        from psycopg.types.json import Jsonb

        columns = ", ".join(connection.ops.quote_name(f.column) for f in model_fields)
        json_at = [
            i for i, f in enumerate(model_fields) if isinstance(f, models.JSONField)
        ]
        count = 0
        with connection.cursor() as cursor:
            cursor.cursor.adapters.register_dumper(None, _text_dumper())
            sql = f"COPY {connection.ops.quote_name(opts.db_table)} ({columns}) FROM STDIN (FORMAT BINARY)"
            with cursor.cursor.copy(sql) as copy:
                copy.set_types([_pg_type(f) for f in model_fields])
                write = copy.write_row
                if json_at:
                    for row in rows:
                        row = list(row)
                        for i in json_at:
                            if row[i] is not None and not isinstance(row[i], Jsonb):
                                row[i] = Jsonb(row[i])
                        write(row)
                        count += 1
                else:
                    for row in rows:
                        write(row)
                        count += 1
        return count
    names = [f.attname for f in model_fields]
    count = 0
    iterator: Iterator[tuple] = iter(rows)
    while batch := list(islice(iterator, BATCH)):
        model.objects.bulk_create(
            [model(**dict(zip(names, row, strict=True))) for row in batch]
        )
        count += len(batch)
    return count


def ids_reserve(model: type[models.Model], count: int) -> list[int]:
    """Reserve ``count`` primary keys for rows written with explicit ids.

    PostgreSQL draws them from the table's identity sequence, so concurrent
    writers never collide. Elsewhere (SQLite, one writer at a time) they
    continue after the largest id; call inside the writing transaction.
    """
    if count <= 0:
        return []
    table = model._meta.db_table
    pk = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) "
                "FROM generate_series(1, %s)",
                [table, pk, count],
            )
            return [r[0] for r in cursor.fetchall()]
        cursor.execute(
            f"SELECT COALESCE(MAX({connection.ops.quote_name(pk)}), 0) "
            f"FROM {connection.ops.quote_name(table)}"
        )
        first = cursor.fetchone()[0] + 1
    return list(range(first, first + count))


def ordered_uuids(count: int) -> Iterator[uuid.UUID]:
    """``count`` unique UUIDs in increasing order, laid out as UUIDv7
    (RFC 9562: 48-bit Unix milliseconds, version 7, a counter in the 74
    random bits that starts at a random point).

    For rows written in bulk with a unique UUID column: random (v4) values
    land all over that column's index, and on a table of millions of rows
    each insert touches a page not in memory; ordered values append at its
    end (20-40% faster imports here, BENCHMARKS.md). The counter's random
    start keeps two imports in the same millisecond apart.
    """
    millis = time.time_ns() // 1_000_000
    counter = int.from_bytes(os.urandom(10)) >> 8  # 72 random bits
    head = (millis & (2**48 - 1)) << 80 | 0x7 << 76
    for i in range(count):
        n = (counter + i) & (2**72 - 1)
        # The counter's top 12 bits in rand_a, the variant "10", its low 60
        # bits at the bottom of rand_b (whose top 2 bits stay 0).
        value = head | (n >> 60) << 64 | 0b10 << 62 | (n & (2**60 - 1))
        yield uuid.UUID(int=value)
