"""The comparison harness runs end to end: pipgate alone, the tiny fixture set, the
httpx load generator (no wrk, devpi-server, proxpi or nginx needed, no network).

Benchmarks are never timed assertions: this checks counts and the report, not speed.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks import compare


def test_compare_harness_measures_pipgate_at_a_tiny_size(tmp_path: Path) -> None:
    options = compare.Options(seconds=0.3, connections=4, use_wrk=False, pip_install=True)

    result = compare.run(["pipgate"], rounds=1, options=options, size="tiny", log=lambda _: None)
    text = compare.write(result, 1, options, tmp_path, chart=False)

    figures = result.figures()["pipgate"]
    assert figures["cold_fetches"] == 1
    assert figures["cold_redirects"] == 0
    assert figures["cold_good"] == compare.COLD_CLIENTS
    assert figures["errors"] == 0
    assert figures["pip_projects"] == 3
    assert figures["small_rps"] > 0 and figures["file_mb_s"] > 0 and figures["peak_rss_mb"] > 0
    assert (tmp_path / "compare.md").read_text() == text
    assert "| warm small page requests/s (c=16) | " in text
    assert "upstream fetches for 8 concurrent cold requests | 1 | exactly 1 | met" in text
