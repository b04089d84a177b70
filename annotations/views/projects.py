"""Projects: create one, its dashboard, its settings."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods

from .. import permissions
from ..models import Project
from ..sampling import stratify_label
from ..selectors.progress import coder_summary, project_counts
from ..services.projects import project_create as project_create_service
from ..services.projects import project_update

RESERVED_SLUGS = {"new", "api", "admin", "static"}


class ProjectForm(forms.Form):
    name = forms.CharField(max_length=200)
    slug = forms.SlugField(
        max_length=64,
        required=False,
        help_text="Short id used in links and scripts; made from the name if empty.",
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    blind = forms.BooleanField(
        required=False,
        initial=True,
        label="Blind coding",
        help_text="Coders never see each other's segments (recommended for reliability).",
    )

    def clean_slug(self) -> str:
        slug = self.cleaned_data.get("slug") or slugify(
            self.cleaned_data.get("name", "")
        )
        slug = slug[:64]
        if not slug:
            raise ValidationError("Give a short id made of letters, digits and dashes.")
        if slug in RESERVED_SLUGS:
            raise ValidationError(f"{slug!r} is reserved: choose another id.")
        if Project.objects.filter(slug=slug).exists():
            raise ValidationError(f"The id {slug!r} is taken: choose another.")
        return slug


class ProjectSettingsForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    blind = forms.BooleanField(required=False, label="Blind coding")


@login_required
@require_http_methods(["GET", "POST"])
def project_create(request: HttpRequest) -> HttpResponse:
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        project, _ = project_create_service(
            slug=data["slug"], name=data["name"], description=data["description"],
            blind=data["blind"], pi=request.user,
        )  # fmt: skip
        messages.success(
            request, f"Project {project.name!r} created. Add documents next."
        )
        return redirect("project_detail", slug=project.slug)
    return render(
        request, "annotations/project_form.html", {"form": form}, status=_status(form)
    )


def _status(form: forms.Form) -> int:
    return 400 if form.is_bound and form.errors else 200


@login_required
def project_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The PI's dashboard; a coder sees a summary of their own work."""
    project = permissions.project_get_or_404(request.user, slug)
    if not permissions.is_pi(request.user, project):
        return render(
            request,
            "annotations/project_detail.html",
            {
                "project": project,
                "is_pi": False,
                "mine": coder_summary(project, request.user),
            },
        )
    return render(
        request,
        "annotations/project_detail.html",
        {
            "project": project,
            "is_pi": True,
            "counts": project_counts(project),
            "active": "dashboard",
            "stratify_label": stratify_label(project.reliability_stratify),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def project_settings(request: HttpRequest, slug: str) -> HttpResponse:
    project = permissions.project_get_or_404(request.user, slug, pi=True)
    initial = {
        "name": project.name,
        "description": project.description,
        "blind": project.blind,
    }
    form = ProjectSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            project_update(
                project=project, actor=request.user, changes=form.cleaned_data
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "Project settings saved.")
            return redirect("project_detail", slug=project.slug)
    return render(
        request,
        "annotations/project_settings.html",
        {"project": project, "form": form, "is_pi": True, "active": "settings"},
        status=_status(form),
    )


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)
