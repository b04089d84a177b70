"""Browser pages. Each screen's views live in their own module of views/."""

from django.urls import path

from .views import home

urlpatterns = [
    path("", home.home, name="home"),
    path("p/<slug:slug>/", home.project_detail, name="project_detail"),
]
