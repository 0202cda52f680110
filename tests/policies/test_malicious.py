"""The malicious policy: MAL- records block projects, or the files of listed versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipgate.policies.advisories import MALICIOUS, VULNERABILITIES
from pipgate.policies.decision import Action
from pipgate.policies.engine import PolicySet
from pipgate.policies.exemptions import Exemption
from pipgate.policies.malicious import MaliciousPolicy, raw_version
from pipgate.policies.subjects import ProjectSubject
from tests.support.osv_records import file_subject as file
from tests.support.osv_records import index_of, record

NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def policy() -> MaliciousPolicy:
    return MaliciousPolicy(
        index_of(
            record("MAL-2025-1", "evil-pkg", summary="Malicious code in evil-pkg (PyPI)"),
            record(
                "MAL-2025-2",
                "hijacked",
                versions=["1.2.0"],
                summary="Malicious code in hijacked (PyPI)",
            ),
            kind=MALICIOUS,
        )
    )


def test_every_version_blocks_the_project_by_name(policy: MaliciousPolicy) -> None:
    decision = policy.check_project(ProjectSubject("evil-pkg"), NOW)  # type: ignore[arg-type]
    assert decision.action is Action.BLOCK
    assert decision.reason == (
        "every version of 'evil-pkg' is known malware: MAL-2025-1 (Malicious code in evil-pkg (PyPI))"
    )
    assert policy.check_file(file("evil-pkg", "0.1"), NOW).action is Action.BLOCK
    # Judged before upstream is asked: the name never reaches it.
    assert (
        PolicySet((policy,))
        .judge_project(
            ProjectSubject("evil-pkg"),
            NOW,
            before_fetch=True,  # type: ignore[arg-type]
        )
        .action
        is Action.BLOCK
    )


def test_listed_versions_block_only_their_files(policy: MaliciousPolicy) -> None:
    assert policy.check_project(ProjectSubject("hijacked"), NOW).allowed  # type: ignore[arg-type]
    bad = policy.check_file(file("hijacked", "1.2.0"), NOW)
    assert bad.action is Action.BLOCK
    assert (
        bad.reason
        == "hijacked 1.2.0 is known malware: MAL-2025-2 (Malicious code in hijacked (PyPI))"
    )
    assert policy.check_file(file("hijacked", "1.1.0"), NOW).allowed
    assert policy.check_file(file("requests", "2.0"), NOW).allowed


def test_a_file_of_unknown_version_is_blocked_when_its_project_is_listed(
    policy: MaliciousPolicy,
) -> None:
    decision = policy.check_file(file("hijacked", None, "hijacked-installer.exe"), NOW)
    assert decision.action is Action.BLOCK
    assert "cannot be read" in decision.reason and "MAL-2025-2" in decision.reason
    assert policy.check_file(file("requests", None, "requests.exe"), NOW).allowed


def test_unparseable_listed_version_matches_its_filename() -> None:
    policy = MaliciousPolicy(
        index_of(record("MAL-3", "odd", versions=["1.0-custom"]), kind=MALICIOUS)
    )
    decision = policy.check_file(file("odd", None, "odd-1.0-custom.tar.gz"), NOW)
    assert decision.reason.startswith("odd 1.0-custom is known malware: MAL-3")


def test_exemption_lifts_a_block_until_it_expires(policy: MaliciousPolicy) -> None:
    exempt = MaliciousPolicy(
        policy.index,
        exempt=[Exemption("mal-2025-1", NOW + timedelta(days=1), "false positive, reported")],
    )
    assert exempt.check_project(ProjectSubject("evil-pkg"), NOW).allowed  # type: ignore[arg-type]
    later = exempt.check_project(ProjectSubject("evil-pkg"), NOW + timedelta(days=2))  # type: ignore[arg-type]
    assert later.action is Action.BLOCK
    assert "the exemption for mal-2025-1 expired 2026-06-02" in later.reason
    assert exempt.exempt.next_expiry(NOW) == NOW + timedelta(days=1)


def test_with_index_keeps_the_settings(policy: MaliciousPolicy) -> None:
    fresh = policy.with_index(index_of(record("MAL-9", "newly-bad"), kind=MALICIOUS))
    assert fresh.mode is policy.mode
    assert fresh.check_project(ProjectSubject("newly-bad"), NOW).action is Action.BLOCK  # type: ignore[arg-type]
    assert fresh.check_project(ProjectSubject("evil-pkg"), NOW).allowed  # type: ignore[arg-type]


def test_versions_note_for_policy_check(policy: MaliciousPolicy) -> None:
    assert "MAL-2025-2" in policy.versions_note("hijacked", NOW)  # type: ignore[arg-type]
    assert policy.versions_note("requests", NOW) == ""  # type: ignore[arg-type]


def test_vulnerability_records_are_not_malware() -> None:
    index = index_of(record("GHSA-aaaa", "demo-pkg"), kind=VULNERABILITIES)
    assert MaliciousPolicy(index).check_file(file("demo-pkg", "1.0"), NOW).action is Action.BLOCK
    # ... because the loader never gives the malicious policy such an index:
    from pipgate.policies.osv import FeedReader

    reader = FeedReader([MALICIOUS])
    reader.add(record("GHSA-aaaa", "demo-pkg"), where="x")
    assert len(reader.indexes()[MALICIOUS]) == 0


@pytest.mark.parametrize(
    ("filename", "version"),
    [
        ("demo_pkg-1.0-py3-none-any.whl", "1.0"),
        ("demo_pkg-1.0-1-py3-none-any.whl", "1.0"),
        ("demo-pkg-1.0-custom.tar.gz", "custom"),  # ambiguous without the project name
        ("demo_pkg-2.0.zip", "2.0"),
        ("demo_pkg.exe", None),
        ("demo_pkg-x.whl", None),
    ],
)
def test_raw_version(filename: str, version: str | None) -> None:
    assert raw_version(filename) == version


def test_raw_version_of_an_sdist_with_a_hyphenated_version() -> None:
    assert raw_version("Demo.Pkg-1.0-custom.tar.gz", "demo-pkg") == "1.0-custom"
