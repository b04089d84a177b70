"""The user's profile: their projects and their API token."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from rest_framework.authtoken.models import Token

from .. import permissions


@login_required
@require_GET
def profile(request: HttpRequest) -> HttpResponse:
    token = Token.objects.filter(user=request.user).first()
    memberships = request.user.memberships.select_related("project").order_by(
        "project__name"
    )
    return render(
        request,
        "annotations/profile.html",
        {
            "token": token,
            "memberships": memberships,
            "projects": permissions.projects_for(request.user),
        },
    )


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    """A new token replaces the old one; its key is shown on this answer only."""
    Token.objects.filter(user=request.user).delete()
    token = Token.objects.create(user=request.user)
    memberships = request.user.memberships.select_related("project")
    return render(
        request,
        "annotations/profile.html",
        {"token": token, "new_key": token.key, "memberships": memberships},
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest) -> HttpResponse:
    deleted, _ = Token.objects.filter(user=request.user).delete()
    messages.success(
        request,
        "Your API token was revoked: scripts using it now get 401."
        if deleted
        else "You had no API token.",
    )
    return redirect("profile")
