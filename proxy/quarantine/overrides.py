"""Reviewer rules as the gate's ``Overrides``: release, reject, runtime allow and deny lists.

For a file, in this order:

1. a runtime ``deny`` rule that matches blocks it;
2. else the most specific ``release`` or ``reject`` (file, then version, then
   project; the newest on a tie): a reject blocks with the reviewer's reason,
   a release cancels the policies' objections;
3. else a runtime ``allow`` rule that matches cancels them;
4. else the policies' verdict stands.

A release cancels every objection except those that must not be lifted by a
reviewer: dependency confusion (an internal name served from upstream is the
attack itself), known malware (the malicious policy: a false positive is
exempted in configuration, with an expiry) and the operator's denylist. Those remain, and so does any
dry-run observation. Projects are judged likewise with the project-level rules.

A rule of index ``*`` (a global reject or deny) applies on every index, beside
the index's own rules; among releases and rejects of equal specificity the
newest wins, wherever it applies.

Lookups run for every file of every page, so rules live in an immutable
snapshot swapped whole on ``load``; ``generation`` changes on every load and
when a timed release lapses, which makes cached pages rebuild.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from packaging.version import InvalidVersion, Version

from pipgate.policies.decision import Action, Decision, strictest
from pipgate.policies.engine import Verdict
from pipgate.policies.rules import ProjectRule, parse_rule
from pipgate.policies.subjects import FileSubject
from pipgate.proxy.errors import StoreUnavailable
from pipgate.proxy.quarantine import records
from pipgate.proxy.quarantine.records import ALL_INDEXES, REVIEW

#: Objections no reviewer rule lifts (see the module docstring).
UNRELEASABLE_POLICIES = frozenset({"dependency-confusion", "malicious"})


def releasable(decision: Decision) -> bool:
    if decision.policy in UNRELEASABLE_POLICIES:
        return False
    # The allowlist policy blocks both unlisted and denied projects; only the
    # denylist's reasons say "on the denylist", and those stay.
    return not (decision.policy == "allowlist" and " on the denylist " in decision.reason)


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A stored rule made ready for lookups: its version and list rule parsed."""

    id: int
    index: str
    kind: str
    project: str
    version: Version | None
    file: str | None
    rule: ProjectRule | None
    until: datetime | None
    reason: str
    actor: str

    @classmethod
    def of(cls, stored: records.Rule) -> CompiledRule:
        version = None
        if stored.version:
            try:
                version = Version(stored.version)
            except InvalidVersion:
                version = None
        return cls(
            id=stored.id,
            index=stored.index,
            kind=stored.kind,
            project=stored.project,
            version=version,
            file=stored.file,
            rule=parse_rule(stored.rule) if stored.rule else None,
            until=stored.until,
            reason=stored.reason,
            actor=stored.actor,
        )

    def active(self, now: datetime) -> bool:
        return self.until is None or now < self.until

    @property
    def specificity(self) -> int:
        return 3 if self.file else 2 if self.version is not None else 1

    def covers(self, subject: FileSubject) -> bool:
        if self.rule is not None:
            return self.rule.matches(subject.project, subject.version)
        if self.file:
            return self.file == subject.filename
        if self.version is not None:
            return subject.version == self.version
        return True

    def decision(self) -> Decision:
        if self.kind == "reject":
            return Decision(Action.BLOCK, REVIEW, f"rejected by {self.actor}: {self.reason}")
        if self.kind == "deny":
            assert self.rule is not None
            return Decision(
                Action.BLOCK,
                REVIEW,
                f"on the runtime denylist (entry {self.rule.text!r} added by {self.actor}: "
                f"{self.reason})",
            )
        what = (
            "released"
            if self.kind == "release"
            else f"allowed by {self.rule.text!r}"
            if self.rule
            else "allowed"
        )
        return Decision(
            Action.ALLOW, REVIEW, f"{what} by {self.actor}: {self.reason}", explicit=True
        )


