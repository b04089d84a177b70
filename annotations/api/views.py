"""The REST API: projects and, nested under a project's slug, its members,
documents, codes, assignments and segments.

Every write calls the same service as the pages, so validation and history
are the same wherever a change comes from. Outsiders get 404 for anything
under a project; detail GETs carry an ETag (and answer 304 to a matching
If-None-Match); lists are paginated (``page``, ``page_size`` up to 1000).
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils.http import quote_etag
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from .. import permissions
from ..importers.documents import DocumentRow
from ..models import Assignment, Code, Document, Membership, Segment
from ..selectors.codebook import code_paths
from ..selectors.documents import document_search
from ..services import codebook as codebook_service
from ..services.assignments import assignment_toggle
from ..services.coding import (
    assignment_set_status,
    segment_create,
    segment_delete,
    segment_update,
)
from ..services.errors import ConflictError, InputError
from ..services.imports import documents_import
from ..services.projects import (
    member_add,
    member_remove,
    project_create,
    project_update,
)
from . import serializers as s
from .permissions import ProjectMember, ProjectPI, ProjectPIWrites

VIA = "api"
SLUG = OpenApiParameter(
    "slug", OpenApiTypes.STR, OpenApiParameter.PATH, description="The project's slug."
)


def _errors(*codes: int) -> dict:
    text = {
        400: (
            "Invalid input: a message per field; nothing was saved.",
            OpenApiTypes.OBJECT,
        ),
        401: ("Not authenticated: send a token or log in.", s.ErrorSerializer),
        403: ("Authenticated, but not allowed to change this.", s.ErrorSerializer),
        404: (
            "No such object, not visible to you, or no such page.",
            s.ErrorSerializer,
        ),
        409: ("Changed elsewhere since the version you sent.", s.ConflictSerializer),
    }
    return {
        code: OpenApiResponse(text[code][1], description=text[code][0])
        for code in codes
    }


READ_ERRORS = _errors(401, 404)
WRITE_ERRORS = _errors(400, 401, 403, 404)


# The schemas of the actions of the resources nested under a project's slug.


def _list(summary: str, serializer, filters=None):
    """A list; bad filter values (query parameters) answer 400."""
    return extend_schema(
        summary=summary,
        parameters=[SLUG, filters] if filters else [SLUG],
        responses={
            200: serializer(many=True),
            **(_errors(400, 401, 404) if filters else READ_ERRORS),
        },
    )


def _retrieve(summary: str, serializer):
    return extend_schema(
        summary=summary,
        parameters=[SLUG],
        responses={200: serializer, **READ_ERRORS},
    )


def _create(summary: str, request, serializer, *, idempotent: bool = False):
    """A create; ``idempotent``: sending the same thing again answers 200."""
    ok = {200: serializer} if idempotent else {}
    return extend_schema(
        summary=summary,
        parameters=[SLUG],
        request=request,
        responses={201: serializer, **ok, **WRITE_ERRORS},
    )


def _update(summary: str, request, serializer, *, versioned: bool = False):
    """A partial update; ``versioned``: a stale version answers 409."""
    return extend_schema(
        summary=summary,
        parameters=[SLUG],
        request=request,
        responses={
            200: serializer,
            **WRITE_ERRORS,
            **(_errors(409) if versioned else {}),
        },
    )


def _destroy(summary: str, *, parameters=(), versioned: bool = False):
    return extend_schema(
        summary=summary,
        parameters=[SLUG, *parameters],
        responses={204: None, **WRITE_ERRORS, **(_errors(409) if versioned else {})},
    )


class Pagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


def service(call, **kwargs):
    """Run a service; its ValidationError becomes a 400 with field messages."""
    try:
        return call(**kwargs)
    except DjangoValidationError as exc:
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        )
        detail = {
            ("non_field_errors" if k == "__all__" else k): v for k, v in detail.items()
        }
        raise serializers.ValidationError(detail) from None
    except InputError as exc:
        raise serializers.ValidationError(
            {"non_field_errors": [str(p) for p in exc.problems]}
        ) from None


def conflict(exc: ConflictError) -> Response:
    return Response(
        {"detail": str(exc), "current": exc.current}, status=status.HTTP_409_CONFLICT
    )


def parse(serializer_class, data, **context):
    serializer = serializer_class(data=data, context=context)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def created_or_ok(data, created: bool) -> Response:
    """201 for a new object, 200 when the request found the one it had made."""
    return Response(
        data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
    )


class ETagMixin:
    """Detail GETs carry an ETag built from the object's version or update time."""

    def etag_of(self, obj) -> str:
        version = getattr(obj, "version", None)
        stamp = getattr(obj, "updated_at", None) or getattr(obj, "created_at", None)
        return quote_etag(
            f"{type(obj).__name__}-{obj.pk}-{version}-{stamp.timestamp() if stamp else ''}"
        )

    def retrieve(self, request, *args, **kwargs):
        obj = self.get_object()
        etag = self.etag_of(obj)
        if etag in request.headers.get("If-None-Match", ""):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        response = Response(self.get_serializer(obj).data)
        response["ETag"] = etag
        return response


