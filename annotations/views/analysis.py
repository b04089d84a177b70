"""The PI's Analysis page: code frequencies, code x coder and code
co-occurrence, with a CSV download of each table. PI only: anyone else gets
404, so a coder never sees counts of other coders' work.

The tables come from :func:`annotations.services.analysis.analysis_payload`,
computed once per change of the data and cached; a view only picks the
source (all coders, one coder, the consensus) and the co-occurrence measure.
The filter is a plain GET form; htmx swaps ``#results``.
"""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.dateparse import parse_datetime
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from .. import permissions
from ..exporters import analysis as csv_tables
from ..services import analysis as service
from ..stats.code_counts import DOCUMENTS, MEASURES, OVERLAPS

MEASURE_LABELS = {
    DOCUMENTS: "documents with both codes",
    OVERLAPS: "overlapping segments",
}
HEAT_LEVELS = 5  # shades of the co-occurrence cells (CSS classes heat-0..5)
MAX_INDENT = 5  # deeper codes are indented as much as depth 5 (CSS depth-0..5)


class AnalysisForm(forms.Form):
    source = forms.ChoiceField(required=False)
    measure = forms.ChoiceField(
        choices=[(m, MEASURE_LABELS[m]) for m in MEASURES], required=False
    )

    def __init__(self, data, *, payload: dict) -> None:
        super().__init__(data)
        self.fields["source"].choices = source_choices(payload)

    def chosen(self) -> tuple[str, str]:
        """The valid form's (source, measure), defaults filled in."""
        d = self.cleaned_data
        return d.get("source") or service.ALL, d.get("measure") or DOCUMENTS


def source_choices(payload: dict) -> list[tuple[str, str]]:
    choices = [(service.ALL, "All coders")]
    choices += [(service.coder_source(name), name) for name in payload["coders"]]
    if payload["has_consensus"]:
        choices.append((service.CONSENSUS, "Consensus (adjudicated)"))
    return choices


def _codes(payload: dict) -> list[dict]:
    return [{**c, "indent": min(c["depth"], MAX_INDENT)} for c in payload["codes"]]


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}" if whole else "—"


def _median(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:g}"


def frequency_rows(payload: dict, source: str) -> list[dict]:
    f = payload["sources"][source]["frequencies"]
    n = payload["n_documents"]
    return [
        {**code,
         "segments": f["segments"][i], "segments_subtree": f["segments_subtree"][i],
         "documents": f["documents"][i], "documents_subtree": f["documents_subtree"][i],
         "percent": _percent(f["documents"][i], n),
         "percent_subtree": _percent(f["documents_subtree"][i], n),
         "coders": f["coders"][i], "coders_subtree": f["coders_subtree"][i],
         "median": _median(f["median_length"][i]),
         "median_subtree": _median(f["median_length_subtree"][i])}
        for i, code in enumerate(_codes(payload))
    ]  # fmt: skip


def coder_rows(payload: dict) -> list[dict]:
    table = payload["code_coder"]
    return [
        {**code, "counts": table["counts"][i]} for i, code in enumerate(_codes(payload))
    ]


def cooccurrence_rows(payload: dict, source: str, measure: str) -> list[dict]:
    """Rows of the code x code matrix, each cell with a shade relative to the
    largest count off the diagonal."""
    matrix = payload["sources"][source][measure]
    top = max(
        (v for i, row in enumerate(matrix) for j, v in enumerate(row) if i != j),
        default=0,
    )
    rows = []
    for i, code in enumerate(_codes(payload)):
        cells = []
        for j, value in enumerate(matrix[i]):
            heat = -(-value * HEAT_LEVELS // top) if top and i != j else 0
            cells.append({"value": value, "diagonal": i == j, "heat": heat,
                          "other": payload["codes"][j]["path"]})  # fmt: skip
        rows.append({**code, "cells": cells})
    return rows


def _project(request: HttpRequest, slug: str):
    return permissions.project_get_or_404(request.user, slug, pi=True)


@login_required
@require_GET
def analysis(request: HttpRequest, slug: str) -> HttpResponse:
    project = _project(request, slug)
    payload = service.analysis_payload(project)
    form = AnalysisForm(request.GET, payload=payload)
    context = {"project": project, "is_pi": True, "active": "analysis", "form": form,
               "payload": payload, "sources": source_choices(payload),
               "measures": list(MEASURE_LABELS.items())}  # fmt: skip
    if not form.is_valid():
        return render(request, "annotations/analysis.html", context, status=400)
    source, measure = form.chosen()
    context.update(
        source=source, measure=measure, tables=payload["sources"][source],
        frequencies=frequency_rows(payload, source), by_coder=coder_rows(payload),
        cooccurrence=cooccurrence_rows(payload, source, measure),
        same_code_pairs=sum(payload["sources"][source]["same_code"]),
        computed_at=parse_datetime(payload["computed_at"]),
    )  # fmt: skip
    template = "annotations/analysis.html"
    if request.htmx:
        template += "#results"
    return render(request, template, context)


CSV_TABLES = ("frequencies", "code-coder", "cooccurrence")
_FILENAME_UNSAFE = re.compile(r"[^\w.@+-]")


@login_required
@require_GET
def analysis_csv(request: HttpRequest, slug: str, table: str) -> HttpResponse:
    project = _project(request, slug)
    if table not in CSV_TABLES:
        raise Http404("No such table.")
    payload = service.analysis_payload(project)
    form = AnalysisForm(request.GET, payload=payload)
    if not form.is_valid():
        message = " ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        return HttpResponse(
            message, status=400, content_type="text/plain; charset=utf-8"
        )
    source, measure = form.chosen()
    if table == "frequencies":
        lines = csv_tables.frequencies_csv(payload, source)
    elif table == "code-coder":
        lines = csv_tables.code_coder_csv(payload)
    else:
        measures = [measure] if form.cleaned_data.get("measure") else MEASURES
        lines = csv_tables.cooccurrence_csv(payload, source, measures)
    name = f"{project.slug}-{table}"
    if table != "code-coder":
        name += "-" + _FILENAME_UNSAFE.sub("_", source.replace(":", "-"))
    response = HttpResponse("".join(lines), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"{name}.csv")
    return response
