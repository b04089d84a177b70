"""My work: where a coder lands after logging in."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ..selectors import mywork as selectors


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request, "annotations/home.html", {"work": selectors.my_work(request.user)}
    )
