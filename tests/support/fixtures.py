"""The suite's shared fixtures, registered by ``pytest_plugins`` in ``tests/conftest.py``.

- ``dists_dir``: where the fake upstream's real wheels and sdists are built (per session).
- ``upstream``: a ``FakeUpstream`` of the standard projects; ``upstream_url`` serves it on
  a loopback port. A folder's ``conftest.py`` may override ``upstream`` with its own.
- ``proxy_options``: how this folder starts pipgate (``proxies.ProxyOptions``: corpus,
  admin tokens, a config merged under each test's); a folder's conftest overrides it.
- ``start_proxy(upstream_url, config=..., clock=..., data_dir=..., corpus=...,
  bundled_corpus=False)``: pipgate on a loopback port, as a context manager;
  ``proxy``: one started on ``upstream_url`` with the folder's options.
- ``start_proxy_in_process(config=..., clock=..., ...)``: pipgate and the test's
  ``upstream`` in this process (``proxies.InProcessProxy``); ``proxy_in_process``: one
  with the folder's options.
- ``http``: one ``httpx.Client`` for a test's requests to real ports (a new client per
  request costs ~30 ms).
- ``clock``: a ``Clock(1000.0)`` for code that takes a ``() -> float`` clock.
- ``small_disk``: an 8 MiB tmpfs to fill (skipped where it cannot be mounted).

Helpers that are not fixtures live beside this module: ``installers`` (real pip and
uv), ``proxies``, ``clocks``, ``disks``, ``fake_upstream``, ``servers``, ``console``
(logging in to the console), ``cli`` (the ``pipgate`` command in process),
``fresh_release`` and ``review_records`` (what quarantine review holds), ``cluster``,
``mock_upstream``, ``feed_records`` and ``feed_server``. Tests import helpers from here,
never from a conftest or another test module; a folder's ``conftest.py`` only overrides
``upstream`` or ``proxy_options`` or adds fixtures of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipgate.proxy.config.settings import deep_merge
from tests.support import proxies
from tests.support.clocks import Clock
from tests.support.disks import tmpfs
from tests.support.fake_upstream import FakeUpstream, create_fake_upstream, standard_projects

ProxyFactory = Callable[..., AbstractContextManager[Any]]


@pytest.fixture(scope="session")
def dists_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the fake upstream's real wheels and sdists are built, once per session."""
    return tmp_path_factory.mktemp("dists")


@pytest.fixture
def upstream(dists_dir: Path) -> FakeUpstream:
    """The standard fake PyPI (``fake_upstream.standard_projects``), not yet served."""
    return create_fake_upstream(standard_projects(dists_dir))


@pytest.fixture
def upstream_url(upstream: FakeUpstream) -> Iterator[str]:
    """Serve the test's ``upstream`` on a real port; its index URL."""
    with upstream.serve() as url:
        yield url


@pytest.fixture
def proxy_options() -> proxies.ProxyOptions:
    """The test corpus, no admin tokens, nothing configured beyond the test defaults."""
    return proxies.ProxyOptions()


def _corpus(
    options: proxies.ProxyOptions, corpus: Sequence[str] | None, bundled_corpus: bool
) -> Sequence[str] | None:
    if bundled_corpus:
        return None
    return options.corpus if corpus is None else corpus


@pytest.fixture
def start_proxy(tmp_path: Path, proxy_options: proxies.ProxyOptions) -> ProxyFactory:
    """``start_proxy(upstream_url, config={...}, clock=..., data_dir=...)``: pipgate on a
    loopback port, as a context manager yielding a ``proxies.RunningProxy``.

    The default configuration keeps the secure defaults (typosquat and a 7-day release
    age) with the folder's corpus (``proxy_options``), and short upstream timeouts.
    """

    @contextmanager
    def start(
        upstream_url: str,
        *,
        config: dict[str, Any] | None = None,
        clock: proxies.Clock | None = None,
        data_dir: Path | None = None,
        corpus: Sequence[str] | None = None,
        bundled_corpus: bool = False,
    ) -> Iterator[proxies.RunningProxy]:
        with proxies.serve_proxy(
            upstream_url,
            data_dir=data_dir or tmp_path / "data",
            config=deep_merge(dict(proxy_options.config), config or {}),
            clock=clock,
            corpus=_corpus(proxy_options, corpus, bundled_corpus),
            admin=proxy_options.admin,
        ) as running:
            yield running

    return start


@pytest.fixture
def proxy(start_proxy: ProxyFactory, upstream_url: str) -> Iterator[proxies.RunningProxy]:
    """pipgate on a loopback port, on the test's ``upstream``, with the folder's options."""
    with start_proxy(upstream_url) as running:
        yield running


@pytest.fixture
def start_proxy_in_process(
    tmp_path: Path, upstream: FakeUpstream, proxy_options: proxies.ProxyOptions
) -> ProxyFactory:
    """``start_proxy_in_process(config={...}, clock=..., data_dir=...)``: pipgate with the
    test's ``upstream``, both in this process (no port), as a context manager yielding a
    ``proxies.InProcessProxy``."""

    @contextmanager
    def start(
        *,
        config: dict[str, Any] | None = None,
        clock: proxies.Clock | None = None,
        data_dir: Path | None = None,
        corpus: Sequence[str] | None = None,
        bundled_corpus: bool = False,
    ) -> Iterator[proxies.InProcessProxy]:
        with proxies.proxy_in_process(
            upstream,
            data_dir=data_dir or tmp_path / "data",
            config=deep_merge(dict(proxy_options.config), config or {}),
            clock=clock,
            corpus=_corpus(proxy_options, corpus, bundled_corpus),
            admin=proxy_options.admin,
        ) as running:
            yield running

    return start


@pytest.fixture
def proxy_in_process(start_proxy_in_process: ProxyFactory) -> Iterator[proxies.InProcessProxy]:
    """pipgate in this process on the test's ``upstream``, with the folder's options."""
    with start_proxy_in_process() as running:
        yield running


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """One client for a test's requests (a new httpx client per request costs ~30 ms)."""
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture
def clock() -> Clock[float]:
    """A clock of seconds standing at 1000.0 until the test moves it."""
    return Clock(1000.0)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MiB tmpfs, unmounted afterwards; skipped where mounting is not permitted."""
    with tmpfs(tmp_path / "disk", "8m") as mountpoint:
        yield mountpoint