class _Snapshot:
    def __init__(self, rules: Iterable[CompiledRule], now: datetime) -> None:
        self.rules = tuple(r for r in rules if r.active(now))
        self.by_project: dict[tuple[str, str], list[CompiledRule]] = {}
        self.lists: dict[str, list[CompiledRule]] = {}
        for rule in self.rules:
            if rule.rule is not None and rule.rule.is_glob:
                self.lists.setdefault(rule.index, []).append(rule)
            else:
                self.by_project.setdefault((rule.index, rule.project), []).append(rule)
        self.next_lapse = min((r.until for r in self.rules if r.until is not None), default=None)
        self._relevant: dict[tuple[str, str], tuple[CompiledRule, ...]] = {}

    def relevant(self, index: str, name: str) -> tuple[CompiledRule, ...]:
        key = (index, name)
        found = self._relevant.get(key)
        if found is None:
            globs = [
                r
                for r in (*self.lists.get(index, ()), *self.lists.get(ALL_INDEXES, ()))
                if r.rule and r.rule.matches_name(name)  # type: ignore[arg-type]
            ]
            found = (
                *self.by_project.get(key, ()),
                *self.by_project.get((ALL_INDEXES, name), ()),
                *globs,
            )
            if len(self._relevant) > 100_000:
                self._relevant.clear()
            self._relevant[key] = found
        return found


class ReviewOverrides:
    """The ``Overrides`` of every gate; ``load`` replaces the rules (those in force).

    Until the first ``load`` nothing is judged: ``project`` and ``file`` raise
    ``StoreUnavailable`` (a replica that started while its database was down must not
    serve what a reviewer rejected; it answers 503 until the rules are read)."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._rules: tuple[CompiledRule, ...] = ()
        self._generation = 0
        self._snapshot = _Snapshot((), clock())
        #: Whether the rules were read at least once.
        self.loaded = False

    def load(self, rules: Iterable[records.Rule]) -> None:
        self._rules = tuple(CompiledRule.of(rule) for rule in rules)
        self._rebuild()
        self.loaded = True

    def _require_loaded(self) -> None:
        if not self.loaded:
            raise StoreUnavailable(
                "the reviewer rules have not been read yet (the state store has not "
                "answered since start-up)"
            )

    def _rebuild(self) -> None:
        self._snapshot = _Snapshot(self._rules, self._clock())
        self._generation += 1

    @property
    def generation(self) -> int:
        lapse = self._snapshot.next_lapse
        if lapse is not None and self._clock() >= lapse:
            self._rebuild()
        return self._generation

    def project(self, index: str, name: str, verdict: Verdict, now: datetime) -> Verdict:
        self._require_loaded()
        rules = self._snapshot.relevant(index, name)
        if not rules:
            return verdict
        active = [r for r in rules if r.active(now)]
        for rule in active:
            if rule.kind == "deny" and rule.rule is not None and rule.rule.specifier is None:
                return _blocked(rule)
        decided = [r for r in active if r.kind in ("release", "reject") and r.specificity == 1]
        if decided:
            rule = max(decided, key=lambda r: r.id)
            return _blocked(rule) if rule.kind == "reject" else _released(verdict, rule)
        for rule in active:
            if rule.kind == "allow":
                return _released(verdict, rule)
        return verdict

    def judges_files(self, index: str, name: str) -> bool:
        self._require_loaded()
        return bool(self._snapshot.relevant(index, name))

    def file(self, index: str, subject: FileSubject, verdict: Verdict, now: datetime) -> Verdict:
        self._require_loaded()
        rules = self._snapshot.relevant(index, subject.project)
        if not rules:
            return verdict
        active = [r for r in rules if r.active(now) and r.covers(subject)]
        for rule in active:
            if rule.kind == "deny":
                return _blocked(rule)
        decided = [r for r in active if r.kind in ("release", "reject")]
        if decided:
            rule = max(decided, key=lambda r: (r.specificity, r.id))
            return _blocked(rule) if rule.kind == "reject" else _released(verdict, rule)
        for rule in active:
            if rule.kind == "allow":
                return _released(verdict, rule)
        return verdict


def _blocked(rule: CompiledRule) -> Verdict:
    decision = rule.decision()
    return Verdict(decision, (decision,))


def _released(verdict: Verdict, rule: CompiledRule) -> Verdict:
    kept = tuple(d for d in verdict.observed if d.dry_run or not releasable(d))
    enforced = [d for d in kept if not d.dry_run]
    if enforced:
        return Verdict(strictest(enforced), kept)
    if verdict.allowed and not verdict.observed:
        return verdict
    return Verdict(rule.decision(), kept)
