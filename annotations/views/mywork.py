"""My work: where a coder lands after logging in."""

import re

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_safe

from ..selectors import mywork as selectors

SLUG = re.compile(r"[-a-zA-Z0-9_]{1,100}")


def article_query_parse(params: QueryDict) -> tuple[str, selectors.ArticleQuery]:
    """The project slug and list query of the request; a bad value becomes
    its default (all statuses, no search, first page), never an error."""
    slug = params.get("project", "")
    status = params.get("status", "all")
    q = params.get("q", "").replace("\x00", "").strip()[:200]
    try:
        page = int(params.get("page", "1"))
    except ValueError:
        page = 1
    return (
        slug if SLUG.fullmatch(slug) else "",
        selectors.ArticleQuery(
            status=status if status in selectors.STATUS_FILTERS else "all",
            q=q,
            page=page,
        ),
    )


@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    slug, query = article_query_parse(request.GET)
    # The list's links and form name their project and ask for its list
    # only; any other htmx request (a history restore) gets the whole page.
    wants_list = "project" in request.GET and not request.htmx.history_restore_request
    if request.htmx and wants_list:
        work = selectors.my_work_project(request.user, slug=slug, query=query)
        if work is None:
            raise Http404("No such project of yours.")
        response = render(request, "annotations/home.html#articles", {"w": work})
    else:
        work_list = selectors.my_work(request.user, slug=slug, query=query)
        response = render(request, "annotations/home.html", {"work": work_list})
    patch_vary_headers(response, ["HX-Request"])
    return response
