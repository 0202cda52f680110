from datetime import UTC, datetime, timedelta, timezone

import pytest
from packaging.utils import NormalizedName
from packaging.version import Version

from pipgate.policies.decision import Action, Mode
from pipgate.policies.engine import Policy
from pipgate.policies.release_age import ReleaseAgePolicy
from pipgate.policies.subjects import FileSubject, ProjectSubject

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
CUTOFF = datetime(2026, 11, 1, tzinfo=UTC)
EXEMPT = ["urllib3==2.2.2", "internal-*", "certifi"]


def file(name: str, version: str | None, uploaded: datetime | None) -> FileSubject:
    return FileSubject(
        NormalizedName(name),
        f"{name}-{version}-py3-none-any.whl",
        None if version is None else Version(version),
        uploaded,
    )


def ago(**kwargs: float) -> datetime:
    return NOW - timedelta(**kwargs)


def test_is_a_policy_that_needs_no_facts_and_allows_every_project() -> None:
    policy = ReleaseAgePolicy()
    assert isinstance(policy, Policy)
    assert (policy.name, policy.needs_facts, policy.mode) == ("release-age", False, Mode.ENFORCE)
    assert policy.min_age == timedelta(days=7)
    assert policy.overrides == frozenset()
    assert policy.check_project(ProjectSubject(NormalizedName("anything")), NOW).allowed


# (upload time, expected action, available_at, exact reason)
AGE_CASES = [
    (ago(days=8), Action.ALLOW, None, "older than 7 d"),
    (ago(days=7), Action.ALLOW, None, "older than 7 d"),
    (
        ago(hours=2),
        Action.QUARANTINE,
        datetime(2026, 12, 4, 10, 0, tzinfo=UTC),
        "uploaded 2 h ago; minimum age is 7 d; available from 2026-12-04 10:00 UTC",
    ),
    (
        ago(days=6, hours=22, minutes=30),
        Action.QUARANTINE,
        datetime(2026, 11, 27, 13, 30, tzinfo=UTC),
        "uploaded 6 d 22 h ago; minimum age is 7 d; available from 2026-11-27 13:30 UTC",
    ),
    (
        ago(seconds=1),  # shown rounded up: never "available" before it is
        Action.QUARANTINE,
        datetime(2026, 12, 4, 11, 59, 59, tzinfo=UTC),
        "uploaded 1 s ago; minimum age is 7 d; available from 2026-12-04 12:00 UTC",
    ),
    (
        NOW + timedelta(hours=3),  # clock skew: a future upload is young, not old
        Action.QUARANTINE,
        datetime(2026, 12, 4, 15, 0, tzinfo=UTC),
        "upload time is 3 h in the future; minimum age is 7 d; available from 2026-12-04 15:00 UTC",
    ),
    (
        datetime(2026, 11, 27, 13, 0, tzinfo=timezone(timedelta(hours=2))),  # 11:00 UTC
        Action.QUARANTINE,
        datetime(2026, 12, 4, 11, 0, tzinfo=UTC),
        "uploaded 1 h ago; minimum age is 7 d; available from 2026-12-04 11:00 UTC",
    ),
]


@pytest.mark.parametrize(("uploaded", "action", "available_at", "reason"), AGE_CASES)
def test_min_age(
    uploaded: datetime, action: Action, available_at: datetime | None, reason: str
) -> None:
    decision = ReleaseAgePolicy().check_file(file("flask", "3.1.0", uploaded), NOW)
    assert (decision.action, decision.available_at, decision.reason) == (
        action,
        available_at,
        reason,
    )
    assert decision.policy == "release-age"


@pytest.mark.parametrize(
    ("min_age", "uploaded", "action"),
    [
        (timedelta(0), NOW, Action.ALLOW),
        (timedelta(days=14), ago(days=13), Action.QUARANTINE),
        (timedelta(days=14), ago(days=14), Action.ALLOW),
        (timedelta(hours=36), ago(hours=35), Action.QUARANTINE),
    ],
)
def test_configured_min_age(min_age: timedelta, uploaded: datetime, action: Action) -> None:
    policy = ReleaseAgePolicy(min_age)
    assert policy.check_file(file("flask", "3.1.0", uploaded), NOW).action is action


