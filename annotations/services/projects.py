"""Projects and their members."""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from ..models import Membership, Project
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


def user_create(*, username: str, password: str | None = None) -> tuple[AbstractBaseUser, str]:
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
