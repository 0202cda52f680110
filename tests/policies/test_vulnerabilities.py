"""The vulnerabilities policy: per file, a severity floor, exemptions that expire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipgate.policies.decision import Action, Mode
from pipgate.policies.engine import PolicySet
from pipgate.policies.exemptions import Exemption
from pipgate.policies.severity import Severity
from pipgate.policies.subjects import ProjectSubject
from pipgate.policies.vulnerabilities import VulnerabilitiesPolicy
from tests.support.osv_records import file_subject as file
from tests.support.osv_records import index_of, record

NOW = datetime(2026, 6, 1, tzinfo=UTC)
CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
MEDIUM = "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N"


@pytest.fixture
def index():
    return index_of(
        record(
            "GHSA-9wx4-h78v-vm56",
            "requests",
            ranges=[("0", "2.32.0")],
            aliases=["CVE-2024-35195"],
            cvss=MEDIUM,
            summary="Requests Session object does not verify requests after verify=False",
        ),
        record("PYSEC-2024-1", "requests", ranges=[("0", "2.32.0")], aliases=["CVE-2024-35195"]),
        record(
            "GHSA-crit", "requests", ranges=[("2.0", "2.3")], cvss=CRITICAL, summary="Remote code"
        ),
        record("PYSEC-2025-9", "flask", ranges=[("0", "3.0")], summary="No severity given"),
    )


def test_vulnerable_version_is_refused_naming_ids_aliases_and_the_fix(index) -> None:
    decision = VulnerabilitiesPolicy(index).check_file(file("requests", "2.31.0"), NOW)
    assert decision.action is Action.BLOCK
    assert decision.reason == (
        "requests 2.31.0 has known vulnerabilities: GHSA-9wx4-h78v-vm56 (CVE-2024-35195, "
        "PYSEC-2024-1) [medium, fixed in 2.32.0]: Requests Session object does not verify "
        "requests after verify=False"
    )


def test_fixed_version_and_project_are_allowed(index) -> None:
    policy = VulnerabilitiesPolicy(index)
    assert policy.check_file(file("requests", "2.32.0"), NOW).allowed
    assert policy.check_project(ProjectSubject("requests"), NOW).allowed  # type: ignore[arg-type]
    assert policy.check_file(file("numpy", "1.0"), NOW).allowed


def test_several_advisories_are_listed(index) -> None:
    reason = VulnerabilitiesPolicy(index).check_file(file("requests", "2.2"), NOW).reason
    assert reason.index("GHSA-9wx4-h78v-vm56") < reason.index("GHSA-crit")
    assert "[critical, fixed in 2.3]: Remote code" in reason


@pytest.mark.parametrize(
    ("floor", "unknown", "version", "refused"),
    [
        (Severity.HIGH, Severity.CRITICAL, "2.31.0", False),  # medium only
        (Severity.HIGH, Severity.CRITICAL, "2.2", True),  # critical
        (Severity.MEDIUM, Severity.CRITICAL, "2.31.0", True),
        (
            Severity.CRITICAL,
            Severity.CRITICAL,
            ("flask", "2.0"),
            True,
        ),  # unknown counts as critical
        (Severity.HIGH, Severity.MEDIUM, ("flask", "2.0"), False),  # ... unless configured
    ],
)
def test_severity_floor(index, floor, unknown, version, refused) -> None:
    name, version = version if isinstance(version, tuple) else ("requests", version)
    policy = VulnerabilitiesPolicy(index, min_severity=floor, unknown_severity=unknown)
    assert (not policy.check_file(file(name, version), NOW).allowed) is refused


def test_unknown_severity_is_said(index) -> None:
    reason = VulnerabilitiesPolicy(index).check_file(file("flask", "2.0"), NOW).reason
    assert "PYSEC-2025-9 [severity unknown, fixed in 3.0]" in reason


def test_quarantine_action(index) -> None:
    policy = VulnerabilitiesPolicy(index, action=Action.QUARANTINE)
    assert policy.check_file(file("requests", "2.31.0"), NOW).action is Action.QUARANTINE
    with pytest.raises(ValueError, match="quarantine or block"):
        VulnerabilitiesPolicy(index, action=Action.ALLOW)


@pytest.mark.parametrize("exempted", ["GHSA-9wx4-h78v-vm56", "CVE-2024-35195", "pysec-2024-1"])
def test_exemption_by_id_or_alias_until_it_expires(index, exempted: str) -> None:
    policy = VulnerabilitiesPolicy(
        index, exempt=[Exemption(exempted, NOW + timedelta(days=30), "not reachable in our use")]
    )
    assert policy.check_file(file("requests", "2.31.0"), NOW).allowed
    # Another advisory on the same version still counts.
    assert "GHSA-crit" in policy.check_file(file("requests", "2.2"), NOW).reason
    expired = policy.check_file(file("requests", "2.31.0"), NOW + timedelta(days=31))
    assert expired.action is Action.BLOCK
    assert "exemption expired 2026-07-01" in expired.reason


def test_dry_run_serves_and_reports(index) -> None:
    policy = VulnerabilitiesPolicy(index, mode=Mode.DRY_RUN)
    verdict = PolicySet((policy,)).judge_file(file("requests", "2.31.0"), NOW)
    assert verdict.allowed
    assert verdict.observed[0].dry_run and "GHSA-9wx4-h78v-vm56" in verdict.observed[0].reason


def test_versions_note(index) -> None:
    note = VulnerabilitiesPolicy(index).versions_note("requests", NOW)  # type: ignore[arg-type]
    assert note.startswith(
        "2 known vulnerabilities affect some versions (GHSA-9wx4-h78v-vm56, GHSA-crit)"
    )
