"""End-to-end fixtures: a fake upstream and pipgate, each on a real loopback port,
and helpers that run the real pip and uv against the proxy (isolated from this
machine's pip configuration)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pipgate.proxy.app import create_app
from pipgate.proxy.config.settings import deep_merge, load_settings
from tests.support.fake_upstream import FakeUpstream, create_fake_upstream, standard_projects
from tests.support.servers import client_env, run_uvicorn

#: Names the typosquat policy protects in end-to-end tests (the bundled corpus is
#: exercised by the policy's own tests).
TEST_CORPUS = ["colorama", "requests", "urllib3", "boto3", "demo-pkg"]
UV = Path(sys.executable).with_name("uv")


@pytest.fixture
def upstream(dists_dir: Path) -> FakeUpstream:
    return create_fake_upstream(standard_projects(dists_dir))


@dataclass
class RunningProxy:
    url: str
    data_dir: Path
    app: Any
    #: The uvicorn server (``tests.support.servers.ServedApp.server``).
    server: Any = None

    @property
    def index_url(self) -> str:
        return f"{self.url}/simple/"

    @property
    def state(self) -> Any:
        return self.app.state.pipgate


ProxyFactory = Callable[..., Any]


@pytest.fixture
def start_proxy(tmp_path: Path) -> Iterator[ProxyFactory]:
    """``start_proxy(upstream_url, config={...}, clock=..., data_dir=...)`` as a context manager.

    The default configuration keeps the secure defaults (typosquat and a 7-day
    release age) with a small typosquat corpus, and short upstream timeouts.
    """

    @contextmanager
    def start(
        upstream_url: str,
        *,
        config: dict[str, Any] | None = None,
        clock: Callable[[], datetime] | None = None,
        data_dir: Path | None = None,
        corpus: list[str] | None = None,
        bundled_corpus: bool = False,
    ) -> Iterator[RunningProxy]:
        base = {
            "upstream": {"url": upstream_url, "timeout": "3s", "retries": 1, "backoff": "10ms"},
            "cache": {"data_dir": str(data_dir or tmp_path / "data")},
            "server": {"access_log": False},
        }
        settings = load_settings(None, environ={}, overrides=deep_merge(base, config or {}))
        app = create_app(
            settings,
            clock=clock or (lambda: datetime.now(UTC)),
            corpus=None if bundled_corpus else (TEST_CORPUS if corpus is None else corpus),
        )
        with run_uvicorn(app) as served:
            yield RunningProxy(served.url, Path(settings.cache.data_dir), app, served.server)

    return start


def run_pip(index_url: str, *args: str, target: Path) -> subprocess.CompletedProcess[str]:
    """``pip install --target`` through ``index_url`` only (no cache, no machine config)."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "--index-url",
            index_url,
            "--target",
            str(target),
            *args,
        ],
        env=client_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )


def run_uv(index_url: str, *args: str, target: Path) -> subprocess.CompletedProcess[str]:
    """``uv pip install --target`` through ``index_url`` only."""
    return subprocess.run(
        [
            str(UV),
            "pip",
            "install",
            "--no-cache",
            "--python",
            sys.executable,
            "--index-url",
            index_url,
            "--target",
            str(target),
            *args,
        ],
        env=client_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )


def installed(target: Path) -> set[str]:
    """Distribution ``name==version`` pairs found in a ``--target`` directory."""
    found = set()
    for info in target.glob("*.dist-info"):
        name, _, version = info.name[: -len(".dist-info")].partition("-")
        found.add(f"{name.replace('_', '-').lower()}=={version}")
    return found
