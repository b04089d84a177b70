"""The benchmark database: created when missing (PostgreSQL), then migrated."""

from collections.abc import Callable

from django.core.management import call_command
from django.db import OperationalError, connection


def database_prepare(say: Callable[[str], None]) -> None:
    """Create the PostgreSQL database named by DATABASE_URL if it does not
    exist (never drops anything), then apply migrations."""
    if connection.vendor == "postgresql":
        try:
            connection.ensure_connection()
        except OperationalError as exc:
            if "does not exist" not in str(exc):
                raise
            _create(say)
    call_command("migrate", interactive=False, verbosity=0)


def _create(say: Callable[[str], None]) -> None:
    import psycopg
    from psycopg import sql

    params = connection.get_connection_params()
    name = params.pop("dbname")
    params["dbname"] = "postgres"
    with psycopg.connect(**params, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    say(f"created the PostgreSQL database {name!r}")


def tables_tidy(*models) -> None:
    """VACUUM (ANALYZE) the tables a figure just emptied (PostgreSQL).

    Without it the next run walks the index entries of the deleted rows and
    plans with the statistics of before; autovacuum would catch up later,
    and some servers (this one) run without it. Not inside a transaction.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")
