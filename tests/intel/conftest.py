"""End-to-end fixtures for the advisory policies: a fake upstream that also serves
``evil-pkg`` (listed as malware), a feed directory of OSV records written here, and
pipgate with admin tokens (for the console) and both policies reading that feed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pipgate.proxy.app import create_app
from pipgate.proxy.config.settings import deep_merge
from tests.quarantine.conftest import Proxy, settings_for
from tests.support.fake_upstream import (
    FakeProject,
    FakeUpstream,
    _at,
    _release,
    create_fake_upstream,
    standard_projects,
)
from tests.support.osv_records import record, write_dir
from tests.support.servers import run_app

MAL_ID = "MAL-2025-0001"
GHSA_ID = "GHSA-7f3x-demo-pkg0"
MALWARE = record(MAL_ID, "evil-pkg", summary="Malicious code in evil-pkg (PyPI)")
VULNERABILITY = record(
    GHSA_ID,
    "demo-pkg",
    ranges=[("0", "1.1.0")],
    aliases=["CVE-2025-0001"],
    cvss="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    summary="demo-pkg runs code from the network",
)


@pytest.fixture
def upstream(dists_dir: Path) -> FakeUpstream:
    evil = FakeProject(
        "evil-pkg", _release(dists_dir, "evil-pkg", "1.0.0", uploaded=_at("2024-02-01"))
    )
    return create_fake_upstream([*standard_projects(dists_dir), evil])


@pytest.fixture
def feed_dir(tmp_path: Path) -> Path:
    return write_dir(tmp_path / "feed", [MALWARE, VULNERABILITY])


@pytest.fixture
def start_proxy(tmp_path: Path, feed_dir: Path) -> Callable[..., Any]:
    """pipgate whose malicious and vulnerabilities policies read ``feed_dir``."""

    @contextmanager
    def start(upstream_url: str, *, config: dict[str, Any] | None = None) -> Iterator[Proxy]:
        intel = {
            "policies": {
                "malicious": {"feed": str(feed_dir)},
                "vulnerabilities": {"mode": "enforce", "feed": str(feed_dir)},
            }
        }
        settings = settings_for(upstream_url, tmp_path / "data", deep_merge(intel, config or {}))
        app = create_app(settings, clock=lambda: datetime.now(UTC), corpus=["requests"])
        with run_app(app) as url:
            yield Proxy(url, Path(settings.cache.data_dir), app)

    return start
