"""Who may see and change what: one rule set for pages, the API and exports.

The matrix (DESIGN.md):
- a PI of a project reads and manages everything in it;
- a coder reads the documents assigned to them and, while the project is
  blind, only their own segments;
- anyone else gets 404 (never 403), so project and document ids do not leak.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F, QuerySet
from django.http import Http404

from .models import Assignment, Document, Membership, Project, Segment

ROLES_CACHE = "_workbench_roles"  # on the user object: {project id: role}


def role_in(user: AbstractBaseUser, project: Project) -> str | None:
    """The user's role in the project, or None. Cached on the user per request."""
    if not user.is_authenticated:
        return None
    cache = user.__dict__.setdefault(ROLES_CACHE, {})
    if project.pk not in cache:
        cache[project.pk] = (
            Membership.objects.filter(project=project, user=user)
            .values_list("role", flat=True)
            .first()
        )
    return cache[project.pk]


def is_pi(user: AbstractBaseUser, project: Project) -> bool:
    return role_in(user, project) == Membership.Role.PI


def is_member(user: AbstractBaseUser, project: Project) -> bool:
    return role_in(user, project) is not None


def projects_for(user: AbstractBaseUser) -> QuerySet[Project]:
    if not user.is_authenticated:
        return Project.objects.none()
    return Project.objects.filter(memberships__user=user).distinct()


def project_get_or_404(
    user: AbstractBaseUser, slug: str, *, pi: bool = False
) -> Project:
    """The project if the user is a member (a PI when ``pi``), else 404.

    One query: the role comes along and fills :func:`role_in`'s cache, as
    every page asks for it next.
    """
    if not user.is_authenticated:
        raise Http404("No such project.")
    project = (
        Project.objects.filter(slug=slug, memberships__user=user)
        .annotate(member_role=F("memberships__role"))
        .first()
    )
    if project is None:
        raise Http404("No such project.")
    user.__dict__.setdefault(ROLES_CACHE, {})[project.pk] = project.member_role
    if pi and not is_pi(user, project):
        raise Http404("No such project.")
    return project


def documents_for(user: AbstractBaseUser, project: Project) -> QuerySet[Document]:
    """Documents the user may read: all for a PI, assigned ones for a coder."""
    role = role_in(user, project)
    if role == Membership.Role.PI:
        return project.documents.all()
    if role == Membership.Role.CODER:
        return project.documents.filter(assignments__coder=user)
    return Document.objects.none()


def document_get_or_404(
    user: AbstractBaseUser, project: Project, document_id: int
) -> Document:
    document = documents_for(user, project).filter(pk=document_id).first()
    if document is None:
        raise Http404("No such document.")
    return document


def document_assignment_get_or_404(
    user: AbstractBaseUser, project: Project, document_id: int
) -> tuple[Document, Assignment | None]:
    """The document, as :func:`document_get_or_404` allows it, and the user's
    assignment of it: one query when the user is assigned (any member may
    read a document assigned to them)."""
    if not user.is_authenticated:
        raise Http404("No such document.")
    assignment = (
        Assignment.objects.select_related("document")
        .filter(coder=user, document_id=document_id, document__project=project)
        .first()
    )
    if assignment is None or not is_member(user, project):
        return document_get_or_404(user, project, document_id), None
    document = assignment.document
    document.project = project  # the caller's instance: no query for it later
    return document, assignment


def sees_others_segments(user: AbstractBaseUser, project: Project) -> bool:
    """Blind coding is enforced here: only PIs, or anyone in an open project."""
    role = role_in(user, project)
    return role == Membership.Role.PI or (
        role == Membership.Role.CODER and not project.blind
    )


def segments_visible(
    user: AbstractBaseUser, project: Project, *, include_deleted: bool = False
) -> QuerySet[Segment]:
    """Segments of the project the user may see."""
    qs = Segment.objects.filter(document__project=project)
    if not include_deleted:
        qs = qs.filter(deleted_at__isnull=True)
    role = role_in(user, project)
    if role is None:
        return Segment.objects.none()
    if sees_others_segments(user, project):
        if role == Membership.Role.CODER:
            qs = qs.filter(document__assignments__coder=user)
        return qs
    return qs.filter(coder=user)


def segment_get_or_404(
    user: AbstractBaseUser, project: Project, segment_id: int
) -> Segment:
    segment = (
        segments_visible(user, project, include_deleted=True)
        .select_related("document", "code", "coder")
        .filter(pk=segment_id)
        .first()
    )
    if segment is None:
        raise Http404("No such segment.")
    return segment


def can_edit_segment(user: AbstractBaseUser, segment: Segment) -> bool:
    """Coders and PIs change their own segments only; consensus is separate."""
    return segment.coder_id == user.pk


def assignment_for(user: AbstractBaseUser, document: Document) -> Assignment | None:
    return Assignment.objects.filter(document=document, coder=user).first()
