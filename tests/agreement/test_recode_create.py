"""recode_round_create and recode_rounds: the draw, the copies, who may see
the round, and refusals that write nothing."""

import random

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from annotations.exporters.codebook import codebook_file_rows
from annotations.models import (
    Assignment,
    Code,
    CodebookVersion,
    Document,
    HistoryEvent,
    Membership,
    Project,
    Segment,
)
from annotations.selectors.codebook import codebook_rows
from annotations.services.codebook import code_create, code_update
from annotations.services.codebook_versions import codebook_publish
from annotations.services.coding import segment_create
from annotations.services.recode import recode_round_create, recode_rounds
from tests import factories

from .conftest import set_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def done(study):
    """coder1 marked every study document done; coder2 none."""
    for doc in study.documents:
        set_status(doc, study.coder1)
    return study


def create(study, **kw):
    kw.setdefault("coder", study.coder1)
    return recode_round_create(source=study.project, actor=study.pi, **kw)


def external_ids(project):
    return sorted(project.documents.values_list("external_id", flat=True))


def test_share_draws_a_seeded_reproducible_sample(done):
    ids = sorted(d.pk for d in done.documents)
    want = sorted(random.Random(7).sample(ids, 2))  # round(0.5 * 4) = 2
    first = create(done, share=0.5, seed=7)
    second = create(done, share=0.5, seed=7)
    expected = sorted(Document.objects.get(pk=pk).external_id for pk in want)
    assert external_ids(first) == external_ids(second) == expected
    assert (first.slug, second.slug) == ("takedowns-recode-1", "takedowns-recode-2")
    assert first.name == "Takedowns — recode 1 (coder1)"
    assert (first.recode_of, first.recode_coder, first.blind) == (
        done.project, done.coder1, True,
    )  # fmt: skip
    assert "seed 7" in first.description


def test_a_small_share_draws_one_document_and_count_draws_count(done):
    assert len(external_ids(create(done, share=0.01))) == 1
    assert len(external_ids(create(done, count=3, seed=2))) == 3


def test_only_documents_the_coder_marked_done_are_drawn(study):
    set_status(study.documents[0], study.coder1)
    set_status(study.documents[2], study.coder1)
    set_status(study.documents[1], study.coder2)
    project = create(study, count=2)
    assert external_ids(project) == ["d0", "d2"]


def test_chosen_documents_and_own_slug(done):
    d1, unicode = done.documents[1], done.documents[3]
    project = create(done, documents=[unicode.pk, d1.pk, d1.pk], slug="retest")
    assert project.slug == "retest" and external_ids(project) == ["d1", "unicode"]


def test_copies_are_byte_identical_with_their_offsets(done):
    src = done.documents[3]
    Document.objects.filter(pk=src.pk).update(
        source="Reuters", url="https://example.org/a?b=1",
        published="2024-03-01", metadata={"lang": "ar", "n": [1, 2]},
    )  # fmt: skip
    src.refresh_from_db()
    project = create(done, documents=[src.pk])
    copy = project.documents.get()
    fields = ["external_id", "title", "source", "url", "published", "metadata",
              "text", "length", "checksum"]  # fmt: skip
    assert {f: getattr(copy, f) for f in fields} == {f: getattr(src, f) for f in fields}
    assert copy.text.encode("utf-8") == src.text.encode("utf-8")
    assert copy.pk != src.pk
    # The same code-point offsets quote the same Arabic and emoji in both.
    start = src.text.index("قناة")
    code = Code.objects.get(project=project, name="actor")
    segment, _ = segment_create(
        document=copy, coder=done.coder1, code=code, start=start - 2,
        end=start + 4, quote=src.text[start - 2 : start + 4],
    )  # fmt: skip
    assert segment.quote == "🎉 قناة" == src.text[segment.start : segment.end]


