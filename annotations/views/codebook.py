"""The codebook screen: build, edit, order, nest, retire, merge, import, export."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import permissions
from ..exporters.codebook import codebook_file_csv, codebook_file_json
from ..importers.codebook import parse_codebook_file
from ..models import Code, Project
from ..selectors.codebook import code_paths, code_tree, codebook_rows, segment_counts
from ..services import codebook as service
from ..services import codebook_versions
from ..services.errors import ConflictError, InputError
from ..services.imports import codebook_import as codebook_import_service
from ..uploads import upload_read


class CodeForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Code
        fields = [
            "name", "parent", "color", "key", "description", "definition",
            "when_to_use", "when_not_to_use", "example", "level", "value",
        ]  # fmt: skip
        widgets = {
            "color": forms.TextInput(attrs={"type": "color"}),
            "definition": forms.Textarea(attrs={"rows": 3}),
            "when_to_use": forms.Textarea(attrs={"rows": 2}),
            "when_not_to_use": forms.Textarea(attrs={"rows": 2}),
            "example": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {"level": "Variable (level of measurement)", "key": "Keyboard key"}
        help_texts = {
            "level": "Set on a parent whose subcodes are the mutually exclusive values "
            "of one variable.",
            "value": "The numeric value of this code when its parent is a variable.",
        }

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        paths = code_paths(project)
        choices = Code.objects.filter(project=project)
        if self.instance.pk:
            exclude = {self.instance.pk} | service._descendant_ids(self.instance)
            choices = choices.exclude(pk__in=exclude)
        self.fields["parent"].queryset = choices
        self.fields["parent"].label_from_instance = lambda c: paths.get(c.pk, c.name)
        self.fields["parent"].required = False

    def _post_clean(self):
        # Validation (uniqueness, colours, keys, cycles) is the service's job.
        pass


def _project(request: HttpRequest, slug: str) -> Project:
    return permissions.project_get_or_404(request.user, slug, pi=True)


def _code(project: Project, code_id: int) -> Code:
    code = (
        Code.objects.filter(project=project, pk=code_id)
        .select_related("parent")
        .first()
    )
    if code is None:
        raise Http404("No such code.")
    return code


def _context(project: Project, **extra) -> dict:
    return {"project": project, "is_pi": True, "active": "codebook", **extra}


def versions_context(project: Project, tree=None, **extra) -> dict:
    """What the page's Versions section shows (views/codebook_versions.py);
    ``tree``, the page's code tree if loaded, saves reading the codes again."""
    versions = codebook_versions.codebook_version_list(project)
    status = codebook_versions.codebook_status(
        project,
        latest=versions[0].version if versions else None,
        codes=None if tree is None else _tree_codes(tree),
    )
    return {
        "status": status,
        "versions": versions,
        "note_max_length": codebook_versions.NOTE_MAX_LENGTH,
        **extra,
    }


def _tree_codes(nodes) -> list[Code]:
    return [c for n in nodes for c in (n.code, *_tree_codes(n.children))]


def page_context(project: Project, **extra) -> dict:
    """The whole Codebook page: the tree, the form, the versions."""
    tree = code_tree(project)
    return _context(
        project,
        tree=tree,
        form=CodeForm(project=project, initial={"color": "#ffe08a"}),
        **versions_context(project, tree, **extra),
    )


