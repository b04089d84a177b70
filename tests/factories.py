"""factory_boy factories: build exactly the data a test needs."""

import factory
from django.contrib.auth import get_user_model

from annotations import models

PASSWORD = "a-long-test-password-1"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Project

    name = factory.Sequence(lambda n: f"Project {n}")
    slug = factory.Sequence(lambda n: f"project-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = models.Membership.Role.CODER


class DocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Document

    project = factory.SubFactory(ProjectFactory)
    external_id = factory.Sequence(lambda n: f"doc-{n}")
    title = factory.Sequence(lambda n: f"Article {n}")
    text = (
        "Europol coordinated a referral action day against Islamic State "
        "propaganda on Telegram.\nThousands of accounts were removed, but "
        "analysts doubt the effect will last."
    )
    length = 0  # set in save()
    checksum = ""


class CodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Code

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"code{n}")
    color = "#ffe08a"


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Assignment

    document = factory.SubFactory(DocumentFactory)
    coder = factory.SubFactory(UserFactory)


class SegmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Segment

    document = factory.SubFactory(DocumentFactory)
    coder = factory.SubFactory(UserFactory)
    code = factory.SubFactory(
        CodeFactory, project=factory.SelfAttribute("..document.project")
    )
    start = 0
    end = 7
    quote = factory.LazyAttribute(lambda s: s.document.text[s.start : s.end])
