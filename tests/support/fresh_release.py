"""demo-pkg's fresh release, as the quarantine tests hold it: the standard fake upstream
with demo-pkg ``FRESH_VERSION`` (wheel ``WHEEL`` and sdist ``SDIST``) uploaded an hour
ago, so the default 7-day release age quarantines it; 1.0.0 stays old."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.support.fake_upstream import FakeUpstream, create_fake_upstream, standard_projects
from tests.support.markup import offered
from tests.support.proxies import InProcessProxy

#: demo-pkg 1.1.0 (wheel and sdist) is made one hour old; 1.0.0 stays old.
FRESH_VERSION = "1.1.0"
WHEEL = f"demo_pkg-{FRESH_VERSION}-py3-none-any.whl"
SDIST = f"demo_pkg-{FRESH_VERSION}.tar.gz"


def fresh_upstream(dists_dir: Path) -> FakeUpstream:
    """The standard fake upstream, demo-pkg ``FRESH_VERSION`` uploaded an hour ago."""
    fake = create_fake_upstream(standard_projects(dists_dir))
    for file in fake.project("demo-pkg").files:
        if f"-{FRESH_VERSION}" in file.filename:
            file.upload_time = datetime.now(UTC) - timedelta(hours=1)
    return fake


def fresh_offered(page: str) -> bool:
    """Whether a demo-pkg page offers the fresh release to an unpinned install (a held
    release may be listed, but only as yanked, the hold as its reason)."""
    return any(f"-{FRESH_VERSION}" in name for name in offered(page))


def hold_fresh_release(proxy: Any) -> list[dict[str, Any]]:
    """Ask ``proxy`` (a ``RunningProxy`` or ``InProcessProxy``) for demo-pkg's page so its
    fresh release is held; return its entries (one: the fresh version, with its wheel and
    sdist inside)."""
    url = f"{proxy.index_url}demo-pkg/"
    page = proxy.http.get(url) if isinstance(proxy, InProcessProxy) else httpx.get(url)
    assert page.status_code == 200
    assert not fresh_offered(page.text)
    with proxy.client() as api:
        return api.get("/quarantine", params={"project": "demo-pkg"}).json()["entries"]
