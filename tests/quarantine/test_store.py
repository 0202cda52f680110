"""The store and the overrides, with a fixed clock: no server, no threads."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from packaging.utils import canonicalize_name

from pipgate.policies.decision import Action, Decision
from pipgate.policies.engine import Verdict
from pipgate.policies.subjects import FileSubject
from pipgate.proxy.models import version_of
from pipgate.proxy.quarantine.review import Review, parse_until
from pipgate.proxy.quarantine.store import Hold, ReviewError
from pipgate.proxy.storage.postgres import PostgresDatabase
from pipgate.proxy.storage.schema import migrate

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
AGE = Decision(
    Action.QUARANTINE, "release-age", "uploaded 1 h ago", available_at=NOW + timedelta(days=7)
)
SQUAT = Decision(Action.QUARANTINE, "typosquat", "looks like requests")
CONFUSION = Decision(Action.BLOCK, "dependency-confusion", "internal name")
DENIED = Decision(Action.BLOCK, "allowlist", "'evil' is on the denylist (entry 'evil')")
HELD = Verdict(AGE, (AGE,))


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["sqlite", "postgresql"])
def review(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Review:
    """The review of ``tmp_path`` on the embedded SQLite store, and on PostgreSQL."""
    database = None
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_schema_url")
        migrate(url)
        database = PostgresDatabase(url)
    r = Review(tmp_path, clock=clock, database=database)
    yield r
    r.close()


def hold(
    project: str = "demo",
    file: str | None = "demo-1.0-py3-none-any.whl",
    d: Decision = AGE,
    client: str = "10.0.0.1",
    when: datetime = NOW,
) -> Hold:
    return Hold(
        "default", project, file, d.policy, str(d.action), d.reason, d.available_at, client, when
    )


def subject(filename: str = "demo-1.0-py3-none-any.whl", project: str = "demo") -> FileSubject:
    return FileSubject(canonicalize_name(project), filename, version_of(filename), NOW)


def test_holds_become_entries_counted_per_client(review: Review) -> None:
    created = review.store.record([hold(), hold(client="10.0.0.2"), hold()])
    assert [e["file"] for e in created] == ["demo-1.0-py3-none-any.whl"]
    (entry,), total = review.entries()
    assert total == 1
    assert entry["request_count"] == 3 and entry["version"] == "1.0"
    assert entry["top_clients"] == ["10.0.0.1", "10.0.0.2"]
    assert entry["state"] == "quarantined" and entry["policy"] == "release-age"


def test_age_hold_expires_when_it_comes_of_age(review: Review, clock: Clock) -> None:
    review.store.record([hold()])
    clock.now = NOW + timedelta(days=8)
    (entry,), _ = review.entries()
    assert entry["state"] == "expired" and entry["changed_by"] == "pipgate"


@pytest.mark.parametrize(
    ("scope", "rule_target", "released"),
    [
        ("file", ("demo", "1.0", "demo-1.0-py3-none-any.whl"), {"demo-1.0-py3-none-any.whl"}),
        ("version", ("demo", "1.0", None), {"demo-1.0-py3-none-any.whl", "demo-1.0.tar.gz"}),
        (
            "project",
            ("demo", None, None),
            {"demo-1.0-py3-none-any.whl", "demo-1.0.tar.gz", "demo-2.0-py3-none-any.whl"},
        ),
    ],
)
def test_release_scopes(review: Review, scope: str, rule_target: tuple, released: set[str]) -> None:
    files = ["demo-1.0-py3-none-any.whl", "demo-1.0.tar.gz", "demo-2.0-py3-none-any.whl"]
    review.store.record([hold(file=f) for f in files])
    first = review.entries()[0][-1]
    assert first["file"] == files[0]
    generation = review.overrides.generation
    rule = review.release(first["id"], scope=scope, reason="looked fine", actor="alice")
    assert (rule["project"], rule["version"], rule["file"]) == rule_target
    assert review.overrides.generation > generation
    for f in files:
        verdict = review.overrides.file("default", subject(f), HELD, NOW)
        assert verdict.allowed is (f in released), f
        if f in released:
            assert verdict.decision.policy == "review" and "alice" in verdict.decision.reason
            assert verdict.observed == ()
    states = {e["file"]: e["state"] for e in review.entries()[0]}
    assert {f for f, s in states.items() if s == "released"} == released


def test_reject_blocks_with_the_reviewers_reason_even_when_policies_allow(review: Review) -> None:
    review.store.record([hold()])
    entry = review.entries()[0][0]
    review.reject(entry["id"], reason="typosquat of our lib", actor="alice")
    verdict = review.overrides.file(
        "default", subject(), Verdict(Decision(Action.ALLOW, "x", "ok")), NOW
    )
    assert verdict.action is Action.BLOCK
    assert verdict.decision.reason == "rejected by alice: typosquat of our lib"
    assert review.entry(entry["id"])["state"] == "rejected"


def test_most_specific_decision_wins(review: Review) -> None:
    review.decide("reject", index="default", project="demo", reason="no", actor="a")
    review.decide("release", index="default", project="demo", version="1.0", reason="ok", actor="a")
    assert review.overrides.file("default", subject(), HELD, NOW).allowed
    assert not review.overrides.file(
        "default", subject("demo-2.0-py3-none-any.whl"), HELD, NOW
    ).allowed


def test_release_until_lapses_and_reopens_the_entry(review: Review, clock: Clock) -> None:
    review.store.record([hold(d=SQUAT)])
    entry = review.entries()[0][0]
    review.release(entry["id"], until="1d", reason="trial", actor="alice")
    assert review.overrides.file("default", subject(), Verdict(SQUAT, (SQUAT,)), NOW).allowed
    generation = review.overrides.generation
    clock.now = NOW + timedelta(days=1, seconds=1)
    assert review.overrides.generation > generation
    assert not review.overrides.file(
        "default", subject(), Verdict(SQUAT, (SQUAT,)), clock.now
    ).allowed
    review.store.record([hold(d=SQUAT, when=clock.now)])
    assert review.entry(entry["id"])["state"] == "quarantined"


@pytest.mark.parametrize("kept", [CONFUSION, DENIED], ids=["dependency-confusion", "denylist"])
def test_a_release_never_lifts_protected_blocks(review: Review, kept: Decision) -> None:
    review.decide("release", index="default", project="demo", reason="ok", actor="a")
    verdict = review.overrides.file("default", subject(), Verdict(kept, (AGE, kept)), NOW)
    assert verdict.decision == kept and verdict.observed == (kept,)


def test_runtime_lists(review: Review) -> None:
    review.store.record([hold(project="acme-x", file="acme_x-1.0-py3-none-any.whl")])
    review.list_add("allow", index="default", rule="acme-*", reason="ours", actor="alice")
    acme = subject("acme_x-1.0-py3-none-any.whl", "acme-x")
    assert review.overrides.file("default", acme, HELD, NOW).allowed
    assert review.overrides.project("default", "acme-x", Verdict(SQUAT, (SQUAT,)), NOW).allowed
    assert review.entries()[0][0]["state"] == "released"
    review.list_add("deny", index="default", rule="acme-x==1.0", reason="bad build", actor="bob")
    assert review.overrides.file("default", acme, HELD, NOW).action is Action.BLOCK
    assert review.overrides.project("default", "acme-x", HELD, NOW).allowed  # versioned deny
    review.list_remove("deny", index="default", rule="acme-x==1.0", reason="fixed", actor="bob")
    assert review.overrides.file("default", acme, HELD, NOW).allowed
    with pytest.raises(ReviewError, match="already on the allow list"):
        review.list_add("allow", index="default", rule="acme-*", reason="again", actor="alice")


def test_other_index_is_untouched(review: Review) -> None:
    review.decide("release", index="default", project="demo", reason="ok", actor="a")
    assert not review.overrides.file("strict", subject(), HELD, NOW).allowed


def test_audit_is_append_only_and_mirrored(review: Review, tmp_path: Path) -> None:
    review.decide("release", index="default", project="demo", reason="ok", actor="alice")
    review.list_add("deny", index="default", rule="evil", reason="malware", actor="bob")
    records = review.store.audit()
    assert [(r["actor"], r["action"]) for r in records] == [
        ("bob", "deny-add"),
        ("alice", "release"),
    ]
    lines = [orjson.loads(x) for x in (tmp_path / "audit.jsonl").read_bytes().splitlines()]
    assert [x["action"] for x in lines] == ["release", "deny-add"]
    if review.store.dialect.name == "postgresql":
        import psycopg

        for statement in (
            "DELETE FROM audit",
            "UPDATE audit SET actor = 'mallory'",
            "TRUNCATE audit",
        ):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                with review.store.database.write() as tx:
                    tx.execute(statement)
        return
    db = sqlite3.connect(tmp_path / "quarantine.sqlite3")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM audit")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE audit SET actor = 'mallory'")


def test_state_survives_reopening(tmp_path: Path, clock: Clock) -> None:
    first = Review(tmp_path, clock=clock)
    first.store.record([hold()])
    first.release(1, reason="ok", actor="alice")
    first.close()
    second = Review(tmp_path, clock=clock)
    assert second.entry(1)["state"] == "released"
    assert second.overrides.file("default", subject(), HELD, NOW).allowed
    second.close()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-07-01", datetime(2026, 7, 1, tzinfo=UTC)),
        ("2026-07-01T12:00:00Z", datetime(2026, 7, 1, 12, tzinfo=UTC)),
        ("2026-07-01T12:00:00", datetime(2026, 7, 1, 12, tzinfo=UTC)),
        ("30d", NOW + timedelta(days=30)),
        ("", None),
        (None, None),
    ],
)
def test_parse_until(text: str | None, expected: datetime | None) -> None:
    assert parse_until(text, NOW) == expected


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: r.release(99, reason="x", actor="a"), "no quarantine entry 99"),
        (
            lambda r: r.decide("release", index="default", project="demo", reason=" ", actor="a"),
            "needs a reason",
        ),
        (
            lambda r: r.decide(
                "release",
                index="default",
                project="demo",
                until="2020-01-01",
                reason="x",
                actor="a",
            ),
            "not in the future",
        ),
        (
            lambda r: r.decide(
                "release",
                index="default",
                project="demo",
                version="not a version!",
                reason="x",
                actor="a",
            ),
            "not a valid version",
        ),
        (
            lambda r: r.list_add("allow", index="default", rule="a b c", reason="x", actor="a"),
            "a b c",
        ),
        (
            lambda r: r.list_remove("allow", index="default", rule="nope", reason="x", actor="a"),
            "not on the allow list",
        ),
        (lambda r: parse_until("next tuesday", NOW), "neither a date"),
    ],
)
def test_invalid_actions(review: Review, call, message: str) -> None:
    with pytest.raises(ReviewError, match=message):
        call(review)
