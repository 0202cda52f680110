"""How severe an advisory is: four levels, read from a CVSS v3 vector or a label.

OSV records say it in two ways: ``severity: [{"type": "CVSS_V3", "score":
"CVSS:3.1/AV:N/..."}]`` (a vector, whose base score is computed here with the
CVSS v3.1 formula) and ``database_specific.severity`` (GitHub's ``LOW`` /
``MODERATE`` / ``HIGH`` / ``CRITICAL``). The levels are the CVSS v3 ratings:
low below 4.0, medium below 7.0, high below 9.0, critical from 9.0 (a score of
0.0, "none", counts as low).
"""

from __future__ import annotations

import enum
import math

_LABELS = {"low": 1, "moderate": 2, "medium": 2, "high": 3, "important": 3, "critical": 4}


class Severity(enum.IntEnum):
    """Larger is more severe."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, label: str) -> Severity:
        """``low``, ``medium`` (or GitHub's ``moderate``), ``high``, ``critical``; any case.

        Raises ``ValueError`` naming the label otherwise.
        """
        try:
            return cls(_LABELS[label.strip().lower()])
        except (KeyError, AttributeError):
            raise ValueError(
                f"unknown severity {label!r}: expected low, medium, high or critical"
            ) from None

    @classmethod
    def from_score(cls, score: float) -> Severity:
        """The CVSS v3 rating of a base ``score`` (0.0 to 10.0)."""
        if not 0.0 <= score <= 10.0:
            raise ValueError(f"CVSS score {score} is outside 0.0 .. 10.0")
        if score >= 9.0:
            return cls.CRITICAL
        if score >= 7.0:
            return cls.HIGH
        if score >= 4.0:
            return cls.MEDIUM
        return cls.LOW


# CVSS v3.1 specification, section 7.4: the metric values of the base score.
_WEIGHTS: dict[str, dict[str, float]] = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "PR": {"N": 0.85, "L": 0.62, "H": 0.27},
    "UI": {"N": 0.85, "R": 0.62},
    "S": {"U": 0.0, "C": 0.0},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
    "I": {"H": 0.56, "L": 0.22, "N": 0.0},
    "A": {"H": 0.56, "L": 0.22, "N": 0.0},
}
#: Privileges required weigh more when the scope changes.
_PR_CHANGED = {"N": 0.85, "L": 0.68, "H": 0.5}


def cvss3_base_score(vector: str) -> float:
    """The base score of a CVSS v3.0 or v3.1 vector (``CVSS:3.1/AV:N/AC:L/...``).

    Temporal and environmental metrics in the vector are ignored. Raises
    ``ValueError`` naming the vector when it is not a complete v3 base vector.
    """
    parts = vector.strip().split("/")
    if not parts or parts[0] not in ("CVSS:3.0", "CVSS:3.1"):
        raise ValueError(f"not a CVSS v3 vector: {vector[:120]!r}")
    metrics: dict[str, str] = {}
    for part in parts[1:]:
        key, sep, value = part.partition(":")
        if not sep:
            raise ValueError(f"malformed CVSS v3 vector {vector[:120]!r}: {part!r}")
        metrics[key] = value
    try:
        weights = {key: _WEIGHTS[key][metrics[key]] for key in _WEIGHTS}
    except KeyError:
        raise ValueError(f"incomplete or invalid CVSS v3 base vector: {vector[:120]!r}") from None
    changed = metrics["S"] == "C"
    if changed:
        weights["PR"] = _PR_CHANGED[metrics["PR"]]
    iss = 1 - (1 - weights["C"]) * (1 - weights["I"]) * (1 - weights["A"])
    if changed:
        impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15
    else:
        impact = 6.42 * iss
    if impact <= 0:
        return 0.0
    exploitability = 8.22 * weights["AV"] * weights["AC"] * weights["PR"] * weights["UI"]
    total = 1.08 * (impact + exploitability) if changed else impact + exploitability
    return _round_up(min(total, 10.0))


def _round_up(value: float) -> float:
    """CVSS v3.1's Roundup: the smallest one-decimal number >= ``value``, without
    floating-point surprises (appendix A of the specification)."""
    scaled = round(value * 100_000)
    if scaled % 10_000 == 0:
        return scaled / 100_000.0
    return (math.floor(scaled / 10_000) + 1) / 10.0