def test_the_codebook_is_copied_with_hierarchy_and_every_field(done):
    s = done
    code_update(
        code=s.codes["action"], actor=s.pi,
        changes={"definition": "What was done.", "when_to_use": "Verbs",
                 "example": "removed", "description": "The act"},
    )  # fmt: skip
    code_update(code=s.codes["platform"], actor=s.pi, changes={"retired": True})
    tone = code_create(project=s.project, actor=s.pi, name="tone", level="ordinal")
    for i, name in enumerate(["low", "high"], start=1):
        code_create(project=s.project, actor=s.pi, name=name, parent=tone, value=i)
    code_create(project=s.project, actor=s.pi, name="sub", parent=s.codes["law_enforcement"], key="s")  # fmt: skip
    project = create(done, count=1)
    want = codebook_file_rows(codebook_rows(s.project))
    got = codebook_file_rows(codebook_rows(project))
    assert got == want and len(got) == 8
    copies = {c.name: c for c in Code.objects.filter(project=project)}
    assert copies["sub"].parent.parent.name == "actor"
    assert copies["platform"].retired and copies["platform"].key == "p"
    assert not set(copies.values()) & set(Code.objects.filter(project=s.project))


def test_members_assignments_and_history(done):
    s = done
    extra_pi = factories.UserFactory(username="pi2")
    factories.MembershipFactory(project=s.project, user=extra_pi, role="pi")
    before_source = HistoryEvent.objects.filter(project=s.project).count()
    project = create(done, count=2, seed=3)
    roles = dict(project.memberships.values_list("user__username", "role"))
    assert roles == {"pi": "pi", "pi2": "pi", "coder1": "coder"}
    rows = list(
        Assignment.objects.filter(document__project=project).values_list(
            "coder__username", "status"
        )
    )
    assert rows == [("coder1", "todo")] * 2
    events = HistoryEvent.objects.filter(project=project)
    kinds = sorted(set(events.values_list("entity", "action")))
    assert kinds == [
        ("assignment", "create"), ("code", "create"), ("document", "create"),
        ("membership", "create"), ("project", "create"),
    ]  # fmt: skip
    copied = events.filter(entity="document").first()
    original = Document.objects.get(
        project=s.project, external_id=copied.after["external_id"]
    )
    assert copied.after["copy_of"] == {"project": "takedowns", "document": original.pk}
    assert events.filter(user=s.pi).count() == events.count()
    assert HistoryEvent.objects.filter(project=s.project).count() == before_source + 1
    event = HistoryEvent.objects.get(project=s.project, entity="recode_round")
    assert event.after["project"] == project.slug and event.user == s.pi


def test_a_published_codebook_is_published_as_v1_of_the_round(done):
    s = done
    codebook_publish(project=s.project, actor=s.pi)
    code_update(code=s.codes["actor"], actor=s.pi, changes={"definition": "Who"})
    codebook_publish(project=s.project, actor=s.pi)
    project = create(done, count=1)
    version = CodebookVersion.objects.get(project=project)
    assert (version.number, project.codebook_version) == (1, 1)
    assert version.note == "Copy of takedowns codebook v2"
    source_v2 = CodebookVersion.objects.get(project=s.project, number=2)
    assert version.checksum == source_v2.checksum
    doc = project.documents.get()
    code = Code.objects.get(project=project, name="actor")
    segment, _ = segment_create(
        document=doc, coder=s.coder1, code=code, start=0, end=7, quote=doc.text[:7]
    )
    assert segment.codebook_version == 1


def test_unpublished_changes_since_the_version_are_noted(done):
    s = done
    codebook_publish(project=s.project, actor=s.pi)
    code_update(code=s.codes["actor"], actor=s.pi, changes={"definition": "Who"})
    project = create(done, count=1)
    assert CodebookVersion.objects.get(project=project).note.startswith(
        "Copy of takedowns codebook v1 with its changes since"
    )


def test_without_versions_the_round_has_none(done):
    project = create(done, count=1)
    assert project.codebook_version is None
    assert not CodebookVersion.objects.filter(project=project).exists()


