"""A document two coders disagree on three times and agree on twice."""

from dataclasses import dataclass

import pytest

from annotations.models import Assignment, Segment
from tests import factories


def seg(doc, coder, code, start, end, memo=""):
    return factories.SegmentFactory(
        document=doc, coder=coder, code=code, start=start, end=end, memo=memo
    )


@dataclass
class Disputed:
    study: object
    doc: object
    agreed: list  # pairs of segments
    boundary: tuple  # coder1's action [8, 41), coder2's [22, 41)
    code: tuple  # same span [50, 63): actor vs platform
    missing: Segment  # coder1's action [88, 122), coder2 nothing


@pytest.fixture
def disputed(study) -> Disputed:
    doc = study.documents[0]
    c1, c2, codes = study.coder1, study.coder2, study.codes
    agreed = [
        (seg(doc, c1, codes["actor"], 0, 7), seg(doc, c2, codes["actor"], 0, 7)),
        (
            seg(doc, c1, codes["platform"], 78, 86),
            seg(doc, c2, codes["platform"], 78, 86),
        ),
    ]
    boundary = (
        seg(doc, c1, codes["action"], 8, 41, memo="the whole action"),
        seg(doc, c2, codes["action"], 22, 41, memo="only the noun"),
    )
    code = (
        seg(doc, c1, codes["actor"], 50, 63),
        seg(doc, c2, codes["platform"], 50, 63),
    )
    missing = seg(doc, c1, codes["action"], 88, 122, memo="a purge")
    Assignment.objects.filter(document=doc).update(status=Assignment.Status.DONE)
    Assignment.objects.filter(document=doc, coder=c2).update(
        note="Hard one: IS or not?"
    )
    return Disputed(study, doc, agreed, boundary, code, missing)
