"""API serializers: Output serializers describe what the API returns; Input
serializers parse and check a request before the same service as the pages
is called. Offsets are half-open ``[start, end)`` in Unicode code points."""

import json

from django.contrib.auth import get_user_model
from django.utils.text import slugify
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import Assignment, Code, Document, Membership, Project, Segment
from ..views.projects import RESERVED_SLUGS

MAX_ID = 2**63 - 1
MAX_OFFSET = 2**31 - 1


def IdField(**kwargs) -> serializers.IntegerField:  # noqa: N802 (a field factory)
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


@extend_schema_field(OpenApiTypes.STR)
class UsernameField(serializers.SlugRelatedField):
    """A user by username, limited to the project's members."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="username", **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or "\x00" in data or len(data) > 150:
            self.fail("invalid")
        return super().to_internal_value(data)

    def get_queryset(self):
        project = self.context["project"]
        return get_user_model().objects.filter(memberships__project=project)


@extend_schema_field(OpenApiTypes.INT)
class ProjectCodeField(serializers.PrimaryKeyRelatedField):
    """A code of this project, by id."""

    def get_queryset(self):
        return Code.objects.filter(project=self.context["project"])


@extend_schema_field(OpenApiTypes.INT)
class VisibleDocumentField(serializers.PrimaryKeyRelatedField):
    """A document of this project the caller may read, by id."""

    default_error_messages = {
        "does_not_exist": "No document {pk_value} in this project that you can see.",
    }

    def get_queryset(self):
        from .. import permissions  # noqa: PLC0415

        return permissions.documents_for(
            self.context["request"].user, self.context["project"]
        )


# --- errors -----------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    current = serializers.DictField(help_text="The object as it is now.")


# --- projects and members ---------------------------------------------------


class ProjectSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField(help_text="Your role: pi or coder.")
    created = serializers.DateTimeField(source="created_at", read_only=True)
    updated = serializers.DateTimeField(source="updated_at", read_only=True)

    class Meta:
        model = Project
        fields = [
            "slug", "name", "description", "blind", "role", "reliability_share",
            "reliability_coders", "reliability_seed", "reliability_stratify",
            "created", "updated",
        ]  # fmt: skip
        read_only_fields = [
            "slug",
            "reliability_share",
            "reliability_coders",
            "reliability_seed",
            "reliability_stratify",
        ]

    def get_role(self, project: Project) -> str | None:
        from .. import permissions  # noqa: PLC0415

        return permissions.role_in(self.context["request"].user, project)


class ProjectCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(
        max_length=64, required=False, help_text="Made from the name when missing."
    )
    description = serializers.CharField(required=False, allow_blank=True, default="")
    blind = serializers.BooleanField(required=False, default=True)

    def validate(self, data):
        slug = data.get("slug") or slugify(data["name"])[:64]
        if not slug:
            raise serializers.ValidationError(
                {"slug": "Give a slug of letters, digits, dashes."}
            )
        if slug in RESERVED_SLUGS or Project.objects.filter(slug=slug).exists():
            raise serializers.ValidationError({"slug": f"The slug {slug!r} is taken."})
        data["slug"] = slug
        return data


class ProjectUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    blind = serializers.BooleanField(required=False)


class MemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    created = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "username", "role", "created"]


class MemberCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Membership.Role.choices)

    def validate_username(self, value: str):
        user = get_user_model().objects.filter(username=value).first()
        if user is None:
            raise serializers.ValidationError("No account has this username.")
        return user


class MemberUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Membership.Role.choices)


# --- documents --------------------------------------------------------------


class DocumentSerializer(serializers.ModelSerializer):
    created = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Document
        fields = [
            "id", "external_id", "title", "source", "url", "published", "metadata",
            "length", "checksum", "created",
        ]  # fmt: skip


class DocumentDetailSerializer(DocumentSerializer):
    class Meta(DocumentSerializer.Meta):
        fields = [*DocumentSerializer.Meta.fields, "text"]


class DocumentCreateSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=255)
    title = serializers.CharField(max_length=500)
    text = serializers.CharField(trim_whitespace=False)
    source = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default=""
    )
    url = serializers.URLField(
        max_length=1000, required=False, allow_blank=True, default=""
    )
    published = serializers.DateField(required=False, allow_null=True, default=None)
    metadata = serializers.DictField(required=False, default=dict)

    def validate_metadata(self, value: dict) -> dict:
        # PostgreSQL's jsonb cannot store NUL characters.
        if "\\u0000" in json.dumps(value):
            raise serializers.ValidationError("Metadata cannot contain NUL characters.")
        return value

    def validate_text(self, value: str) -> str:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
        if not value.strip():
            raise serializers.ValidationError("The text is empty.")
        return value


# --- codes ------------------------------------------------------------------


class CodeSerializer(serializers.ModelSerializer):
    path = serializers.SerializerMethodField(help_text='Full path, "parent/child".')
    created = serializers.DateTimeField(source="created_at", read_only=True)
    updated = serializers.DateTimeField(source="updated_at", read_only=True)

    class Meta:
        model = Code
        fields = [
            "id", "name", "path", "parent", "description", "definition",
            "when_to_use", "when_not_to_use", "example", "color", "key", "order",
            "retired", "value", "level", "version", "created", "updated",
        ]  # fmt: skip

    def get_path(self, code: Code) -> str:
        return self.context.get("paths", {}).get(code.pk, code.name)


class CodeWriteSerializer(serializers.Serializer):
    """Fields of a code; on PATCH, only those sent change. ``version``: the
    version you last saw; a stale one answers 409."""

    name = serializers.CharField(max_length=100)
    parent = ProjectCodeField(required=False, allow_null=True)
    description = serializers.CharField(
        max_length=300, required=False, allow_blank=True
    )
    definition = serializers.CharField(required=False, allow_blank=True)
    when_to_use = serializers.CharField(required=False, allow_blank=True)
    when_not_to_use = serializers.CharField(required=False, allow_blank=True)
    example = serializers.CharField(required=False, allow_blank=True)
    color = serializers.RegexField(
        r"^#[0-9a-fA-F]{6}$", required=False,
        error_messages={"invalid": "A colour looks like #1f77b4."},
    )  # fmt: skip
    key = serializers.CharField(max_length=1, required=False, allow_blank=True)
    order = serializers.IntegerField(
        required=False, min_value=-MAX_OFFSET, max_value=MAX_OFFSET
    )
    retired = serializers.BooleanField(required=False)
    value = serializers.FloatField(required=False, allow_null=True)
    level = serializers.ChoiceField(
        choices=Code.Level.choices, required=False, allow_blank=True
    )
    version = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_OFFSET
    )


class CodeMergeSerializer(serializers.Serializer):
    into = ProjectCodeField(help_text="The code that receives the segments.")


class CodeMergeResultSerializer(serializers.Serializer):
    segments = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    consensus = serializers.IntegerField()


# --- assignments ------------------------------------------------------------


class AssignmentSerializer(serializers.ModelSerializer):
    coder = serializers.CharField(source="coder.username", read_only=True)
    created = serializers.DateTimeField(source="created_at", read_only=True)
    started = serializers.DateTimeField(
        source="started_at", read_only=True, allow_null=True
    )
    done = serializers.DateTimeField(source="done_at", read_only=True, allow_null=True)
    updated = serializers.DateTimeField(source="updated_at", read_only=True)

    class Meta:
        model = Assignment
        fields = [
            "id",
            "document",
            "coder",
            "status",
            "created",
            "started",
            "done",
            "updated",
        ]


class AssignmentCreateSerializer(serializers.Serializer):
    document = VisibleDocumentField()
    coder = UsernameField(help_text="A member's username.")


class AssignmentUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Assignment.Status.choices)


# --- segments ---------------------------------------------------------------


class SegmentSerializer(serializers.ModelSerializer):
    coder = serializers.CharField(source="coder.username", read_only=True)
    created = serializers.DateTimeField(source="created_at", read_only=True)
    updated = serializers.DateTimeField(source="updated_at", read_only=True)
    deleted = serializers.DateTimeField(
        source="deleted_at", read_only=True, allow_null=True,
        help_text="When it was deleted, or null.",
    )  # fmt: skip

    class Meta:
        model = Segment
        fields = [
            "id", "document", "coder", "code", "start", "end", "quote", "memo",
            "client_id", "version", "codebook_version", "created", "updated",
            "deleted",
        ]  # fmt: skip
        read_only_fields = ["codebook_version"]


class SegmentCreateSerializer(serializers.Serializer):
    document = VisibleDocumentField()
    code = ProjectCodeField()
    start = serializers.IntegerField(min_value=0, max_value=MAX_OFFSET)
    end = serializers.IntegerField(min_value=0, max_value=MAX_OFFSET)
    quote = serializers.CharField(
        trim_whitespace=False, help_text="Must equal the document's text[start:end]."
    )
    memo = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False
    )
    client_id = serializers.UUIDField(
        required=False, allow_null=True, default=None,
        help_text="Your id for this request: retrying with the same id never "
        "makes a duplicate.",
    )  # fmt: skip


class SegmentUpdateSerializer(serializers.Serializer):
    code = ProjectCodeField(required=False)
    memo = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False
    )
    start = serializers.IntegerField(required=False, min_value=0, max_value=MAX_OFFSET)
    end = serializers.IntegerField(required=False, min_value=0, max_value=MAX_OFFSET)
    quote = serializers.CharField(required=False, trim_whitespace=False)
    version = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_OFFSET,
        help_text="The version you last saw; a stale one answers 409.",
    )  # fmt: skip

    def validate(self, data):
        span = [k for k in ("start", "end", "quote") if k in data]
        if span and len(span) != 3:
            raise serializers.ValidationError(
                {"quote": "To move a segment send start, end and quote together."}
            )
        return data


# --- query parameters -------------------------------------------------------


class DocumentFilterSerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False, max_length=200,
        help_text="Case-insensitive search in title, id, text, metadata and source.",
    )  # fmt: skip


class AssignmentFilterSerializer(serializers.Serializer):
    document = IdField(required=False)
    coder = serializers.CharField(required=False, max_length=150, help_text="Username.")
    status = serializers.ChoiceField(choices=Assignment.Status.choices, required=False)


class SegmentFilterSerializer(serializers.Serializer):
    document = IdField(required=False)
    coder = serializers.CharField(required=False, max_length=150, help_text="Username.")
    code = IdField(required=False)
    changed_since = serializers.DateTimeField(
        required=False,
        help_text="Only segments created, changed or deleted after this time "
        "(ISO 8601); results are then ordered by `updated`. Pass the largest "
        "`updated` you have seen to sync.",
    )
    include_deleted = serializers.BooleanField(
        required=False, default=False,
        help_text="Include deleted segments (their `deleted` is set): needed to sync.",
    )  # fmt: skip


class SegmentDeleteSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_OFFSET,
        help_text="The version you last saw; a stale one answers 409.",
    )  # fmt: skip
