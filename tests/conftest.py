"""Suite-wide options (``--live`` opts in to tests against the real PyPI) and plugins."""

from __future__ import annotations

import os

import pytest

pytest_plugins = [
    # The shared fixtures: fake upstream, pipgate on a port or in process, clocks, disks.
    "tests.support.fixtures",
    # Real PostgreSQL and SeaweedFS for the scale-out tests (started only when a test needs one).
    "tests.support.fixtures_storage",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--live", action="store_true", help="run tests marked 'live' (real PyPI)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--live") or os.environ.get("PIPGATE_LIVE") == "1":
        return
    skip = pytest.mark.skip(reason="talks to the real PyPI; opt in with --live or PIPGATE_LIVE=1")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip)
