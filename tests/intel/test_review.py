"""No reviewer rule lifts a known-malware block; vulnerabilities can be released."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from packaging.version import Version

from pipgate.policies.decision import Action, Decision
from pipgate.policies.engine import Verdict
from pipgate.policies.subjects import FileSubject
from pipgate.proxy.quarantine.overrides import ReviewOverrides
from pipgate.proxy.quarantine.records import Rule

NOW = datetime(2026, 6, 1, tzinfo=UTC)
MALWARE = Decision(Action.BLOCK, "malicious", "demo 1.0 is known malware: MAL-2025-1")
VULNERABLE = Decision(Action.BLOCK, "vulnerabilities", "demo 1.0 has known vulnerabilities")
SUBJECT = FileSubject("demo", "demo-1.0-py3-none-any.whl", Version("1.0"), None)  # type: ignore[arg-type]


def overrides(kind: str, rule: str | None = None) -> ReviewOverrides:
    loaded = ReviewOverrides(lambda: NOW)
    loaded.load(
        [
            Rule(
                id=1,
                index="default",
                kind=kind,
                project="demo",
                version=None,
                file=None,
                rule=rule,
                until=None,
                reason="looked fine",
                actor="alice",
                created_at=NOW,
            )
        ]
    )
    return loaded


@pytest.mark.parametrize(("kind", "rule"), [("release", None), ("allow", "demo")])
def test_a_reviewer_cannot_lift_known_malware(kind: str, rule: str | None) -> None:
    verdict = overrides(kind, rule).file("default", SUBJECT, Verdict(MALWARE, (MALWARE,)), NOW)
    assert verdict.decision == MALWARE


def test_a_reviewer_can_release_a_vulnerable_version() -> None:
    verdict = overrides("release").file("default", SUBJECT, Verdict(VULNERABLE, (VULNERABLE,)), NOW)
    assert verdict.allowed