# (upload time, expected action, reason fragment)
CUTOFF_CASES = [
    (CUTOFF - timedelta(days=30), Action.ALLOW, "older than 7 d"),
    (CUTOFF, Action.ALLOW, "older than 7 d"),  # "after" the cut-off is strict
    (
        CUTOFF + timedelta(minutes=1),
        Action.QUARANTINE,
        "uploaded 2026-11-01 00:01 UTC, after the cut-off 2026-11-01 00:00 UTC; "
        "quarantined indefinitely",
    ),
    (ago(hours=1), Action.QUARANTINE, "after the cut-off"),  # the cut-off wins over min_age
]


@pytest.mark.parametrize(("uploaded", "action", "reason"), CUTOFF_CASES)
def test_cutoff(uploaded: datetime, action: Action, reason: str) -> None:
    decision = ReleaseAgePolicy(cutoff=CUTOFF).check_file(file("flask", "3.1.0", uploaded), NOW)
    assert decision.action is action
    assert reason in decision.reason
    assert decision.available_at is None


# (unknown_upload_time, expected action, reason fragment)
UNKNOWN_CASES = [
    (Action.QUARANTINE, Action.QUARANTINE, "upload time unknown; a file of unknown age is not"),
    (Action.BLOCK, Action.BLOCK, "upload time unknown"),
    (Action.ALLOW, Action.ALLOW, "allowed by configuration"),
]


@pytest.mark.parametrize(("setting", "action", "reason"), UNKNOWN_CASES)
def test_unknown_upload_time(setting: Action, action: Action, reason: str) -> None:
    policy = ReleaseAgePolicy(unknown_upload_time=setting)
    decision = policy.check_file(file("flask", "3.1.0", None), NOW)
    assert (decision.action, decision.available_at) == (action, None)
    assert reason in decision.reason


def test_unknown_upload_time_defaults_to_quarantine() -> None:
    decision = ReleaseAgePolicy().check_file(file("flask", "3.1.0", None), NOW)
    assert decision.action is Action.QUARANTINE


# (project, version, upload time, exempt?)
EXEMPT_CASES = [
    ("urllib3", "2.2.2", ago(hours=1), True),
    ("urllib3", "2.2.3", ago(hours=1), False),
    ("urllib3", None, ago(hours=1), False),  # an exact-version exemption needs the version
    ("internal-tools", "0.1", ago(hours=1), True),
    ("internal-tools", None, None, True),
    ("certifi", "2026.11.1", None, True),
    ("certifi", "2026.11.1", CUTOFF + timedelta(days=1), True),
    ("certifi-extra", "1.0", ago(hours=1), False),
    ("flask", "3.1.0", ago(hours=1), False),
]


@pytest.mark.parametrize(("name", "version", "uploaded", "exempt"), EXEMPT_CASES)
def test_exemptions(
    name: str, version: str | None, uploaded: datetime | None, exempt: bool
) -> None:
    policy = ReleaseAgePolicy(cutoff=CUTOFF, exempt=EXEMPT)
    decision = policy.check_file(file(name, version, uploaded), NOW)
    assert decision.allowed is exempt
    if exempt:
        assert "exempt from the release-age policy by" in decision.reason
        assert not decision.explicit


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_age": timedelta(seconds=-1)}, "min_age must not be negative"),
        ({"cutoff": datetime(2026, 1, 1)}, "cutoff must have a timezone"),
        ({"exempt": ["urllib3==x"]}, "'urllib3==x'"),
        ({"unknown_upload_time": 9}, "9"),
    ],
)
def test_invalid_configuration(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ReleaseAgePolicy(**kwargs)


@pytest.mark.parametrize(
    ("exempt_hosted", "origin", "allowed"),
    [
        (True, "hosted", True),
        (True, "private", False),
        (True, "public", False),
        (False, "hosted", False),
    ],
)
def test_exempt_hosted_lifts_the_hold_only_for_files_uploaded_here(exempt_hosted, origin, allowed):
    policy = ReleaseAgePolicy(exempt_hosted=exempt_hosted)
    subject = FileSubject(
        NormalizedName("acme-lib"),
        "acme_lib-1.0.tar.gz",
        Version("1.0"),
        ago(hours=1),
        origin=origin,
    )
    decision = policy.check_file(subject, NOW)
    assert decision.allowed is allowed
    if allowed:
        assert decision.reason == "uploaded to this pipgate (exempt_hosted)"
