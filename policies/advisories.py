"""Security advisories as an immutable index: which versions of which project they affect.

An ``AdvisoryIndex`` maps a normalized project name to the claims advisories
make on it (``Affected``): OSV ``ECOSYSTEM`` ranges (``introduced`` /
``fixed`` / ``last_affected`` events, evaluated as the OSV schema says),
explicit versions, or, when a record gives neither, every version.

The index is compact: each advisory is one tuple of strings and each claim
one tuple holding its events and versions encoded as a single string, so
OSV's whole PyPI export (some 20,000 records) costs about 12 MiB, loads in
under a second, and adds almost nothing for the garbage collector to scan
(tuples of strings are not tracked). A claim is compiled into ``packaging`` versions only when its
project is first asked about (and cached). A claim that has ranges keeps no
explicit versions: in OSV's PyPI data ``versions`` is enumerated from the
ranges.

Advisories that name each other as aliases (a ``PYSEC`` record and the
``GHSA`` record of the same CVE) form a group: they share the highest known
severity, and a file affected by both is reported once.

Built once per feed load by ``IndexBuilder``; never changed afterwards.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache

from packaging.utils import NormalizedName, canonicalize_version
from packaging.version import InvalidVersion, Version

from .severity import Severity

#: The two kinds of advisories, by the policy that uses them.
MALICIOUS = "malicious"
VULNERABILITIES = "vulnerabilities"
KINDS = (MALICIOUS, VULNERABILITIES)

#: Which id of a group names it in messages: OpenSSF's, GitHub's, PyPI's, then any other.
_PREFERRED = ("MAL-", "GHSA-", "PYSEC-")

_INTRODUCED, _FIXED, _LAST_AFFECTED = 0, 1, 2
_EVENT_KINDS = {"introduced": _INTRODUCED, "fixed": _FIXED, "last_affected": _LAST_AFFECTED}
#: How a claim is stored: events as ``<code><version>`` joined by ``_ITEM``, ranges
#: joined by ``_RANGE``; versions joined by ``_ITEM``.
_CODES = {"introduced": "i", "fixed": "f", "last_affected": "l"}
_NAMES = {code: name for name, code in _CODES.items()}
_RANGE, _ITEM = "\x1e", "\x1f"


def kind_of(advisory_id: str) -> str:
    """``malicious`` for OpenSSF malicious-packages records (``MAL-...``), else ``vulnerabilities``."""
    return MALICIOUS if advisory_id.upper().startswith("MAL-") else VULNERABILITIES


@dataclass(frozen=True, slots=True)
class Advisory:
    """One advisory. ``aliases`` are its own aliases and the ids of the advisories
    grouped with it; ``severity`` is the highest known in its group, ``None`` if
    none is known; ``group`` is the same for every advisory of a group."""

    id: str
    aliases: tuple[str, ...]
    summary: str
    severity: Severity | None
    group: str

    def label(self) -> str:
        """``GHSA-9wx4-h78v-vm56 (CVE-2024-35195, PYSEC-2024-...)``."""
        return f"{self.id} ({', '.join(self.aliases)})" if self.aliases else self.id

    def known_as(self, identifier: str) -> bool:
        """Whether ``identifier`` is this advisory's id or one of its aliases (any case)."""
        wanted = identifier.strip().upper()
        return self.id.upper() == wanted or any(a.upper() == wanted for a in self.aliases)


@dataclass(frozen=True, slots=True)
class Affected:
    """One advisory's claim on one project, as the record wrote it.

    ``ranges`` holds the events of each ``ECOSYSTEM`` (or ``SEMVER``) range as
    ``(kind, version)`` pairs; ``versions`` the explicit versions (kept only
    when there are no such ranges); ``every_version`` is true when the record
    gave no ranges of any type and no versions.
    """

    advisory: Advisory
    ranges: tuple[tuple[tuple[str, str], ...], ...] = ()
    versions: tuple[str, ...] = ()
    every_version: bool = False


