"""Fixtures for tests that need a real PostgreSQL or a real S3 store (issue 10).

Registered for the whole suite by ``pytest_plugins`` in ``tests/conftest.py``.

- ``postgres_server``: the session's ``PostgresServer``; ``postgres_url``: a fresh
  empty database on it for one test (dropped afterwards).
- ``seaweedfs``: the session's ``SeaweedFS``; ``s3_location``: a prefix of its own in the
  session's bucket for one test, with the standard AWS variables set to reach it.

Each server is started once per session and only when a collected test needs it. It
starts in a background thread as soon as collection ends (SeaweedFS needs seconds,
mostly waiting on its own timers), so earlier tests run meanwhile; the first test that
asks for it waits for the rest. A server that cannot start for want of binaries skips
the tests that need it, with the reason.

A test may stop or restart a server (the "store down" tests): the per-test fixtures
start it again for the next test, so one failing test cannot leave the rest without.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

import pytest

from tests.support.postgres import PostgresServer, PostgresUnavailable
from tests.support.seaweed import BUCKET, S3Credentials, SeaweedFS, SeaweedUnavailable

Server = TypeVar("Server", PostgresServer, SeaweedFS)


class BackgroundStart(Generic[Server]):
    """A server built by ``factory`` in a thread of its own, at most once."""

    def __init__(self, factory: Callable[[], Server]) -> None:
        self._factory = factory
        self._thread: threading.Thread | None = None
        self._server: Server | None = None
        self._error: BaseException | None = None
        self._lock = threading.Lock()

    def begin(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="storage-start", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        try:
            self._server = self._factory()
        except BaseException as exc:  # handed to the first test that asks
            self._error = exc

    def result(self) -> Server:
        """The started server; raises what starting it raised."""
        self.begin()
        assert self._thread is not None
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._server is not None
        return self._server

    def close(self) -> None:
        if self._thread is not None:
            self._thread.join()
        if self._server is not None:
            self._server.close()
            self._server = None


@dataclass
class Starters:
    postgres: BackgroundStart[PostgresServer]
    seaweedfs: BackgroundStart[SeaweedFS]


_STARTERS = pytest.StashKey[Starters]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_STARTERS] = Starters(
        BackgroundStart(PostgresServer.create), BackgroundStart(SeaweedFS.create)
    )


def pytest_collection_finish(session: pytest.Session) -> None:
    needed = set()
    for item in session.items:
        needed.update(getattr(item, "fixturenames", ()))
    starters = session.config.stash[_STARTERS]
    if needed & {"postgres_server", "postgres_url"}:
        starters.postgres.begin()
    if needed & {"seaweedfs", "s3_location"}:
        starters.seaweedfs.begin()


def pytest_unconfigure(config: pytest.Config) -> None:
    starters = config.stash.get(_STARTERS, None)
    if starters is not None:
        starters.postgres.close()
        starters.seaweedfs.close()


@pytest.fixture(scope="session")
def postgres_server(pytestconfig: pytest.Config) -> PostgresServer:
    """The session's PostgreSQL cluster (skips the test when no binaries exist)."""
    try:
        return pytestconfig.stash[_STARTERS].postgres.result()
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """``postgresql://pipgate@127.0.0.1:PORT/t_<hex>``: an empty database for this test."""
    if not postgres_server.running:
        postgres_server.start()
    name = "t_" + os.urandom(6).hex()
    url = postgres_server.create_database(name)
    yield url
    if not postgres_server.running:
        postgres_server.start()
    postgres_server.drop_database(name)


@pytest.fixture(scope="session")
def seaweedfs(pytestconfig: pytest.Config) -> SeaweedFS:
    """The session's SeaweedFS with bucket ``pipgate-test`` (skips without ``weed``)."""
    try:
        return pytestconfig.stash[_STARTERS].seaweedfs.result()
    except SeaweedUnavailable as exc:
        pytest.skip(str(exc))


@dataclass(frozen=True)
class S3Location:
    """Where one test may write: ``bucket`` under ``prefix`` (which ends with ``/``)."""

    endpoint: str
    bucket: str
    prefix: str
    credentials: S3Credentials
    env: dict[str, str]

    @property
    def url(self) -> str:
        """``s3://bucket/prefix`` as ``[storage] blobs`` takes it (no trailing slash)."""
        return f"s3://{self.bucket}/{self.prefix.rstrip('/')}"


#: AWS variables from the machine that would point a client elsewhere than the test store.
_FOREIGN_AWS = (
    "AWS_PROFILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_REGION",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL_S3",
)


@pytest.fixture
def s3_location(seaweedfs: SeaweedFS, monkeypatch: pytest.MonkeyPatch) -> S3Location:
    """A fresh prefix in the session's bucket; the AWS variables are set for the test."""
    if not seaweedfs.running:
        seaweedfs.start()
    env = seaweedfs.env()
    for key in _FOREIGN_AWS:
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return S3Location(
        endpoint=seaweedfs.endpoint,
        bucket=BUCKET,
        prefix=f"t-{os.urandom(6).hex()}/",
        credentials=seaweedfs.credentials,
        env=env,
    )


#: The database that ``postgres_schema_url`` makes its schemas in (one per session).
_SCHEMA_DATABASE = "pipgate_schemas"


@pytest.fixture(scope="session")
def _schema_database(postgres_server: PostgresServer) -> str:
    return postgres_server.create_database(_SCHEMA_DATABASE)


@pytest.fixture
def postgres_schema_url(postgres_server: PostgresServer, _schema_database: str) -> Iterator[str]:
    """A URL whose connections see only an empty schema of their own (``search_path``):
    a fresh "database" for one test in ~10 ms, where ``postgres_url`` takes ~1 s."""
    if not postgres_server.running:
        postgres_server.start()
    schema = "s_" + os.urandom(6).hex()
    postgres_server.psql(f"CREATE SCHEMA {schema}", database=_SCHEMA_DATABASE)
    yield f"{_schema_database}?options=-csearch_path%3D{schema}"
    if not postgres_server.running:
        postgres_server.start()
    postgres_server.psql(f"DROP SCHEMA {schema} CASCADE", database=_SCHEMA_DATABASE)