def _form_errors(form: forms.Form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@login_required
@require_GET
def codebook(request: HttpRequest, slug: str) -> HttpResponse:
    project = _project(request, slug)
    return render(request, "annotations/codebook.html", page_context(project))


@login_required
@require_http_methods(["GET", "POST"])
def code_create(request: HttpRequest, slug: str) -> HttpResponse:
    project = _project(request, slug)
    form = CodeForm(
        request.POST or None,
        project=project,
        initial={"color": "#ffe08a", "parent": request.GET.get("parent")},
    )
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        try:
            code = service.code_create(project=project, actor=request.user, **data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"Code {code.name!r} added.")
            return redirect("codebook", slug=project.slug)
    return render(
        request,
        "annotations/codebook_form.html",
        _context(project, form=form, code=None),
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def code_edit(request: HttpRequest, slug: str, code_id: int) -> HttpResponse:
    project = _project(request, slug)
    code = _code(project, code_id)
    form = CodeForm(
        request.POST or None, instance=code, project=project,
        initial={"version": code.version},
    )  # fmt: skip
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version", None)
        try:
            service.code_update(
                code=code, actor=request.user, changes=data, expected_version=version
            )
        except ConflictError:
            form.add_error(
                None,
                "Someone changed this code while you were editing it: reload the "
                "page to see their change, then edit again.",
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"Code {data['name']!r} saved.")
            return redirect("codebook", slug=project.slug)
    code.refresh_from_db()
    return render(
        request,
        "annotations/codebook_form.html",
        _context(project, form=form, code=code),
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def code_move(request: HttpRequest, slug: str, code_id: int) -> HttpResponse:
    project = _project(request, slug)
    code = _code(project, code_id)
    try:
        service.code_move(
            code=code, direction=request.POST.get("direction", ""), actor=request.user
        )
    except ValidationError as exc:
        return _error(request, project, exc)
    if request.htmx:
        return _tree_fragment(request, project)
    return redirect("codebook", slug=project.slug)


@login_required
@require_POST
def code_reorder(request: HttpRequest, slug: str) -> HttpResponse:
    """Drag and drop: the new order of one parent's children."""
    project = _project(request, slug)
    parent_id = request.POST.get("parent") or None
    parent = _code(project, _int(parent_id)) if parent_id else None
    try:
        ids = [int(i) for i in request.POST.getlist("ids")]
        service.code_reorder(
            project=project, parent=parent, ordered_ids=ids, actor=request.user
        )
    except (ValueError, ValidationError) as exc:
        return _error(request, project, exc)
    if request.htmx:
        return _tree_fragment(request, project)
    return redirect("codebook", slug=project.slug)


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404("No such code.") from None


@login_required
@require_POST
def code_retire(request: HttpRequest, slug: str, code_id: int) -> HttpResponse:
    project = _project(request, slug)
    code = _code(project, code_id)
    retired = request.POST.get("retired", "1") != "0"
    try:
        service.code_retire(code=code, actor=request.user, retired=retired)
    except ValidationError as exc:
        return _error(request, project, exc)
    messages.success(
        request,
        f"Code {code.name!r} retired: existing segments keep it; it can no longer be applied."
        if retired
        else f"Code {code.name!r} is active again.",
    )
    if request.htmx:
        return _tree_fragment(request, project)
    return redirect("codebook", slug=project.slug)


class MergeForm(forms.Form):
    into = forms.ModelChoiceField(queryset=Code.objects.none(), label="Merge into")

    def __init__(self, *args, source: Code, **kwargs):
        super().__init__(*args, **kwargs)
        paths = code_paths(source.project)
        self.fields["into"].queryset = Code.objects.filter(
            project=source.project, retired=False
        ).exclude(pk__in={source.pk} | service._descendant_ids(source))
        self.fields["into"].label_from_instance = lambda c: paths.get(c.pk, c.name)


@login_required
@require_http_methods(["GET", "POST"])
def code_merge(request: HttpRequest, slug: str, code_id: int) -> HttpResponse:
    project = _project(request, slug)
    source = _code(project, code_id)
    form = MergeForm(request.POST or None, source=source)
    if request.method == "POST" and form.is_valid():
        target = form.cleaned_data["into"]
        try:
            result = service.code_merge(
                source=source, target=target, actor=request.user
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(
                request,
                f"{source.name!r} merged into {target.name!r}: {result['segments']} "
                f"segments moved ({result['duplicates']} exact duplicates removed).",
            )
            return redirect("codebook", slug=project.slug)
    return render(
        request,
        "annotations/codebook_merge.html",
        _context(
            project,
            form=form,
            code=source,
            count=segment_counts(project).get(source.pk, 0),
        ),  # fmt: skip
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def codebook_import(request: HttpRequest, slug: str) -> HttpResponse:
    project = _project(request, slug)
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise ValidationError("Choose a codebook file (.csv, .json or .qdc).")
        data = upload_read(upload)
        rows = parse_codebook_file(upload.name, data)
        result = codebook_import_service(
            project=project, rows=rows, actor=request.user, via="web"
        )
    except InputError as exc:
        problems = [str(p) for p in exc.problems]
        return render(
            request,
            "annotations/codebook.html",
            page_context(project, import_problems=problems),
            status=getattr(exc, "status", 400),
        )
    except ValidationError as exc:
        return _error(request, project, exc)
    messages.success(
        request,
        f"Codebook imported: {result['created']} codes created, {result['updated']} updated.",
    )
    return redirect("codebook", slug=project.slug)


@login_required
@require_GET
def codebook_export(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    """The codebook as the importer reads it: CSV or JSON, parents by path."""
    project = _project(request, slug)
    if fmt not in ("csv", "json"):
        raise Http404("The codebook exports as .csv or .json.")
    return codebook_file_response(
        codebook_rows(project), f"{project.slug}-codebook.{fmt}", fmt
    )


def codebook_file_response(rows: list[dict], filename: str, fmt: str) -> HttpResponse:
    """The codebook file (the current codebook or a published version) as a
    download."""
    if fmt == "json":
        response = HttpResponse(
            codebook_file_json(rows), content_type="application/json; charset=utf-8"
        )
    else:
        response = HttpResponse(
            codebook_file_csv(rows), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _tree_fragment(request: HttpRequest, project: Project) -> HttpResponse:
    """The tree after a move, and the Versions section out of band: a code's
    position is part of the codebook, so "changed since vN" may change."""
    tree = code_tree(project)
    response = render(
        request, "annotations/codebook.html#tree", _context(project, tree=tree)
    )
    versions = render_to_string(
        "annotations/codebook.html#versions",
        _context(project, tree=tree, oob=True, **versions_context(project, tree)),
        request=request,
    )
    response.content += versions.encode()
    return response


def _error(request: HttpRequest, project: Project, exc: Exception) -> HttpResponse:
    """A refused action: the page (or, for htmx, the tree) with the reason.

    htmx swaps only 2xx answers, so its fragment carries the error in a 200;
    the plain form gets a 400.
    """
    text = (
        " ".join(exc.messages)
        if isinstance(exc, ValidationError)
        else ("The request was not understood.")
    )
    if request.htmx:
        context = _context(project, tree=code_tree(project), error=text)
        return render(request, "annotations/codebook.html#tree", context)
    return render(
        request,
        "annotations/codebook.html",
        page_context(project, error=text),
        status=400,
    )
