"""The advisory policies end to end: a fake upstream that also serves ``evil-pkg``
(listed as malware), a feed directory of OSV records written here (``feed_records``),
and pipgate with admin tokens (for the console) and both policies reading that feed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.fake_upstream import (
    FakeProject,
    FakeUpstream,
    _at,
    _release,
    create_fake_upstream,
    standard_projects,
)
from tests.support.feed_records import MALWARE, VULNERABILITY
from tests.support.osv_records import write_dir
from tests.support.proxies import ProxyOptions


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
def proxy_options(feed_dir: Path) -> ProxyOptions:
    """pipgate whose malicious and vulnerabilities policies read ``feed_dir``."""
    feeds = {
        "malicious": {"feed": str(feed_dir)},
        "vulnerabilities": {"mode": "enforce", "feed": str(feed_dir)},
    }
    return ProxyOptions(corpus=["requests"], admin=True, config={"policies": feeds})
