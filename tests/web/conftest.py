"""Fixtures of the coding page's tests: the seed-like study's first coder
logged in, its first document, and one segment of that coder there."""

import pytest

from annotations.services import coding as services


@pytest.fixture
def coder(client, study):
    client.force_login(study.coder1)
    return study.coder1


@pytest.fixture
def doc(study):
    return study.documents[0]


@pytest.fixture
def seg(study, doc):
    segment, _ = services.segment_create(
        document=doc, coder=study.coder1, code=study.codes["actor"],
        start=0, end=7, quote=doc.text[0:7],
    )  # fmt: skip
    return segment
