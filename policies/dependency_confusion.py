"""Dependency confusion: never serve an internal project name from the public index.

If ``acme-utils`` lives on a private index, anyone can upload ``acme-utils``
99.0 to PyPI, and a resolver that sees both indexes may pick the public one.
This policy blocks the configured internal names and patterns when they would
come from the public index, by name alone, so such a name is never even
requested there. Files are checked too: a pinned file URL must not bypass it.
The same names from a hosted index or a private upstream (``origin``) are
allowed: that is where internal projects live.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache

from packaging.utils import NormalizedName

from .decision import Action, Decision, Mode
from .rules import ProjectRule, RuleSet
from .subjects import FileSubject, ProjectSubject

NAME = "dependency-confusion"


class DependencyConfusionPolicy:
    """Block every project whose normalized name matches one of ``internal``.

    ``internal`` holds names and glob patterns (``acme-*``); version specifiers
    are rejected with ``ValueError``, since any version of an internal name on
    the public index is an impostor. Decisions are cached per name.
    """

    name = NAME
    needs_facts = False
    overrides: frozenset[str] = frozenset()

    def __init__(self, internal: Iterable[ProjectRule | str], *, mode: Mode = Mode.ENFORCE) -> None:
        self.internal = (
            internal if isinstance(internal, RuleSet) else RuleSet(internal, versions=False)
        )
        if any(rule.specifier is not None for rule in self.internal):
            raise ValueError("dependency-confusion: internal names take no version specifiers")
        self.mode = mode
        self._decide = lru_cache(maxsize=16_384)(self._decide_name)

    def check_project(self, subject: ProjectSubject, now: datetime) -> Decision:
        if subject.origin != "public":
            return _PRIVATE
        return self._decide(subject.name)

    def check_file(self, subject: FileSubject, now: datetime) -> Decision:
        if subject.origin != "public":
            return _PRIVATE
        return self._decide(subject.project)

    def _decide_name(self, name: NormalizedName) -> Decision:
        rule = self.internal.first_match(name, None)
        if rule is None:
            return _NOT_INTERNAL
        where = f" (pattern {rule.text!r})" if rule.is_glob else ""
        return Decision(
            Action.BLOCK,
            NAME,
            f"{name!r} is an internal project name{where}; "
            "it is never served from the public index",
        )

    def __repr__(self) -> str:
        return f"DependencyConfusionPolicy({self.internal!r}, mode={self.mode.value})"


_NOT_INTERNAL = Decision(Action.ALLOW, NAME, "not an internal project name")
_PRIVATE = Decision(Action.ALLOW, NAME, "served from a hosted index or a private upstream")
