from django.contrib import admin
from django.db import models as db_models

from . import models


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


@admin.register(models.Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["title", "external_id", "project", "source", "published", "length"]
    list_filter = ["project", "source"]
    search_fields = ["title", "external_id", "text"]
    readonly_fields = ["length", "checksum", "created_at"]
    # Django 6's default; without it the change form warns (an error in tests).
    formfield_overrides = {db_models.URLField: {"assume_scheme": "https"}}


@admin.register(models.Code)
class CodeAdmin(admin.ModelAdmin):
    list_display = ["name", "parent", "project", "key", "color", "order", "retired"]
    list_filter = ["project", "retired", "level"]
    search_fields = ["name", "description", "definition"]


@admin.register(models.Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["document", "coder", "status", "updated_at"]
    list_filter = ["status", "document__project", "coder"]
    search_fields = ["document__title", "coder__username"]


@admin.register(models.Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ["code", "coder", "document", "start", "end", "deleted_at"]
    list_filter = ["document__project", "code", "coder"]
    search_fields = ["quote", "memo", "document__title"]
    readonly_fields = ["client_id", "created_at", "updated_at"]


@admin.register(models.AdjudicationState)
class AdjudicationStateAdmin(admin.ModelAdmin):
    list_display = ["document", "status", "adjudicator", "adjudicated_at"]
    list_filter = ["status"]


@admin.register(models.ConsensusSegment)
class ConsensusSegmentAdmin(admin.ModelAdmin):
    list_display = ["code", "document", "start", "end", "decision", "decided_by"]
    list_filter = ["decision", "document__project", "code"]
    search_fields = ["quote", "note"]


@admin.register(models.ConsensusRejection)
class ConsensusRejectionAdmin(admin.ModelAdmin):
    list_display = ["document", "decided_by", "decided_at", "deleted_at"]
    search_fields = ["note"]


@admin.register(models.HistoryEvent)
class HistoryEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "action", "entity", "entity_id", "via"]
    list_filter = ["action", "entity", "via", "project"]
    search_fields = ["user__username"]

    # The history is append-only, in the admin too.
    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.AgreementCache)
class AgreementCacheAdmin(admin.ModelAdmin):
    list_display = ["project", "params", "computed_at", "seconds"]
    list_filter = ["project"]
    exclude = ["payload"]  # can be megabytes; the report has its own page
