"""GET /api/projects/<slug>/codebook/versions/ and .../versions/<n>/: the
published codebook versions, read-only. Every member reads them, coders too
(the codebook is not blind); outsiders get 404. Versions are published on
the Codebook page or with ``manage.py codebook_publish``.
"""

import re

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from ..models import CodebookVersion
from ..services.codebook_versions import codebook_version_diff
from .permissions import ProjectMember
from .views import READ_ERRORS, SLUG, Pagination

NUMBER_TEXT = re.compile(r"[0-9]{1,9}")
NUMBER = OpenApiParameter(
    "number", OpenApiTypes.INT, OpenApiParameter.PATH,
    description="The version's number (1, 2, ...).",
)  # fmt: skip


class CodebookVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    note = serializers.CharField(help_text="What changed, and why.")
    created_at = serializers.DateTimeField(help_text="When it was published.")
    created_by = serializers.CharField(
        source="created_by.username", allow_null=True,
        help_text="Who published it; null when a command ran without --by.",
    )  # fmt: skip
    checksum = serializers.CharField(
        help_text="SHA-256 of the version's codes as canonical JSON (sorted keys, "
        "no spaces, UTF-8) without the ids: the same as the version's JSON "
        "download gives."
    )
    code_count = serializers.SerializerMethodField(
        help_text="Codes in the version, retired ones included."
    )

    def get_code_count(self, version: CodebookVersion) -> int:
        return len(version.snapshot.get("codes", []))


class FieldChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)


class CodeChangeSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="`added`, `removed` or `changed`.")
    code_id = serializers.IntegerField(allow_null=True)
    path = serializers.CharField(help_text="The code's path (before, if removed).")
    old_path = serializers.CharField(help_text="Its path before a rename or move.")
    renamed = serializers.BooleanField()
    moved = serializers.BooleanField(help_text="Under another parent.")
    retired = serializers.BooleanField(
        allow_null=True, help_text="true: retired; false: brought back; null: neither."
    )
    fields = FieldChangeSerializer(many=True)


class CodebookVersionDetailSerializer(CodebookVersionSerializer):
    snapshot = serializers.JSONField(
        help_text='The codebook: `{"codes": [...]}`, one object per code as the '
        "codebook's JSON export writes it, plus the code's `id`."
    )
    changes = serializers.SerializerMethodField(
        help_text="What changed since the version before (for version 1: every "
        "code, added)."
    )

    @extend_schema_field(CodeChangeSerializer(many=True))
    def get_changes(self, version: CodebookVersion) -> list:
        diff = codebook_version_diff(version)
        return CodeChangeSerializer(diff.changes, many=True).data


class ProjectVersions:
    permission_classes = [IsAuthenticated, ProjectMember]
    http_method_names = ["get", "head", "options"]

    def get_queryset(self):
        return (
            CodebookVersion.objects.filter(project=self.project)
            .select_related("created_by")
            .order_by("-number")
        )


class CodebookVersionListView(ProjectVersions, generics.ListAPIView):
    queryset = CodebookVersion.objects.none()  # for the schema
    serializer_class = CodebookVersionSerializer
    pagination_class = Pagination

    @extend_schema(
        operation_id="project_codebook_versions_list",
        summary="The published codebook versions, newest first",
        parameters=[SLUG],
        responses={200: CodebookVersionSerializer(many=True), **READ_ERRORS},
        tags=["codes"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CodebookVersionDetailView(ProjectVersions, generics.GenericAPIView):
    queryset = CodebookVersion.objects.none()  # for the schema
    serializer_class = CodebookVersionDetailSerializer

    @extend_schema(
        operation_id="project_codebook_versions_retrieve",
        summary="One codebook version: its codes and what changed since the one before",
        parameters=[SLUG, NUMBER],
        responses={200: CodebookVersionDetailSerializer, **READ_ERRORS},
        tags=["codes"],
    )
    def get(self, request, slug: str, number: str):
        # Any text reaches the view, so that a bad number is the API's JSON 404
        # rather than the site's HTML one.
        if not NUMBER_TEXT.fullmatch(number):
            raise Http404("No such codebook version.")
        version = self.get_queryset().filter(number=int(number)).first()
        if version is None:
            raise Http404("No such codebook version.")
        return Response(self.get_serializer(version).data)
