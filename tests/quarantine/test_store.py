"""The store and the overrides, with a fixed clock: no server, no threads."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from pipgate.policies.decision import Action, Decision
from pipgate.policies.engine import ALLOWED, Verdict
from pipgate.proxy.errors import ReviewError
from pipgate.proxy.quarantine.records import Entry, EntryQuery
from pipgate.proxy.quarantine.review import Review, parse_until
from pipgate.proxy.storage.postgres import PostgresDatabase
from pipgate.proxy.storage.schema import migrate
from tests.support.clocks import Clock
from tests.support.review_records import AGE, NOW, SQUAT, hold, record, subject

CONFUSION = Decision(Action.BLOCK, "dependency-confusion", "internal name")
DENIED = Decision(Action.BLOCK, "allowlist", "'evil' is on the denylist (entry 'evil')")
HELD = Verdict(AGE, (AGE,))


@pytest.fixture
def clock() -> Clock[datetime]:
    """A clock standing at ``NOW`` until the test moves it."""
    return Clock(NOW)


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


def entries(review: Review, **query: object) -> list[Entry]:
    return list(review.entries(EntryQuery(**query)).entries)  # type: ignore[arg-type]


def test_holds_become_entries_counted_per_client(review: Review) -> None:
    created = record(review, hold(), hold(client="10.0.0.2"), hold())
    assert [e.version for e in created] == ["1.0"]
    page = review.entries()
    (entry,) = page.entries
    assert page.total == 1
    assert (entry.requests, entry.views, entry.version) == (3, 0, "1.0")
    assert [(f.file, f.requests) for f in entry.files] == [("demo-1.0-py3-none-any.whl", 3)]
    assert entry.top_clients == ("10.0.0.1", "10.0.0.2")
    assert entry.state == "quarantined" and entry.policy == "release-age"


def test_an_entry_keeps_the_latest_reason_and_each_file_its_own(review: Review) -> None:
    later = Decision(Action.QUARANTINE, "release-age", "uploaded 2 h ago", AGE.available_at)
    record(review, hold(), hold(file="demo-1.0.tar.gz", d=later))
    (entry,) = entries(review)
    assert entry.reason == "uploaded 2 h ago"
    assert [f.reason for f in entry.files] == ["uploaded 1 h ago", "uploaded 2 h ago"]


WHEELS = [
    f"demo-1.0-cp{py}-cp{py}-{platform}.whl"
    for py in ("310", "311", "312", "313")
    for platform in (
        "manylinux_2_17_x86_64",
        "manylinux_2_17_aarch64",
        "musllinux_1_1_x86_64",
        "macosx_11_0_arm64",
        "win_amd64",
        "win_arm64",
    )
]


def test_a_release_with_many_wheels_is_one_entry(review: Review) -> None:
    page_view = [hold(file=w, page=True) for w in [*WHEELS, "demo-1.0.tar.gz"]]
    created = review.store.record([page_view, [hold(file="demo-2.0-py3-none-any.whl")]])
    assert [(e.version, len(e.files)) for e in created] == [("1.0", 25), ("2.0", 1)]
    (entry,) = entries(review, project="demo", policy="release-age", limit=1, offset=1)
    assert entry.version == "1.0" and entry.files[-1].file == "demo-1.0.tar.gz"
    assert review.entries().total == 2


def test_a_page_view_is_a_view_of_the_version_not_a_request_of_each_file(
    review: Review,
) -> None:
    page_view = [hold(file=w, page=True) for w in WHEELS]
    review.store.record([page_view, page_view, page_view])
    (entry,) = entries(review)
    assert entry.views == 3 and entry.requests == 0
    assert {f.requests for f in entry.files} == {0}
    clients = review.entry(entry.id).clients
    assert [(c.client, c.count) for c in clients] == [("10.0.0.1", 3)]


def test_a_download_counts_on_its_file(review: Review) -> None:
    review.store.record([[hold(file=w, page=True) for w in WHEELS]])
    linux, arm = WHEELS[0], WHEELS[5]
    record(review, hold(file=linux), hold(file=linux, client="10.0.0.2"))
    (entry,) = entries(review)
    counts = {f.file: f.requests for f in entry.files}
    assert counts[linux] == 2 and counts[arm] == 0 and sum(counts.values()) == 2
    assert (entry.views, entry.requests) == (1, 2)
    assert entry.file(linux).last_requested == NOW and entry.file(arm).last_requested is None


def test_a_hold_of_the_project_is_one_entry_with_views_and_requests(review: Review) -> None:
    record(review, hold(file=None, d=SQUAT, page=True), hold(file=None, d=SQUAT))
    (entry,) = entries(review)
    assert (entry.version, entry.files, entry.scope) == (None, (), "project")
    assert (entry.views, entry.requests) == (1, 1)


def test_age_hold_expires_when_it_comes_of_age(review: Review, clock: Clock) -> None:
    record(review, hold(), hold(file="demo-1.0.tar.gz"))
    clock.now = NOW + timedelta(days=8)
    (entry,) = entries(review)
    assert entry.state == "expired" and entry.changed_by == "pipgate"
    assert {f.state for f in entry.files} == {"expired"}


def test_an_unknown_age_keeps_the_version_held(review: Review, clock: Clock) -> None:
    unknown = Decision(Action.QUARANTINE, "release-age", "no upload time")
    record(review, hold(), hold(file="demo-1.0.tar.gz", d=unknown))
    (entry,) = entries(review)
    assert entry.available_at is None
    clock.now = NOW + timedelta(days=8)
    (entry,) = entries(review)
    assert entry.state == "quarantined"
    assert {f.file: f.state for f in entry.files} == {
        "demo-1.0-py3-none-any.whl": "expired",
        "demo-1.0.tar.gz": "quarantined",
    }


@pytest.mark.parametrize(
    ("scope", "file", "rule_target", "released"),
    [
        (
            "file",
            "demo-1.0-py3-none-any.whl",
            ("demo", "1.0", "demo-1.0-py3-none-any.whl"),
            {"demo-1.0-py3-none-any.whl"},
        ),
        (None, None, ("demo", "1.0", None), {"demo-1.0-py3-none-any.whl", "demo-1.0.tar.gz"}),
        (
            "project",
            None,
            ("demo", None, None),
            {"demo-1.0-py3-none-any.whl", "demo-1.0.tar.gz", "demo-2.0-py3-none-any.whl"},
        ),
    ],
)
def test_release_scopes(
    review: Review, scope: str | None, file: str | None, rule_target: tuple, released: set[str]
) -> None:
    files = ["demo-1.0-py3-none-any.whl", "demo-1.0.tar.gz", "demo-2.0-py3-none-any.whl"]
    record(review, *(hold(file=f) for f in files))
    first = entries(review, limit=1, offset=1)[0]
    assert first.version == "1.0"
    generation = review.overrides.generation
    rule = review.release(first.id, scope=scope, file=file, reason="looked fine", actor="alice")
    assert (rule.project, rule.version, rule.file) == rule_target
    assert review.overrides.generation > generation
    for f in files:
        verdict = review.overrides.file("default", subject(f), HELD, NOW)
        assert verdict.allowed is (f in released), f
        if f in released:
            assert verdict.decision.policy == "review" and "alice" in verdict.decision.reason
            assert verdict.observed == ()
    states = {f.file: f.state for e in entries(review) for f in e.files}
    assert {f for f, s in states.items() if s == "released"} == released
    # The entry is decided once none of its files is held any more.
    assert review.entry(first.id).state == ("quarantined" if file else "released")


def test_releasing_the_last_held_file_decides_the_entry(review: Review) -> None:
    record(review, hold(), hold(file="demo-1.0.tar.gz"))
    (entry,) = entries(review)
    review.release(entry.id, file="demo-1.0.tar.gz", reason="ok", actor="alice")
    assert review.entry(entry.id).state == "quarantined"
    review.reject(entry.id, file="demo-1.0-py3-none-any.whl", reason="bad", actor="alice")
    decided = review.entry(entry.id)
    assert decided.state == "rejected"
    assert {f.file: f.state for f in decided.files} == {
        "demo-1.0.tar.gz": "released",
        "demo-1.0-py3-none-any.whl": "rejected",
    }
    assert [h.action for h in decided.history] == ["reject", "release"]


def test_a_new_file_of_a_decided_version_reopens_it(review: Review, clock: Clock) -> None:
    record(review, hold())
    (entry,) = entries(review)
    review.release(entry.id, until="1d", reason="trial", actor="alice")
    clock.now = NOW + timedelta(days=2)
    record(review, hold(file="demo-1.0.tar.gz", when=clock.now))
    reopened = review.entry(entry.id)
    assert reopened.state == "quarantined" and reopened.until is None
    assert {f.file: f.state for f in reopened.files} == {
        "demo-1.0-py3-none-any.whl": "released",
        "demo-1.0.tar.gz": "quarantined",
    }


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r, e: r.release(e, scope="file", reason="x", actor="a"), "name one of its files"),
        (lambda r, e: r.release(e, file="nope.whl", reason="x", actor="a"), "no file 'nope.whl'"),
        (
            lambda r, e: r.release(e, scope="version", file="x", reason="x", actor="a"),
            "only with scope 'file'",
        ),
    ],
)
def test_file_decisions_name_a_file_of_the_entry(review: Review, call, message: str) -> None:
    record(review, hold(), hold(file="demo-1.0.tar.gz"))
    (entry,) = entries(review)
    with pytest.raises(ReviewError, match=message):
        call(review, entry.id)


def test_reject_blocks_with_the_reviewers_reason_even_when_policies_allow(review: Review) -> None:
    record(review, hold())
    (entry,) = entries(review)
    review.reject(entry.id, reason="typosquat of our lib", actor="alice")
    verdict = review.overrides.file(
        "default", subject(), Verdict(Decision(Action.ALLOW, "x", "ok")), NOW
    )
    assert verdict.action is Action.BLOCK
    assert verdict.decision.reason == "rejected by alice: typosquat of our lib"
    assert review.entry(entry.id).state == "rejected"


def test_reviewer_blocks_are_counted_on_the_entries_they_stand_for(review: Review) -> None:
    record(review, hold())
    (entry,) = entries(review)
    review.reject(entry.id, reason="bad", actor="alice")
    blocked = Decision(Action.BLOCK, "review", "rejected by alice: bad")
    record(review, hold(d=blocked), hold(d=blocked, page=True), hold(file="other.whl", d=blocked))
    again = review.entry(entry.id)
    assert (again.views, again.requests, again.files[0].requests) == (1, 2, 2)
    assert review.entries().total == 1


def test_most_specific_decision_wins(review: Review) -> None:
    review.decide("reject", index="default", project="demo", reason="no", actor="a")
    review.decide("release", index="default", project="demo", version="1.0", reason="ok", actor="a")
    assert review.overrides.file("default", subject(), HELD, NOW).allowed
    assert not review.overrides.file(
        "default", subject("demo-2.0-py3-none-any.whl"), HELD, NOW
    ).allowed


def test_a_decision_replaces_the_earlier_ones_inside_it(review: Review) -> None:
    wheel = "demo-1.0-py3-none-any.whl"
    review.decide("release", project="demo", version="1.0", file=wheel, reason="ok", actor="a")
    review.decide("release", project="demo", file="demo-1.0.tar.gz", reason="ok", actor="a")
    review.decide("reject", index="default", project="demo", version="1.0", reason="no", actor="b")
    assert not review.overrides.file("default", subject(wheel), HELD, NOW).allowed
    assert not review.overrides.file("default", subject("demo-1.0.tar.gz"), HELD, NOW).allowed
    assert [(r.kind, r.version, r.file) for r in review.rules()] == [("reject", "1.0", None)]
    review.decide("release", project="demo", version="1.0", file=wheel, reason="ok", actor="a")
    assert review.overrides.file("default", subject(wheel), HELD, NOW).allowed


def test_release_until_lapses_and_reopens_the_entry(review: Review, clock: Clock) -> None:
    record(review, hold(d=SQUAT))
    (entry,) = entries(review)
    review.release(entry.id, until="1d", reason="trial", actor="alice")
    assert review.overrides.file("default", subject(), Verdict(SQUAT, (SQUAT,)), NOW).allowed
    generation = review.overrides.generation
    clock.now = NOW + timedelta(days=1, seconds=1)
    assert review.overrides.generation > generation
    assert not review.overrides.file(
        "default", subject(), Verdict(SQUAT, (SQUAT,)), clock.now
    ).allowed
    record(review, hold(d=SQUAT, when=clock.now))
    assert review.entry(entry.id).state == "quarantined"


@pytest.mark.parametrize("kept", [CONFUSION, DENIED], ids=["dependency-confusion", "denylist"])
def test_a_release_never_lifts_protected_blocks(review: Review, kept: Decision) -> None:
    review.decide("release", index="default", project="demo", reason="ok", actor="a")
    verdict = review.overrides.file("default", subject(), Verdict(kept, (AGE, kept)), NOW)
    assert verdict.decision == kept and verdict.observed == (kept,)


def test_runtime_lists(review: Review) -> None:
    record(review, hold(project="acme-x", file="acme_x-1.0-py3-none-any.whl"))
    review.list_add("allow", index="default", rule="acme-*", reason="ours", actor="alice")
    acme = subject("acme_x-1.0-py3-none-any.whl", "acme-x")
    assert review.overrides.file("default", acme, HELD, NOW).allowed
    assert review.overrides.project("default", "acme-x", Verdict(SQUAT, (SQUAT,)), NOW).allowed
    (entry,) = entries(review)
    assert entry.state == "released" and entry.files[0].state == "released"
    review.list_add("deny", index="default", rule="acme-x==1.0", reason="bad build", actor="bob")
    assert review.overrides.file("default", acme, HELD, NOW).action is Action.BLOCK
    assert review.overrides.project("default", "acme-x", HELD, NOW).allowed  # versioned deny
    review.list_remove("deny", index="default", rule="acme-x==1.0", reason="fixed", actor="bob")
    assert review.overrides.file("default", acme, HELD, NOW).allowed
    assert entries(review)[0].state == "quarantined"  # what the deny rejected is held again
    with pytest.raises(ReviewError, match="already on the allow list"):
        review.list_add("allow", index="default", rule="acme-*", reason="again", actor="alice")


def test_other_index_is_untouched(review: Review) -> None:
    review.decide("release", index="default", project="demo", reason="ok", actor="a")
    assert not review.overrides.file("strict", subject(), HELD, NOW).allowed


def test_audit_is_append_only_and_mirrored(review: Review, tmp_path: Path) -> None:
    review.decide("release", index="default", project="demo", reason="ok", actor="alice")
    review.list_add("deny", index="default", rule="evil", reason="malware", actor="bob")
    records = review.audit()
    assert [(r.actor, r.action) for r in records] == [("bob", "deny-add"), ("alice", "release")]
    lines = [orjson.loads(x) for x in (tmp_path / "audit.jsonl").read_bytes().splitlines()]
    assert [x["action"] for x in lines] == ["release", "deny-add"]
    if review.store.database.dialect.name == "postgresql":
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
    record(first, hold())
    first.release(1, reason="ok", actor="alice")
    first.close()
    second = Review(tmp_path, clock=clock)
    assert second.entry(1).state == "released"
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
        (lambda r: r.release(2**64, reason="x", actor="a"), "no quarantine entry"),
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


def test_a_slow_reload_cannot_put_older_rules_back(tmp_path: Path) -> None:
    # The intake thread and an action both reload the overrides; the one that read the
    # rules first must not be the one that finishes last.

    review = Review(tmp_path, clock=lambda: datetime.now(UTC))
    real_rules = review.store.rules.active
    entered, go = threading.Event(), threading.Event()

    def rules(**kwargs: Any) -> list[Any]:
        found = real_rules(**kwargs)
        if threading.current_thread().name == "slow-reload":
            entered.set()
            go.wait(5)
        return found

    review.store.rules.active = rules  # type: ignore[method-assign]
    try:
        slow = threading.Thread(target=review.refresh, name="slow-reload")
        slow.start()
        assert entered.wait(5)
        acting = threading.Thread(
            target=lambda: review.list_add(
                "deny", index="default", rule="evil", reason="malware", actor="alice"
            )
        )
        acting.start()
        acting.join(0.5)
        go.set()
        slow.join(5)
        acting.join(5)
        verdict = review.overrides.project("default", "evil", ALLOWED, datetime.now(UTC))
        assert verdict.action is Action.BLOCK
    finally:
        review.close()
