"""Whether an archive's project name imitates a popular project, judged by the names alone.

The typosquat policy judges a name with everything around it (the snapshot of PyPI, the
project's age upstream). The scan cannot: its verdict is kept by the file's sha256 and the
rules' version, so it must depend on nothing but the file. It uses the same matcher and the
parts of the typosquat score that come from the names (``typosquat_score.name_score``), and
the bundled corpus of popular names, so a verdict never changes with the operator's corpus
or the day it was made.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache

from packaging.utils import canonicalize_name

from pipgate.policies.scan import Finding
from pipgate.policies.typosquat import TyposquatIndex
from pipgate.policies.typosquat_score import Score, Thresholds, name_score
from pipgate.proxy.config.corpus import load_bundled_index

from .rules import finding

#: A name at or above this score looks like a typo of a popular name by itself (the
#: typosquat policy's flag threshold, here without the snapshot and upstream facts).
LOOKALIKE_AT = Thresholds().flag


class Lookalikes:
    """Finds the popular name a project name imitates, if any (see module docstring)."""

    def __init__(self, index: TyposquatIndex, threshold: float = LOOKALIKE_AT) -> None:
        self.index = index
        self.threshold = threshold

    def imitated(self, name: str) -> Score | None:
        """The best-scoring resemblance of ``name`` to a protected name, if it reaches the
        threshold; ``None`` for a protected name itself."""
        normalized = canonicalize_name(name)
        if not normalized or normalized in self.index:
            return None
        scores = [name_score(match) for match in self.index.matches(normalized)]
        best = max(scores, key=lambda s: s.total, default=None)
        return best if best is not None and best.total >= self.threshold else None

    def popular(self, name: str) -> bool:
        """Whether ``name`` is itself one of the corpus's popular projects."""
        normalized = canonicalize_name(name)
        return bool(normalized) and normalized in self.index

    def check(self, name: str, where: str) -> Iterator[Finding]:
        """``lookalike-name`` when ``name`` imitates a popular project."""
        imitated = self.imitated(name)
        if imitated is not None:
            match = imitated.match
            detail = f"{name!r} looks like {match.target!r}: {imitated.explain(3)}"
            yield finding("lookalike-name", where, 0, detail)

    def check_requirements(
        self, name: str, requirements: Iterable[str], where: str
    ) -> Iterator[Finding]:
        """``lookalike-dependency`` when a project ``name`` requires imitates a popular one:
        a real project gains nothing from depending on a look-alike, a campaign hides its
        payload one step away (the popular corpus's own names, and ``name``, pass)."""
        own = canonicalize_name(name) if name else ""
        for requirement in sorted(requirements):
            imitated = self.imitated(requirement) if requirement != own else None
            if imitated is not None:
                match = imitated.match
                detail = f"requires {requirement!r}, which looks like {match.target!r}"
                yield finding("lookalike-dependency", where, 0, detail)
                return


@cache
def bundled_lookalikes() -> Lookalikes:
    """``Lookalikes`` over the corpus shipped with pipgate (its prebuilt index, read once
    per process on first use)."""
    return Lookalikes(load_bundled_index())
