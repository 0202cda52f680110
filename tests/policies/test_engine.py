"""The engine's contract: strictest enforced decision wins, dry-run only observes,
an explicit allow cancels exactly the policies its policy names in ``overrides``."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from packaging.utils import NormalizedName
from packaging.version import Version

from pipgate.policies.allowlist import AllowlistPolicy
from pipgate.policies.decision import Action, Decision, Mode
from pipgate.policies.engine import ALLOWED, PolicySet, Verdict, recheck_at
from pipgate.policies.release_age import ReleaseAgePolicy
from pipgate.policies.subjects import FileSubject, ProjectFacts, ProjectSubject

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=3)
SOONER = NOW + timedelta(days=1)


@dataclass
class Fixed:
    """A policy that always says ``action``."""

    name: str
    action: Action
    mode: Mode = Mode.ENFORCE
    explicit: bool = False
    available_at: datetime | None = None
    overrides: frozenset[str] = field(default_factory=frozenset)
    needs_facts: bool = False

    def decision(self) -> Decision:
        return Decision(
            self.action,
            self.name,
            f"{self.name} says {self.action}",
            self.available_at,
            self.explicit,
        )

    def check_project(self, subject: ProjectSubject, now: datetime) -> Decision:
        return self.decision()

    def check_file(self, subject: FileSubject, now: datetime) -> Decision:
        return self.decision()


A = Action.ALLOW
Q = Action.QUARANTINE
B = Action.BLOCK
DRY = Mode.DRY_RUN
TRUSTED = Fixed("allowlist", A, explicit=True, overrides=frozenset({"release-age"}))
SUBJECT = FileSubject(NormalizedName("demo"), "demo-1.0.tar.gz", Version("1.0"), NOW)

# (policies, winning policy, winning action, observed policies)
CASES = [
    pytest.param([], "default", A, [], id="no policies"),
    pytest.param([Fixed("a", A), Fixed("b", A)], "default", A, [], id="all allow"),
    pytest.param([Fixed("a", Q), Fixed("b", B)], "b", B, ["a", "b"], id="block beats quarantine"),
    pytest.param([Fixed("a", Q), Fixed("b", Q)], "a", Q, ["a", "b"], id="tie: first wins"),
    pytest.param(
        [Fixed("a", Q, available_at=SOONER), Fixed("b", Q, available_at=LATER)],
        "b",
        Q,
        ["a", "b"],
        id="later lapse wins",
    ),
    pytest.param(
        [Fixed("a", Q, available_at=LATER), Fixed("b", Q)],
        "b",
        Q,
        ["a", "b"],
        id="indefinite beats timed",
    ),
    pytest.param([Fixed("a", B, mode=DRY)], "default", A, ["a"], id="dry-run only observes"),
    pytest.param(
        [Fixed("a", B, mode=DRY), Fixed("b", Q)], "b", Q, ["a", "b"], id="dry-run + quarantine"
    ),
    pytest.param(
        [TRUSTED, Fixed("release-age", Q)], "allowlist", A, ["release-age"], id="override cancels"
    ),
    pytest.param(
        [Fixed("release-age", Q), TRUSTED], "allowlist", A, ["release-age"], id="order irrelevant"
    ),
    pytest.param(
        [TRUSTED, Fixed("typosquat", B), Fixed("release-age", Q)],
        "typosquat",
        B,
        ["typosquat", "release-age"],
        id="override is only for named policies",
    ),
    pytest.param(
        [Fixed("allowlist", A, explicit=True), Fixed("release-age", Q)],
        "release-age",
        Q,
        ["release-age"],
        id="explicit without overrides cancels nothing",
    ),
    pytest.param(
        [
            Fixed("allowlist", A, explicit=False, overrides=frozenset({"release-age"})),
            Fixed("release-age", Q),
        ],
        "release-age",
        Q,
        ["release-age"],
        id="a plain allow cancels nothing",
    ),
    pytest.param(
        [
            Fixed("allowlist", A, mode=DRY, explicit=True, overrides=frozenset({"release-age"})),
            Fixed("release-age", Q),
        ],
        "release-age",
        Q,
        ["release-age"],
        id="a dry-run explicit allow cancels nothing",
    ),
    pytest.param(
        [TRUSTED, Fixed("allowlist-deny", B)],
        "allowlist-deny",
        B,
        ["allowlist-deny"],
        id="explicit allow never beats a block it does not override",
    ),
]


@pytest.mark.parametrize(("policies", "winner", "action", "observed"), CASES)
def test_judge_file(
    policies: list[Fixed], winner: str, action: Action, observed: list[str]
) -> None:
    verdict = PolicySet(policies).judge_file(SUBJECT, NOW)
    assert (verdict.decision.policy, verdict.action) == (winner, action)
    assert [d.policy for d in verdict.observed] == observed
    assert verdict.allowed is (action is Action.ALLOW)


def test_dry_run_objections_are_marked() -> None:
    verdict = PolicySet([Fixed("a", B, mode=DRY), Fixed("b", Q)]).judge_file(SUBJECT, NOW)
    assert [(d.policy, d.dry_run) for d in verdict.observed] == [("a", True), ("b", False)]
    assert verdict.decision.dry_run is False


def test_nothing_to_report_is_the_shared_allowed_verdict() -> None:
    assert PolicySet([Fixed("a", A)]).judge_file(SUBJECT, NOW) is ALLOWED


def test_before_fetch_asks_only_policies_without_facts() -> None:
    policies = PolicySet([Fixed("by-name", Q), Fixed("by-facts", B, needs_facts=True)])
    project = ProjectSubject(NormalizedName("demo"), facts=ProjectFacts(None, None))
    assert policies.judge_project(project, NOW, before_fetch=True).decision.policy == "by-name"
    assert policies.judge_project(project, NOW).decision.policy == "by-facts"
    assert policies.names == ("by-name", "by-facts")


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        ([], None),
        ([ALLOWED], None),
        ([Verdict(Decision(Q, "r", "x", LATER)), Verdict(Decision(Q, "r", "x", SOONER))], SOONER),
        ([Verdict(ALLOWED.decision, (Decision(Q, "r", "x", LATER, dry_run=True),))], LATER),
    ],
)
def test_recheck_at(verdicts: list[Verdict], expected: datetime | None) -> None:
    assert recheck_at(verdicts) == expected


# With the real policies: an allowlisted version skips the release-age hold only
# where the allowlist says it overrides release-age.
@pytest.mark.parametrize(
    ("overrides", "version", "action", "winner"),
    [
        (["release-age"], "5.1", A, "allowlist"),
        ([], "5.1", Q, "release-age"),
        (["release-age"], "3.0", B, "allowlist"),  # not an allowed version: no explicit allow
        (["typosquat"], "5.1", Q, "release-age"),
    ],
)
def test_allowlist_overrides_release_age(
    overrides: list[str], version: str, action: Action, winner: str
) -> None:
    policies = PolicySet(
        [
            AllowlistPolicy(["django>=4.2"], unlisted=Action.BLOCK, overrides=overrides),
            ReleaseAgePolicy(),
        ]
    )
    young = FileSubject(
        NormalizedName("django"),
        f"django-{version}.tar.gz",
        Version(version),
        NOW - timedelta(hours=1),
    )
    verdict = policies.judge_file(young, NOW)
    assert (verdict.action, verdict.decision.policy) == (action, winner)


@dataclass
class ProjectsOnly(Fixed):
    """A policy that judges projects only, and says so (``judges_files = False``)."""

    judges_files: bool = False

    def check_file(self, subject: FileSubject, now: datetime) -> Decision:
        raise AssertionError("a policy that judges projects only was asked about a file")


def test_a_policy_that_judges_projects_only_is_not_asked_about_files():
    policies = PolicySet((ProjectsOnly("names", Q), Fixed("age", A)))
    assert policies.judge_file(SUBJECT, NOW) is ALLOWED
    held = PolicySet((ProjectsOnly("names", A), Fixed("age", Q)))
    assert held.judge_file(SUBJECT, NOW).decision.policy == "age"
    assert held.judge_project(ProjectSubject(NormalizedName("demo")), NOW).decision.policy == "age"
