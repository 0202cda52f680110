"""Combine policies into one verdict per project or file.

Contract of a policy (see ``Policy``): pure, no I/O, time passed in. A policy in
dry-run mode is still asked; its objections are reported in ``Verdict.observed``
but never enforced. The strictest enforced decision wins, except that an
explicit allow from a policy overrides the decisions of the policies it names
in its ``overrides``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Protocol, runtime_checkable

from .decision import ALLOW, Action, Decision, Mode, strictest
from .subjects import FileSubject, ProjectSubject


@runtime_checkable
class Policy(Protocol):
    """One policy. ``name`` is stable and appears in messages, logs and metrics.

    ``needs_facts`` is true for a policy that judges a project better with
    upstream facts (first upload, release count); the proxy asks the others
    before it contacts upstream, so a blocked name is never requested there.
    ``overrides`` names the policies whose objections an explicit allow from
    this policy cancels. A policy whose ``check_file`` always answers a plain allow
    (it judges projects only) may say so with a class attribute ``judges_files =
    False``: files are then judged without asking it.
    """

    name: str
    mode: Mode
    needs_facts: bool
    overrides: frozenset[str]

    def check_project(self, subject: ProjectSubject, now: datetime) -> Decision: ...

    def check_file(self, subject: FileSubject, now: datetime) -> Decision: ...


@dataclass(frozen=True, slots=True)
class Verdict:
    """The enforced ``decision`` and every objection seen, dry-run ones included."""

    decision: Decision
    observed: tuple[Decision, ...] = ()

    @property
    def action(self) -> Action:
        return self.decision.action

    @property
    def allowed(self) -> bool:
        return self.decision.action is Action.ALLOW


ALLOWED = Verdict(ALLOW)


def combine(decisions: Iterable[tuple[Policy, Decision]]) -> Verdict:
    """Fold each policy's decision into one verdict (see module docstring)."""
    enforced: list[Decision] = []
    observed: list[Decision] = []
    overridden: set[str] = set()
    explicit: Decision | None = None
    for policy, decision in decisions:
        if policy.mode is Mode.DRY_RUN:
            if not decision.allowed:
                observed.append(decision.as_dry_run())
            continue
        if decision.allowed:
            if decision.explicit and policy.overrides:
                overridden |= policy.overrides
                explicit = explicit or decision
            continue
        enforced.append(decision)
        observed.append(decision)
    if overridden:
        enforced = [d for d in enforced if d.policy not in overridden]
    winner = strictest(enforced)
    if winner.allowed and explicit is not None:
        winner = explicit
    return Verdict(winner, tuple(observed)) if observed or explicit else ALLOWED


def _combined(decisions: list[tuple[Policy, Decision]]) -> Verdict:
    """``combine(decisions)``, without its work when every decision is a plain allow (the
    usual case, asked for every file of a page and every request for a warm page)."""
    for policy, decision in decisions:
        if decision.action is not Action.ALLOW or (decision.explicit and policy.overrides):
            return combine(decisions)
    return ALLOWED


@dataclass(frozen=True)
class PolicySet:
    """The policies of one index, asked in order."""

    policies: Sequence[Policy] = field(default_factory=tuple)

    def judge_project(
        self, subject: ProjectSubject, now: datetime, *, before_fetch: bool = False
    ) -> Verdict:
        """Judge a project. With ``before_fetch``, only policies that need no facts speak."""
        decisions = [
            (policy, policy.check_project(subject, now))
            for policy in self.policies
            if not (before_fetch and policy.needs_facts)
        ]
        return _combined(decisions)

    @cached_property
    def _file_judges(self) -> tuple[Policy, ...]:
        """The policies whose ``check_file`` can say more than a plain allow: a policy
        that judges projects only says so with ``judges_files = False``."""
        return tuple(p for p in self.policies if getattr(p, "judges_files", True))

    def judge_file(self, subject: FileSubject, now: datetime) -> Verdict:
        return _combined(
            [(policy, policy.check_file(subject, now)) for policy in self._file_judges]
        )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(policy.name for policy in self.policies)


def recheck_at(verdicts: Iterable[Verdict]) -> datetime | None:
    """The earliest time at which one of ``verdicts`` lapses by itself, if any."""
    times = [
        d.available_at
        for v in verdicts
        for d in (v.decision, *v.observed)
        if d.available_at is not None
    ]
    return min(times, default=None)
