"""Services behind the PI's set-up pages: codebook, team, assignments, uploads."""

import pytest
from django.core.exceptions import ValidationError

from annotations.models import (
    Assignment,
    Code,
    Document,
    HistoryEvent,
    Membership,
    Segment,
)
from annotations.services import codebook, document_upload, projects
from annotations.services.assignments import assignment_toggle, assignments_rebalance
from annotations.services.coding import segment_create
from annotations.services.errors import ConflictError
from annotations.services.reliability_sample import reliability_sample_draw
from tests import factories

pytestmark = pytest.mark.django_db


def _segment(study, coder, code, start=0, end=7):
    doc = study.documents[0]
    seg, _ = segment_create(
        document=doc, coder=coder, code=code, start=start, end=end,
        quote=doc.text[start:end],
    )  # fmt: skip
    return seg


def test_code_create_appends_and_records_history(study):
    code = codebook.code_create(
        project=study.project, actor=study.pi, name="outcome", color="#123456", key="o"
    )
    assert code.order == max(
        c.order for c in Code.objects.filter(project=study.project, parent=None)
    )
    event = HistoryEvent.objects.get(entity="code", entity_id=code.pk)
    assert event.action == "create" and event.after["name"] == "outcome"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "actor"}, "name"),  # duplicate top-level name
        ({"name": "a/b"}, "name"),
        ({"name": "x", "color": "red"}, "color"),
        ({"name": "x", "key": "a"}, "key"),  # key taken by an active code
        ({"name": ""}, "name"),
    ],
)
def test_code_create_refuses_bad_input(study, fields, field):
    before = Code.objects.count()
    with pytest.raises(ValidationError) as exc:
        codebook.code_create(project=study.project, actor=study.pi, **fields)
    assert field in exc.value.message_dict
    assert Code.objects.count() == before


def test_code_cannot_be_nested_under_its_own_child(study):
    actor, child = study.codes["actor"], study.codes["law_enforcement"]
    with pytest.raises(ValidationError) as exc:
        codebook.code_update(code=actor, actor=study.pi, changes={"parent": child})
    assert "parent" in exc.value.message_dict
    actor.refresh_from_db()
    assert actor.parent is None


def test_rename_keeps_segments_and_bumps_version(study):
    seg = _segment(study, study.coder1, study.codes["actor"])
    code = codebook.code_update(
        code=study.codes["actor"], actor=study.pi, changes={"name": "who"}
    )
    assert code.version == 2
    seg.refresh_from_db()
    assert seg.code.name == "who"
    event = HistoryEvent.objects.filter(entity="code", action="update").first()
    assert event.before["name"] == "actor" and event.after["name"] == "who"


def test_code_update_with_stale_version_conflicts(study):
    with pytest.raises(ConflictError):
        codebook.code_update(
            code=study.codes["actor"], actor=study.pi, changes={"name": "x"},
            expected_version=7,
        )  # fmt: skip


def test_retired_code_frees_its_key(study):
    codebook.code_retire(code=study.codes["actor"], actor=study.pi)
    new = codebook.code_create(project=study.project, actor=study.pi, name="n", key="a")
    assert new.key == "a"
    with pytest.raises(ValidationError):  # un-retiring now clashes on the key
        codebook.code_retire(code=study.codes["actor"], actor=study.pi, retired=False)


def test_move_and_reorder(study):
    top = list(Code.objects.filter(project=study.project, parent=None))
    codebook.code_move(code=top[-1], direction="up", actor=study.pi)
    order = list(
        Code.objects.filter(project=study.project, parent=None).values_list(
            "pk", flat=True
        )
    )
    assert order == [top[0].pk, top[2].pk, top[1].pk]
    with pytest.raises(ValidationError):
        codebook.code_reorder(
            project=study.project, parent=None, ordered_ids=order[:2], actor=study.pi
        )


def test_merge_moves_segments_and_children_and_records_history(study):
    action, actor = study.codes["action"], study.codes["actor"]
    s1 = _segment(study, study.coder1, actor, 0, 7)
    s2 = _segment(study, study.coder1, action, 0, 7)  # same span: becomes a duplicate
    s3 = _segment(study, study.coder2, actor, 8, 19)
    result = codebook.code_merge(source=actor, target=action, actor=study.pi)
    assert result == {"segments": 2, "duplicates": 1, "consensus": 0}
    assert not Code.objects.filter(pk=actor.pk).exists()
    for seg in (s1, s2, s3):
        seg.refresh_from_db()
        assert seg.code_id == action.pk
    assert s1.deleted_at is not None and s2.deleted_at is None and s3.deleted_at is None
    assert s3.version == 2
    assert (
        study.codes["law_enforcement"]
        .__class__.objects.get(pk=study.codes["law_enforcement"].pk)
        .parent_id
        == action.pk
    )
    assert HistoryEvent.objects.filter(entity="segment", action="merge").count() == 2
    assert (
        HistoryEvent.objects.get(entity="code", action="merge").after["merged_into"]
        == action.pk
    )


@pytest.mark.parametrize("target", ["self", "child", "other_project"])
def test_merge_refuses(study, target):
    actor = study.codes["actor"]
    into = {
        "self": actor,
        "child": study.codes["law_enforcement"],
        "other_project": factories.CodeFactory(),
    }[target]
    _segment(study, study.coder1, actor)
    with pytest.raises(ValidationError) as exc:
        codebook.code_merge(source=actor, target=into, actor=study.pi)
    assert "into" in exc.value.message_dict
    assert Segment.objects.filter(code=actor).count() == 1


