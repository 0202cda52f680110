"""The one JSON shape of the review records: both ways, and as the OpenAPI schema says."""

from __future__ import annotations

import dataclasses

import pytest

from pipgate.proxy.errors import ReviewError
from pipgate.proxy.quarantine import records
from pipgate.proxy.quarantine.openapi import SCHEMA
from pipgate.proxy.quarantine.records import AuditRecord, ClientCount, EntryDetail, EntryPage
from pipgate.proxy.quarantine.serialize import from_json, to_json
from tests.support.review_records import NOW, entry_of


def detail() -> EntryDetail:
    entry = entry_of(changed_at=NOW, changed_by="alice")
    fields = {f.name: getattr(entry, f.name) for f in dataclasses.fields(entry)}
    return EntryDetail(
        **fields,
        clients=(ClientCount("10.0.0.1", 3, NOW),),
        history=(AuditRecord(7, NOW, "alice", "release", "default", "demo 1.0", "ok", {"a": 1}),),
    )


def test_records_come_back_as_they_went() -> None:
    shown = detail()
    data = to_json(shown)
    assert data["last_requested"] == "2026-03-01T12:00:00Z"
    assert data["files"][0]["file"] == "demo-1.0.tar.gz" and data["history"][0]["detail"] == {
        "a": 1
    }
    assert from_json(EntryDetail, data) == shown
    page = EntryPage(entries=(entry_of(),), total=1, limit=50, offset=0)
    assert from_json(EntryPage, to_json(page)) == page


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("views"), "'views' is missing"),
        (lambda d: d.update(views="3"), "EntryDetail.views: expected int"),
        (lambda d: d.update(views=True), "EntryDetail.views: expected int"),
        (lambda d: d.update(last_requested="yesterday"), "not an ISO 8601 time"),
        (lambda d: d["files"][0].update(requests=None), r"files\[0\].requests"),
        (lambda d: d.update(files={}), "expected a list"),
    ],
)
def test_a_wrong_answer_is_a_clear_error(change, message: str) -> None:
    data = to_json(detail())
    change(data)
    with pytest.raises(ReviewError, match=message):
        from_json(EntryDetail, data)


@pytest.mark.parametrize(
    ("name", "record"),
    [
        ("Entry", records.Entry),
        ("HeldFile", records.HeldFile),
        ("Rule", records.Rule),
        ("AuditRecord", records.AuditRecord),
        ("RemovedRule", records.RemovedRule),
        ("Stats", records.Stats),
        ("Session", records.ListedSession),
    ],
)
def test_the_openapi_schema_names_every_field(name: str, record: type) -> None:
    properties = SCHEMA["components"]["schemas"][name]["properties"]
    assert set(properties) == {f.name for f in dataclasses.fields(record)}
