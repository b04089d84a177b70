"""The team: add members by username, invite new accounts, remove members."""

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import permissions
from ..models import Membership, Project
from ..selectors.progress import progress_by_coder
from ..services.projects import member_add as member_add_service
from ..services.projects import member_invite as member_invite_service
from ..services.projects import member_remove as member_remove_service


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(
        choices=Membership.Role.choices, initial=Membership.Role.CODER
    )


def _project(request: HttpRequest, slug: str) -> Project:
    return permissions.project_get_or_404(request.user, slug, pi=True)


def _page(request, project, *, status=200, **extra) -> HttpResponse:
    members = project.memberships.select_related("user").order_by(
        "role", "user__username"
    )
    progress = {p.user_id: p for p in progress_by_coder(project)}
    context = {
        "project": project, "is_pi": True, "active": "team",
        "rows": [(m, progress.get(m.user_id)) for m in members],
        "add_form": extra.pop("add_form", None) or MemberForm(prefix="add"),
        "invite_form": extra.pop("invite_form", None) or MemberForm(prefix="invite"),
        **extra,
    }  # fmt: skip
    return render(request, "annotations/team.html", context, status=status)


@login_required
@require_GET
def team(request: HttpRequest, slug: str) -> HttpResponse:
    return _page(request, _project(request, slug))


@login_required
@require_POST
def member_add(request: HttpRequest, slug: str) -> HttpResponse:
    project = _project(request, slug)
    form = MemberForm(request.POST, prefix="add")
    if form.is_valid():
        user = (
            get_user_model()
            .objects.filter(username=form.cleaned_data["username"])
            .first()
        )
        if user is None:
            form.add_error(
                "username",
                "No account has this username. Check the spelling, or invite them "
                "below to create one.",
            )
        else:
            try:
                _, created = member_add_service(
                    project=project, user=user, role=form.cleaned_data["role"],
                    actor=request.user, via="web",
                )  # fmt: skip
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    f"{user.username} added as {form.cleaned_data['role']}."
                    if created
                    else f"{user.username} is now {form.cleaned_data['role']}.",
                )
                return redirect("team", slug=project.slug)
    return _page(request, project, add_form=form, status=400)


@login_required
@require_POST
def member_invite(request: HttpRequest, slug: str) -> HttpResponse:
    """Create an account; the page shows its password and a one-time link once."""
    project = _project(request, slug)
    form = MemberForm(request.POST, prefix="invite")
    if form.is_valid():
        try:
            user, password = member_invite_service(
                project=project, username=form.cleaned_data["username"],
                role=form.cleaned_data["role"], actor=request.user,
            )  # fmt: skip
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            link = request.build_absolute_uri(
                reverse(
                    "password_reset_confirm",
                    args=[
                        urlsafe_base64_encode(force_bytes(user.pk)),
                        default_token_generator.make_token(user),
                    ],
                )
            )
            return _page(request, project, invited=user, password=password, link=link)
    return _page(request, project, invite_form=form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def member_remove(request: HttpRequest, slug: str, membership_id: int) -> HttpResponse:
    project = _project(request, slug)
    membership = (
        project.memberships.select_related("user").filter(pk=membership_id).first()
    )
    if membership is None:
        raise Http404("No such member.")
    context = {
        "project": project, "is_pi": True, "active": "team", "membership": membership,
        "progress": next(
            (p for p in progress_by_coder(project) if p.user_id == membership.user_id), None
        ),
    }  # fmt: skip
    if request.method == "POST":
        try:
            result = member_remove_service(
                membership=membership, actor=request.user,
                rebalance=request.POST.get("rebalance") == "on",
            )  # fmt: skip
        except ValidationError as exc:
            context["error"] = " ".join(exc.messages)
            return render(request, "annotations/team_remove.html", context, status=400)
        messages.success(
            request,
            f"{membership.user.username} removed; their segments stay, attributed to them. "
            f"{result['moved']} unstarted documents went to other coders, "
            f"{result['unassigned']} were unassigned.",
        )
        if membership.user_id == request.user.pk:
            return redirect("home")
        return redirect("team", slug=project.slug)
    return render(request, "annotations/team_remove.html", context)
