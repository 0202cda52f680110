"""Fixtures for quarantine review: a fake upstream with a brand-new release, and pipgate
with two admin tokens (``ADMIN`` with scope admin, ``READER`` with scope read)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipgate.proxy.app import create_app
from pipgate.proxy.config.settings import deep_merge, load_settings
from pipgate.proxy.quarantine.auth import hash_token
from tests.e2e.conftest import RunningProxy
from tests.support.fake_upstream import FakeUpstream, create_fake_upstream, standard_projects
from tests.support.markup import offered
from tests.support.servers import client_env, run_app

ADMIN = "pg_test-admin-token"
READER = "pg_test-read-token"
TOKENS = [
    {"name": "alice", "sha256": hash_token(ADMIN), "scope": "admin"},
    {"name": "rita", "sha256": hash_token(READER), "scope": "read"},
]
#: demo-pkg 1.1.0 (wheel and sdist) is made one hour old; 1.0.0 stays old.
FRESH_VERSION = "1.1.0"


@pytest.fixture
def upstream(dists_dir: Path) -> FakeUpstream:
    fake = create_fake_upstream(standard_projects(dists_dir))
    for file in fake.project("demo-pkg").files:
        if f"-{FRESH_VERSION}" in file.filename:
            file.upload_time = datetime.now(UTC) - timedelta(hours=1)
    return fake


def fresh_offered(page: str) -> bool:
    """Whether a demo-pkg page offers the fresh release to an unpinned install (a held
    release may be listed, but only as yanked, the hold as its reason)."""
    return any(f"-{FRESH_VERSION}" in name for name in offered(page))


class Proxy(RunningProxy):
    """A running pipgate with an admin API client."""

    def client(self, token: str | None = ADMIN) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=f"{self.url}/-/admin", headers=headers, timeout=10)


def settings_for(upstream_url: str, data_dir: Path, config: dict[str, Any] | None = None) -> Any:
    base = {
        "upstream": {"url": upstream_url, "timeout": "3s", "retries": 1, "backoff": "10ms"},
        "cache": {"data_dir": str(data_dir)},
        "server": {"access_log": False},
        "admin": {"tokens": TOKENS, "session_secret": "test-secret"},
    }
    return load_settings(None, environ={}, overrides=deep_merge(base, config or {}))


@pytest.fixture
def start_proxy(tmp_path: Path) -> Callable[..., Any]:
    @contextmanager
    def start(
        upstream_url: str,
        *,
        config: dict[str, Any] | None = None,
        data_dir: Path | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> Iterator[Proxy]:
        settings = settings_for(upstream_url, data_dir or tmp_path / "data", config)
        app = create_app(
            settings, clock=clock or (lambda: datetime.now(UTC)), corpus=["requests", "demo-pkg"]
        )
        with run_app(app) as url:
            yield Proxy(url, Path(settings.cache.data_dir), app)

    return start


@pytest.fixture
def proxy(start_proxy: Callable[..., Any], upstream_url: str) -> Iterator[Proxy]:
    with start_proxy(upstream_url) as running:
        yield running


def pip_install(index_url: str, requirement: str, target: Path) -> subprocess.CompletedProcess[str]:
    """A real pip, isolated from this machine's configuration, without a cache."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "--no-deps",
            "--index-url",
            index_url,
            "--target",
            str(target),
            requirement,
        ],
        env=client_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