@dataclass(frozen=True, slots=True)
class Match:
    """An advisory that affects a version; ``fixed`` is the first version that
    fixes it for that version, when the advisory says."""

    advisory: Advisory
    fixed: Version | None = None


@dataclass(frozen=True, slots=True)
class _Claim:
    """An ``Affected`` compiled for matching: sorted events of each range, and the
    explicit versions in canonical form (``1.0.0`` as ``1``; unparseable ones as written)."""

    advisory: Advisory
    ranges: tuple[tuple[tuple[int, Version | None], ...], ...]
    versions: frozenset[str]
    every_version: bool

    def match(self, version: Version | str) -> Match | None:
        if self.every_version:
            return Match(self.advisory)
        if isinstance(version, str):
            return Match(self.advisory) if version in self.versions else None
        if self.versions and canonicalize_version(version) in self.versions:
            return Match(self.advisory)
        for events in self.ranges:
            if _affected(events, version):
                return Match(self.advisory, _fixed_after(events, version))
        return None


def _affected(events: tuple[tuple[int, Version | None], ...], version: Version) -> bool:
    """The OSV schema's evaluation of one range's sorted events."""
    vulnerable = False
    for kind, at in events:
        if kind == _INTRODUCED:
            if at is None or at <= version:
                vulnerable = True
        elif at is not None and (at <= version if kind == _FIXED else at < version):
            vulnerable = False
    return vulnerable


def _fixed_after(
    events: tuple[tuple[int, Version | None], ...], version: Version
) -> Version | None:
    for kind, at in events:
        if kind == _FIXED and at is not None and at > version:
            return at
    return None


