"""GET /api/projects/<slug>/consensus/ and /adjudication/: the adjudicated
consensus (the dataset of record) with its provenance, and where the
adjudication of each document stands. Read-only, PIs only, as the
Adjudication pages: coders and outsiders get 404.

The consensus is changed on the Adjudication page (or ``manage.py
adjudicate``); these lists read the same selectors as that page and
consensus.csv, one page at a time.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import IsAuthenticated

from ..models import ConsensusSegment, Document
from ..selectors.adjudication import STATUS_LABELS, adjudication_summaries
from ..selectors.codebook import code_paths
from ..selectors.consensus import (
    adjudication_overview,
    consensus_provenance,
    consensus_segments,
)
from .permissions import ProjectPI
from .serializers import IdField
from .views import SLUG, Pagination, _errors, parse

LIST_ERRORS = _errors(400, 401, 404)


class ProjectReadList(generics.ListAPIView):
    """A read-only, paginated list of one project, for its PIs only."""

    permission_classes = [IsAuthenticated, ProjectPI]
    pagination_class = Pagination
    http_method_names = ["get", "head", "options"]
    filter_serializer: type[serializers.Serializer]

    def filters(self) -> dict:
        return parse(self.filter_serializer, self.request.query_params)


# --- consensus ----------------------------------------------------------------


DECISION_HELP = "; ".join(f"`{k}`: {v}" for k, v in ConsensusSegment.Decision.choices)


class ConsensusFilterSerializer(serializers.Serializer):
    document = IdField(required=False, help_text="Only this document (its id).")
    code = IdField(
        required=False, help_text="Only this code (its id; not its subcodes)."
    )
    decision = serializers.ChoiceField(
        choices=ConsensusSegment.Decision.choices, required=False,
        help_text="Only segments decided so: " + DECISION_HELP + ".",
    )  # fmt: skip


class ConsensusSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    document = serializers.IntegerField(source="document_id")
    external_id = serializers.CharField(help_text="The document's external id.")
    code = serializers.IntegerField(source="code_id")
    code_path = serializers.SerializerMethodField(
        help_text='The code\'s full path, "parent/child".'
    )
    start = serializers.IntegerField(help_text="Code points, included.")
    end = serializers.IntegerField(help_text="Code points, excluded.")
    quote = serializers.CharField(help_text="The document's text[start:end].")
    memo = serializers.CharField(
        help_text="The source coders' memos, or the adjudicator's."
    )
    # CharField rather than ChoiceField: one enum per field name in the schema.
    decision = serializers.CharField(help_text=DECISION_HELP + ".")
    automatic = serializers.SerializerMethodField(
        help_text="Accepted automatically because every coder agreed (`auto`)."
    )
    note = serializers.CharField(help_text="Why the adjudicator decided so.")
    decided_by = serializers.CharField(
        source="decided_by_username", allow_null=True,
        help_text="Who made the decision (or last changed it); null for a "
        "removed account or a command run without a user.",
    )  # fmt: skip
    decided_at = serializers.DateTimeField()
    updated = serializers.DateTimeField(source="updated_at")
    version = serializers.IntegerField()
    source_segments = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Ids of the coders' segments it was made from (empty for a "
        "segment the adjudicator added).",
    )
    source_coders = serializers.ListField(
        child=serializers.CharField(), help_text="Usernames of those segments' coders."
    )
    sources_changed = serializers.BooleanField(
        help_text="A source segment was changed or deleted after the decision."
    )

    def get_code_path(self, consensus: ConsensusSegment) -> str:
        return self.context["paths"][consensus.code_id]

    def get_automatic(self, consensus: ConsensusSegment) -> bool:
        return consensus.decision == ConsensusSegment.Decision.AUTO


class ConsensusView(ProjectReadList):
    queryset = ConsensusSegment.objects.none()  # for the schema
    serializer_class = ConsensusSerializer
    filter_serializer = ConsensusFilterSerializer

    @extend_schema(
        operation_id="project_consensus_list",
        summary="The adjudicated consensus with its provenance (PIs only)",
        description=(
            "The live consensus segments, by document and offset: the dataset "
            "of record. Offsets are half-open Unicode code points; `quote` is "
            "the document's text[start:end]. Documents still being adjudicated "
            "have a partial consensus: see `/adjudication/` for each "
            "document's status."
        ),
        parameters=[SLUG, ConsensusFilterSerializer],
        responses={200: ConsensusSerializer(many=True), **LIST_ERRORS},
        tags=["adjudication"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        f = self.filters()
        return consensus_segments(
            self.project,
            document_id=f.get("document"),
            code_id=f.get("code"),
            decision=f.get("decision"),
        )

    def paginate_queryset(self, queryset):
        return consensus_provenance(super().paginate_queryset(queryset))

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "paths": code_paths(self.project)}


# --- adjudication states ------------------------------------------------------


STATUS_HELP = "; ".join(f"`{k}`: {v}" for k, v in STATUS_LABELS.items())


class AdjudicationFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=list(STATUS_LABELS.items()), required=False,
        help_text="Only documents with this status: " + STATUS_HELP + ".",
    )  # fmt: skip
    document = IdField(required=False, help_text="Only this document (its id).")


class AdjudicationSerializer(serializers.Serializer):
    document = serializers.IntegerField(source="pk")
    external_id = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField(
        source="summary.status",
        help_text=STATUS_HELP + ". `needs_review` includes an adjudicated "
        "document whose coders changed a segment afterwards.",
    )
    status_label = serializers.SerializerMethodField()
    coders = serializers.IntegerField(
        source="n_coders", help_text="Coders assigned to the document."
    )
    coders_done = serializers.IntegerField(
        source="n_done", help_text="Of those, how many marked it done."
    )
    disagreements = serializers.IntegerField(
        source="summary.disagreements",
        help_text="Disagreements between the coders' live segments, with the "
        "overlap rule the adjudication was started with.",
    )
    open = serializers.IntegerField(
        source="summary.open", help_text="Of those, how many no decision settled yet."
    )
    consensus = serializers.IntegerField(
        source="summary.consensus", help_text="Live consensus segments."
    )
    # Null (through a missing state or user) when not started.
    adjudicator = serializers.CharField(
        source="adjudication.adjudicator.username", allow_null=True,
        help_text="Who started or last marked the adjudication; null when not "
        "started or the account is gone.",
    )  # fmt: skip
    adjudicated_at = serializers.DateTimeField(
        source="adjudication.adjudicated_at", allow_null=True,
        help_text="When it was last marked adjudicated; null if never.",
    )  # fmt: skip
    updated = serializers.DateTimeField(
        source="adjudication.updated_at", allow_null=True,
        help_text="Last change of the adjudication's state; null when not started.",
    )  # fmt: skip
    overlap = serializers.FloatField(
        source="adjudication.overlap", allow_null=True,
        help_text="Overlap share counted as agreement; null: the exact same span "
        "(or not started).",
    )  # fmt: skip
    override_reason = serializers.CharField(
        source="adjudication.override_reason", allow_null=True,
        help_text="Why it went ahead before every coder was done; null when not "
        "started.",
    )  # fmt: skip

    def get_status_label(self, document: Document) -> str:
        return STATUS_LABELS[document.summary["status"]]


class AdjudicationView(ProjectReadList):
    queryset = Document.objects.none()  # for the schema
    serializer_class = AdjudicationSerializer
    filter_serializer = AdjudicationFilterSerializer

    @extend_schema(
        operation_id="project_adjudication_list",
        summary="Where the adjudication of each document stands (PIs only)",
        description=(
            "The documents of the Adjudication page (assigned to two coders or "
            "more), by id: status, who and when, and the disagreements still "
            "open, counted as the page counts them."
        ),
        parameters=[SLUG, AdjudicationFilterSerializer],
        responses={200: AdjudicationSerializer(many=True), **LIST_ERRORS},
        tags=["adjudication"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        f = self.filters()
        return adjudication_overview(
            self.project, status=f.get("status"), document_id=f.get("document")
        )

    def paginate_queryset(self, queryset):
        rows = super().paginate_queryset(queryset)
        summaries = adjudication_summaries(rows)
        for document in rows:
            document.summary = summaries[document.pk]
        return rows
