"""Decisions: what a policy says about a project or a file, and why."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


class Action(enum.IntEnum):
    """What happens to a project or file. Larger is stricter."""

    ALLOW = 0
    QUARANTINE = 1
    BLOCK = 2

    def __str__(self) -> str:
        return self.name.lower()

    @property
    def past(self) -> str:
        """The action as done, for messages: ``allowed``, ``quarantined``, ``blocked``."""
        return ("allowed", "quarantined", "blocked")[self]


class Mode(enum.Enum):
    """``enforce`` applies a decision; ``dry-run`` only logs and counts it."""

    ENFORCE = "enforce"
    DRY_RUN = "dry-run"


@dataclass(frozen=True, slots=True)
class Decision:
    """One policy's judgement.

    ``reason`` is written for the person at the terminal. ``available_at`` is
    set when the decision lapses by itself at a known time (a release-age hold).
    ``explicit`` marks an allow that came from an explicit rule (an allowlist
    entry) rather than from the absence of objections; only such allows may
    override other policies, and only where configuration says so.
    """

    action: Action
    policy: str
    reason: str
    available_at: datetime | None = None
    explicit: bool = False
    dry_run: bool = False

    @property
    def allowed(self) -> bool:
        return self.action is Action.ALLOW

    def as_dry_run(self) -> Decision:
        return Decision(
            self.action, self.policy, self.reason, self.available_at, self.explicit, dry_run=True
        )


ALLOW = Decision(Action.ALLOW, "default", "no policy objects")


def strictest(decisions: Iterable[Decision]) -> Decision:
    """The strictest of ``decisions``; the first one wins a tie; ``ALLOW`` if empty.

    For two quarantines that both lapse, the one that lapses last wins, so the
    reported availability date is the real one.
    """
    winner = ALLOW
    for decision in decisions:
        if decision.action > winner.action:
            winner = decision
        elif (
            decision.action is winner.action
            and decision.action is Action.QUARANTINE
            and winner.available_at is not None
        ):
            if decision.available_at is None or decision.available_at > winner.available_at:
                winner = decision
    return winner
