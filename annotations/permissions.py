"""Who may see and change what: one rule set for pages, the API and exports.

The matrix (DESIGN.md):
- a PI of a project reads and manages everything in it;
- a coder reads the documents assigned to them and, while the project is
  blind, only their own segments;
- anyone else gets 404 (never 403), so project and document ids do not leak;
- while a coder recodes documents in a recode round (test-retest), the same
  documents of the source project are withheld from them, coding included,
  until they mark the copy done: a 403 saying why on the coding page, out of
  their document and segment lists in the API.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
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


class RecodeWithheld(PermissionDenied):
    """The document is in the user's unfinished recode round."""


def recode_copies(user: AbstractBaseUser, document: str = "") -> QuerySet[Assignment]:
    """The user's unfinished assignments, in recode rounds of the project of
    the document at ``document`` (an ``OuterRef`` path; "" for a Document
    query), of a copy of that document: the same text (checksum) and the
    same external id or title, as the round's report matches them."""
    at = f"{document}__" if document else ""
    return (
        Assignment.objects.filter(
            coder=user,
            document__project__recode_of=OuterRef(f"{at}project"),
            document__project__recode_coder=user,
            document__checksum=OuterRef(f"{at}checksum"),
        )
        .filter(
            Q(document__external_id=OuterRef(f"{at}external_id"))
            | Q(document__title=OuterRef(f"{at}title"))
        )
        .exclude(status=Assignment.Status.DONE)
    )


def documents_for(user: AbstractBaseUser, project: Project) -> QuerySet[Document]:
    """Documents the user may read: all for a PI, assigned ones for a coder
    (but those withheld while the coder recodes them)."""
    role = role_in(user, project)
    if role == Membership.Role.PI:
        return project.documents.all()
    if role == Membership.Role.CODER:
        return project.documents.filter(assignments__coder=user).exclude(
            Exists(recode_copies(user))
        )
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
    round_name = recode_copies(user, "document").values("document__project__name")
    assignment = (
        Assignment.objects.select_related("document")
        .filter(coder=user, document_id=document_id, document__project=project)
        .annotate(recode_round=Subquery(round_name[:1]))
        .first()
    )
    if assignment is None or not is_member(user, project):
        return document_get_or_404(user, project, document_id), None
    if assignment.recode_round and role_in(user, project) == Membership.Role.CODER:
        raise RecodeWithheld(
            f"“{assignment.document.title or 'This article'}” is in your recode "
            f"round “{assignment.recode_round}”: your first coding of it stays out "
            "of sight until you mark the copy there done."
        )
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
    if role == Membership.Role.CODER:
        qs = qs.exclude(Exists(recode_copies(user, "document")))
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