def _parse(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _compile(affected: Affected) -> _Claim:
    ranges = []
    for events in affected.ranges:
        compiled: list[tuple[int, Version | None]] = []
        for kind_text, text in events:
            kind = _EVENT_KINDS.get(kind_text)
            if kind is None:
                continue  # "limit" bounds git bisection, not versions
            at = None if kind == _INTRODUCED and text == "0" else _parse(text)
            if at is None and kind != _INTRODUCED:
                # An end that cannot be read cannot end anything: the range stays open.
                continue
            # An unreadable start is read as "0": unknown is not safe.
            compiled.append((kind, at))
        compiled.sort(key=lambda e: ((0,) if e[1] is None else (1, e[1]), e[0]))
        ranges.append(tuple(compiled))
    versions = frozenset(
        canonicalize_version(v) if (v := _parse(t)) is not None else t for t in affected.versions
    )
    return _Claim(affected.advisory, tuple(ranges), versions, affected.every_version)


#: An advisory as stored: id, aliases (joined by ``_ITEM``), summary, severity (0:
#: unknown), group.
_StoredAdvisory = tuple[str, str, str, int, str]
#: A claim as stored: the advisory's number, ranges and versions encoded, every version.
_StoredClaim = tuple[int, str, str, bool]


def _encode_ranges(ranges: Iterable[Iterable[tuple[str, str]]]) -> str:
    return _RANGE.join(
        _ITEM.join(
            _CODES[kind] + version
            for kind, version in events
            if kind in _CODES and _ITEM not in version and _RANGE not in version
        )
        for events in ranges
    )


def _decode_ranges(text: str) -> tuple[tuple[tuple[str, str], ...], ...]:
    if not text:
        return ()
    return tuple(
        tuple((_NAMES[item[0]], item[1:]) for item in part.split(_ITEM) if item)
        for part in text.split(_RANGE)
    )


class AdvisoryIndex:
    """Claims by normalized project name (see the module docstring). Build it with
    ``IndexBuilder``; ``AdvisoryIndex()`` is empty.

    ``digest`` identifies the content (two loads of the same records have the
    same digest); ``advisory_count`` is the number of advisories indexed.
    Safe to share between threads.
    """

    def __init__(
        self,
        advisories: tuple[_StoredAdvisory, ...] = (),
        claims: Mapping[NormalizedName, tuple[_StoredClaim, ...]] | None = None,
        *,
        digest: str = "",
    ) -> None:
        self._advisories = advisories
        self._claims = dict(claims or {})
        self.digest = digest
        self.advisory_count = len(advisories)
        self._compiled = lru_cache(maxsize=8192)(self._compile_name)
        self._advisory = lru_cache(maxsize=16384)(self._make_advisory)
        # Pages ask about every file, again after every policy change: remember answers.
        self._affecting = lru_cache(maxsize=65536)(self._find_affecting)

    def __len__(self) -> int:
        """The number of projects with at least one advisory."""
        return len(self._claims)

    def __contains__(self, name: object) -> bool:
        return name in self._claims

    def names(self) -> Iterator[NormalizedName]:
        return iter(self._claims)

    def claims(self, name: NormalizedName) -> tuple[Affected, ...]:
        """What the advisories claim of ``name``, as their records wrote it."""
        return tuple(
            Affected(
                self._advisory(number),
                _decode_ranges(ranges),
                tuple(versions.split(_ITEM)) if versions else (),
                every,
            )
            for number, ranges, versions, every in self._claims.get(name, ())
        )

    def advisories(self, name: NormalizedName) -> tuple[Advisory, ...]:
        """Every advisory that claims something of ``name``, one per group."""
        return _one_per_group(Match(c.advisory) for c in self._compiled(name))[0]

    def every_version(self, name: NormalizedName) -> tuple[Advisory, ...]:
        """The advisories that affect every version of ``name``, one per group."""
        return _one_per_group(Match(c.advisory) for c in self._compiled(name) if c.every_version)[0]

    def affecting(self, name: NormalizedName, version: Version | str) -> tuple[Match, ...]:
        """The advisories that affect ``version`` of ``name``, one per group, each with
        the version that fixes it when known. A ``str`` is a version that cannot be
        parsed: it matches explicit versions written exactly so, and every-version claims.
        """
        if name not in self._claims:
            return ()
        return self._affecting(name, version)

    def _find_affecting(self, name: NormalizedName, version: Version | str) -> tuple[Match, ...]:
        found = (claim.match(version) for claim in self._compiled(name))
        return _one_per_group(m for m in found if m is not None)[1]

    def _compile_name(self, name: NormalizedName) -> tuple[_Claim, ...]:
        return tuple(_compile(a) for a in self.claims(name))

    def _make_advisory(self, number: int) -> Advisory:
        advisory_id, aliases, summary, severity, group = self._advisories[number]
        return Advisory(
            advisory_id,
            tuple(aliases.split(_ITEM)) if aliases else (),
            summary,
            Severity(severity) if severity else None,
            group,
        )

    def __repr__(self) -> str:
        return (
            f"AdvisoryIndex({len(self)} projects, {self.advisory_count} advisories, "
            f"digest={self.digest[:12]!r})"
        )


def _one_per_group(matches: Iterable[Match]) -> tuple[tuple[Advisory, ...], tuple[Match, ...]]:
    """Matches of one group folded into one (the preferred id; the latest fix)."""
    groups: dict[str, Match] = {}
    for match in matches:
        held = groups.get(match.advisory.group)
        if held is None:
            groups[match.advisory.group] = match
            continue
        advisory = min(held.advisory, match.advisory, key=_preference)
        fixes = [f for f in (held.fixed, match.fixed) if f is not None]
        groups[match.advisory.group] = Match(advisory, max(fixes, default=None))
    ordered = sorted(groups.values(), key=lambda m: _preference(m.advisory))
    return tuple(m.advisory for m in ordered), tuple(ordered)


def _preference(advisory: Advisory) -> tuple[int, str]:
    for rank, prefix in enumerate(_PREFERRED):
        if advisory.id.upper().startswith(prefix):
            return rank, advisory.id
    return len(_PREFERRED), advisory.id


@dataclass(frozen=True, slots=True)
class Claim:
    """What a record says of one project, for ``IndexBuilder.add``."""

    name: NormalizedName
    ranges: tuple[tuple[tuple[str, str], ...], ...] = ()
    versions: tuple[str, ...] = ()
    every_version: bool = False


#: An advisory waiting for ``build``: id, aliases, summary, severity (0: unknown), and its
#: claims as (name, ranges, versions, every version), encoded as stored. Only strings,
#: numbers and tuples of them: the garbage collector soon stops tracking them.
_Pending = tuple[str, tuple[str, ...], str, int, tuple[tuple[str, str, str, bool], ...]]


class IndexBuilder:
    """Collects advisories (``add``) and builds the ``AdvisoryIndex`` (``build``, once)."""

    def __init__(self) -> None:
        self._pending: list[_Pending] = []
        self._fingerprints: list[bytes] = []
        self._parent: dict[str, str] = {}

    def add(
        self,
        advisory_id: str,
        *,
        aliases: Iterable[str] = (),
        summary: str = "",
        severity: Severity | None = None,
        claims: Iterable[Claim],
        fingerprint: bytes = b"",
    ) -> None:
        """One advisory and its claims. ``fingerprint`` identifies the record's content
        (its bytes, or a hash of them) for the index's digest."""
        aliases = tuple(dict.fromkeys(a for a in aliases if a and a != advisory_id))
        encoded = tuple(
            (
                claim.name,
                _encode_ranges(claim.ranges),
                # A claim with ranges keeps no versions (see the module docstring).
                ""
                if claim.ranges
                else _ITEM.join(v for v in claim.versions if _ITEM not in v and _RANGE not in v),
                claim.every_version,
            )
            for claim in claims
        )
        self._pending.append(
            (advisory_id, aliases, summary, int(severity) if severity else 0, encoded)
        )
        self._fingerprints.append(hashlib.blake2b(fingerprint, digest_size=16).digest())
        for alias in aliases:
            self._union(advisory_id, alias)
        self._find(advisory_id)

    def __len__(self) -> int:
        return len(self._pending)

    def build(self) -> AdvisoryIndex:
        groups: dict[str, list[_Pending]] = {}
        for pending in self._pending:
            groups.setdefault(self._find(pending[0]), []).append(pending)
        advisories: list[_StoredAdvisory] = []
        claims: dict[str, list[_StoredClaim]] = {}
        for key, members in groups.items():
            severity = max(p[3] for p in members)
            summaries = [p[2] for p in members if p[2]]
            ids = [p[0] for p in members]
            for advisory_id, own_aliases, summary, _, encoded in members:
                others = [*own_aliases, *(i for i in ids if i != advisory_id)]
                aliases = sorted(dict.fromkeys(others), key=lambda a: (not a.startswith("CVE-"), a))
                number = len(advisories)
                advisories.append(
                    (
                        advisory_id,
                        _ITEM.join(aliases),
                        summary or (summaries[0] if summaries else ""),
                        severity,
                        key,
                    )
                )
                for name, ranges, versions, every in encoded:
                    claims.setdefault(name, []).append((number, ranges, versions, every))
        digest = hashlib.blake2b(b"".join(sorted(self._fingerprints)), digest_size=16)
        return AdvisoryIndex(
            tuple(advisories),
            {NormalizedName(name): tuple(found) for name, found in claims.items()},
            digest=digest.hexdigest(),
        )

    def _find(self, item: str) -> str:
        parent = self._parent.setdefault(item, item)
        while parent != item:
            grand = self._parent[parent]
            self._parent[item] = grand
            item, parent = parent, grand
        return item

    def _union(self, a: str, b: str) -> None:
        root_a, root_b = self._find(a), self._find(b)
        if root_a != root_b:
            self._parent[max(root_a, root_b)] = min(root_a, root_b)


EMPTY = AdvisoryIndex(digest="empty")
