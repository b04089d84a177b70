"""DRF permission classes: thin wrappers over annotations/permissions.py, so
the API answers with the same rules as the pages.

- Not a member of the project: 404 (the project's existence does not leak).
- A member reading what only PIs may read: 404, as on the pages.
- A member changing what they may read but not change: 403 with a reason.
"""

import re

from django.http import Http404
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from .. import permissions

SLUG = re.compile(r"[-a-zA-Z0-9_]{1,64}")


class ProjectMember(BasePermission):
    """Resolves ``view.project`` from the ``slug`` URL argument; 404 for outsiders."""

    pi_reads = False  # True: only PIs may even read the resource.
    pi_writes = False  # True: only PIs may change it (coders get 403).
    message = "Only the project's PIs can change this."

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        if not SLUG.fullmatch(view.kwargs["slug"]):
            raise Http404("No such project.")
        view.project = permissions.project_get_or_404(
            request.user, view.kwargs["slug"], pi=self.pi_reads
        )
        view.is_pi = permissions.is_pi(request.user, view.project)
        if self.pi_writes and request.method not in SAFE_METHODS and not view.is_pi:
            raise PermissionDenied(self.message)
        return True


class ProjectPIWrites(ProjectMember):
    """Members read; PIs change (the codebook, documents, assignments)."""

    pi_writes = True


class ProjectPI(ProjectMember):
    """PIs only, for reading too (the team)."""

    pi_reads = True
    pi_writes = True
