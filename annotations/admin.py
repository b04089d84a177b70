"""The admin: projects, members and documents' descriptions are edited here;
coded data, the codebook, adjudication and the history are only inspected,
since the services that write them validate, version and record every change.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db import models as db_models
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse

from . import models
from .importers.text import normalise_newlines
from .services.history import history_record

CODED_DOCUMENT = (
    "This document is coded: its text and external id are fixed, and it cannot "
    "be deleted here (its segments, consensus and history would go with it)."
)
DOCUMENT_FIELDS = ["external_id", "title", "source", "url", "published", "metadata"]


class InspectOnlyAdmin(admin.ModelAdmin):
    """Rows the app writes through its services (validation, optimistic
    versions, history): the admin shows them and changes nothing. Without the
    delete permission Django also drops the bulk delete action and refuses to
    delete a project or document that would take these rows with it."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MembershipInline(admin.TabularInline):
    model = models.Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(models.Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "blind", "created_at"]
    list_filter = ["blind"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(models.Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "project", "role", "created_at"]
    list_filter = ["role", "project"]
    search_fields = ["user__username", "project__name"]


class DocumentForm(forms.ModelForm):
    def clean_text(self) -> str:
        # Stored as imports store it: a textarea sends CRLF line endings.
        text = normalise_newlines(self.cleaned_data["text"])
        if not text.strip():
            raise ValidationError("The text is empty.")
        return text


def _document_state(doc: models.Document) -> dict:
    state = {f: getattr(doc, f) for f in DOCUMENT_FIELDS}
    state["published"] = doc.published.isoformat() if doc.published else None
    state["checksum"] = doc.checksum
    return state


@admin.register(models.Document)
class DocumentAdmin(admin.ModelAdmin):
    form = DocumentForm
    list_display = ["title", "external_id", "project", "source", "published", "length"]
    list_filter = ["project", "source"]
    search_fields = ["title", "external_id", "text"]
    readonly_fields = ["length", "checksum", "created_at"]
    # Django 6's default; without it the change form warns (an error in tests).
    formfield_overrides = {db_models.URLField: {"assume_scheme": "https"}}

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "text":
            kwargs["strip"] = False  # leading and trailing spaces are offsets too
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # Its codes, assignments and history belong to its project.
            fields.append("project")
            if obj.is_coded():
                # Segments index the text; exports and segment imports name
                # the document by its external id.
                fields += ["external_id", "text"]
        return fields

    def has_add_permission(self, request):
        # Imports (upload page, API, import_documents) normalise, deduplicate
        # and record each new document in the history.
        return False

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_coded():
            return False
        return super().has_delete_permission(request, obj)

    def delete_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if (
            obj is not None
            and obj.is_coded()
            and self.has_view_or_change_permission(request, obj)
        ):
            self.message_user(request, CODED_DOCUMENT, messages.ERROR)
            url = reverse("admin:annotations_document_change", args=[obj.pk])
            return HttpResponseRedirect(url)
        return super().delete_view(request, object_id, extra_context)

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        stored = models.Document.objects.get(pk=obj.pk)
        before = _document_state(stored)
        super().save_model(request, obj, form, change)
        after = _document_state(obj)
        keys = [k for k in after if after[k] != before[k]]
        if keys:
            history_record(
                project=obj.project, user=request.user, entity="document",
                entity_id=obj.pk, action="update", document=obj,
                before={k: before[k] for k in keys},
                after={k: after[k] for k in keys}, via="admin",
            )  # fmt: skip

    def delete_model(self, request, obj):
        self.delete_queryset(request, models.Document.objects.filter(pk=obj.pk))

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for doc in queryset.select_related("project"):
            history_record(
                project=doc.project, user=request.user, entity="document",
                entity_id=doc.pk, action="delete", before=_document_state(doc),
                via="admin",
            )  # fmt: skip
        queryset.delete()


@admin.register(models.Code)
class CodeAdmin(InspectOnlyAdmin):
    list_display = ["name", "parent", "project", "key", "color", "order", "retired"]
    list_filter = ["project", "retired", "level"]
    search_fields = ["name", "description", "definition"]


@admin.register(models.CodebookVersion)
class CodebookVersionAdmin(InspectOnlyAdmin):
    list_display = ["project", "number", "created_by", "created_at", "checksum"]
    list_filter = ["project"]
    search_fields = ["note", "project__name"]


@admin.register(models.Assignment)
class AssignmentAdmin(InspectOnlyAdmin):
    list_display = ["document", "coder", "status", "updated_at"]
    list_filter = ["status", "document__project", "coder"]
    search_fields = ["document__title", "coder__username"]


@admin.register(models.Segment)
class SegmentAdmin(InspectOnlyAdmin):
    list_display = ["code", "coder", "document", "start", "end", "deleted_at"]
    list_filter = ["document__project", "code", "coder"]
    search_fields = ["quote", "memo", "document__title"]
    readonly_fields = ["client_id", "created_at", "updated_at"]


@admin.register(models.AdjudicationState)
class AdjudicationStateAdmin(InspectOnlyAdmin):
    list_display = ["document", "status", "adjudicator", "adjudicated_at"]
    list_filter = ["status"]


@admin.register(models.ConsensusSegment)
class ConsensusSegmentAdmin(InspectOnlyAdmin):
    list_display = ["code", "document", "start", "end", "decision", "decided_by"]
    list_filter = ["decision", "document__project", "code"]
    search_fields = ["quote", "note"]


@admin.register(models.ConsensusRejection)
class ConsensusRejectionAdmin(InspectOnlyAdmin):
    list_display = ["document", "decided_by", "decided_at", "deleted_at"]
    search_fields = ["note"]


@admin.register(models.HistoryEvent)
class HistoryEventAdmin(InspectOnlyAdmin):
    list_display = ["created_at", "user", "action", "entity", "entity_id", "via"]
    list_filter = ["action", "entity", "via", "project"]
    search_fields = ["user__username"]


@admin.register(models.AgreementCache)
class AgreementCacheAdmin(admin.ModelAdmin):
    list_display = ["project", "params", "computed_at", "seconds"]
    list_filter = ["project"]
    exclude = ["payload"]  # can be megabytes; the report has its own page

    # A cache: deleting an entry only makes the next report recompute it.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
