from datetime import UTC, datetime

import pytest
from packaging.utils import NormalizedName
from packaging.version import Version

from pipgate.policies.decision import Action, Mode
from pipgate.policies.dependency_confusion import DependencyConfusionPolicy
from pipgate.policies.engine import Policy
from pipgate.policies.subjects import FileSubject, ProjectSubject

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
POLICY = DependencyConfusionPolicy(["acme-*", "Secret_Lib", "corp?"])


def test_is_a_policy_that_needs_no_facts() -> None:
    assert isinstance(POLICY, Policy)
    assert (POLICY.name, POLICY.needs_facts, POLICY.mode) == (
        "dependency-confusion",
        False,
        Mode.ENFORCE,
    )
    assert POLICY.overrides == frozenset()


# (project, blocked?, exact reason or None)
CASES = [
    (
        "acme-utils",
        True,
        "'acme-utils' is an internal project name (pattern 'acme-*'); "
        "it is never served from the public index",
    ),
    (
        "secret-lib",
        True,
        "'secret-lib' is an internal project name; it is never served from the public index",
    ),
    ("corpx", True, None),
    ("acme", False, None),
    ("acmeutils", False, None),
    ("secret-lib2", False, None),
    ("corp", False, None),
    ("requests", False, None),
]


@pytest.mark.parametrize(("name", "blocked", "reason"), CASES)
def test_check_project_and_file_agree(name: str, blocked: bool, reason: str | None) -> None:
    expected = Action.BLOCK if blocked else Action.ALLOW
    by_project = POLICY.check_project(ProjectSubject(NormalizedName(name)), NOW)
    by_file = POLICY.check_file(
        FileSubject(NormalizedName(name), f"{name}-99.0.tar.gz", Version("99.0"), NOW), NOW
    )
    assert by_project.action is by_file.action is expected
    assert by_project.policy == "dependency-confusion"
    if reason is not None:
        assert by_project.reason == by_file.reason == reason


def test_file_with_unknown_version_is_judged_by_name() -> None:
    subject = FileSubject(NormalizedName("acme-utils"), "acme_utils.zip", None, None)
    assert POLICY.check_file(subject, NOW).action is Action.BLOCK


@pytest.mark.parametrize(
    ("internal", "message"),
    [
        (["acme-utils>=1"], "'acme-utils>=1'.*not allowed here"),
        (["acme utils"], "'acme utils'"),
        ([""], "expected a project name or pattern"),
        (["acme[x]"], "extras"),
    ],
)
def test_invalid_internal_names(internal: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DependencyConfusionPolicy(internal)


@pytest.mark.parametrize(
    ("origin", "action"),
    [("public", Action.BLOCK), ("private", Action.ALLOW), ("hosted", Action.ALLOW)],
)
def test_internal_names_are_served_only_from_hosted_or_private_sources(origin, action) -> None:
    name = NormalizedName("acme-utils")
    project = POLICY.check_project(ProjectSubject(name, origin=origin), NOW)
    file = POLICY.check_file(
        FileSubject(name, "acme_utils-1.0.tar.gz", Version("1.0"), NOW, origin=origin), NOW
    )
    assert project.action is file.action is action
