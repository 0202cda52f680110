"""The wider false-alarm benchmark files each project in its rank band."""

from __future__ import annotations

import pytest

from benchmarks.scan_false_alarms import band_of, empty_only
from pipgate.policies.scan import Finding, ScanReport


@pytest.mark.parametrize(
    ("group", "rank", "band"),
    [
        ("popular", 1, "ranks 1-1,000"),
        ("popular", 1000, "ranks 1-1,000"),
        ("popular", 1001, "ranks 1,001-2,000"),
        ("popular", 2999, "ranks 2,001-3,000"),
        ("popular", 3001, "ranks past 3,000"),
        ("tail", 0, "tail"),
    ],
)
def test_band_of(group: str, rank: int, band: str) -> None:
    assert band_of(group, rank) == band


def _report(*findings: tuple[str, float]) -> ScanReport:
    items = tuple(Finding(rule, weight, "PKG-INFO", 0, "") for rule, weight in findings)
    return ScanReport("test", sum(weight for _, weight in findings), items)


def test_a_file_held_for_carrying_nothing_is_counted_empty() -> None:
    assert empty_only(_report(("placeholder", 10)))
    assert empty_only(_report(("placeholder", 10), ("install-process", 2)))


def test_a_file_held_for_what_its_code_does_is_not() -> None:
    assert not empty_only(_report(("placeholder", 10), ("download-exec", 10)))
    assert not empty_only(_report(("placeholder", 4), ("install-network", 6)))
