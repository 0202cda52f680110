"""How suspicious one resemblance is: signals added into one score, each part explained.

A resemblance (``typosquat.Match``) alone says little: hundreds of legitimate
projects sit one letter away from a popular name. What tells a squat from a
neighbour is everything around it, each signal worth a number of points
(roughly log-odds: +1 is "about three times likelier a squat"):

- the **edit** itself: what was done and where (a doubled letter or swapped
  pair is a slip of the hand; a new first letter is usually another name), and
  whether the changed letter is a neighbouring key or a look-alike;
- the **target**: how popular it is (squatters aim at what people type every
  day) and how long (one letter off a four-letter name is just another name);
- **words**: a name that reads as real words where the target does not is a
  name of its own (``unicorn``/``gunicorn``);
- the **neighbourhood**: how many established projects already live that close
  to the target (``django-*`` is a crowd of plugins; ``beautifulsoup4`` has no
  neighbours, so a new one stands out);
- the **snapshot**: a name that was a long-standing project on PyPI when the
  snapshot was taken is legitimate (squats are removed within days); a name near
  a popular one that is *absent* from it was taken down, or is newer than the
  snapshot. The second reading weakens as the snapshot ages, and it adds nothing
  when upstream says the project is younger than the snapshot (that explains
  its absence);
- upstream **facts**: project age, release count, file count.

The total is compared with a threshold per action (``Thresholds``). Pure: no
I/O, time injected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from .subjects import ProjectFacts
from .typosquat_snapshot import Density, Presence, Snapshot

if TYPE_CHECKING:
    from .typosquat import Match

# Points for the edit itself. Rules the matcher calls *strong* (a slip that
# legitimate names rarely make by accident) start high; the rest start low
# and need other evidence.
STRONG_EDIT = 4.0
WEAK_EDIT = {
    "substituted": 1.5,
    "substituted-first": 0.5,  # a new first letter: usually another name
    "digit-changed": -0.5,  # another version or variant
    "inserted": 1.0,
    "doubled": 1.5,
    "digit-doubled": 1.5,
    "deleted": 1.5,
    "edge-deleted": 1.0,
    "swapped": 1.5,
    "homoglyph": 1.5,
    "edit2": 0.5,
    "split": 1.0,
    "separator": 0.5,
    "reorder": 1.0,
    "affix-packaging": 1.0,
    "affix-py-glued": 1.0,
    "affix-generic": 0.5,
    "affix-digits": 1.5,
    "affix-word": 0.0,
    "affix-glued": 0.5,
    "affix-dropped": 0.0,
}
SLIP = 1.0  # the changed letter is a neighbouring key or a look-alike
SLIP_OF_TWO = 0.75  # each of two edits that is a slip
WORDS = -1.0  # reads as real words where the target does not
SIBLING = -1.5  # one word of a multi-word name swapped for another known word
JOINS = -1.5  # the affix is another protected name
# Target popularity: (best rank, points), first that applies.
POPULARITY = ((100, 1.5), (500, 1.0), (2000, 0.0), (5000, -0.5))
UNPOPULAR = -1.0
# Target length, for edits (an affix keeps the whole name).
SHORT_TARGET, SHORT_POINTS = 4, -1.0
LONG_TARGET, LONG_POINTS = 9, 0.5
# Established neighbours of the same kind: (at most, points), first that applies.
CROWD = ((0, 0.5), (2, 0.0), (9, -0.5), (99, -1.0))
CROWDED = -1.5
# The snapshot.
ESTABLISHED_IN_SNAPSHOT = -6.0
RECENT_IN_SNAPSHOT = -0.5
ABSENT_FROM_SNAPSHOT = 2.25
# An absent name means less as the snapshot ages: full weight for this many
# months, then fading linearly to nothing over the next ones.
SNAPSHOT_FRESH_MONTHS, SNAPSHOT_FADE_MONTHS = 6, 18
# Upstream facts.
FRESH_AGE = timedelta(days=30)
FRESH = 2.5
ESTABLISHED_AGE = timedelta(days=180)
ESTABLISHED_RELEASES = 3
ESTABLISHED_BY_FACTS = -6.0
SINGLE_RELEASE = 0.5
SINGLE_FILE = 0.25

_EDIT_KINDS_TWO = frozenset({"edit2"})
_AFFIX_PREFIX = "affix-"


@dataclass(frozen=True, slots=True)
class Part:
    """One signal's contribution: ``points`` and a few words for a person."""

    signal: str
    points: float
    note: str


