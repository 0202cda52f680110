"""One score per archive from its findings.

Each rule counts once, at the weight of its heaviest finding: a large legitimate package
with the same weak signal in fifty files scores what one file would, and a score only grows
when *different* kinds of evidence come together.
"""

from __future__ import annotations

from collections.abc import Iterable

from pipgate.policies.scan import Finding


def score(findings: Iterable[Finding]) -> float:
    heaviest: dict[str, float] = {}
    for item in findings:
        if item.weight > heaviest.get(item.rule, 0.0):
            heaviest[item.rule] = item.weight
    return round(sum(heaviest.values()), 2)


def ordered(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Findings with duplicates (same rule and file) dropped, heaviest first per rule kept."""
    best: dict[tuple[str, str], Finding] = {}
    for item in findings:
        key = (item.rule, item.file)
        if key not in best or item.weight > best[key].weight:
            best[key] = item
    return tuple(best.values())
