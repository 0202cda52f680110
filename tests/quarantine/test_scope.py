"""Which indexes a reviewer's decision applies to (issue 8, item 5).

A reject and a deny-list entry apply on every index unless the reviewer names
one; a release and an allow-list entry apply on one index. Stored explicitly
(index ``*``), migrated from older databases with their meaning kept.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipgate.policies.decision import Action
from pipgate.policies.engine import ALLOWED
from pipgate.proxy.errors import ReviewError
from pipgate.proxy.quarantine import migrations
from pipgate.proxy.quarantine.review import Review
from tests.support.cli import run
from tests.support.clocks import Clock
from tests.support.console import csrf_of, logged_in
from tests.support.proxies import ADMIN
from tests.support.proxies import RunningProxy as Proxy
from tests.support.review_records import NOW, hold, record, subject

OLD_WHEEL = "demo_pkg-1.0.0-py3-none-any.whl"
DEP_WHEEL = "demo_dep-0.2.0-py3-none-any.whl"
TWO_INDEXES = {"indexes": {"strict": {}}}


@pytest.fixture
def two_indexes(start_proxy: Callable[..., Any], upstream_url: str) -> Iterator[Proxy]:
    with start_proxy(upstream_url, config=TWO_INDEXES) as proxy:
        yield proxy


def statuses(proxy: Proxy, project: str, filename: str) -> dict[str, int]:
    with httpx.Client() as client:
        return {
            index: client.get(f"{proxy.url}{prefix}/files/{project}/{filename}").status_code
            for index, prefix in (("default", ""), ("strict", "/strict"))
        }


def test_rejects_and_deny_rules_apply_on_every_index_unless_scoped(two_indexes: Proxy) -> None:
    with two_indexes.client() as api:
        rule = api.post(
            "/decide/reject",
            json={"project": "demo-pkg", "version": "1.0.0", "reason": "malware"},
        )
        assert rule.status_code == 200, rule.text
        assert rule.json()["index"] == "*"
        (audited,) = api.get("/audit").json()["audit"]
        assert audited["index"] == "*" and audited["detail"]["applies_to"] == "all indexes"
        body = {"project": "demo-dep", "index": "strict", "reason": "not for CI"}
        assert api.post("/decide/reject", json=body).json()["index"] == "strict"
        assert api.get("/audit").json()["audit"][0]["detail"]["applies_to"] == "index strict"
        unknown = api.post("/decide/reject", json=body | {"index": "nope"})
        assert unknown.status_code == 400 and "no index 'nope'" in unknown.json()["error"]
        everywhere = api.post("/decide/release", json=body | {"index": "*"})
        assert everywhere.status_code == 400 and "one index" in everywhere.json()["error"]
    assert statuses(two_indexes, "demo-pkg", OLD_WHEEL) == {"default": 403, "strict": 403}
    assert statuses(two_indexes, "demo-dep", DEP_WHEEL) == {"default": 200, "strict": 403}

    with two_indexes.client() as api:
        added = api.post("/lists/deny/add", json={"rule": "demo-yanked", "reason": "bad"})
        assert added.status_code == 201 and added.json()["index"] == "*"
        scoped = {"rule": "demo-archived", "index": "strict", "reason": "not for CI"}
        assert api.post("/lists/deny/add", json=scoped).json()["index"] == "strict"
        denied = {
            index: [
                r["rule"] for r in api.get("/lists/deny", params={"index": index}).json()["rules"]
            ]
            for index in ("default", "strict")
        }
        assert denied == {"default": ["demo-yanked"], "strict": ["demo-yanked", "demo-archived"]}
    yanked, archived = "demo_yanked-1.0.0-py3-none-any.whl", "demo_archived-1.0.0.tar.gz"
    assert statuses(two_indexes, "demo-yanked", yanked) == {"default": 403, "strict": 403}
    assert statuses(two_indexes, "demo-archived", archived) == {"default": 200, "strict": 403}
    with two_indexes.client() as api:
        assert api.post("/lists/deny/remove", json={"rule": "demo-yanked"}).status_code == 200
    assert statuses(two_indexes, "demo-yanked", yanked) == {"default": 200, "strict": 200}


def test_rejecting_an_entry_is_global_by_default(review: Review) -> None:
    record(review, hold(), hold(project="other", file="other-1.0-py3-none-any.whl"))
    demo, other = sorted(review.entries().entries, key=lambda e: e.project)
    rule = review.reject(demo.id, scope="project", reason="malware", actor="alice")
    assert rule.index == "*"
    for index in ("default", "strict"):
        assert review.overrides.file(index, subject(), ALLOWED, NOW).action is Action.BLOCK
    scoped = review.reject(other.id, index="default", reason="not here", actor="alice")
    assert scoped.index == "default"
    other_file = subject("other-1.0-py3-none-any.whl", "other")
    assert review.overrides.file("default", other_file, ALLOWED, NOW).action is Action.BLOCK
    assert review.overrides.file("strict", other_file, ALLOWED, NOW).allowed
    with pytest.raises(ReviewError, match="belongs to index 'default'"):
        review.reject(other.id, index="strict", reason="x", actor="alice")


def test_the_newest_decision_wins_between_global_and_scoped(review: Review) -> None:
    review.decide("reject", project="demo", reason="malware", actor="alice")
    review.decide("release", index="strict", project="demo", reason="false alarm", actor="bob")
    assert review.overrides.file("strict", subject(), ALLOWED, NOW).allowed
    assert not review.overrides.file("default", subject(), ALLOWED, NOW).allowed
    # A later global reject replaces the per-index release.
    review.decide("reject", project="demo", reason="malware after all", actor="alice")
    assert not review.overrides.file("strict", subject(), ALLOWED, NOW).allowed
    assert [r.kind for r in review.rules()] == ["reject"]


def test_console_rejects_on_every_index_by_default(two_indexes: Proxy) -> None:
    with logged_in(two_indexes) as ui:
        page = ui.get("/projects/default/demo-pkg")
        assert 'name="reject_on"' in page.text
        form = {"csrf": csrf_of(page.text), "next": "/-/ui/", "index": "default"}
        reject = form | {"kind": "reject", "project": "demo-pkg", "reason": "malware"}
        done = ui.post("/decide", data=reject | {"reject_on": "*"})
        assert "on+every+index" in done.headers["location"]
        deny = form | {"rule": "demo-dep", "reason": "bad", "index": "strict"}
        assert "on+index+strict" in ui.post("/lists/deny/add", data=deny).headers["location"]
    assert statuses(two_indexes, "demo-pkg", OLD_WHEEL) == {"default": 403, "strict": 403}
    assert statuses(two_indexes, "demo-dep", DEP_WHEEL) == {"default": 200, "strict": 403}


def test_cli_deny_and_reject_default_to_every_index(two_indexes: Proxy) -> None:
    env = {"PIPGATE_URL": two_indexes.url, "PIPGATE_TOKEN": ADMIN}
    denied = run("deny", "add", "demo-pkg", "-r", "malware", env=env)
    assert denied.exit_code == 0 and "on every index" in denied.output
    scoped = run("deny", "add", "demo-dep", "--index", "strict", "-r", "x", env=env)
    assert scoped.exit_code == 0 and "on index 'strict'" in scoped.output
    assert statuses(two_indexes, "demo-pkg", OLD_WHEEL) == {"default": 403, "strict": 403}
    assert statuses(two_indexes, "demo-dep", DEP_WHEEL) == {"default": 200, "strict": 403}
    assert run("deny", "remove", "demo-pkg", env=env).exit_code == 0
    assert run("deny", "remove", "demo-dep", "--index", "strict", env=env).exit_code == 0
    assert statuses(two_indexes, "demo-pkg", OLD_WHEEL) == {"default": 200, "strict": 200}


def test_cli_reject_of_an_entry(tmp_path: Path) -> None:
    review = Review(tmp_path, clock=lambda: datetime.now(UTC))
    record(review, hold(), hold(project="other", file="other-1.0-py3-none-any.whl"))
    review.close()
    data = ["quarantine", "--data-dir", str(tmp_path)]
    everywhere = run(*data, "reject", "1", "-r", "malware")
    assert everywhere.exit_code == 0 and "on every index" in everywhere.output
    only = run(*data, "reject", "2", "--index", "default", "-r", "not here")
    assert only.exit_code == 0 and "on index 'default'" in only.output


# -- an existing database ----------------------------------------------------------------


def old_database(path: Path) -> None:
    """A quarantine database as the first schema left it: a scoped reject, rule id 2."""
    db = sqlite3.connect(path)
    db.executescript(migrations.SCHEMA_V1)
    db.execute(
        "INSERT INTO rules (id, idx, kind, project, reason, actor, created_at) "
        "VALUES (1, 'default', 'deny', 'x', 'r', 'a', 0), "
        "(2, 'default', 'reject', 'demo', 'malware', 'alice', 0)"
    )
    db.execute("UPDATE rules SET rule = 'x' WHERE id = 1")
    db.execute(
        "INSERT INTO audit (time, actor, action, idx, target, reason, detail) "
        "VALUES (0, 'alice', 'reject', 'default', 'demo', 'malware', '{\"rule\": 2}')"
    )
    db.commit()
    db.close()


def test_an_old_database_is_migrated_and_keeps_its_meaning(tmp_path: Path) -> None:
    old_database(tmp_path / "quarantine.sqlite3")
    (tmp_path / "audit.jsonl").write_text('{"action": "reject", "rule": 2}\n')
    review = Review(tmp_path, clock=Clock(NOW))
    try:
        assert review.store.schema_version() == migrations.SCHEMA_VERSION
        (_deny, reject) = review.rules()
        assert (reject.id, reject.index, reject.kind) == (2, "default", "reject")
        assert not review.overrides.file("default", subject(), ALLOWED, NOW).allowed
        assert review.overrides.file("strict", subject(), ALLOWED, NOW).allowed
        # The old last line had no id: the records before the migration are not repeated.
        review.decide("release", index="default", project="demo", reason="ok", actor="bob")
        lines = (tmp_path / "audit.jsonl").read_text().splitlines()
        assert len(lines) == 2 and '"audit_id":2' in lines[1]
    finally:
        review.close()
    # Ids are never handed out again, even the one of a removed (or rolled-back) last row.
    db = sqlite3.connect(tmp_path / "quarantine.sqlite3")
    db.execute("DELETE FROM rules WHERE id = 3")
    db.commit()
    db.close()
    again = Review(tmp_path, clock=Clock(NOW))
    try:
        rule = again.decide("reject", project="demo", reason="again", actor="bob")
        assert rule.id == 4
    finally:
        again.close()


@pytest.fixture
def review(tmp_path: Path) -> Iterator[Review]:
    r = Review(tmp_path, clock=Clock(NOW))
    yield r
    r.close()