@dataclass(frozen=True, slots=True)
class Score:
    """A resemblance and the signals that weigh it; ``total`` is their sum."""

    match: Match
    parts: tuple[Part, ...]

    @property
    def total(self) -> float:
        return round(sum(part.points for part in self.parts), 2)

    def explain(self, limit: int = 5) -> str:
        """The main contributions, largest first: ``edit +3.5, snapshot -6``."""
        shown = sorted(
            (p for p in self.parts if p.points), key=lambda p: (-abs(p.points), p.signal)
        )
        return ", ".join(f"{p.note} {p.points:+g}" for p in shown[:limit])


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Scores at which a resemblance is flagged (``flag``) and at which it is blocked."""

    flag: float = 3.75
    block: float | None = None


def _first(table: tuple[tuple[int, float], ...], value: int, otherwise: float) -> float:
    return next((points for bound, points in table if value <= bound), otherwise)


def _crowd(match: Match, density: Density) -> tuple[int, str]:
    if match.kind.startswith(_AFFIX_PREFIX):
        return density.affix, "affixed"
    if match.kind in _EDIT_KINDS_TWO:
        return density.edit2, "two edits away"
    return density.edit1, "one edit away"


def _age(facts: ProjectFacts | None, now: datetime) -> timedelta | None:
    if facts is None or facts.first_upload is None:
        return None
    return now - facts.first_upload


def established_by_facts(facts: ProjectFacts | None, now: datetime) -> bool:
    """Old and released many times: typosquats are taken down within days."""
    age = _age(facts, now)
    return (
        age is not None
        and age >= ESTABLISHED_AGE
        and facts is not None
        and facts.release_count is not None
        and facts.release_count >= ESTABLISHED_RELEASES
    )


def _days(delta: timedelta) -> str:
    return f"{delta.days} d" if delta.days else f"{int(delta.total_seconds() // 3600)} h"


def snapshot_weight(snapshot: Snapshot, now: datetime) -> float:
    """How much an absence from ``snapshot`` still means at ``now`` (1 down to 0)."""
    months = snapshot.months_old(now) - SNAPSHOT_FRESH_MONTHS
    return max(0.0, min(1.0, 1 - months / SNAPSHOT_FADE_MONTHS))


def name_score(match: Match) -> Score:
    """Weigh ``match`` by the names alone: the edit, words, the target's popularity and
    length. No snapshot, no upstream facts, no clock: the same name always scores the
    same (the content scan's ``lookalike-name`` rule relies on it)."""
    return Score(match, tuple(_name_parts(match)))


def _name_parts(match: Match) -> list[Part]:
    """The parts of a score that come from the names alone."""
    parts: list[Part] = []
    if match.strong:
        parts.append(Part("edit", STRONG_EDIT, match.detail))
    else:
        parts.append(Part("edit", WEAK_EDIT.get(match.kind, 0.0), match.detail))
        if match.typo and match.kind in ("substituted", "substituted-first", "inserted"):
            parts.append(Part("slip", SLIP, "an easy slip"))
        if match.slips:
            parts.append(Part("slip", SLIP_OF_TWO * match.slips, "easy slips"))
    if match.words:
        parts.append(Part("words", WORDS, "reads as words"))
    if match.sibling:
        parts.append(Part("words", SIBLING, "another word of a family of names"))
    if match.joins:
        parts.append(Part("words", JOINS, "joins two projects"))

    popularity = _first(POPULARITY, match.rank, UNPOPULAR)
    parts.append(Part("popularity", popularity, f"target rank {match.rank}"))
    if not match.kind.startswith(_AFFIX_PREFIX):
        length = len(match.target)
        if length <= SHORT_TARGET:
            parts.append(Part("length", SHORT_POINTS, f"short target ({length} letters)"))
        elif length >= LONG_TARGET:
            parts.append(Part("length", LONG_POINTS, f"long target ({length} letters)"))
    return parts


def score(
    match: Match,
    *,
    now: datetime,
    snapshot: Snapshot | None = None,
    facts: ProjectFacts | None = None,
) -> Score:
    """Weigh ``match`` with the snapshot (if any) and upstream ``facts`` (if consulted)."""
    parts = _name_parts(match)
    age = _age(facts, now)
    if snapshot is not None:
        density = snapshot.density(match.target)
        if density is not None:
            count, how = _crowd(match, density)
            points = _first(CROWD, count, CROWDED)
            parts.append(Part("neighbourhood", points, f"{count} established projects {how}"))
        presence = snapshot.presence(match.name, match.target)
        taken = f"{snapshot.taken:%Y-%m}"
        if presence is Presence.ESTABLISHED:
            note = f"long-standing project on PyPI in {taken}"
            parts.append(Part("snapshot", ESTABLISHED_IN_SNAPSHOT, note))
        elif presence is Presence.RECENT:
            note = f"on PyPI in {taken}, released recently"
            parts.append(Part("snapshot", RECENT_IN_SNAPSHOT, note))
        elif presence is Presence.ABSENT and (age is None or now - age < snapshot.taken):
            # Absent although older than the snapshot, or of unknown age: taken
            # down, or never published. Younger than the snapshot explains it.
            weight = snapshot_weight(snapshot, now)
            if weight:
                note = f"not on PyPI in {taken}"
                parts.append(Part("snapshot", round(ABSENT_FROM_SNAPSHOT * weight, 2), note))

    if facts is not None:
        if established_by_facts(facts, now):
            assert age is not None
            note = f"established (first upload {_days(age)} ago, {facts.release_count} releases)"
            parts.append(Part("age", ESTABLISHED_BY_FACTS, note))
        elif age is not None and age < FRESH_AGE:
            parts.append(Part("age", FRESH, f"new project (first upload {_days(age)} ago)"))
        if facts.release_count == 1:
            parts.append(Part("releases", SINGLE_RELEASE, "a single release"))
        if facts.file_count == 1:
            parts.append(Part("files", SINGLE_FILE, "a single file"))
    return Score(match, tuple(parts))