def test_blind_the_coder_sees_only_round_2_and_no_other_coder_gets_in(done, client):
    s = done
    src = s.documents[0]
    factories.SegmentFactory(
        document=src, coder=s.coder1, code=s.codes["actor"], start=0, end=7,
        memo="ROUND-ONE-MEMO",
    )  # fmt: skip
    project = create(done, documents=[src.pk])
    copy = project.documents.get()
    assert not Segment.objects.filter(document=copy).exists()
    factories.SegmentFactory(
        document=copy, coder=s.coder1, code=Code.objects.get(project=project,
        name="action"), start=8, end=29, memo="ROUND-TWO-MEMO",
    )  # fmt: skip
    client.force_login(s.coder1)
    page = client.get(reverse("coding_page", args=[project.slug, copy.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "ROUND-TWO-MEMO" in html and "ROUND-ONE-MEMO" not in html
    assert not Membership.objects.filter(project=project, user=s.coder2).exists()
    client.force_login(s.coder2)
    other = client.get(reverse("coding_page", args=[project.slug, copy.pk]))
    assert other.status_code in (403, 404)


def counts():
    return (
        Project.objects.count(), Document.objects.count(), Code.objects.count(),
        Membership.objects.count(), Assignment.objects.count(),
        HistoryEvent.objects.count(), CodebookVersion.objects.count(),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"coder": "outsider", "count": 1}, "coder", "outsider is not a coder of"),
        ({"coder": "coder2", "count": 1}, "coder", "coder2 has not marked any"),
        ({"share": 0}, "share", "more than 0 and at most 1"),
        ({"share": 1.5}, "share", "more than 0 and at most 1"),
        ({"count": 0}, "count", "at least 1"),
        ({"count": 5}, "count", "coder1 marked 4 documents done in takedowns"),
        ({"documents": ["other"]}, "documents", "not documents coder1 marked done"),
        ({"documents": []}, "documents", "at least one document"),
        ({"count": 1, "slug": "other"}, "slug", "'other' is taken"),
        ({"count": 1, "slug": "not a slug"}, "slug", "slug"),
        ({}, "share", "exactly one of"),
        ({"share": 0.5, "count": 1}, "share", "exactly one of"),
        ({"count": 1, "seed": "x"}, "seed", "whole number"),
    ],
)
def test_refusals_write_nothing(done, kwargs, field, message):
    s = done
    users = {"outsider": s.outsider, "coder2": s.coder2}
    if "coder" in kwargs:
        kwargs["coder"] = users[kwargs["coder"]]
    if kwargs.get("documents") == ["other"]:
        other = factories.DocumentFactory(project=Project.objects.get(slug="other"))
        kwargs["documents"] = [s.documents[0].pk, other.pk]
    before = counts()
    with pytest.raises(ValidationError) as exc:
        create(s, **kwargs)
    assert field in exc.value.message_dict
    assert message in " ".join(exc.value.message_dict[field])
    assert counts() == before


def test_rounds_newest_first_in_one_query(done, django_assert_max_num_queries):
    s = done
    first = create(done, count=2)
    second = create(done, count=1, seed=5)
    set_status(first.documents.first(), s.coder1)
    with django_assert_max_num_queries(1):
        rounds = recode_rounds(s.project)
    assert [
        (r.project.slug, r.coder_username, r.documents, r.done) for r in rounds
    ] == [
        (second.slug, "coder1", 1, 0),
        (first.slug, "coder1", 2, 1),
    ]
    assert recode_rounds(first) == []


def test_a_pi_who_codes_recodes_as_a_pi(study):
    """A PI may code (DESIGN.md): their done documents can be recoded; in the
    round they stay a PI."""
    set_status(study.documents[0], study.pi)
    project = create(study, coder=study.pi, count=1)
    roles = dict(project.memberships.values_list("user__username", "role"))
    assert roles == {"pi": "pi"}
    assert project.documents.get().assignments.get().coder == study.pi
