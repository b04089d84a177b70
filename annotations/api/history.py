"""GET /api/projects/<slug>/history/: the project's append-only history,
newest first, PIs only (as the History page: coders and outsiders get 404).

The same selector as the History page and its CSV download
(:func:`annotations.selectors.history.history_events`). Cursor-paginated: the
log only grows, and a cursor neither skips nor repeats an event when new ones
arrive between two pages, nor slows down deep into a long log.
"""

import datetime as dt
import re

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.pagination import CursorPagination

from ..models import HistoryEvent
from ..selectors.history import history_events
from .adjudication import LIST_ERRORS, ProjectReadList
from .serializers import IdField
from .views import SLUG, Pagination

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# "+02:00" arrives as " 02:00" when a client did not URL-encode the "+".
UNENCODED_PLUS = re.compile(r"(T[\d:.]+) (\d{2}(:?\d{2})?)$")
MOMENT_HELP = (
    "an ISO 8601 date-time (`2025-03-01T14:30:00Z`; without an offset: UTC), "
    "or a date (`2025-03-01`: the whole day, as on the History page); included."
)


@extend_schema_field(OpenApiTypes.DATETIME)
class MomentField(serializers.DateTimeField):
    """A date-time, or a date meaning the whole day (as the History page's
    filter, which reads dates)."""

    default_error_messages = {
        "invalid": "Give an ISO 8601 date-time such as 2025-03-01T14:30:00Z, "
        "or a date such as 2025-03-01.",
    }

    def to_internal_value(self, value):
        if isinstance(value, str):
            value = value.strip()
            if DATE.fullmatch(value):
                try:
                    return dt.date.fromisoformat(value)
                except ValueError:
                    self.fail("invalid")
            value = UNENCODED_PLUS.sub(r"\1+\2", value)
        return super().to_internal_value(value)


def _bounds(moment: dt.date, *, end: bool) -> dt.datetime:
    """The first (or, with ``end``, the last) instant a filter value includes."""
    if isinstance(moment, dt.datetime):
        return moment
    tz = timezone.get_current_timezone()
    if end:
        next_day = dt.datetime.combine(moment + dt.timedelta(days=1), dt.time.min, tz)
        return next_day - dt.timedelta(microseconds=1)
    return dt.datetime.combine(moment, dt.time.min, tz)


class HistoryFilterSerializer(serializers.Serializer):
    user = serializers.CharField(
        required=False, max_length=150,
        help_text="Changes made by this username; `-`: by no user (imports, "
        "commands).",
    )  # fmt: skip
    document = IdField(required=False, help_text="Changes to this document's data.")
    entity = serializers.CharField(
        required=False, max_length=32,
        help_text="What changed: segment, consensus, rejection, adjudication, "
        "code, assignment, membership, project, document.",
    )  # fmt: skip
    action = serializers.ChoiceField(
        choices=HistoryEvent.Action.choices, required=False
    )
    since = MomentField(required=False, help_text="From: " + MOMENT_HELP)
    until = MomentField(required=False, help_text="To: " + MOMENT_HELP)

    def validate(self, data):
        if "since" in data and "until" in data:
            since = _bounds(data["since"], end=False)
            if since > _bounds(data["until"], end=True):
                raise serializers.ValidationError({"until": "It is before `since`."})
        return data


class HistoryPagination(CursorPagination):
    page_size = Pagination.page_size
    page_size_query_param = Pagination.page_size_query_param
    max_page_size = Pagination.max_page_size
    ordering = ("-created_at", "-id")


class HistoryEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created = serializers.DateTimeField(source="created_at")
    user = serializers.CharField(
        source="user.username", allow_null=True,
        help_text="Who; null for imports and commands run without a user, or "
        "a removed account.",
    )  # fmt: skip
    via = serializers.CharField(help_text="web, api, command, import...")
    entity = serializers.CharField()
    entity_id = serializers.IntegerField()
    action = serializers.CharField(
        help_text=", ".join(f"`{k}`" for k in HistoryEvent.Action.values) + "."
    )
    document = serializers.IntegerField(source="document_id", allow_null=True)
    external_id = serializers.CharField(
        source="document.external_id", allow_null=True,
        help_text="The document's external id; null for changes to no document.",
    )  # fmt: skip
    before = serializers.JSONField(
        allow_null=True, help_text="The object before; null for a creation."
    )
    after = serializers.JSONField(
        allow_null=True, help_text="The object after; null when it is gone."
    )


class HistoryView(ProjectReadList):
    queryset = HistoryEvent.objects.none()  # for the schema
    serializer_class = HistoryEventSerializer
    pagination_class = HistoryPagination
    filter_serializer = HistoryFilterSerializer

    @extend_schema(
        operation_id="project_history_list",
        summary="The history: every change, newest first (PIs only)",
        description=(
            "The same events as the History page and its CSV: who changed "
            "what, when, through what (`via`), and the object before and "
            "after. Paginated by cursor: follow `next` (`page_size` up to "
            "1000); a bad `cursor` answers 404."
        ),
        parameters=[SLUG, HistoryFilterSerializer],
        responses={200: HistoryEventSerializer(many=True), **LIST_ERRORS},
        tags=["history"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        f = self.filters()
        return history_events(
            self.project,
            username=f.get("user"),
            since=f.get("since"),
            until=f.get("until"),
            document_id=f.get("document"),
            entity=f.get("entity"),
            action=f.get("action"),
        ).defer("document__text", "document__metadata")
