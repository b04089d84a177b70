"""Reads for the stratified reliability sample: each document's stratum, the
metadata keys one can stratify by, and the sample per stratum."""

from collections.abc import Collection

from django.db import connection
from django.db.models import Count, Expression, F
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import ExtractYear

from ..models import Assignment, Document, Project
from ..sampling import StratifyBy, Stratum, strata_summary, stratum_value


def _stratum_expression(by: StratifyBy) -> Expression | F:
    if by.field == "source":
        return F("source")
    if by.field == "published_year":
        return ExtractYear("published")
    # The key as one name, even when it holds dots or "__".
    return KeyTransform(by.key, "metadata")


def document_strata(
    project: Project, by: StratifyBy, documents: Collection[int] | None = None
) -> dict[int, str | None]:
    """``{document id: stratum}`` for ``documents`` (default: all the
    project's), None where the document has no value."""
    wanted = None if documents is None else set(documents)
    rows = (
        project.documents.order_by()
        .annotate(stratum=_stratum_expression(by))
        .values_list("pk", "stratum")
    )
    # Filtered here, not with pk__in: thousands of ids would pass SQLite's
    # limit on query parameters.
    return {
        pk: stratum_value(value)
        for pk, value in rows.iterator(chunk_size=5000)
        if wanted is None or pk in wanted
    }


def sample_strata(project: Project, by: StratifyBy) -> tuple[Stratum, ...]:
    """The project's documents per stratum, and how many of them are in the
    reliability sample now (assigned to two or more coders)."""
    sampled = (
        Assignment.objects.filter(document__project=project)
        .values("document_id")
        .annotate(n=Count("pk"))
        .filter(n__gte=2)
        .values_list("document_id", flat=True)
    )
    return strata_summary(
        document_strata(project, by),
        set(sampled),
        share=project.reliability_share or 0,
    )


def metadata_keys(project: Project) -> list[str]:
    """Every top-level key of the project's documents' metadata, sorted."""
    table = connection.ops.quote_name(Document._meta.db_table)
    if connection.vendor == "postgresql":
        sql = (
            f"SELECT DISTINCT jsonb_object_keys(metadata) FROM {table} "
            "WHERE project_id = %s AND jsonb_typeof(metadata) = 'object'"
        )
    else:
        sql = (
            f"SELECT DISTINCT j.key FROM {table} AS d, json_each(d.metadata) AS j "
            "WHERE d.project_id = %s AND json_type(d.metadata) = 'object'"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [project.pk])
        return sorted(str(row[0]) for row in cursor.fetchall())
