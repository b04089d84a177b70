"""An adjudication made through the services on the study's emoji and Arabic
document, for the consensus, adjudication and history API tests.

Text: "Telegram 🎉 قناة مغلقة 🇪🇺 café́ ..." (code points: the emoji is one,
the flag two, "café́" five with its combining accent).

- both coders: actor [0, 8) "Telegram"              -> consensus, decision auto
- coder1 platform [11, 21), coder2 platform [11, 15) -> adjusted to [11, 21)
- coder1 actor [22, 24) the flag                     -> rejected
- the PI adds action [25, 30) "café́"                -> consensus, decision manual
"""

from dataclasses import dataclass

from annotations.models import Assignment, ConsensusRejection, ConsensusSegment
from annotations.services import adjudication as adj
from annotations.services.coding import segment_create


@dataclass
class Adjudicated:
    study: object
    doc: object
    auto: ConsensusSegment
    adjusted: ConsensusSegment
    manual: ConsensusSegment
    rejection: ConsensusRejection
    segments: dict  # name -> Segment


def seg(doc, coder, code, start, end, memo=""):
    return segment_create(
        document=doc, coder=coder, code=code, start=start, end=end,
        quote=doc.text[start:end], memo=memo, via="api",
    )[0]  # fmt: skip


def build(study) -> Adjudicated:
    doc, codes, c1, c2 = study.documents[3], study.codes, study.coder1, study.coder2
    segments = {
        "telegram1": seg(doc, c1, codes["actor"], 0, 8, "the platform's owner"),
        "telegram2": seg(doc, c2, codes["actor"], 0, 8),
        "channel1": seg(doc, c1, codes["platform"], 11, 21),
        "channel2": seg(doc, c2, codes["platform"], 11, 15),
        "flag1": seg(doc, c1, codes["actor"], 22, 24),
    }
    Assignment.objects.filter(document=doc).update(status=Assignment.Status.DONE)
    _, accepted = adj.adjudication_start(document=doc, actor=study.pi)
    assert accepted == 1
    adjusted = adj.consensus_adjust(
        document=doc, actor=study.pi,
        segment_ids=[segments["channel1"].pk, segments["channel2"].pk],
        start=11, end=21, note="the channel's full name",
    )  # fmt: skip
    rejection = adj.consensus_reject(
        document=doc, actor=study.pi, segment_ids=[segments["flag1"].pk],
        note="a flag is no actor",
    )  # fmt: skip
    manual = adj.consensus_add(
        document=doc, actor=study.pi, code=codes["action"], start=25, end=30,
        note="missed by both",
    )  # fmt: skip
    auto = ConsensusSegment.objects.get(document=doc, decision="auto")
    return Adjudicated(study, doc, auto, adjusted, manual, rejection, segments)
