"""Suite-wide options: ``--live`` opts in to tests against the real PyPI."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

#: Real PostgreSQL and SeaweedFS for the scale-out tests (started only when a test needs one).
pytest_plugins = ["tests.support.fixtures_storage"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--live", action="store_true", help="run tests marked 'live' (real PyPI)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--live") or os.environ.get("PIPGATE_LIVE") == "1":
        return
    skip = pytest.mark.skip(reason="talks to the real PyPI; opt in with --live or PIPGATE_LIVE=1")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def dists_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the fake upstream's real wheels and sdists are built, once per session."""
    return tmp_path_factory.mktemp("dists")


@pytest.fixture
def upstream_url(upstream) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Serve the test's ``upstream`` fixture (a FakeUpstream) on a real port."""
    with upstream.serve() as url:
        yield url
