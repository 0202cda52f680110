"""gate.py, decision_log.py, reason_phrase.py and access_log.route_of."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from pipgate.policies.decision import ALLOW, Action, Decision, Mode
from pipgate.policies.engine import PolicySet
from pipgate.proxy.gate import Gate, facts_of
from pipgate.proxy.models import DistFile, Project
from pipgate.proxy.observe.access_log import route_of
from pipgate.proxy.observe.decision_log import DecisionLog, read_decisions
from pipgate.proxy.reason_phrase import Status, _StatusLines, sanitize

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


class HoldNewFiles:
    """A stand-in policy: quarantines files uploaded in the last day."""

    name, mode, needs_facts, overrides = "test-age", Mode.ENFORCE, False, frozenset()

    def check_project(self, subject, now):
        return ALLOW

    def check_file(self, subject, now):
        if subject.upload_time and now - subject.upload_time < timedelta(days=1):
            return Decision(
                Action.QUARANTINE, self.name, "new", subject.upload_time + timedelta(days=1)
            )
        return ALLOW


def project() -> Project:
    return Project(
        "demo",
        (
            DistFile("demo-1.0.tar.gz", "u1", upload_time=NOW - timedelta(days=30)),
            DistFile("demo-2.0.tar.gz", "u2", upload_time=NOW - timedelta(hours=2)),
        ),
        ("1.0", "2.0"),
    )


def test_view_holds_new_files_and_says_when_to_look_again():
    gate = Gate("default", PolicySet((HoldNewFiles(),)), clock=lambda: NOW)
    view = gate.view(project())
    assert [f.filename for f in view.shown] == ["demo-1.0.tar.gz"]
    assert [f.filename for f, _ in view.held] == ["demo-2.0.tar.gz"]
    assert view.recheck_at == NOW + timedelta(hours=22)


def test_facts_of_a_project():
    facts = facts_of(project())
    assert facts.first_upload == NOW - timedelta(days=30)
    assert (facts.release_count, facts.file_count) == (2, 2)


def test_decision_log_appends_json_lines_and_skips_repeats(tmp_path):
    log = DecisionLog(tmp_path / "decisions.jsonl", repeat_after=600)
    held = Decision(Action.QUARANTINE, "typosquat", "imitates 'colorama'")
    assert log.record(
        index="default", project="coloarma", file=None, decision=held, client="10.0.0.1", now=NOW
    )
    assert not log.record(
        index="default", project="coloarma", file=None, decision=held, client="10.0.0.1", now=NOW
    )
    assert log.record(
        index="default", project="coloarma", file=None, decision=held, client="10.0.0.2", now=NOW
    )
    log.close()
    entries = list(read_decisions(tmp_path / "decisions.jsonl"))
    assert len(entries) == 2
    assert entries[0] == {
        "time": "2026-11-27T12:00:00Z",
        "client": "10.0.0.1",
        "index": "default",
        "project": "coloarma",
        "file": None,
        "policy": "typosquat",
        "action": "quarantine",
        "mode": "enforce",
        "reason": "imitates 'colorama'",
    }
    json.dumps(entries)


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("uploaded 2 h ago", "uploaded 2 h ago"),
        ("line\r\nbreak", "line? break"),
        ("é", "?"),
        ("", "Forbidden"),
    ],
)
def test_reason_phrases_are_safe_single_lines(text, phrase):
    assert sanitize(text) == phrase
    status = Status(403, text)
    assert status == 403
    assert (
        _StatusLines({403: b"HTTP/1.1 403 Forbidden\r\n"})[status]
        == f"HTTP/1.1 403 {phrase}\r\n".encode()
    )


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/", "root"),
        ("/simple/", "simple-index"),
        ("/simple/x/", "project-page"),
        ("/strict/simple/x/", "project-page"),
        ("/files/x/a.whl", "file"),
        ("/files/x/a.whl.metadata", "metadata"),
        ("/-/admin/quarantine", "admin"),
        ("/metrics", "metrics"),
        ("/nope", "other"),
    ],
)
def test_route_labels_stay_low_cardinality(path, route):
    assert route_of(path) == route


@pytest.mark.parametrize(
    ("header", "gzip"),
    [
        (None, False),
        ("gzip", True),
        ("gzip, deflate, br", True),
        ("gzip;q=0", False),
        ("br, *", True),
        ("*;q=0", False),
        ("identity", False),
        ("x-gzip", True),
        ("gzip;q=0.5", True),
    ],
)
def test_accepts_gzip(header, gzip):
    from pipgate.proxy.views import accepts_gzip

    assert accepts_gzip(header) is gzip


def test_a_reason_with_control_characters_makes_safe_headers():
    """A reviewer's reason typed in a textarea arrives with CRLF line breaks; only
    ``\\n`` was replaced, so ``\\r`` reached the X-Pipgate-Reason header (h11 refuses
    the response; httptools writes it raw: a header split)."""
    from pipgate.policies.engine import Verdict
    from pipgate.proxy.views import _decision_headers

    decision = Decision(Action.BLOCK, "review", "rejected by ana: bad\r\nX-Evil: 1\x00\x7f")
    headers = _decision_headers(Verdict(decision, (decision,)))
    assert "rejected by ana: bad" in headers["X-Pipgate-Reason"]
    for value in headers.values():
        assert all(32 <= ord(c) < 127 or 160 <= ord(c) < 256 or c == "\t" for c in value), value


def test_replacing_an_index_policies_always_changes_its_generation():
    """``generation`` used ``id(policies)``: a new PolicySet allocated where a freed one
    lived has the same id, so pages rendered under the old policies were reused."""
    gate = Gate("default", PolicySet(()), clock=lambda: NOW)
    seen = {gate.generation}
    for _ in range(50):
        gate.policies = PolicySet(())
        assert gate.generation not in seen
        seen.add(gate.generation)
