"""pipgate as tests run it: on a real loopback port (``serve_proxy``), or in process
(``proxy_in_process``, through Starlette's ``TestClient`` with the app's lifespan).

Both build the app from ``proxy_settings``: the given upstream with short timeouts and
one retry, the data directory given, no access log, and with ``admin=True`` the two
admin tokens ``ADMIN`` (scope admin, user alice) and ``READER`` (scope read, user rita).
Use a real port for anything a real installer, a subprocess or a connection takes
part in; in process for what is only requests and answers (the admin API, the console).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from starlette.testclient import TestClient

from pipgate.proxy.app import create_app
from pipgate.proxy.config.settings import Settings, deep_merge, load_settings
from pipgate.proxy.quarantine.auth import hash_token
from tests.support.servers import run_uvicorn

#: Names the typosquat policy protects unless a test says otherwise (the bundled corpus
#: is exercised by the policy's own tests).
TEST_CORPUS = ("colorama", "requests", "urllib3", "boto3", "demo-pkg")

ADMIN = "pg_test-admin-token"
READER = "pg_test-read-token"
TOKENS = [
    {"name": "alice", "sha256": hash_token(ADMIN), "scope": "admin"},
    {"name": "rita", "sha256": hash_token(READER), "scope": "read"},
]
#: Where the in-process app appears to be (``TestClient``'s default host).
IN_PROCESS_URL = "http://testserver"

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ProxyOptions:
    """How a folder's tests start pipgate unless a test says otherwise.

    ``corpus``: the typosquat corpus (``None``: the bundled one). ``admin``: configure
    ``TOKENS`` and a session secret. ``config``: merged under each test's own config.
    """

    corpus: Sequence[str] | None = TEST_CORPUS
    admin: bool = False
    config: Mapping[str, Any] = field(default_factory=dict)


def proxy_settings(
    upstream_url: str,
    data_dir: Path,
    config: Mapping[str, Any] | None = None,
    *,
    admin: bool = False,
) -> Settings:
    """Settings for a test's pipgate; ``config`` is deep-merged over the test defaults."""
    base: dict[str, Any] = {
        "upstream": {"url": upstream_url, "timeout": "3s", "retries": 1, "backoff": "10ms"},
        "cache": {"data_dir": str(data_dir)},
        "server": {"access_log": False},
    }
    if admin:
        base["admin"] = {"tokens": TOKENS, "session_secret": "test-secret"}
    return load_settings(None, environ={}, overrides=deep_merge(base, dict(config or {})))


def admin_headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


@dataclass
class RunningProxy:
    """pipgate served by uvicorn on a loopback port."""

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

    def client(self, token: str | None = ADMIN) -> httpx.Client:
        """A client of the admin API (``/-/admin``) sending ``token`` as its bearer."""
        return self.at("/-/admin", headers=admin_headers(token))

    def at(self, prefix: str, headers: Mapping[str, str] | None = None) -> httpx.Client:
        """A client whose paths are under ``prefix`` (``"/-/ui"``, ``"/-/admin"``)."""
        return httpx.Client(base_url=self.url + prefix, headers=dict(headers or {}), timeout=10)


@contextmanager
def serve_proxy(
    upstream_url: str,
    *,
    data_dir: Path,
    config: Mapping[str, Any] | None = None,
    clock: Clock | None = None,
    corpus: Sequence[str] | None = TEST_CORPUS,
    admin: bool = False,
) -> Iterator[RunningProxy]:
    """pipgate on a free loopback port until the block ends."""
    settings = proxy_settings(upstream_url, data_dir, config, admin=admin)
    app = create_app(
        settings,
        clock=clock or utc_now,
        corpus=None if corpus is None else list(corpus),
    )
    with run_uvicorn(app) as served:
        yield RunningProxy(served.url, Path(settings.cache.data_dir), app, served.server)


class _SharedLifespanClient(TestClient):
    """A ``TestClient`` of an app whose lifespan another client runs: entering it
    starts nothing (so ``with proxy.client() as api:`` reads as it does on a socket)."""

    def __enter__(self) -> _SharedLifespanClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None


@dataclass
class InProcessProxy:
    """pipgate in this process: ``http`` is a ``TestClient`` of the whole app (its
    lifespan running), ``client(token)`` one of the admin API."""

    http: TestClient
    data_dir: Path
    app: Any
    url: str = IN_PROCESS_URL

    @property
    def index_url(self) -> str:
        return f"{self.url}/simple/"

    @property
    def state(self) -> Any:
        return self.app.state.pipgate

    def client(self, token: str | None = ADMIN) -> TestClient:
        """A client of the admin API (``/-/admin``) sending ``token`` as its bearer."""
        return self.at("/-/admin", headers=admin_headers(token))

    def at(self, prefix: str, headers: Mapping[str, str] | None = None) -> TestClient:
        """A client whose paths are under ``prefix`` (``"/-/ui"``, ``"/-/admin"``); its own
        cookies, this app's lifespan state."""
        client = _SharedLifespanClient(
            self.app,
            base_url=self.url + prefix,
            headers=dict(headers or {}),
            follow_redirects=False,
        )
        client.app_state.update(self.http.app_state)
        return client


@contextmanager
def proxy_in_process(
    upstream: Any,
    *,
    data_dir: Path,
    config: Mapping[str, Any] | None = None,
    clock: Clock | None = None,
    corpus: Sequence[str] | None = TEST_CORPUS,
    admin: bool = False,
) -> Iterator[InProcessProxy]:
    """pipgate in process, its upstream ``upstream`` (a ``FakeUpstream``) in process too."""
    settings = proxy_settings("http://upstream.test/simple/", data_dir, config, admin=admin)
    app = create_app(
        settings,
        clock=clock or utc_now,
        transport=httpx.ASGITransport(app=upstream.app),
        corpus=None if corpus is None else list(corpus),
    )
    # Redirects are not followed, as by httpx on a real port.
    with TestClient(app, base_url=IN_PROCESS_URL, follow_redirects=False) as http:
        yield InProcessProxy(http, Path(settings.cache.data_dir), app)