def test_reliability_sample_is_reproducible_and_recorded(study):
    project = factories.ProjectFactory()
    coders = [factories.UserFactory() for _ in range(3)]
    for c in coders:
        factories.MembershipFactory(project=project, user=c)
    docs = [factories.DocumentFactory(project=project) for _ in range(10)]
    result = reliability_sample_draw(
        project=project, coders=[c.pk for c in coders], share=0.4, per_document=2,
        seed=42, actor=None,
    )  # fmt: skip
    assert result["sample"] == 4 and result["created"] == 14
    project.refresh_from_db()
    assert (
        project.reliability_share,
        project.reliability_coders,
        project.reliability_seed,
    ) == (0.4, 2, 42)
    first = sorted(Assignment.objects.filter(document__project=project).values_list(
        "document_id", "coder_id"))  # fmt: skip
    Assignment.objects.filter(document__project=project).delete()
    reliability_sample_draw(
        project=project, coders=[c.pk for c in coders], share=0.4, per_document=2,
        seed=42, actor=None,
    )  # fmt: skip
    again = sorted(Assignment.objects.filter(document__project=project).values_list(
        "document_id", "coder_id"))  # fmt: skip
    assert first == again
    assert len(docs) == 10
    # Nothing left to draw from.
    with pytest.raises(ValidationError):
        reliability_sample_draw(
            project=project, coders=[coders[0].pk], share=0.4, per_document=1, seed=1
        )


def test_reliability_sample_refuses_non_members(study):
    with pytest.raises(ValidationError) as exc:
        reliability_sample_draw(
            project=study.project, coders=[study.outsider.pk], share=0.5,
            per_document=1, seed=1, documents=[study.documents[0].pk],
        )  # fmt: skip
    assert "coders" in exc.value.message_dict


def test_unassign_refuses_when_coded(study):
    doc = study.documents[0]
    _segment(study, study.coder1, study.codes["actor"])
    with pytest.raises(ValidationError):
        assignment_toggle(
            project=study.project, document=doc, coder=study.coder1, assigned=False,
            actor=study.pi,
        )  # fmt: skip
    assert assignment_toggle(
        project=study.project, document=doc, coder=study.coder2, assigned=False,
        actor=study.pi,
    )  # fmt: skip
    assert not Assignment.objects.filter(document=doc, coder=study.coder2).exists()


def test_member_remove_rebalances_unstarted_work(study):
    coder3 = factories.UserFactory(username="coder3")
    factories.MembershipFactory(project=study.project, user=coder3)
    Assignment.objects.filter(coder=study.coder2).delete()
    _segment(study, study.coder1, study.codes["actor"])  # coder1 started document 0
    membership = Membership.objects.get(project=study.project, user=study.coder1)
    result = projects.member_remove(membership=membership, actor=study.pi)
    assert result == {"moved": 3, "unassigned": 0}
    assert list(
        Assignment.objects.filter(coder=study.coder1).values_list(
            "document_id", flat=True
        )
    ) == [study.documents[0].pk]
    # coder2 and coder3 share the three documents evenly-ish.
    loads = sorted(
        Assignment.objects.filter(coder__in=[study.coder2, coder3]).values_list(
            "coder_id", flat=True
        )
    )
    assert len(loads) == 3 and len(set(loads)) == 2
    assert Segment.objects.filter(coder=study.coder1).count() == 1


def test_last_pi_cannot_be_removed(study):
    membership = Membership.objects.get(project=study.project, user=study.pi)
    with pytest.raises(ValidationError):
        projects.member_remove(membership=membership, actor=study.pi)
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_rebalance_skips_coders_who_have_the_document(study):
    result = assignments_rebalance(
        project=study.project, coder_id=study.coder1.pk, to_coders=[study.coder2.pk],
        actor=study.pi,
    )  # fmt: skip
    assert result == {"moved": 0, "kept": 4}


def test_member_invite_creates_a_user_who_can_log_in(study, client):
    user, password = projects.member_invite(
        project=study.project, username="newbie", role="coder", actor=study.pi
    )
    assert client.login(username="newbie", password=password)
    assert Membership.objects.get(user=user).role == "coder"
    with pytest.raises(ValidationError):
        projects.member_invite(
            project=study.project, username="newbie", role="coder", actor=study.pi
        )


def test_upload_preview_sorts_rows(study):
    csv = (
        b"external_id,title,text,url\n"
        b"n1,New,Some text,\n"
        b"d0,Same,placeholder,\n"
        b",No id,text,\n"
        b"n2,Bad url,text,notaurl\n"
    )
    same_text = study.documents[1].text.encode()
    preview = document_upload.documents_upload_preview(
        project=study.project,
        files=[
            ("a.csv", csv),
            ("d1.txt", same_text),
            ("x.pdf", b"%PDF"),
            ("n1.txt", b"dup"),
        ],
    )
    assert [r.external_id for r in preview.new] == ["n1"]
    assert [r.external_id for r in preview.present] == ["d1"]
    reasons = " | ".join(str(p) for p in preview.rejected)
    assert "different text" in reasons  # d0
    assert "missing external_id" in reasons
    assert "invalid url" in reasons
    assert "unsupported file type" in reasons
    assert "duplicate external_id 'n1'" in reasons
    assert Document.objects.filter(project=study.project).count() == 4
    plain = document_upload.rows_to_plain(preview.new)
    result = document_upload.documents_upload_confirm(
        project=study.project, rows=document_upload.rows_from_plain(plain)
    )
    assert result == {"created": 1, "skipped": 0}
