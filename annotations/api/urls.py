"""REST API under /api/: a router for plain resources, explicit paths for the rest."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import exports as export_views
from . import views
from .adjudication import AdjudicationView, ConsensusView
from .agreement import AgreementView
from .codebook_versions import CodebookVersionDetailView, CodebookVersionListView
from .history import HistoryView

router = DefaultRouter()
# Resources of one project live under its slug; outsiders get 404.
PROJECT = r"projects/(?P<slug>[^/]+)"
router.register("projects", views.ProjectViewSet, basename="api_project")
router.register(f"{PROJECT}/members", views.MemberViewSet, basename="api_member")
router.register(f"{PROJECT}/documents", views.DocumentViewSet, basename="api_document")
router.register(f"{PROJECT}/codes", views.CodeViewSet, basename="api_code")
router.register(
    f"{PROJECT}/assignments", views.AssignmentViewSet, basename="api_assignment"
)
router.register(f"{PROJECT}/segments", views.SegmentViewSet, basename="api_segment")

urlpatterns = [
    path(
        "projects/<slug:slug>/agreement/",
        AgreementView.as_view(),
        name="api_project_agreement",
    ),
    path(
        "projects/<slug:slug>/consensus/",
        ConsensusView.as_view(),
        name="api_project_consensus",
    ),
    path(
        "projects/<slug:slug>/adjudication/",
        AdjudicationView.as_view(),
        name="api_project_adjudication",
    ),
    path(
        "projects/<slug:slug>/codebook/versions/",
        CodebookVersionListView.as_view(),
        name="api_project_codebook_versions",
    ),
    path(
        "projects/<slug:slug>/codebook/versions/<str:number>/",
        CodebookVersionDetailView.as_view(),
        name="api_project_codebook_version",
    ),
    path(
        "projects/<slug:slug>/history/",
        HistoryView.as_view(),
        name="api_project_history",
    ),
    path(
        "projects/<slug:slug>/export/<str:name>",
        export_views.ExportView.as_view(),
        name="api_project_export",
    ),
    path("", include(router.urls)),
]
