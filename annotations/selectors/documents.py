"""Reads of a project's documents."""

from django.db.models import Count, Q, QuerySet

from ..models import Assignment, Document, Project

SEARCH_FIELDS = {
    "title": ["title", "external_id"],
    "text": ["text"],
    "metadata": ["metadata__icontains", "source", "url"],
}


def document_search(
    project: Project, *, q: str = "", field: str = "all"
) -> QuerySet[Document]:
    """The project's documents, optionally matching ``q`` (case-insensitive)
    in the title (and external id), the text, or the metadata (and source),
    with assignment counts; the text itself is deferred."""
    documents = project.documents.defer("text").annotate(
        n_assigned=Count("assignments", distinct=True),
        n_done=Count(
            "assignments",
            filter=Q(assignments__status=Assignment.Status.DONE),
            distinct=True,
        ),
    )
    if q:
        fields = SEARCH_FIELDS.get(field) or [
            f for fs in SEARCH_FIELDS.values() for f in fs
        ]
        condition = Q()
        for name in fields:
            lookup = name if name.endswith("__icontains") else f"{name}__icontains"
            condition |= Q(**{lookup: q})
        documents = documents.filter(condition)
    return documents.order_by("id")
