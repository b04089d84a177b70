"""GET /api/projects/<slug>/agreement/: the agreement report, PIs only.

The same report as the agreement page, ``manage.py agreement`` and the
agreement exports (:func:`annotations.services.agreement.agreement_report`),
computed once per change of the data and cached. Coders and outsiders get 404.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from ..services.agreement import MAX_BOOTSTRAP, agreement_report
from ..stats import DEFAULT_RESAMPLES, DEFAULT_SEED, LEVELS
from .permissions import ProjectPI
from .views import SLUG, _errors, parse, service


class CommaListField(serializers.ListField):
    """A list from repeated query parameters or one comma-separated value."""

    def to_internal_value(self, data):
        if isinstance(data, list | tuple):
            data = [p.strip() for item in data for p in str(item).split(",")]
            data = [p for p in data if p]
        return super().to_internal_value(data)


class AgreementQuerySerializer(serializers.Serializer):
    level = CommaListField(
        child=serializers.ChoiceField(choices=LEVELS),
        required=False,
        max_length=len(LEVELS) * 2,
        help_text="Only these levels (repeat the parameter, or comma-separate); "
        "default: all of " + ", ".join(LEVELS) + ".",
    )
    all_coded = serializers.BooleanField(
        required=False, default=False,
        help_text="Reliability sample: every document two or more coders worked "
        "on (assignment in progress or done, or a segment), not only those two "
        "or more coders marked done.",
    )  # fmt: skip
    with_consensus = serializers.BooleanField(
        required=False, default=False,
        help_text="Add each coder against the adjudicated consensus (coder "
        "`consensus`) as pairs, on the documents whose adjudication started.",
    )  # fmt: skip
    bootstrap = serializers.IntegerField(
        required=False, default=DEFAULT_RESAMPLES, min_value=0, max_value=MAX_BOOTSTRAP,
        help_text="Bootstrap resamples of documents for the 95% intervals; 0: none.",
    )  # fmt: skip
    seed = serializers.IntegerField(
        required=False, default=DEFAULT_SEED, min_value=0, max_value=2**32 - 1,
        help_text="Seed of the bootstrap: the same seed gives the same intervals.",
    )  # fmt: skip
    codebook_version = serializers.IntegerField(
        required=False, default=None, allow_null=True, min_value=1,
        max_value=2**31 - 1,
        help_text="Only the coding done under this published codebook version: "
        "the documents where every counted coder's live segments were all coded "
        "under it (a coder without segments there coded nothing). Documents "
        "where one has a segment under another version, or before the first, "
        "are left out whole (sample.left_out_other_versions counts them). "
        "400 unless the project published it.",
    )  # fmt: skip


LEVEL_HELP = "One of: " + ", ".join(LEVELS) + "."


class AgreementResultSerializer(serializers.Serializer):
    # CharField rather than ChoiceField: a second enum named "level" (the
    # codebook has one) would get an unstable generated name in the schema.
    level = serializers.CharField(help_text=LEVEL_HELP)
    code = serializers.CharField(
        allow_null=True, help_text="The code's path; null for all codes together."
    )
    coefficient = serializers.CharField(
        help_text="e.g. krippendorff_alpha, cohen_kappa, f1_overlap; with the "
        "consensus, the span level's precision_exact, recall_exact, "
        "precision_overlap and recall_overlap compare each coder with the "
        "consensus as the reference (precision: share of the coder's segments "
        "matching a consensus segment; recall: share of the consensus segments "
        "the coder matched)."
    )
    coders = serializers.ListField(
        child=serializers.CharField(), help_text="Usernames of the coders in it."
    )
    pair = serializers.ListField(
        child=serializers.CharField(), allow_null=True, min_length=2, max_length=2,
        help_text="The two coders of a pairwise coefficient; null for rows over "
        "all coders (for a pairwise coefficient: the mean over pairs).",
    )  # fmt: skip
    value = serializers.FloatField(
        allow_null=True, help_text="Null when undefined; `note` says why."
    )
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)
    n_units = serializers.IntegerField(
        help_text="Units it was computed on: (document, code) pairs, documents, "
        "characters or segments, depending on the level."
    )
    n_documents = serializers.IntegerField()
    note = serializers.CharField(allow_null=True)


class CodebookVersionCountSerializer(serializers.Serializer):
    version = serializers.IntegerField(allow_null=True)
    segments = serializers.IntegerField()


class AgreementSampleSerializer(serializers.Serializer):
    rule = serializers.ChoiceField(choices=["done", "all_coded"])
    description = serializers.CharField()
    documents = serializers.IntegerField()
    external_ids = serializers.ListField(child=serializers.CharField())
    coders = serializers.ListField(child=serializers.CharField())
    levels = serializers.ListField(child=serializers.CharField(), help_text=LEVEL_HELP)
    bootstrap = serializers.IntegerField()
    seed = serializers.IntegerField()
    confidence = serializers.FloatField()
    with_consensus = serializers.BooleanField()
    consensus_documents = serializers.IntegerField()
    segments = serializers.IntegerField()
    warnings = serializers.ListField(child=serializers.CharField())
    codebook_versions = CodebookVersionCountSerializer(
        many=True,
        required=False,
        help_text="Live segments of the sample per codebook version they were "
        "coded under (version null: before the first); empty when the project "
        "never published a version.",
    )
    codebook_version = serializers.IntegerField(
        allow_null=True,
        help_text="The codebook_version option: the sample holds only documents "
        "coded entirely under this version; null: every version, pooled.",
    )
    left_out_other_versions = serializers.IntegerField(
        help_text="Documents of the sample left out by codebook_version because "
        "a counted coder has a segment there under another version (or before "
        "the first); 0 without the option.",
    )
    fingerprint = serializers.CharField()
    computed_at = serializers.DateTimeField()
    seconds = serializers.FloatField()


class AgreementReportSerializer(serializers.Serializer):
    project = serializers.CharField()
    sample = AgreementSampleSerializer()
    results = AgreementResultSerializer(many=True)


class AgreementView(APIView):
    permission_classes = [IsAuthenticated, ProjectPI]

    @extend_schema(
        operation_id="project_agreement",
        summary="Inter-coder agreement: every coefficient with its 95% interval (PIs only)",
        description=(
            "One flat list of results (tidy, the same as agreement.csv/json and "
            "`manage.py agreement`): per level, code (null: all codes) and coder "
            "pair (null: over all coders). Computed once per change of the data "
            "and parameters, then served from a cache."
        ),
        parameters=[SLUG, AgreementQuerySerializer],
        responses={200: AgreementReportSerializer, **_errors(400, 401, 404)},
    )
    def get(self, request, slug: str):
        query = request.query_params
        data = {k: query.get(k) for k in query if k != "level"}
        if "level" in query:
            data["level"] = query.getlist("level")
        params = parse(AgreementQuerySerializer, data)
        report = service(
            agreement_report,
            project=self.project,
            levels=params.get("level") or None,
            all_coded=params["all_coded"],
            with_consensus=params["with_consensus"],
            bootstrap=params["bootstrap"],
            seed=params["seed"],
            codebook_version=params["codebook_version"],
        )
        return Response(report)
