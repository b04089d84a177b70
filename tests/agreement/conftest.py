"""Agreement tests: the ``study`` project (tests/conftest.py) with coding.

The study's documents are assigned to coder1 and coder2 (to do); ``coding``
marks documents done through the service and adds segments with factories.
"""

import pytest

from annotations.models import Assignment
from annotations.services.coding import assignment_set_status
from tests import factories


def seg(doc, coder, code, start, end):
    return factories.SegmentFactory(
        document=doc, coder=coder, code=code, start=start, end=end
    )


def publish(project, *numbers):
    """Codebook versions ``numbers`` published (stand-in snapshots), the
    highest one current."""
    from annotations.models import CodebookVersion

    for n in numbers:
        CodebookVersion.objects.create(
            project=project, number=n, snapshot={"codes": []}, checksum="0" * 64
        )
    project.codebook_version = max(numbers)
    project.save(update_fields=["codebook_version"])


def coded_under_v2_but_one(coding):
    """v1 and v2 published; every segment coded under v2 but coder1's on d1
    (v1)."""
    from annotations.models import Segment

    publish(coding.project, 1, 2)
    live = Segment.objects.filter(document__project=coding.project)
    live.update(codebook_version=2)
    live.filter(document=coding.documents[1], coder=coding.coder1).update(
        codebook_version=1
    )
    return coding


def set_status(doc, coder, status=Assignment.Status.DONE):
    assignment, _ = Assignment.objects.get_or_create(document=doc, coder=coder)
    return assignment_set_status(assignment=assignment, status=status, actor=None)


class Counting:
    """An engine seam that counts its calls and delegates to the real engine."""

    def __init__(self):
        from annotations.stats import compute_agreement

        self.calls = 0
        self._engine = compute_agreement

    def __call__(self, data, **kwargs):
        self.calls += 1
        return self._engine(data, **kwargs)


@pytest.fixture
def coding(study):
    """d0 and d1 done by both coders, d2 done by coder1 only (in progress for
    coder2). Segments (first 60 characters of the factory text):

    d0: coder1 actor [0, 7) + action [8, 29); coder2 actor [0, 7) + action [8, 29)
    d1: coder1 law_enforcement [0, 7); coder2 actor [0, 7) + platform [61, 69)
    d2: coder1 actor [0, 7); coder2 action [8, 29)
    """
    s, (d0, d1, d2, _) = study, study.documents
    c1, c2, codes = s.coder1, s.coder2, s.codes
    seg(d0, c1, codes["actor"], 0, 7)
    seg(d0, c1, codes["action"], 8, 29)
    seg(d0, c2, codes["actor"], 0, 7)
    seg(d0, c2, codes["action"], 8, 29)
    seg(d1, c1, codes["law_enforcement"], 0, 7)
    seg(d1, c2, codes["actor"], 0, 7)
    seg(d1, c2, codes["platform"], 61, 69)
    seg(d2, c1, codes["actor"], 0, 7)
    seg(d2, c2, codes["action"], 8, 29)
    for doc in (d0, d1):
        set_status(doc, c1)
        set_status(doc, c2)
    set_status(d2, c1)
    set_status(d2, c2, Assignment.Status.IN_PROGRESS)
    return study


def find(results, level, coefficient, code=None, pair=None):
    """The one result of a level, coefficient, code and pair."""
    hits = [
        r
        for r in results
        if r["level"] == level
        and r["coefficient"] == coefficient
        and r["code"] == code
        and r["pair"] == pair
    ]
    assert len(hits) == 1, (level, coefficient, code, pair, hits)
    return hits[0]


@pytest.fixture
def api():
    """An APIClient authenticated by a token (anonymous without a user)."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    def _client(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return _client
