"""Browser pages. Each screen's views live in their own module of views/."""

from django.urls import path

from .views import (
    adjudication,
    agreement,
    analysis,
    assignments,
    codebook,
    codebook_versions,
    coding,
    documents,
    export,
    history,
    mywork,
    profile,
    progress,
    projects,
    recode,
    team,
)

urlpatterns = [
    path("", mywork.home, name="home"),
    path("p/<slug:slug>/", projects.project_detail, name="project_detail"),
    # The PI's set-up pages (views/projects.py, documents.py, codebook.py, team.py,
    # assignments.py, progress.py) and the profile with the API token.
    path("profile/", profile.profile, name="profile"),
    path("profile/token/", profile.token_create, name="token_create"),
    path("profile/token/revoke/", profile.token_revoke, name="token_revoke"),
    path("projects/new/", projects.project_create, name="project_create"),
    path("p/<slug:slug>/settings/", projects.project_settings, name="project_settings"),
    path("p/<slug:slug>/documents/", documents.document_list, name="document_list"),
    path(
        "p/<slug:slug>/documents/upload/",
        documents.document_upload,
        name="document_upload",
    ),
    path(
        "p/<slug:slug>/documents/upload/confirm/",
        documents.document_upload_confirm,
        name="document_upload_confirm",
    ),
    path(
        "p/<slug:slug>/documents/<int:document_id>/",
        documents.document_detail,
        name="document_detail",
    ),
    path("p/<slug:slug>/codebook/", codebook.codebook, name="codebook"),
    path("p/<slug:slug>/codebook/new/", codebook.code_create, name="code_create"),
    path("p/<slug:slug>/codebook/reorder/", codebook.code_reorder, name="code_reorder"),
    path(
        "p/<slug:slug>/codebook/import/",
        codebook.codebook_import,
        name="codebook_import",
    ),
    path(
        "p/<slug:slug>/codebook/export.<str:fmt>",
        codebook.codebook_export,
        name="codebook_export",
    ),
    path(
        "p/<slug:slug>/codebook/publish/",
        codebook_versions.codebook_publish,
        name="codebook_publish",
    ),
    path(
        "p/<slug:slug>/codebook/versions/<int:number>/",
        codebook_versions.codebook_version,
        name="codebook_version",
    ),
    path(
        "p/<slug:slug>/codebook/versions/<int:number>/export.<str:fmt>",
        codebook_versions.codebook_version_export,
        name="codebook_version_export",
    ),
    path("p/<slug:slug>/codebook/<int:code_id>/", codebook.code_edit, name="code_edit"),
    path(
        "p/<slug:slug>/codebook/<int:code_id>/move/",
        codebook.code_move,
        name="code_move",
    ),
    path(
        "p/<slug:slug>/codebook/<int:code_id>/retire/",
        codebook.code_retire,
        name="code_retire",
    ),
    path(
        "p/<slug:slug>/codebook/<int:code_id>/merge/",
        codebook.code_merge,
        name="code_merge",
    ),
    path("p/<slug:slug>/team/", team.team, name="team"),
    path("p/<slug:slug>/team/add/", team.member_add, name="member_add"),
    path("p/<slug:slug>/team/invite/", team.member_invite, name="member_invite"),
    path(
        "p/<slug:slug>/team/<int:membership_id>/remove/",
        team.member_remove,
        name="member_remove",
    ),
    path("p/<slug:slug>/assignments/", assignments.assignments, name="assignments"),
    path(
        "p/<slug:slug>/assignments/save/",
        assignments.assignments_save,
        name="assignments_save",
    ),
    path(
        "p/<slug:slug>/assignments/sample/",
        assignments.assignments_sample,
        name="assignments_sample",
    ),
    path(
        "p/<slug:slug>/assignments/rebalance/",
        assignments.assignments_rebalance,
        name="assignments_rebalance",
    ),
    path("p/<slug:slug>/progress/", progress.progress, name="progress"),
    # The coding page (views/coding/).
    path("p/<slug:slug>/next/", coding.next_article, name="next_article"),
    path("p/<slug:slug>/codes.css", coding.codes_css, name="codes_css"),
    path("p/<slug:slug>/d/<int:document_id>/", coding.coding_page, name="coding_page"),
    path(
        "p/<slug:slug>/d/<int:document_id>/segments/",
        coding.segment_create,
        name="segment_create",
    ),
    path(
        "p/<slug:slug>/d/<int:document_id>/segments/<int:segment_id>/",
        coding.segment_detail,
        name="segment_detail",
    ),
    path(
        "p/<slug:slug>/d/<int:document_id>/segments/<int:segment_id>/edit/",
        coding.segment_update,
        name="segment_update",
    ),
    path(
        "p/<slug:slug>/d/<int:document_id>/segments/<int:segment_id>/delete/",
        coding.segment_delete,
        name="segment_delete",
    ),
    path(
        "p/<slug:slug>/d/<int:document_id>/segments/<int:segment_id>/restore/",
        coding.segment_restore,
        name="segment_restore",
    ),
    path(
        "p/<slug:slug>/d/<int:document_id>/undo/",
        coding.coding_undo,
        name="coding_undo",
    ),
    path(
        "p/<slug:slug>/d/<int:document_id>/redo/",
        coding.coding_redo,
        name="coding_redo",
    ),
    path(
        "p/<slug:slug>/d/<int:document_id>/done/",
        coding.assignment_done,
        name="assignment_done",
    ),
    path(
        "p/<slug:slug>/d/<int:document_id>/reopen/",
        coding.assignment_reopen,
        name="assignment_reopen",
    ),
    path(
        "p/<slug:slug>/d/<int:document_id>/note/",
        coding.assignment_note,
        name="assignment_note",
    ),
    # Adjudication and history (views/adjudication.py, views/history.py), PI only.
    path(
        "p/<slug:slug>/adjudicate/",
        adjudication.adjudication_list,
        name="adjudication_list",
    ),
    path(
        "p/<slug:slug>/adjudicate/<int:document_id>/",
        adjudication.adjudicate,
        name="adjudicate",
    ),
    path(
        "p/<slug:slug>/adjudicate/<int:document_id>/start/",
        adjudication.adjudicate_start,
        name="adjudicate_start",
    ),
    path(
        "p/<slug:slug>/adjudicate/<int:document_id>/decide/",
        adjudication.adjudicate_decide,
        name="adjudicate_decide",
    ),
    path(
        "p/<slug:slug>/adjudicate/<int:document_id>/add/",
        adjudication.adjudicate_add,
        name="adjudicate_add",
    ),
    path(
        "p/<slug:slug>/adjudicate/<int:document_id>/consensus/<int:consensus_id>/",
        adjudication.adjudicate_consensus,
        name="adjudicate_consensus",
    ),
    path(
        "p/<slug:slug>/adjudicate/<int:document_id>/status/",
        adjudication.adjudicate_status,
        name="adjudicate_status",
    ),
    path("p/<slug:slug>/history/", history.history, name="history"),
    path(
        "p/<slug:slug>/history/export.csv",
        history.history_export,
        name="history_export",
    ),
    path(
        "p/<slug:slug>/history/<int:document_id>/",
        history.history_document,
        name="history_document",
    ),
    path(
        "p/<slug:slug>/history/restore/<int:event_id>/",
        history.history_restore,
        name="history_restore",
    ),
    # Exports (views/export.py), PI only.
    path("p/<slug:slug>/export/", export.export_page, name="export_page"),
    path(
        "p/<slug:slug>/export/<str:name>",
        export.export_download,
        name="export_download",
    ),
    # Agreement (views/agreement.py), PI only.
    path("p/<slug:slug>/agreement/", agreement.agreement, name="agreement"),
    path(
        "p/<slug:slug>/agreement/agreement.json",
        agreement.agreement_json,
        name="agreement_json",
    ),
    path(
        "p/<slug:slug>/agreement/agreement.csv",
        agreement.agreement_csv,
        name="agreement_csv",
    ),
    path(
        "p/<slug:slug>/agreement/compare/<int:document_id>/",
        agreement.agreement_compare,
        name="agreement_compare",
    ),
    # Recode rounds (views/recode.py): intra-coder reliability, PI only.
    path("p/<slug:slug>/recode/", recode.recode_create, name="recode_create"),
    path(
        "p/<slug:slug>/recode/<slug:recode_slug>/",
        recode.recode_report,
        name="recode_report",
    ),
    path(
        "p/<slug:slug>/recode/<slug:recode_slug>/report.json",
        recode.recode_report_json,
        name="recode_report_json",
    ),
    path(
        "p/<slug:slug>/recode/<slug:recode_slug>/report.csv",
        recode.recode_report_csv,
        name="recode_report_csv",
    ),
    # Analysis (views/analysis.py), PI only.
    path("p/<slug:slug>/analysis/", analysis.analysis, name="analysis"),
    path(
        "p/<slug:slug>/analysis/<str:table>.csv",
        analysis.analysis_csv,
        name="analysis_csv",
    ),
]
