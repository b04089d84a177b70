"""Bulk-write helpers and the history table's unchecked references."""

import pytest

from annotations.models import Document, HistoryEvent, Project
from annotations.services.history import history_record
from tests.factories import DocumentFactory, ProjectFactory


def test_ordered_uuids_are_v7_sorted_and_unique():
    from annotations.services.bulk import ordered_uuids

    first = list(ordered_uuids(5000))
    second = list(ordered_uuids(5000))
    for batch in (first, second):
        assert batch == sorted(batch)
        assert {u.version for u in batch} == {7}
        assert {u.variant for u in batch} == {"specified in RFC 4122"}
    assert len(set(first) | set(second)) == 10_000


@pytest.mark.django_db
def test_history_follows_deletes_without_a_database_constraint():
    # HistoryEvent.project and .document have no database constraint; Django
    # must still set the document to null and cascade the project.
    project = ProjectFactory()
    doc = DocumentFactory(project=project)
    event = history_record(
        project=project, user=None, entity="document", entity_id=doc.pk,
        action="create", document=doc,
    )  # fmt: skip
    doc.delete()
    event.refresh_from_db()
    assert event.document_id is None
    Project.objects.filter(pk=project.pk).delete()
    assert not HistoryEvent.objects.filter(pk=event.pk).exists()
    assert not Document.objects.filter(pk=doc.pk).exists()
