from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .. import permissions


# My work (the home page) lives in views/mywork.py.
@login_required
def project_detail(request: HttpRequest, slug: str) -> HttpResponse:
    project = permissions.project_get_or_404(request.user, slug)
    return render(
        request,
        "annotations/project_detail.html",
        {"project": project, "is_pi": permissions.is_pi(request.user, project)},
    )