class ProjectScopedViewSet(ETagMixin, viewsets.GenericViewSet):
    """Base of the resources nested under /api/projects/<slug>/."""

    pagination_class = Pagination
    # Any segment: a non-numeric id answers the API's JSON 404, not an HTML page.
    lookup_value_regex = r"[^/]+"
    permission_classes = [IsAuthenticated, ProjectMember]
    parser_classes = [JSONParser]

    def get_object(self):
        try:
            pk = int(self.kwargs["pk"])
        except (TypeError, ValueError):
            raise Http404 from None
        if not 1 <= pk <= s.MAX_ID:
            raise Http404
        obj = self.get_queryset().filter(pk=pk).first()
        if obj is None:
            raise Http404("No such object.")
        self.check_object_permissions(self.request, obj)
        return obj

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if hasattr(self, "project"):
            context["project"] = self.project
        return context

    def filters(self, serializer_class):
        return parse(serializer_class, self.request.query_params)

    def parse_in_project(self, serializer_class, *, partial: bool = False):
        """Validate the body with a serializer that looks ids up in this project."""
        serializer = serializer_class(
            data=self.request.data,
            partial=partial,
            context={"project": self.project, "request": self.request},
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


# --- projects -----------------------------------------------------------------


class ProjectAccess(ProjectMember):
    """List and create are open to any authenticated user; the rest needs membership."""

    pi_writes = True

    def has_permission(self, request, view) -> bool:
        if "slug" not in view.kwargs:
            return bool(request.user and request.user.is_authenticated)
        return super().has_permission(request, view)


@extend_schema_view(
    list=extend_schema(
        summary="Your projects",
        responses={200: s.ProjectSerializer(many=True), **_errors(401, 404)},
    ),
    retrieve=extend_schema(
        summary="A project", responses={200: s.ProjectSerializer, **READ_ERRORS}
    ),
    create=extend_schema(
        summary="Create a project (you become its PI)",
        request=s.ProjectCreateSerializer,
        responses={201: s.ProjectSerializer, **_errors(400, 401)},
    ),
    partial_update=extend_schema(
        summary="Change a project's name, description or blind flag (PI)",
        request=s.ProjectUpdateSerializer,
        responses={200: s.ProjectSerializer, **WRITE_ERRORS},
    ),
)
@extend_schema(tags=["projects"])
class ProjectViewSet(ETagMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.ProjectSerializer
    pagination_class = Pagination
    permission_classes = [IsAuthenticated, ProjectAccess]
    lookup_field = "slug"
    lookup_value_regex = r"[^/]+"
    parser_classes = [JSONParser]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return permissions.projects_for(self.request.user).order_by("name", "pk")

    def get_object(self):
        return self.project

    def create(self, request):
        data = parse(s.ProjectCreateSerializer, request.data)
        project, _ = service(project_create, pi=request.user, **data)
        return Response(
            s.ProjectSerializer(project, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )

    def partial_update(self, request, slug=None):
        data = parse(s.ProjectUpdateSerializer, request.data)
        project = service(
            project_update,
            project=self.project,
            actor=request.user,
            changes=data,
            via=VIA,
        )
        return Response(s.ProjectSerializer(project, context={"request": request}).data)


# --- members ------------------------------------------------------------------


@extend_schema_view(
    list=_list("Members (PI)", s.MemberSerializer),
    retrieve=_retrieve("A member (PI)", s.MemberSerializer),
    create=_create(
        "Add an existing account as pi or coder (PI)",
        s.MemberCreateSerializer,
        s.MemberSerializer,
        idempotent=True,
    ),
    partial_update=_update(
        "Change a member's role (PI)", s.MemberUpdateSerializer, s.MemberSerializer
    ),
    destroy=_destroy(
        "Remove a member (PI): their segments stay; unstarted documents go to other coders",
        parameters=[
            OpenApiParameter(
                "rebalance",
                OpenApiTypes.BOOL,
                description="Give their unstarted documents to the other coders (default true).",
            ),
        ],
    ),
)
@extend_schema(tags=["members"])
class MemberViewSet(ProjectScopedViewSet, mixins.ListModelMixin):
    queryset = Membership.objects.none()  # for the schema: ids are integers
    serializer_class = s.MemberSerializer
    permission_classes = [IsAuthenticated, ProjectPI]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Membership]:
        return self.project.memberships.select_related("user").order_by("pk")

    def create(self, request, slug=None):
        data = parse(s.MemberCreateSerializer, request.data)
        membership, created = service(
            member_add, project=self.project, user=data["username"], role=data["role"],
            actor=request.user, via=VIA,
        )  # fmt: skip
        return created_or_ok(s.MemberSerializer(membership).data, created)

    def partial_update(self, request, slug=None, pk=None):
        membership = self.get_object()
        data = parse(s.MemberUpdateSerializer, request.data)
        if data["role"] != membership.role and membership.role == Membership.Role.PI:
            others = self.project.memberships.filter(role="pi").exclude(
                pk=membership.pk
            )
            if not others.exists():
                raise serializers.ValidationError(
                    {"role": "A project needs at least one PI."}
                )
        membership, _ = service(
            member_add, project=self.project, user=membership.user, role=data["role"],
            actor=request.user, via=VIA,
        )  # fmt: skip
        return Response(s.MemberSerializer(membership).data)

    def destroy(self, request, slug=None, pk=None):
        membership = self.get_object()
        rebalance = request.query_params.get("rebalance", "true").lower() not in (
            "false",
            "0",
            "no",
        )
        service(
            member_remove,
            membership=membership,
            actor=request.user,
            rebalance=rebalance,
            via=VIA,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- documents ------------------------------------------------------------------


@extend_schema_view(
    list=_list(
        "Documents you may read (PI: all; coder: assigned ones), without their text",
        s.DocumentSerializer,
        s.DocumentFilterSerializer,
    ),
    retrieve=_retrieve("A document with its text", s.DocumentDetailSerializer),
    create=_create(
        "Add a document (PI); the same external_id with the same text answers 200",
        s.DocumentCreateSerializer,
        s.DocumentDetailSerializer,
        idempotent=True,
    ),
)
@extend_schema(tags=["documents"])
class DocumentViewSet(ProjectScopedViewSet, mixins.ListModelMixin):
    queryset = Document.objects.none()  # for the schema: ids are integers
    permission_classes = [IsAuthenticated, ProjectPIWrites]
    http_method_names = ["get", "post", "head", "options"]

    def get_serializer_class(self):
        return (
            s.DocumentDetailSerializer
            if self.action == "retrieve"
            else s.DocumentSerializer
        )

    def get_queryset(self) -> QuerySet[Document]:
        visible = permissions.documents_for(self.request.user, self.project)
        if self.action == "list":
            q = self.filters(s.DocumentFilterSerializer).get("q", "")
            return document_search(self.project, q=q).filter(
                pk__in=visible.values("pk")
            )
        return visible

    def create(self, request, slug=None):
        data = parse(s.DocumentCreateSerializer, request.data)
        existing = self.project.documents.filter(
            external_id=data["external_id"]
        ).first()
        row = DocumentRow(origin="request", **data)
        if existing is not None and existing.text != row.text:
            raise serializers.ValidationError(
                {
                    "external_id": "A document with this external_id and a different text exists."
                }
            )
        result = service(documents_import, project=self.project, rows=[row], via=VIA)
        document = self.project.documents.get(external_id=data["external_id"])
        return created_or_ok(
            s.DocumentDetailSerializer(document).data, bool(result["created"])
        )


# --- codes ----------------------------------------------------------------------


@extend_schema_view(
    list=_list("The codebook", s.CodeSerializer),
    retrieve=_retrieve("A code", s.CodeSerializer),
    create=_create("Add a code (PI)", s.CodeWriteSerializer, s.CodeSerializer),
    partial_update=_update(
        "Rename, recolour, re-key, nest, reorder, retire a code (PI)",
        s.CodeWriteSerializer,
        s.CodeSerializer,
        versioned=True,
    ),
    merge=_update(
        "Merge this code into another (PI): every segment follows",
        s.CodeMergeSerializer,
        s.CodeMergeResultSerializer,
    ),
)
@extend_schema(tags=["codes"])
class CodeViewSet(ProjectScopedViewSet, mixins.ListModelMixin):
    queryset = Code.objects.none()  # for the schema: ids are integers
    serializer_class = s.CodeSerializer
    permission_classes = [IsAuthenticated, ProjectPIWrites]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Code]:
        return Code.objects.filter(project=self.project).order_by("order", "pk")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if hasattr(self, "project"):
            context["paths"] = code_paths(self.project)
        return context

    def create(self, request, slug=None):
        data = dict(self.parse_in_project(s.CodeWriteSerializer))
        data.pop("version", None)
        code = service(
            codebook_service.code_create,
            project=self.project,
            actor=request.user,
            via=VIA,
            **data,
        )
        return Response(self.get_serializer(code).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, slug=None, pk=None):
        code = self.get_object()
        changes = dict(self.parse_in_project(s.CodeWriteSerializer, partial=True))
        version = changes.pop("version", None)
        try:
            code = service(
                codebook_service.code_update, code=code, actor=request.user,
                changes=changes, expected_version=version, via=VIA,
            )  # fmt: skip
        except ConflictError as exc:
            return conflict(exc)
        return Response(self.get_serializer(code).data)

    @action(detail=True, methods=["post"])
    def merge(self, request, slug=None, pk=None):
        source = self.get_object()
        data = self.parse_in_project(s.CodeMergeSerializer)
        result = service(
            codebook_service.code_merge, source=source, target=data["into"],
            actor=request.user, via=VIA,
        )  # fmt: skip
        return Response(result)


# --- assignments ----------------------------------------------------------------


@extend_schema_view(
    list=_list(
        "Assignments (PI: all; coder: their own)",
        s.AssignmentSerializer,
        s.AssignmentFilterSerializer,
    ),
    retrieve=_retrieve("An assignment", s.AssignmentSerializer),
    create=_create(
        "Assign a document to a member (PI)",
        s.AssignmentCreateSerializer,
        s.AssignmentSerializer,
        idempotent=True,
    ),
    partial_update=_update(
        "Set the status: mark done, reopen (the coder, or a PI)",
        s.AssignmentUpdateSerializer,
        s.AssignmentSerializer,
    ),
    destroy=_destroy("Unassign (PI); refused once the coder has coded the document"),
)
@extend_schema(tags=["assignments"])
class AssignmentViewSet(ProjectScopedViewSet, mixins.ListModelMixin):
    queryset = Assignment.objects.none()  # for the schema: ids are integers
    serializer_class = s.AssignmentSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Assignment]:
        qs = Assignment.objects.filter(document__project=self.project).select_related(
            "coder"
        )
        if not self.is_pi:
            qs = qs.filter(coder=self.request.user)
        if self.action == "list":
            f = self.filters(s.AssignmentFilterSerializer)
            if "document" in f:
                qs = qs.filter(document_id=f["document"])
            if "coder" in f:
                qs = qs.filter(coder__username=f["coder"])
            if "status" in f:
                qs = qs.filter(status=f["status"])
        return qs.order_by("pk")

    def _require_pi(self):
        if not self.is_pi:
            raise PermissionDenied("Only the project's PIs can assign documents.")

    def create(self, request, slug=None):
        self._require_pi()
        data = self.parse_in_project(s.AssignmentCreateSerializer)
        changed = service(
            assignment_toggle, project=self.project, document=data["document"],
            coder=data["coder"], assigned=True, actor=request.user, via=VIA,
        )  # fmt: skip
        assignment = Assignment.objects.get(
            document=data["document"], coder=data["coder"]
        )
        return created_or_ok(s.AssignmentSerializer(assignment).data, changed)

    def partial_update(self, request, slug=None, pk=None):
        assignment = self.get_object()
        data = parse(s.AssignmentUpdateSerializer, request.data)
        assignment = service(
            assignment_set_status, assignment=assignment, status=data["status"],
            actor=request.user, via=VIA,
        )  # fmt: skip
        return Response(s.AssignmentSerializer(assignment).data)

    def destroy(self, request, slug=None, pk=None):
        assignment = self.get_object()
        self._require_pi()
        service(
            assignment_toggle, project=self.project, document=assignment.document,
            coder=assignment.coder, assigned=False, actor=request.user, via=VIA,
        )  # fmt: skip
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- segments -------------------------------------------------------------------


@extend_schema_view(
    list=_list(
        "Segments you may see (blind coding: a coder sees only their own)",
        s.SegmentSerializer,
        s.SegmentFilterSerializer,
    ),
    retrieve=_retrieve("A segment", s.SegmentSerializer),
    create=_create(
        "Code a span (on a document assigned to you); a repeated client_id answers 200 with the first segment",
        s.SegmentCreateSerializer,
        s.SegmentSerializer,
        idempotent=True,
    ),
    partial_update=_update(
        "Change your segment's code, memo or span",
        s.SegmentUpdateSerializer,
        s.SegmentSerializer,
        versioned=True,
    ),
    destroy=_destroy(
        "Delete your segment (kept in the history; can be restored)",
        parameters=[s.SegmentDeleteSerializer],
        versioned=True,
    ),
)
@extend_schema(tags=["segments"])
class SegmentViewSet(ProjectScopedViewSet, mixins.ListModelMixin):
    queryset = Segment.objects.none()  # for the schema: ids are integers
    serializer_class = s.SegmentSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Segment]:
        if self.action != "list":
            return permissions.segments_visible(
                self.request.user, self.project, include_deleted=True
            ).select_related("coder")
        f = self.filters(s.SegmentFilterSerializer)
        qs = permissions.segments_visible(
            self.request.user, self.project, include_deleted=f["include_deleted"]
        ).select_related("coder")
        if "document" in f:
            qs = qs.filter(document_id=f["document"])
        if "coder" in f:
            qs = qs.filter(coder__username=f["coder"])
        if "code" in f:
            qs = qs.filter(code_id=f["code"])
        if "changed_since" in f:
            return qs.filter(updated_at__gt=f["changed_since"]).order_by(
                "updated_at", "pk"
            )
        return qs.order_by("pk")

    def _own(self, segment: Segment) -> None:
        if not permissions.can_edit_segment(self.request.user, segment):
            raise PermissionDenied("You can change only your own segments.")

    def create(self, request, slug=None):
        data = self.parse_in_project(s.SegmentCreateSerializer)
        segment, created = service(
            segment_create, document=data["document"], coder=request.user,
            code=data["code"], start=data["start"], end=data["end"], quote=data["quote"],
            memo=data["memo"], client_id=data["client_id"], via=VIA,
        )  # fmt: skip
        return created_or_ok(s.SegmentSerializer(segment).data, created)

    def partial_update(self, request, slug=None, pk=None):
        segment = self.get_object()
        self._own(segment)
        data = self.parse_in_project(s.SegmentUpdateSerializer)
        span = (data["start"], data["end"], data["quote"]) if "start" in data else None
        try:
            segment = service(
                segment_update, segment=segment, actor=request.user, code=data.get("code"),
                memo=data.get("memo"), span=span, expected_version=data.get("version"),
                via=VIA,
            )  # fmt: skip
        except ConflictError as exc:
            return conflict(exc)
        return Response(s.SegmentSerializer(segment).data)

    def destroy(self, request, slug=None, pk=None):
        segment = self.get_object()
        self._own(segment)
        data = parse(s.SegmentDeleteSerializer, request.query_params)
        try:
            service(
                segment_delete, segment=segment, actor=request.user,
                expected_version=data.get("version"), via=VIA,
            )  # fmt: skip
        except ConflictError as exc:
            return conflict(exc)
        return Response(status=status.HTTP_204_NO_CONTENT)
