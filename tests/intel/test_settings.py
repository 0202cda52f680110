"""[policies.malicious] and [policies.vulnerabilities]: validation and the policies built."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipgate.policies.advisories import MALICIOUS, VULNERABILITIES, AdvisoryIndex
from pipgate.policies.decision import Action, Mode
from pipgate.policies.severity import Severity
from pipgate.proxy.config.policies import PolicySettings, build_policy_set
from pipgate.proxy.config.settings import SettingsError, load_settings

FEED = "/feeds/osv"
INTEL = {FEED: {MALICIOUS: AdvisoryIndex(), VULNERABILITIES: AdvisoryIndex()}}


def policies(table: dict, intel=INTEL):  # type: ignore[no-untyped-def]
    return build_policy_set(
        PolicySettings.model_validate(table), typosquat_names=["requests"], intel=intel
    )


def test_defaults_build_neither_policy() -> None:
    assert "malicious" not in policies({}).names
    assert "vulnerabilities" not in policies({}).names


def test_malicious_is_enforced_once_a_feed_is_loaded() -> None:
    built = policies({"malicious": {"feed": FEED}})
    assert built.names == ("malicious", "typosquat", "release-age")
    assert built.policies[0].mode is Mode.ENFORCE
    assert "malicious" not in policies({"malicious": {"feed": FEED}}, intel={}).names
    assert "malicious" not in policies({"malicious": {"feed": FEED, "mode": "off"}}).names


def test_vulnerabilities_settings() -> None:
    built = policies(
        {
            "vulnerabilities": {
                "mode": "enforce",
                "feed": FEED,
                "action": "quarantine",
                "min_severity": "high",
                "unknown_severity": "medium",
                "exempt": [{"id": "CVE-2024-1", "until": "2027-01-01", "reason": "not reachable"}],
            }
        }
    )
    assert built.names[-1] == "vulnerabilities"
    policy = built.policies[-1]
    assert (policy.action, policy.mode) == (Action.QUARANTINE, Mode.ENFORCE)  # type: ignore[attr-defined]
    assert (policy.min_severity, policy.unknown_severity) == (Severity.HIGH, Severity.MEDIUM)  # type: ignore[attr-defined]
    (exemption,) = policy.exempt.all  # type: ignore[attr-defined]
    assert exemption.until == datetime(2027, 1, 1, tzinfo=UTC)


def test_warn_is_a_dry_run_of_a_block() -> None:
    policy = policies(
        {"vulnerabilities": {"mode": "enforce", "feed": FEED, "action": "warn"}}
    ).policies[-1]
    assert (policy.action, policy.mode) == (Action.BLOCK, Mode.DRY_RUN)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"vulnerabilities": {"mode": "enforce"}}, "no feed is set"),
        ({"vulnerabilities": {"mode": "off", "action": "allow"}}, "action"),
        ({"vulnerabilities": {"min_severity": "severe"}}, "min_severity"),
        ({"malicious": {"feed": "  "}}, "feed"),
        ({"malicious": {"refresh": 6}}, "unit"),
        ({"malicious": {"exempt": [{"id": "MAL-1", "reason": "x"}]}}, "until"),
        (
            {
                "malicious": {
                    "exempt": [{"id": "MAL-1", "until": "2027-01-01T00:00:00", "reason": "x"}]
                }
            },
            "timezone",
        ),
        ({"malicious": {"exempt": [{"id": " ", "until": "2027-01-01", "reason": "x"}]}}, "blank"),
        (
            {
                "malicious": {
                    "exempt": [{"id": "MAL-1", "until": "2027-01-01", "reason": "x", "scope": "y"}]
                }
            },
            "scope",
        ),
    ],
)
def test_invalid(table: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(None, environ={}, overrides={"policies": table})


def test_feed_from_the_environment() -> None:
    settings = load_settings(
        None,
        environ={
            "PIPGATE_POLICIES__MALICIOUS__FEED": FEED,
            "PIPGATE_POLICIES__VULNERABILITIES__EXEMPT": '[{"id": "GHSA-x", "until": "2027-01-01", "reason": "ok"}]',
        },
    )
    assert settings.policies["malicious"]["feed"] == FEED
