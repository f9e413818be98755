"""The catalogue and the canonical leaf encoding."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from loket.audit.canonical import Entry, canonical
from loket.audit.events import CATALOGUE, AuditEventError, EventType, Kind, normalise

SAMPLE = {
    Kind.REF: "ref:1",
    Kind.CODE: "some_code",
    Kind.PERSONAL: "Siti Rahayu 6281234567890",
    Kind.DIGEST: "ab" * 32,
    Kind.INT: 3,
    Kind.BOOL: True,
    Kind.TIME: datetime(2026, 11, 2, 10, 0, tzinfo=timezone(timedelta(hours=7))),
}


def pseudonym(value: str) -> str:
    return "hmac1:x"


@pytest.mark.parametrize("event", list(EventType))
def test_every_event_type_has_a_catalogue_entry_and_no_plaintext(event: EventType) -> None:
    spec = CATALOGUE[event]
    fields = {name: SAMPLE[f.kind] for name, f in spec.items()}
    out = normalise(event, fields, pseudonym)
    leaf = Entry("t", 0, event.value, datetime(2026, 11, 2, tzinfo=UTC), None, out).leaf_bytes()
    assert b"Siti" not in leaf and b"628123" not in leaf
    required = {name: fields[name] for name, f in spec.items() if f.required}
    assert normalise(event, required, pseudonym).keys() == required.keys()


def test_times_are_utc_with_microseconds() -> None:
    out = normalise(
        EventType.DSR_RECEIVED,
        {"request": "r", "right": "access", "customer": "x", "due_at": SAMPLE[Kind.TIME]},
        pseudonym,
    )
    assert out["due_at"] == "2026-11-02T03:00:00.000000Z"
    with pytest.raises(AuditEventError, match="naive"):
        normalise(
            EventType.DSR_RECEIVED,
            {"request": "r", "right": "access", "customer": "x", "due_at": datetime(2026, 1, 1)},
            pseudonym,
        )


@pytest.mark.parametrize("value", [1.5, "x", True])
def test_ints_are_ints(value: object) -> None:
    with pytest.raises(AuditEventError, match="64-bit integer"):
        normalise(EventType.CAMPAIGN_APPROVED, {"campaign": "c", "by": "s", "audience_size": value}, pseudonym)


@pytest.mark.parametrize(
    "obj",
    [
        {"b": 1, "a": [True, None, "é ü 日本 😀"], "c": {"z": '\n\t"\\', "y": "\u0001\u001f\u007f"}},
        {"fields": {"k": "</script>&'"}, "index": 2**62},
    ],
)
def test_canonical_json_is_sorted_compact_utf8(obj: dict[str, object]) -> None:
    # The documented form, written independently with the standard library.
    expected = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert canonical(obj) == expected


def test_leaf_round_trips_through_its_json_object() -> None:
    entry = Entry("t", 7, "staff.login", datetime(2026, 11, 2, 3, 4, 5, 6, tzinfo=UTC), "staff:1", {"staff": "staff:1"})
    again = Entry.from_leaf(json.loads(entry.leaf_bytes()))
    assert again == entry and again.leaf_hash() == entry.leaf_hash()
