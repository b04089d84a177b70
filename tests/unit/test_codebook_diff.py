"""The diff of two codebook snapshots and their checksum: pure functions, no
database."""

import hashlib
import json

from annotations.exporters.codebook import codebook_file_json
from annotations.services.codebook_versions import (
    CodeChange,
    codebook_diff,
    snapshot_checksum,
)


def row(code_id, name, parent="", **fields):
    base = {
        "id": code_id, "name": name, "parent": parent, "description": "",
        "definition": "", "when_to_use": "", "when_not_to_use": "", "example": "",
        "color": "#ffe08a", "key": "", "order": 0, "value": None, "level": "",
        "retired": False,
    }  # fmt: skip
    return base | fields


def snap(*rows):
    return {"codes": list(rows)}


def summary(diff):
    return [(c.kind, c.path, c.summary) for c in diff.changes]


V1 = snap(
    row(1, "actor", key="a"),
    row(2, "action", order=1),
    row(3, "police", "actor", definition="Law enforcement bodies."),
)


def test_identical_snapshots_have_no_changes():
    diff = codebook_diff(V1, json.loads(json.dumps(V1)))
    assert not diff and diff.changes == ()


def test_the_first_version_adds_every_code_in_order():
    diff = codebook_diff(None, V1)
    assert summary(diff) == [
        ("added", "actor", "added"),
        ("added", "action", "added"),
        ("added", "actor/police", "added"),
    ]
    assert diff.count("added") == 3 and diff.count("removed") == 0


def test_added_removed_and_field_changes_in_a_stable_order():
    v2 = snap(
        row(1, "actor", key="b", color="#000000"),
        row(3, "police", "actor", definition="Police forces.", example="Europol"),
        row(4, "platform", order=2),
    )
    diff = codebook_diff(V1, v2)
    assert summary(diff) == [
        ("changed", "actor", "colour, key changed"),
        ("changed", "actor/police", "definition, example changed"),
        ("added", "platform", "added"),
        ("removed", "action", "removed"),
    ]
    police = diff.changes[1]
    assert [(f.field, f.old, f.new) for f in police.fields] == [
        ("definition", "Law enforcement bodies.", "Police forces."),
        ("example", "", "Europol"),
    ]
    # The same inputs, the same list.
    assert codebook_diff(V1, v2) == diff


def test_every_compared_field_is_reported_with_its_label():
    changed = row(
        2, "action", order=5, description="d", definition="x", when_to_use="w",
        when_not_to_use="n", example="e", color="#123456", key="k", value=2.5,
        level="ordinal",
    )  # fmt: skip
    (change,) = codebook_diff(snap(row(2, "action")), snap(changed)).changes
    assert [f.label for f in change.fields] == [
        "Description", "Definition", "When to use", "When not to use", "Example",
        "Colour", "Key", "Value", "Level", "Position among its siblings",
    ]  # fmt: skip


def test_a_rename_is_matched_by_id_not_reported_as_remove_and_add():
    v2 = snap(row(1, "actors", key="a"), row(2, "action", order=1),
              row(3, "police", "actors", definition="Law enforcement bodies."))  # fmt: skip
    diff = codebook_diff(V1, v2)
    # The child's path changed with its parent's name: it did not move.
    assert summary(diff) == [("changed", "actors", "renamed from 'actor'")]
    assert diff.changes[0].old_path == "actor" and diff.changes[0].renamed


def test_a_move_to_another_parent():
    v2 = snap(row(1, "actor", key="a"), row(2, "action", order=1),
              row(3, "police", "action", definition="Law enforcement bodies."))  # fmt: skip
    (change,) = codebook_diff(V1, v2).changes
    assert change == CodeChange(
        "changed", 3, "action/police", old_path="actor/police", moved=True
    )
    assert change.summary == "moved from 'actor/police'"


def test_retired_and_brought_back():
    v2 = snap(row(1, "actor", key="a", retired=True), row(2, "action", order=1),
              row(3, "police", "actor", definition="Law enforcement bodies."))  # fmt: skip
    (retired,) = codebook_diff(V1, v2).changes
    assert retired.retired is True and retired.summary == "retired"
    (back,) = codebook_diff(v2, V1).changes
    assert back.retired is False and back.summary == "brought back"


def test_unicode_names_and_texts():
    old = snap(row(1, "قناة", definition="café"), row(2, "🎉", order=1))
    new = snap(
        row(1, "قناة مغلقة", definition="café\u0301"),
        row(2, "🎉", order=1),
        row(5, "Straße", "قناة مغلقة"),
    )
    diff = codebook_diff(old, new)
    assert summary(diff) == [
        ("changed", "قناة مغلقة", "renamed from 'قناة'; definition changed"),
        ("added", "قناة مغلقة/Straße", "added"),
    ]
    # Precomposed and combining accents are different texts: reported, not folded.
    assert diff.changes[0].fields[0].new == "café\u0301"


def test_a_new_code_under_an_old_name_is_not_the_old_code():
    # A code merged away and a new one made with its name: two codes.
    diff = codebook_diff(snap(row(1, "actor")), snap(row(9, "actor")))
    assert summary(diff) == [
        ("added", "actor", "added"),
        ("removed", "actor", "removed"),
    ]


def test_rows_without_ids_are_matched_by_path():
    old = snap({k: v for k, v in row(1, "actor").items() if k != "id"})
    new = snap(row(7, "actor", key="z"), row(8, "other"))
    assert summary(codebook_diff(old, new)) == [
        ("changed", "actor", "key changed"),
        ("added", "other", "added"),
    ]


def test_checksum_is_sha256_of_the_canonical_file_rows_without_ids():
    rows = V1["codes"]
    canonical = json.dumps(
        {"codes": [{k: v for k, v in r.items() if k != "id"} for r in rows]},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    )  # fmt: skip
    assert snapshot_checksum(V1) == hashlib.sha256(canonical.encode()).hexdigest()
    # The downloaded JSON file, parsed and canonicalised, gives the same sum.
    downloaded = json.loads(codebook_file_json(rows))
    again = json.dumps(downloaded, sort_keys=True, separators=(",", ":"),
                       ensure_ascii=False)  # fmt: skip
    assert hashlib.sha256(again.encode()).hexdigest() == snapshot_checksum(V1)
    # Ids and key order do not count; content and row order do.
    shuffled = snap(*[dict(reversed(list(r.items()))) | {"id": 99} for r in rows])
    assert snapshot_checksum(shuffled) == snapshot_checksum(V1)
    assert snapshot_checksum(snap(*reversed(rows))) != snapshot_checksum(V1)
    renamed = snap(row(1, "Actor", key="a"), *rows[1:])
    assert snapshot_checksum(renamed) != snapshot_checksum(V1)
