"""Progress: per coder and overall, segments per day, who has not started."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .. import permissions
from ..selectors.progress import progress_by_coder, project_counts, segments_per_day
from ..selectors.tallies import project_tallies


@login_required
@require_GET
def progress(request: HttpRequest, slug: str) -> HttpResponse:
    project = permissions.project_get_or_404(request.user, slug, pi=True)
    tallies = project_tallies(project)
    coders = progress_by_coder(project, tallies)
    context = {
        "project": project, "is_pi": True, "active": "progress",
        "coders": coders, "counts": project_counts(project, tallies),
        "daily": segments_per_day(project, tallies=tallies),
        "not_started": [c for c in coders if c.not_started or c.total == 0],
    }  # fmt: skip
    template = "annotations/progress.html"
    if request.htmx:
        template += "#board"
    return render(request, template, context)
