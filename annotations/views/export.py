"""The Export page (PIs only): a button per format with a line on what it is
for, a filter (one coder, the consensus, a date range), and the downloads.

Text formats stream row by row (``StreamingHttpResponse``); binary formats
are written to a temporary file first and then sent, so a failure answers
with an error instead of a truncated file.
"""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from .. import permissions
from ..selectors.export import export_coders, export_segment_count, filter_text
from ..selectors.tallies import project_tallies
from ..services import exports


def download_response(project, fmt, filt) -> HttpResponse:
    """The HTTP response for one export (the API sends the same)."""
    filename = f"{project.slug}-{fmt.name}"
    if fmt.streams:
        response = StreamingHttpResponse(
            exports.export_stream(project=project, name=fmt.name, filt=filt),
            content_type=fmt.media_type,
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    handle = exports.export_temp_file(project=project, name=fmt.name, filt=filt)
    return FileResponse(
        handle, as_attachment=True, filename=filename, content_type=fmt.media_type
    )


def _who_to_params(who: str) -> dict[str, str]:
    if who == "consensus":
        return {"consensus": "1"}
    if who.startswith("coder:"):
        return {"coder": who[len("coder:") :]}
    return {}


@login_required
@require_GET
def export_page(request: HttpRequest, slug: str) -> HttpResponse:
    project = permissions.project_get_or_404(request.user, slug, pi=True)
    who = request.GET.get("who", "all")
    params = {**_who_to_params(who), **{
        k: request.GET[k] for k in ("since", "until") if request.GET.get(k)
    }}  # fmt: skip
    tallies = project_tallies(project)
    coders = [c for c in export_coders(project, tallies) if not c.is_consensus]
    context = {
        "project": project, "is_pi": True, "active": "export", "who": who,
        "coders": coders, "since": params.get("since", ""),
        "until": params.get("until", ""), "error": "",
    }  # fmt: skip
    status = 200
    try:
        filt = exports.export_filter_build(project=project, **_filter_args(params))
    except ValidationError as exc:
        context["error"], status = " ".join(exc.messages), 400
    else:
        query = urlencode(params)
        context.update(
            query=query,
            cli_flags="".join(
                f" --{k} {v}" if k != "consensus" else " --consensus"
                for k, v in params.items()
            ),
            described=filter_text(filt, [c for c in coders if filt.coder_ids is None
                                         or c.key in (filt.coder_ids or ())]),
            segment_count=export_segment_count(project, filt, tallies),
            groups=_groups(project, query),
        )  # fmt: skip
    template = (
        "annotations/export.html#formats" if request.htmx else "annotations/export.html"
    )
    return render(request, template, context, status=status)


def _filter_args(params: dict[str, str]) -> dict:
    return {
        "coder": params.get("coder"), "consensus": params.get("consensus") == "1",
        "since": params.get("since"), "until": params.get("until"),
    }  # fmt: skip


def _groups(project, query: str) -> list[tuple[str, list[dict]]]:
    groups: dict[str, list[dict]] = {}
    for fmt in exports.FORMATS.values():
        url = reverse("export_download", args=[project.slug, fmt.name])
        groups.setdefault(fmt.group, []).append(
            {"format": fmt, "url": f"{url}?{query}" if query else url}
        )
    # The bundle first: most people want everything.
    return sorted(groups.items(), key=lambda g: g[0] != "Everything")


@login_required
@require_GET
def export_download(request: HttpRequest, slug: str, name: str) -> HttpResponse:
    project = permissions.project_get_or_404(request.user, slug, pi=True)
    try:
        fmt, filt = exports.export_request_parse(
            project=project, name=name, params=request.GET
        )
        return download_response(project, fmt, filt)
    except ValidationError as exc:
        return HttpResponse(
            " ".join(exc.messages), status=400, content_type="text/plain; charset=utf-8"
        )
