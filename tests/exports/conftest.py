"""A coded study for the export tests: two coders, a consensus, Unicode text
with emoji before the segments, a memo longer than Stata's 2,045-byte str
limit, quotes with commas, quotes and newlines, and a deleted segment that no
export may contain."""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from annotations.models import (
    AdjudicationState,
    Assignment,
    ConsensusSegment,
    Segment,
)
from tests import factories

LONG_MEMO = "ملاحظة " * 300 + "🎉 end"  # about 4,000 bytes of UTF-8
TRICKY_MEMO = 'He said "stop", then left;\r\nsecond line, with comma'


@dataclass
class Coded:
    study: object
    project: object
    segments: list
    consensus: list
    deleted: object

    @property
    def live_count(self) -> int:
        return len(self.segments) + len(self.consensus)


def shared_dir() -> Path:
    return Path(settings.BASE_DIR).parent / "shared" / "refi-qda"


@pytest.fixture
def refi_schemas():
    from lxml import etree

    folder = shared_dir()
    if not (folder / "Project.xsd").exists():
        pytest.skip(f"REFI-QDA schemas not found in {folder}")
    return {
        "project": etree.XMLSchema(etree.parse(str(folder / "Project.xsd"))),
        "codebook": etree.XMLSchema(etree.parse(str(folder / "Codebook.xsd"))),
    }


@pytest.fixture
def coded(study) -> Coded:
    return make_coded(study)


def make_coded(study) -> Coded:
    """Segments, consensus and statuses on top of tests/conftest.py's study."""
    project = study.project
    d0, d1, d2, uni = study.documents
    d0.metadata = {"section": "World", "tags": ["a", "b"]}
    d0.save()
    d1.published = dt.date(2024, 3, 1)
    d1.save()
    c = study.codes
    made = timezone.now() - dt.timedelta(days=1)

    def seg(doc, coder, code, start, end, memo=""):
        return factories.SegmentFactory(
            document=doc, coder=coder, code=code, start=start, end=end, memo=memo
        )

    segments = [
        seg(d0, study.coder1, c["actor"], 0, 7, LONG_MEMO),
        seg(d0, study.coder1, c["platform"], 78, 97, TRICKY_MEMO),
        seg(d0, study.coder2, c["law_enforcement"], 0, 7),
        seg(d0, study.coder2, c["action"], 50, 63, "<b>bold</b> & *stars*"),
        seg(d1, study.coder2, c["action"], 8, 19),
        seg(uni, study.coder1, c["platform"], 11, 21, "قناة"),
        seg(uni, study.coder2, c["platform"], 22, 24, "flag 🇪🇺"),
        seg(uni, study.coder2, c["actor"], 31, 56),
        seg(uni, study.coder1, c["action"], 63, 66),
    ]
    Segment.objects.filter(pk__in=[s.pk for s in segments]).update(created_at=made)
    deleted = seg(d2, study.coder1, c["actor"], 0, 7)
    deleted.deleted_at = timezone.now()
    deleted.save()
    consensus = [
        ConsensusSegment.objects.create(
            document=d0, code=c["law_enforcement"], start=0, end=7,
            quote=d0.text[0:7], decision="accept", decided_by=study.pi,
        ),
        ConsensusSegment.objects.create(
            document=uni, code=c["platform"], start=22, end=24, quote=uni.text[22:24],
            memo="agreed", decision="manual", decided_by=study.pi,
        ),
    ]  # fmt: skip
    AdjudicationState.objects.create(document=d0, status="adjudicated")
    Assignment.objects.filter(document=d0, coder=study.coder1).update(status="done")
    Assignment.objects.filter(document=uni).update(status="done")
    return Coded(study, project, segments, consensus, deleted)
