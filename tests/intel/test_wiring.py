"""Handing snapshots to the gates: policies swapped in order, kept across a corpus refresh,
and pages invalidated when an exemption expires."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from pipgate.policies.advisories import MALICIOUS, VULNERABILITIES
from pipgate.policies.engine import PolicySet
from pipgate.proxy.config.policies import build_policy_set
from pipgate.proxy.config.settings import load_settings, validate_policies
from pipgate.proxy.gate import Gate
from pipgate.proxy.intel import wiring
from tests.support.osv_records import index_of, record

FEED = "/feeds/osv"


def settings(**malicious):  # type: ignore[no-untyped-def]
    return load_settings(
        None,
        environ={},
        overrides={
            "policies": {
                "malicious": {"feed": FEED, **malicious},
                "vulnerabilities": {"mode": "enforce", "feed": FEED},
            }
        },
    )


class Feeds:
    def __init__(self, intel):  # type: ignore[no-untyped-def]
        self.intel = intel

    def snapshot(self):  # type: ignore[no-untyped-def]
        return self.intel


def services(config, intel, clock=lambda: datetime.now(UTC)):  # type: ignore[no-untyped-def]
    policy_set = build_policy_set(
        validate_policies(config, "default"), typosquat_names=["requests"]
    )
    gate = Gate("default", policy_set, clock=clock)
    return SimpleNamespace(settings=config, gates={"default": gate}, intel=Feeds(intel))


def test_apply_swaps_in_the_intel_policies_once() -> None:
    intel = {
        FEED: {
            MALICIOUS: index_of(record("MAL-1", "evil-pkg"), kind=MALICIOUS),
            VULNERABILITIES: index_of(record("GHSA-1", "demo-pkg", ranges=[("0", "2")])),
        }
    }
    svc = services(settings(), {})
    gate = svc.gates["default"]
    assert gate.policies.names == ("typosquat", "release-age")
    svc.intel.intel = intel
    before = gate.generation
    assert wiring.apply(svc) == ["default"]
    assert gate.policies.names == ("malicious", "typosquat", "release-age", "vulnerabilities")
    assert gate.generation != before
    after = gate.generation
    assert wiring.apply(svc) == []  # same snapshot: nothing rebuilt, pages stay cached
    assert gate.generation == after


def test_a_corpus_refresh_keeps_the_intel_policies() -> None:
    intel = {FEED: {MALICIOUS: index_of(record("MAL-1", "evil-pkg"), kind=MALICIOUS)}}
    live = build_policy_set(
        validate_policies(settings(), "default"), typosquat_names=["requests"], intel=intel
    )
    fresh = build_policy_set(validate_policies(settings(), "default"), typosquat_names=["numpy"])
    kept = wiring.keep_intel(fresh, live)
    assert kept.names == ("malicious", "typosquat", "release-age")
    assert kept.policies[0] is live.policies[0] and kept.policies[1] is fresh.policies[0]
    assert wiring.keep_intel(fresh, PolicySet(())).names == ("typosquat", "release-age")


async def test_an_expiring_exemption_changes_the_generation() -> None:
    until = datetime(2027, 1, 1, tzinfo=UTC)
    config = settings(exempt=[{"id": "MAL-1", "until": until, "reason": "checked"}])
    svc = services(config, {}, clock=lambda: until - timedelta(milliseconds=20))
    gate = svc.gates["default"]
    before = gate.generation
    await asyncio.wait_for(wiring._exemption_timer(svc), timeout=10)  # type: ignore[arg-type]
    assert gate.generation != before
