"""One score per archive from its findings.

Evidence counts where it comes together. The file with the heaviest findings counts in full
(each rule once, at its heaviest there); what the archive says about itself (a placeholder
version, stealer requirements, unsafe members) counts in full; every other kind of evidence
found elsewhere in the archive counts at half weight, once per rule. So a large legitimate
package with one weak signal in each of fifty files scores about what one such file would,
while a payload split between ``setup.py`` and ``__init__.py`` still adds up.
"""

from __future__ import annotations

from collections.abc import Iterable

from pipgate.policies.scan import Finding

#: Rules about the archive as a whole rather than about one file's code.
ARCHIVE_RULES = frozenset(
    {
        "placeholder",
        "placeholder-text",
        "anonymous",
        "lookalike-name",
        "lookalike-dependency",
        "copied-identity",
        "stealer-dependency",
        "unsafe-member",
        "bundled-executable",
        "command-hijack",
        "url-requirement",
        "startup-hook",
    }
)
ELSEWHERE = 0.5


def score(findings: Iterable[Finding]) -> float:
    per_file: dict[str, dict[str, float]] = {}
    archive: dict[str, float] = {}
    for item in findings:
        table = archive if item.rule in ARCHIVE_RULES else per_file.setdefault(item.file, {})
        table[item.rule] = max(table.get(item.rule, 0.0), item.weight)
    best: dict[str, float] = max(per_file.values(), key=lambda t: sum(t.values()), default={})
    rest: dict[str, float] = {}
    for table in per_file.values():
        if table is best:
            continue
        for rule, weight in table.items():
            if rule not in best:
                rest[rule] = max(rest.get(rule, 0.0), weight)
    total = sum(best.values()) + sum(archive.values()) + ELSEWHERE * sum(rest.values())
    return round(total, 2)


def ordered(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Findings with duplicates (same rule and file) dropped, the heaviest of each kept."""
    best: dict[tuple[str, str], Finding] = {}
    for item in findings:
        key = (item.rule, item.file)
        if key not in best or item.weight > best[key].weight:
            best[key] = item
    return tuple(best.values())
