"""Quarantine review, as tests/quarantine runs it (until these tests join it there): a fake
upstream with a brand-new demo-pkg 1.1.0, pipgate with the admin tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.fake_upstream import FakeUpstream, create_fake_upstream, standard_projects
from tests.support.proxies import ProxyOptions

#: demo-pkg 1.1.0 (wheel and sdist) is made one hour old; 1.0.0 stays old.
FRESH_VERSION = "1.1.0"


@pytest.fixture
def upstream(dists_dir: Path) -> FakeUpstream:
    fake = create_fake_upstream(standard_projects(dists_dir))
    for file in fake.project("demo-pkg").files:
        if f"-{FRESH_VERSION}" in file.filename:
            file.upload_time = datetime.now(UTC) - timedelta(hours=1)
    return fake


@pytest.fixture
def proxy_options() -> ProxyOptions:
    return ProxyOptions(corpus=["requests", "demo-pkg"], admin=True)
