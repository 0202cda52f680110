"""The allowlist and the denylist: which projects (and versions) an index may serve.

An allowlist entry is a ``ProjectRule``: a name or glob, optionally with
version specifiers (``django>=4.2,<6``). What happens to everything not on the
list is ``unlisted``: ``ALLOW`` (the allowlist only grants explicit allows that
may override other policies), ``QUARANTINE`` (the request-access flow: held
until an administrator approves it) or ``BLOCK``.

The denylist always blocks, whatever the allowlist says. A denylist entry with
a specifier (``ultralytics==8.3.41``) blocks only the files of matching
versions, and files of unknown version, since those could be the bad ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache

from packaging.utils import NormalizedName
from packaging.version import Version

from .decision import Action, Decision, Mode
from .rules import ProjectRule, RuleSet
from .subjects import FileSubject, ProjectSubject

NAME = "allowlist"


class AllowlistPolicy:
    """Allow listed projects explicitly; treat the rest as ``unlisted`` says; block denied ones.

    Project check: by name only (``needs_facts`` is false), so an unlisted or
    denied name is never requested upstream. A project with any allowlist
    entry is allowed explicitly at project level, even if only some versions
    are listed. File check: a file whose version satisfies no entry of its
    project, or whose version is unknown, is treated as unlisted. Decisions
    depend on (name, version) only and are cached.
    """

    name = NAME
    needs_facts = False

    def __init__(
        self,
        allow: Iterable[ProjectRule | str] = (),
        *,
        deny: Iterable[ProjectRule | str] = (),
        unlisted: Action = Action.BLOCK,
        mode: Mode = Mode.ENFORCE,
        overrides: Iterable[str] = (),
    ) -> None:
        self.allow = allow if isinstance(allow, RuleSet) else RuleSet(allow)
        self.deny = deny if isinstance(deny, RuleSet) else RuleSet(deny)
        self.unlisted = Action(unlisted)
        self.mode = mode
        self.overrides = frozenset(overrides)
        self._project = lru_cache(maxsize=16_384)(self._decide_project)
        self._file = lru_cache(maxsize=65_536)(self._decide_file)

    def check_project(self, subject: ProjectSubject, now: datetime) -> Decision:
        return self._project(subject.name)

    def check_file(self, subject: FileSubject, now: datetime) -> Decision:
        return self._file(subject.project, subject.version)

    def _decide_project(self, name: NormalizedName) -> Decision:
        for rule in self.deny.for_name(name):
            if rule.specifier is None:
                return self._denied(name, rule)
        entries = self.allow.for_name(name)
        if entries:
            return Decision(
                Action.ALLOW,
                NAME,
                f"{name!r} is on the allowlist "
                f"({'entry' if len(entries) == 1 else 'entries'} {_quote(entries)})",
                explicit=True,
            )
        return self._unlisted(f"{name!r} is not on the allowlist")

    def _decide_file(self, name: NormalizedName, version: Version | None) -> Decision:
        for rule in self.deny.for_name(name):
            if version is None or rule.matches_version(version):
                return self._denied(name, rule, version)
        entries = self.allow.for_name(name)
        if not entries:
            return self._unlisted(f"{name!r} is not on the allowlist")
        rule = self.allow.first_match(name, version)
        if rule is not None:
            return Decision(
                Action.ALLOW,
                NAME,
                f"{_label(name, version)} is allowed by allowlist entry {rule.text!r}",
                explicit=True,
            )
        what = (
            f"{name!r} has an unknown version"
            if version is None
            else f"{_label(name, version)} is not an allowed version"
        )
        return self._unlisted(f"{what}; the allowlist admits only {_quote(entries)}")

    def _denied(
        self, name: NormalizedName, rule: ProjectRule, version: Version | None = None
    ) -> Decision:
        subject = _label(name, version) if rule.specifier is not None else repr(name)
        return Decision(Action.BLOCK, NAME, f"{subject} is on the denylist (entry {rule.text!r})")

    def _unlisted(self, what: str) -> Decision:
        if self.unlisted is Action.BLOCK:
            return Decision(Action.BLOCK, NAME, f"{what}; ask an administrator to add it")
        if self.unlisted is Action.QUARANTINE:
            return Decision(
                Action.QUARANTINE,
                NAME,
                f"{what}; it is quarantined until an administrator approves it",
            )
        return Decision(Action.ALLOW, NAME, f"{what}; unlisted projects are allowed")

    def __repr__(self) -> str:
        return (
            f"AllowlistPolicy({self.allow!r}, deny={self.deny!r}, unlisted={self.unlisted}, "
            f"mode={self.mode.value}, overrides={sorted(self.overrides)})"
        )


def _label(name: NormalizedName, version: Version | None) -> str:
    return f"'{name} {version}'" if version is not None else repr(name)


def _quote(rules: Iterable[ProjectRule]) -> str:
    return ", ".join(repr(rule.text) for rule in rules)
