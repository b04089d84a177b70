"""Reads of the append-only history: filtered events of a project."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from ..models import HistoryEvent, Project


def history_events(
    project: Project,
    *,
    username: str | None = None,
    since: dt.date | dt.datetime | None = None,
    until: dt.date | dt.datetime | None = None,
    document_id: int | None = None,
    entity: str | None = None,
    action: str | None = None,
) -> QuerySet[HistoryEvent]:
    """Events newest first. ``since`` and ``until`` are whole days in the
    project's time zone, both included, or instants (datetimes, both
    included, as the API takes them); ``username`` "-" means changes made
    by no user (imports and commands run without one)."""
    qs = HistoryEvent.objects.filter(project=project)
    if username == "-":
        qs = qs.filter(user__isnull=True)
    elif username:
        qs = qs.filter(user__username=username)
    tz = timezone.get_current_timezone()
    # A datetime is also a date: test for it first.
    if isinstance(since, dt.datetime):
        qs = qs.filter(created_at__gte=since)
    elif since:
        qs = qs.filter(created_at__gte=dt.datetime.combine(since, dt.time.min, tz))
    if isinstance(until, dt.datetime):
        qs = qs.filter(created_at__lte=until)
    elif until:
        end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tz)
        qs = qs.filter(created_at__lt=end)
    if document_id is not None:
        qs = qs.filter(document_id=document_id)
    if entity:
        qs = qs.filter(entity=entity)
    if action:
        qs = qs.filter(action=action)
    return qs.select_related("user", "document").order_by("-created_at", "-id")


def history_entities(project: Project) -> list[str]:
    return sorted(
        HistoryEvent.objects.filter(project=project)
        # Meta.ordering would enter the DISTINCT and return one row per event.
        .order_by()
        .values_list("entity", flat=True)
        .distinct()
    )
