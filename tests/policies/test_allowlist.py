from datetime import UTC, datetime

import pytest
from packaging.utils import NormalizedName
from packaging.version import Version

from pipgate.policies.allowlist import AllowlistPolicy
from pipgate.policies.decision import Action, Mode
from pipgate.policies.engine import Policy
from pipgate.policies.subjects import FileSubject, ProjectSubject

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
ALLOW = ["requests", "django>=4.2,<6", "django==3.2.25", "numpy==2.1.*", "Acme_*"]
DENY = ["evil-*", "pytorch-nightly", "ultralytics==8.3.41"]


def project(name: str) -> ProjectSubject:
    return ProjectSubject(NormalizedName(name))


def file(name: str, version: str | None) -> FileSubject:
    return FileSubject(
        NormalizedName(name),
        f"{name}-{version}.tar.gz",
        None if version is None else Version(version),
        upload_time=NOW,
    )


def policy(unlisted: Action) -> AllowlistPolicy:
    return AllowlistPolicy(ALLOW, deny=DENY, unlisted=unlisted, overrides=["release-age"])


def test_is_a_policy_that_needs_no_facts() -> None:
    subject = policy(Action.BLOCK)
    assert isinstance(subject, Policy)
    assert (subject.name, subject.needs_facts, subject.mode) == ("allowlist", False, Mode.ENFORCE)
    assert subject.overrides == frozenset({"release-age"})


# (unlisted mode, project, expected action, explicit, reason fragment)
PROJECT_CASES = [
    (Action.BLOCK, "requests", Action.ALLOW, True, "'requests' is on the allowlist"),
    (Action.BLOCK, "django", Action.ALLOW, True, "(entries 'django>=4.2,<6', 'django==3.2.25')"),
    (Action.BLOCK, "acme-utils", Action.ALLOW, True, "allowlist (entry 'Acme_*')"),
    (Action.BLOCK, "flask", Action.BLOCK, False, "'flask' is not on the allowlist; ask an"),
    (Action.QUARANTINE, "flask", Action.QUARANTINE, False, "until an administrator approves"),
    (Action.ALLOW, "flask", Action.ALLOW, False, "unlisted projects are allowed"),
    (Action.ALLOW, "evil-requests", Action.BLOCK, False, "'evil-requests' is on the denylist"),
    (Action.BLOCK, "pytorch-nightly", Action.BLOCK, False, "(entry 'pytorch-nightly')"),
    # a version-specific deny entry does not block the project, only its files
    (Action.ALLOW, "ultralytics", Action.ALLOW, False, "not on the allowlist"),
]


@pytest.mark.parametrize(("unlisted", "name", "action", "explicit", "reason"), PROJECT_CASES)
def test_check_project(
    unlisted: Action, name: str, action: Action, explicit: bool, reason: str
) -> None:
    decision = policy(unlisted).check_project(project(name), NOW)
    assert (decision.action, decision.explicit, decision.policy) == (action, explicit, "allowlist")
    assert reason in decision.reason


def test_deny_beats_allow() -> None:
    subject = AllowlistPolicy(["acme-*"], deny=["acme-evil"], unlisted=Action.ALLOW)
    assert subject.check_project(project("acme-evil"), NOW).action is Action.BLOCK
    assert subject.check_file(file("acme-evil", "1.0"), NOW).action is Action.BLOCK
    assert subject.check_project(project("acme-good"), NOW).explicit


# (unlisted mode, project, version, expected action, explicit, reason fragment)
FILE_CASES = [
    (Action.BLOCK, "requests", "2.32.3", Action.ALLOW, True, "allowlist entry 'requests'"),
    (Action.BLOCK, "requests", None, Action.ALLOW, True, "allowlist entry 'requests'"),
    (Action.BLOCK, "django", "5.1", Action.ALLOW, True, "'django 5.1' is allowed by"),
    (Action.BLOCK, "django", "3.2.25", Action.ALLOW, True, "entry 'django==3.2.25'"),
    (Action.BLOCK, "django", "4.1", Action.BLOCK, False, "'django 4.1' is not an allowed version"),
    (Action.BLOCK, "django", "6.0", Action.BLOCK, False, "admits only 'django>=4.2,<6'"),
    (Action.QUARANTINE, "django", "4.1", Action.QUARANTINE, False, "not an allowed version"),
    (Action.BLOCK, "django", None, Action.BLOCK, False, "'django' has an unknown version"),
    (Action.QUARANTINE, "django", None, Action.QUARANTINE, False, "unknown version"),
    (Action.ALLOW, "django", "4.1", Action.ALLOW, False, "not an allowed version"),
    (Action.BLOCK, "numpy", "2.1.3", Action.ALLOW, True, "numpy==2.1.*"),
    (Action.BLOCK, "numpy", "2.2.0", Action.BLOCK, False, "not an allowed version"),
    (Action.BLOCK, "acme-anything", "0.1", Action.ALLOW, True, "'Acme_*'"),
    (Action.BLOCK, "flask", "3.0", Action.BLOCK, False, "'flask' is not on the allowlist"),
    (Action.QUARANTINE, "flask", None, Action.QUARANTINE, False, "not on the allowlist"),
    (Action.ALLOW, "flask", "3.0", Action.ALLOW, False, "unlisted projects are allowed"),
    (Action.ALLOW, "evil-x", "1.0", Action.BLOCK, False, "'evil-x' is on the denylist"),
    (Action.ALLOW, "ultralytics", "8.3.41", Action.BLOCK, False, "'ultralytics 8.3.41' is on"),
    (Action.ALLOW, "ultralytics", None, Action.BLOCK, False, "denylist"),  # unknown may be it
    (Action.ALLOW, "ultralytics", "8.3.40", Action.ALLOW, False, "unlisted projects are allowed"),
]


@pytest.mark.parametrize(
    ("unlisted", "name", "version", "action", "explicit", "reason"), FILE_CASES
)
def test_check_file(
    unlisted: Action, name: str, version: str | None, action: Action, explicit: bool, reason: str
) -> None:
    decision = policy(unlisted).check_file(file(name, version), NOW)
    assert (decision.action, decision.explicit) == (action, explicit)
    assert reason in decision.reason
    assert decision.available_at is None


def test_file_decisions_are_cached_per_name_and_version() -> None:
    subject = policy(Action.BLOCK)
    first = subject.check_file(file("django", "5.0"), NOW)
    assert subject.check_file(file("django", "5.0"), NOW) is first
    assert subject.check_file(file("django", "4.0"), NOW) is not first


@pytest.mark.parametrize(
    ("allow", "deny", "message"),
    [
        (["django>=x"], [], "'django>=x'"),
        (["requests[socks]"], [], "extras"),
        ([], ["evil @ https://x"], "URLs"),
        (["-bad"], [], "not a valid project name"),
    ],
)
def test_invalid_rules(allow: list[str], deny: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AllowlistPolicy(allow, deny=deny)


def test_invalid_unlisted_action() -> None:
    with pytest.raises(ValueError):
        AllowlistPolicy(["requests"], unlisted=7)  # type: ignore[arg-type]
