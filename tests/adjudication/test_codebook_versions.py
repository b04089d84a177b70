"""Consensus segments record the codebook version published when their code
or boundaries were set."""

import pytest

from annotations.models import ConsensusSegment, HistoryEvent
from annotations.services import adjudication, codebook
from annotations.services.codebook_versions import codebook_publish

pytestmark = pytest.mark.django_db


def publish(study):
    return codebook_publish(project=study.project, actor=study.pi)


def test_consensus_segments_record_the_version(disputed):
    study, doc = disputed.study, disputed.doc
    publish(study)
    doc.project.refresh_from_db()
    state, accepted = adjudication.adjudication_start(document=doc, actor=study.pi)
    assert accepted == 2
    assert set(
        ConsensusSegment.objects.filter(document=doc).values_list(
            "codebook_version", flat=True
        )
    ) == {1}
    c1, c2 = disputed.code
    changed = adjudication.consensus_change_code(
        document=doc, actor=study.pi, segment_ids=[c1.pk, c2.pk],
        code=study.codes["actor"],
    )  # fmt: skip
    assert changed.codebook_version == 1
    codebook.code_update(code=study.codes["actor"], actor=study.pi,
                         changes={"example": "Europol"})  # fmt: skip
    publish(study)
    doc.project.refresh_from_db()
    noted = adjudication.consensus_update(consensus=changed, actor=study.pi, note="ok")
    assert noted.codebook_version == 1
    adjusted = adjudication.consensus_update(
        consensus=noted, actor=study.pi, span=(50, 62)
    )
    assert adjusted.codebook_version == 2
    recoded = adjudication.consensus_update(
        consensus=adjusted, actor=study.pi, code=study.codes["platform"]
    )
    assert recoded.codebook_version == 2
    b1, b2 = disputed.boundary
    made = adjudication.consensus_adjust(
        document=doc, actor=study.pi, segment_ids=[b1.pk, b2.pk], start=22, end=41
    )
    assert made.codebook_version == 2
    event = HistoryEvent.objects.get(entity="consensus", entity_id=made.pk)
    assert event.after["codebook_version"] == 2
