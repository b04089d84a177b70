"""Exports stream: the memory an export needs does not grow with the number
of segments (measured with tracemalloc on 1,000 and 10,000 segments)."""

import tracemalloc

import pytest

from annotations.models import Segment
from annotations.services import exports


def add_segments(study, n: int) -> None:
    docs, code = study.documents[:3], study.codes["actor"]
    Segment.objects.bulk_create(
        [
            Segment(
                document=docs[i % 3],
                coder=study.coder1 if i % 2 else study.coder2,
                code=code,
                start=0,
                end=7,
                quote="Europol",
                memo=f"memo {i} " * 5,
            )  # fmt: skip
            for i in range(n)
        ],
        batch_size=2000,
    )


def peak_bytes(study, name, tmp_path) -> int:
    filt = exports.export_filter_build(project=study.project)
    tracemalloc.start()
    try:
        exports.export_write(
            project=study.project, name=name, filt=filt, path=tmp_path / name
        )
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", ["segments.csv", "segments.dta", "project.qdpx", "annotations.jsonld"]
)
def test_memory_does_not_grow_with_segments(study, tmp_path, name):
    add_segments(study, 1_000)
    small = peak_bytes(study, name, tmp_path)
    add_segments(study, 9_000)
    large = peak_bytes(study, name, tmp_path)
    # Ten times the rows; a list of them would need ten times the memory.
    assert large < small * 1.5 + 1_000_000, (small, large)
