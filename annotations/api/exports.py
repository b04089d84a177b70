"""GET /api/projects/<slug>/export/<name>: one export, for PIs only.

Text formats stream row by row; binary ones (.dta, .qdpx, .qdc, zips) are
written to a temporary file first, so a failed export answers with an error
rather than a truncated download. Non-PIs and outsiders get 404.
"""

import json

from django.core.exceptions import ValidationError
from django.http import JsonResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.views import APIView

from .. import permissions
from ..services import exports
from ..views.export import download_response

MEDIA_TYPES = sorted({f.media_type.split(";")[0] for f in exports.FORMATS.values()})


class AnyMediaRenderer(BaseRenderer):
    """Lets a client ask for text/csv, application/zip...: the view returns the
    file itself; errors are still JSON."""

    media_type = "*/*"
    format = "file"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return json.dumps(data).encode() if isinstance(data, dict | list) else data


class ExportView(APIView):
    renderer_classes = [JSONRenderer, AnyMediaRenderer]

    @extend_schema(
        operation_id="project_export",
        summary="Download an export of the project (PIs only)",
        description=(
            "One format: " + ", ".join(exports.FORMATS) + ". Without `coder` or "
            "`consensus`: every coder and the consensus; `coder` alone: that "
            "coder; `consensus=1` alone: the consensus only; both: that coder "
            "and the consensus. `since`/`until` are inclusive UTC dates on when "
            "a segment was made. consensus.csv (how the consensus was reached) "
            "holds the consensus whenever the export does, its decisions "
            "selected by when they were made; assignments.csv (statuses and the "
            "coders' notes) follows the coder and consensus filters, not the "
            "dates. Offsets are half-open Unicode code points."
        ),
        parameters=[
            OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH),
            OpenApiParameter(
                "name",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                enum=list(exports.FORMATS),
                description="The export's file name.",
            ),
            OpenApiParameter("coder", OpenApiTypes.STR, description="A username."),
            OpenApiParameter("consensus", OpenApiTypes.BOOL),
            OpenApiParameter("since", OpenApiTypes.DATE),
            OpenApiParameter("until", OpenApiTypes.DATE),
        ],  # fmt: skip
        responses={
            **{
                (200, m): OpenApiTypes.OBJECT
                if m.endswith("json")
                else OpenApiTypes.BINARY
                for m in MEDIA_TYPES
            },
            400: OpenApiResponse(
                OpenApiTypes.OBJECT, description="Unknown format or filter."
            ),
            401: OpenApiResponse(OpenApiTypes.OBJECT, description="Not authenticated."),
            404: OpenApiResponse(
                OpenApiTypes.OBJECT, description="No such project, or not its PI."
            ),
        },
    )
    def get(self, request, slug: str, name: str):
        project = permissions.project_get_or_404(request.user, slug, pi=True)
        try:
            fmt, filt = exports.export_request_parse(
                project=project, name=name, params=request.query_params
            )
            return download_response(project, fmt, filt)
        except ValidationError as exc:
            return JsonResponse({"detail": " ".join(exc.messages)}, status=400)
