"""Project rules: a name or glob pattern, optionally with version specifiers.

A rule is written as in a requirements file, with ``*`` and ``?`` allowed in
the name: ``requests``, ``django>=4.2,<6``, ``numpy==2.1.*``, ``acme-*``,
``urllib3==2.2.2``. Names and patterns are normalized like project names
(PEP 503), so ``Django_*`` and ``django-*`` are the same rule and both match
``django-foo``. Extras, markers and URLs are not rules and are rejected.

A ``RuleSet`` answers "which rules match this project (and version)?" and
caches the answers, because it is asked for every file of every page.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from .names import BadProjectName, project_name

_RULE = re.compile(r"\s*(?P<name>[A-Za-z0-9._*?-]+)\s*(?P<rest>.*?)\s*", re.DOTALL)
_GLOB = re.compile(r"[a-z0-9*?-]+")


@dataclass(frozen=True, slots=True)
class ProjectRule:
    """One parsed rule. Build it with ``parse_rule``.

    ``text`` is the rule as written (for messages); ``pattern`` is the
    normalized name or glob; ``specifier`` is ``None`` when any version matches.
    """

    text: str
    pattern: str
    specifier: SpecifierSet | None = None
    _regex: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    @property
    def is_glob(self) -> bool:
        return self._regex is not None

    @property
    def matches_every_name(self) -> bool:
        """Whether the name part matches every project name (``*``, ``?*``, ``*?*`` ...)."""
        return self.is_glob and set(self.pattern) <= {"*", "?"} and self.pattern.count("?") <= 1

    @property
    def name(self) -> NormalizedName | None:
        """The project name of a rule without wildcards, else ``None``."""
        return None if self.is_glob else NormalizedName(self.pattern)

    def matches_name(self, name: NormalizedName) -> bool:
        """Whether the normalized project ``name`` matches the name or pattern."""
        if self._regex is None:
            return name == self.pattern
        return self._regex.fullmatch(name) is not None

    def matches_version(self, version: Version | None) -> bool:
        """Whether ``version`` satisfies the specifier.

        A rule without a specifier matches every version, unknown included; a
        rule with one never matches an unknown version. Pre-releases are judged
        by number like any version (choosing them is the installer's business),
        except that ``<6`` excludes ``6.0rc1`` as PEP 440 says.
        """
        if self.specifier is None:
            return True
        if version is None:
            return False
        return self.specifier.contains(version, prereleases=True)

    def matches(self, name: NormalizedName, version: Version | None) -> bool:
        return self.matches_name(name) and self.matches_version(version)

    def __str__(self) -> str:
        return self.text


def parse_rule(text: str, *, versions: bool = True) -> ProjectRule:
    """Parse one rule; ``versions=False`` accepts names and patterns only.

    Raises ``ValueError`` naming ``text`` and what is wrong with it.
    """
    if not isinstance(text, str):
        raise ValueError(f"invalid project rule {text!r}: expected a string such as 'django>=4.2'")
    match = _RULE.fullmatch(text)
    if match is None:
        raise ValueError(
            f"invalid project rule {text!r}: expected a project name or pattern "
            f"(letters, digits, '-', '_', '.', '*', '?'), e.g. 'requests' or 'acme-*'"
        )
    raw_name, rest = match.group("name", "rest")
    is_glob = "*" in raw_name or "?" in raw_name
    if is_glob:
        pattern = canonicalize_name(raw_name)
        if not _GLOB.fullmatch(pattern):
            raise ValueError(
                f"invalid project rule {text!r}: {raw_name!r} is not a valid project name or pattern"
            )
    else:
        try:
            pattern = project_name(raw_name)
        except BadProjectName:
            raise ValueError(
                f"invalid project rule {text!r}: {raw_name!r} is not a valid project name"
            ) from None
    specifier = _parse_specifier(text, rest, versions) if rest else None
    regex = re.compile(fnmatch.translate(pattern)) if is_glob else None
    return ProjectRule(text.strip(), pattern, specifier, regex)


def _parse_specifier(text: str, rest: str, versions: bool) -> SpecifierSet:
    if rest[0] == "[":
        raise ValueError(f"invalid project rule {text!r}: extras are not supported in rules")
    if ";" in rest or "@" in rest:
        raise ValueError(
            f"invalid project rule {text!r}: environment markers and URLs are not supported"
        )
    if rest[0] not in "<>=!~":
        raise ValueError(
            f"invalid project rule {text!r}: unexpected {rest!r} after the project name; "
            f"expected a version specifier such as '>=4.2'"
        )
    if not versions:
        raise ValueError(
            f"invalid project rule {text!r}: version specifiers are not allowed here; "
            f"give a name or pattern only"
        )
    try:
        return SpecifierSet(rest)
    except InvalidSpecifier as exc:
        raise ValueError(
            f"invalid project rule {text!r}: bad version specifier {rest!r} "
            f"(use e.g. '>=4.2,<6' or '==2.32.3')"
        ) from exc


class RuleSet:
    """Rules in configuration order, with cached lookups.

    Lookups are memoized per normalized name and per (name, version) in
    bounded LRU caches, so asking about 10,000 files of one project costs one
    pattern scan and one specifier test per distinct version.
    """

    __slots__ = ("_exact", "_globs", "first_match", "for_name", "rules")

    def __init__(self, rules: Iterable[ProjectRule | str] = (), *, versions: bool = True) -> None:
        self.rules: tuple[ProjectRule, ...] = tuple(
            rule if isinstance(rule, ProjectRule) else parse_rule(rule, versions=versions)
            for rule in rules
        )
        self._exact: dict[str, list[int]] = {}
        self._globs: list[int] = []
        for index, rule in enumerate(self.rules):
            if rule.is_glob:
                self._globs.append(index)
            else:
                self._exact.setdefault(rule.pattern, []).append(index)
        self.for_name = lru_cache(maxsize=16_384)(self._for_name)
        self.first_match = lru_cache(maxsize=65_536)(self._first_match)

    def _for_name(self, name: NormalizedName) -> tuple[ProjectRule, ...]:
        """The rules whose name or pattern matches ``name``, in configuration order."""
        indexes = self._exact.get(name, [])
        globbed = [i for i in self._globs if self.rules[i].matches_name(name)]
        if globbed:
            indexes = sorted([*indexes, *globbed])
        return tuple(self.rules[i] for i in indexes)

    def _first_match(self, name: NormalizedName, version: Version | None) -> ProjectRule | None:
        """The first rule matching ``name`` and ``version``, or ``None``."""
        for rule in self.for_name(name):
            if rule.matches_version(version):
                return rule
        return None

    @property
    def names(self) -> tuple[NormalizedName, ...]:
        """The names of the rules without wildcards, in order, without repeats."""
        return tuple(dict.fromkeys(r.name for r in self.rules if r.name is not None))

    def __iter__(self) -> Iterator[ProjectRule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __bool__(self) -> bool:
        return bool(self.rules)

    def __repr__(self) -> str:
        return f"RuleSet({[r.text for r in self.rules]!r})"
