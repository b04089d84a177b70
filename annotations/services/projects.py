"""Projects and their members."""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from ..models import Membership, Project
from .assignments import assignments_rebalance, assignments_unstarted
from .history import history_record


@transaction.atomic
def project_create(
    *,
    slug: str,
    name: str,
    description: str = "",
    blind: bool = True,
    pi: AbstractBaseUser | None = None,
) -> tuple[Project, bool]:
    """Create a project (or return the existing one with that slug)."""
    project = Project.objects.filter(slug=slug).first()
    created = project is None
    if created:
        project = Project(slug=slug, name=name, description=description, blind=blind)
        project.full_clean()
        project.save()
    if pi is not None:
        member_add(project=project, user=pi, role=Membership.Role.PI)
    return project, created


def user_create(
    *, username: str, password: str | None = None
) -> tuple[AbstractBaseUser, str]:
    """Create a user with the given or a generated password; return both."""
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": f"The user {username!r} exists already."})
    password = password or secrets.token_urlsafe(12)
    user = User(username=username)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user, password


@transaction.atomic
def member_add(
    *,
    project: Project,
    user: AbstractBaseUser,
    role: str,
    actor: AbstractBaseUser | None = None,
    via: str = "command",
) -> tuple[Membership, bool]:
    """Add a member, or change the role of an existing one."""
    if role not in Membership.Role.values:
        raise ValidationError({"role": f"Role must be pi or coder, not {role!r}."})
    membership = Membership.objects.filter(project=project, user=user).first()
    if membership is not None:
        if membership.role == role:
            return membership, False
        before = {"role": membership.role}
        membership.role = role
        membership.save()
        history_record(
            project=project, user=actor, entity="membership",
            entity_id=membership.pk, action="update", before=before,
            after={"user": user.pk, "role": role}, via=via,
        )  # fmt: skip
        return membership, False
    membership = Membership.objects.create(project=project, user=user, role=role)
    history_record(
        project=project, user=actor, entity="membership", entity_id=membership.pk,
        action="create", after={"user": user.pk, "role": role}, via=via,
    )  # fmt: skip
    return membership, True


@transaction.atomic
def project_update(
    *,
    project: Project,
    actor: AbstractBaseUser | None,
    changes: dict,
    via: str = "web",
) -> Project:
    """Change a project's name, description or blind flag (the slug stays:
    it is in every URL and script)."""
    allowed = {"name", "description", "blind"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "This field cannot be changed."))
    before = {f: getattr(project, f) for f in allowed}
    for field, value in changes.items():
        setattr(project, field, value)
    project.full_clean()
    project.save()
    after = {f: getattr(project, f) for f in allowed}
    if after != before:
        history_record(
            project=project, user=actor, entity="project", entity_id=project.pk,
            action="update", before=before, after=after, via=via,
        )  # fmt: skip
    return project


@transaction.atomic
def member_remove(
    *,
    membership: Membership,
    actor: AbstractBaseUser | None,
    rebalance: bool = True,
    via: str = "web",
) -> dict[str, int]:
    """Remove a member. Their segments stay, attributed to them; documents
    they have not started go to the remaining coders (``rebalance``) or are
    unassigned. Documents they started or finished stay assigned to them."""
    project = membership.project
    if (
        membership.role == Membership.Role.PI
        and not project.memberships.filter(role=Membership.Role.PI)
        .exclude(pk=membership.pk)
        .exists()
    ):
        raise ValidationError(
            {"member": "A project needs at least one PI: add another PI first."}
        )
    user_id = membership.user_id
    result = {"moved": 0, "unassigned": 0}
    if rebalance:
        others = list(
            project.memberships.filter(role=Membership.Role.CODER)
            .exclude(user_id=user_id)
            .values_list("user_id", flat=True)
        )
        moved = assignments_rebalance(
            project=project, coder_id=user_id, to_coders=others, actor=actor, via=via
        )
        result["moved"] = moved["moved"]
    leftover = list(assignments_unstarted(project, user_id))
    for assignment in leftover:
        history_record(
            project=project, document=assignment.document, user=actor,
            entity="assignment", entity_id=assignment.pk, action="delete",
            before={"coder": user_id, "status": assignment.status}, via=via,
        )  # fmt: skip
        assignment.delete()
    result["unassigned"] = len(leftover)
    history_record(
        project=project, user=actor, entity="membership", entity_id=membership.pk,
        action="delete", before={"user": user_id, "role": membership.role}, via=via,
    )  # fmt: skip
    membership.delete()
    return result


def member_invite(
    *,
    project: Project,
    username: str,
    role: str,
    actor: AbstractBaseUser | None,
    via: str = "web",
) -> tuple[AbstractBaseUser, str]:
    """Create an account and add it to the project; return the user and its
    generated password, to be shown once to the inviting PI (it is stored
    only hashed). The team page also offers a one-time link with which the
    invitee chooses their own password."""
    username = (username or "").strip()
    if not username:
        raise ValidationError({"username": "Give a username."})
    with transaction.atomic():
        user, password = user_create(username=username)
        member_add(project=project, user=user, role=role, actor=actor, via=via)
    return user, password
