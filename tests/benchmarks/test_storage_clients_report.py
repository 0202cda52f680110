"""The storage client benchmark's report is rendered from its JSON (no servers needed here).

The benchmark itself installs candidates from PyPI and runs minutes; these check that the
committed Markdown is what the committed JSON renders to, and how rounds are combined.
"""

from __future__ import annotations

import json

from benchmarks import storage_clients
from benchmarks.harness import RESULTS


def test_the_committed_report_is_rendered_from_the_committed_results() -> None:
    result = json.loads((RESULTS / "storage_clients.json").read_text())

    text = storage_clients.report(result)

    assert (RESULTS / "storage_clients.md").read_text() == text
    assert "## Recommendation" in text
    for name in storage_clients.CANDIDATES:
        assert f"| {name} |" in text


def test_rounds_merge_numbers_by_median_and_keep_the_first_of_anything_else() -> None:
    rounds = [
        {"get": {"p50_ms": 1.0}, "ok": True, "errors": ["A"]},
        {"get": {"p50_ms": 3.0}, "ok": False, "errors": ["B"]},
        {"get": {"p50_ms": 2.0}, "ok": False, "errors": []},
    ]

    assert storage_clients.merge(rounds) == {"get": {"p50_ms": 2.0}, "ok": True, "errors": ["A"]}


def test_a_failed_round_is_reported_not_averaged_away() -> None:
    rounds = [{"get": {"p50_ms": 1.0}}, {"error": "worker exited 1"}]

    assert storage_clients.merge(rounds) == {"error": "worker exited 1"}


def test_failures_are_explained_in_plain_words() -> None:
    assert storage_clients.explain("... PUT http://127.0.0.1:9/latest/api/token ...").startswith(
        "no keys from the profile"
    )
    assert storage_clients.explain("first line\nsecond") == "first line"
