"""The indexes of the two tables every import writes a row per segment to.

Each index slows bulk imports (BENCHMARKS.md), so none may be a prefix of
another; and each foreign key the app deletes or filters by must still lead
an index, so cascades and per-document queries never scan the table.
"""

import pytest
from django.db import connection

from annotations.models import HistoryEvent, Segment

pytestmark = pytest.mark.django_db


def _indexes(model) -> list[tuple[str, ...]]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return [
        tuple(info["columns"])
        for info in found.values()
        if (info["index"] or info["unique"]) and not info["primary_key"]
    ]


@pytest.mark.parametrize("model", [Segment, HistoryEvent])
def test_no_index_is_a_prefix_of_another(model):
    indexes = _indexes(model)
    for a in indexes:
        for b in indexes:
            if a != b and b[: len(a)] == a:
                pytest.fail(f"{model.__name__}: index {a} is covered by {b}")


@pytest.mark.parametrize(
    ("model", "columns"),
    [
        (Segment, ["document_id", "coder_id", "code_id", "updated_at", "client_id"]),
        (HistoryEvent, ["project_id", "document_id", "entity"]),
    ],
)
def test_foreign_keys_and_filters_lead_an_index(model, columns):
    leading = {index[0] for index in _indexes(model)}
    assert set(columns) <= leading, set(columns) - leading


def test_segment_indexes_are_exactly_these():
    assert sorted(_indexes(Segment)) == sorted(
        [
            ("client_id",),
            ("code_id",),
            ("updated_at",),
            ("document_id", "coder_id"),
            ("coder_id", "updated_at"),
        ]
    )
