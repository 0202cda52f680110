"""The shared stores of one replica, built from ``[storage]`` (``open_cluster``).

Used only when ``[storage] database`` is set; the embedded default never builds
one. Start-up migrates the schema (``migrate = "auto"``) or checks it (``off``);
a database that cannot be reached at start does not stop the replica: /readyz
says so (503) and the probe task keeps trying, migrating once it answers (and
then reading the cluster's peer secret). The probe task also sweeps old
stored-file markers from the lease table once a minute.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anyio import to_thread

from pipgate.proxy.config.settings import StorageSettings
from pipgate.proxy.errors import StoreUnavailable
from pipgate.proxy.files.downloads import SharedFiles
from pipgate.proxy.observe.metrics import Metrics
from pipgate.proxy.storage.blobs import BlobStore
from pipgate.proxy.storage.changes import ChangeListener
from pipgate.proxy.storage.facts import FileFacts
from pipgate.proxy.storage.files import SharedFileStore
from pipgate.proxy.storage.health import StoreHealth, StoreStatus
from pipgate.proxy.storage.leases import Leases, holder_id
from pipgate.proxy.storage.pages import PageState
from pipgate.proxy.storage.peers import Peers, read_secret
from pipgate.proxy.storage.postgres import PostgresDatabase
from pipgate.proxy.storage.schema import SchemaState, migrate, schema_state

log = logging.getLogger("pipgate.storage")

#: Seconds between two probes of each store.
PROBE_EVERY = 1.0
#: Seconds between two sweeps of stored-file markers (``Leases.sweep``).
SWEEP_EVERY = 60.0


@dataclass
class Cluster:
    settings: StorageSettings
    database: PostgresDatabase
    blobs: BlobStore | None
    leases: Leases
    pages: PageState
    facts: FileFacts
    health: StoreHealth
    metrics: Metrics
    peers: Peers
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    listener: ChangeListener | None = None
    _watchers: dict[str, list[Callable[[], object]]] = field(default_factory=dict)
    _swept: float = 0.0

    @property
    def shared_files(self) -> SharedFiles:
        return SharedFiles(self.leases, self.blobs, self.peers)

    def file_store(self, directory: Path, **options: Any) -> SharedFileStore:
        """The data directory's file store as this replica's L1."""
        return SharedFileStore(directory, facts=self.facts, blobs=self.blobs, **options)

    def ensure_schema(self) -> None:
        """Migrate (``auto``) or check (``off``) the schema; records the outcome in
        ``health``. Blocking."""
        url = str(self.settings.database)
        try:
            if self.settings.migrate == "auto":
                migrate(url)
            state: SchemaState = schema_state(url)
        except StoreUnavailable as exc:
            self.health.state.update(exc)
            self.health.schema_problem = f"the state store's schema is not checked yet: {exc}"
            self.database.unreached = not self.health.state.reached
            return
        self.health.schema_problem = state.problem()
        if self.health.schema_problem:
            log.error("%s", self.health.schema_problem)
        else:
            self._read_secret()

    def _read_secret(self) -> None:
        try:
            self.peers.secret = read_secret(self.database)
        except StoreUnavailable as exc:
            log.warning("cannot read the cluster's peer secret yet: %s", exc)

    def watch(self, kind: str, reload: Callable[[], object]) -> None:
        """Call ``reload`` (blocking) when another replica announces a change of ``kind``,
        after the listener reconnects, and once a second from the probe task (a
        back-up for notifications lost while disconnected: make it cheap when
        nothing changed)."""
        self._watchers.setdefault(kind, []).append(reload)

    def _changed(self, change: dict[str, Any]) -> None:
        for reload in self._watchers.get(str(change.get("kind")), []):
            self._reload(reload)

    def _resync(self) -> None:
        for reloads in self._watchers.values():
            for reload in reloads:
                self._reload(reload)

    @staticmethod
    def _reload(reload: Callable[[], object]) -> None:
        try:
            reload()
        except StoreUnavailable as exc:
            log.warning("could not reload after a change: %s", exc)

    def start(self, on_rules_changed: Callable[[], None]) -> None:
        """Start the probes and the change listener (on the running event loop)."""
        self.watch("rules", on_rules_changed)
        self.listener = ChangeListener(
            str(self.settings.database), on_change=self._changed, on_resync=self._resync
        )
        self._tasks = [
            asyncio.create_task(self.listener.run()),
            asyncio.create_task(self._probe()),
        ]

    async def _probe(self) -> None:
        while True:
            await self.probe_once()
            await asyncio.sleep(PROBE_EVERY)

    async def probe_once(self) -> None:
        if self.health.schema_problem is not None and self.health.state.up is not True:
            await to_thread.run_sync(self.ensure_schema)
        error: Exception | None = None
        try:
            await to_thread.run_sync(self.database.ping)
        except StoreUnavailable as exc:
            error = exc
        if self.health.state.update(error) and error is None and self.health.schema_problem:
            await to_thread.run_sync(self.ensure_schema)
        self._report(self.health.state, error)
        if error is None and self.health.schema_problem is None:
            if self.peers.secret is None:
                await to_thread.run_sync(self._read_secret)
            for kind, reloads in self._watchers.items():
                if kind != "rules":  # the intake thread compares the rules revision already
                    for reload in reloads:
                        await to_thread.run_sync(self._reload, reload)
            if time.monotonic() - self._swept > SWEEP_EVERY:
                self._swept = time.monotonic()
                try:
                    await to_thread.run_sync(self.leases.sweep)
                except StoreUnavailable as exc:
                    log.warning("could not sweep stored-file markers: %s", exc)
        if self.blobs is not None and self.health.blobs is not None:
            error = None
            try:
                await self.blobs.ping()
            except StoreUnavailable as exc:
                error = exc
            self.health.blobs.update(error)
            self._report(self.health.blobs, error)

    def _report(self, status: StoreStatus, error: Exception | None) -> None:
        self.metrics.store_up.labels(status.name).set(0 if error else 1)
        if error:
            self.metrics.store_failures.labels(status.name).inc()

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.peers.aclose()
        await to_thread.run_sync(self.database.close)


def open_cluster(
    settings: StorageSettings, metrics: Metrics, *, own_url: str = "", peer_timeout: float = 30.0
) -> Cluster:
    """The shared stores of ``settings`` (blocking: migrates or checks the schema).

    ``own_url``: where other replicas reach this one (``peers.own_url``); empty: they
    wait for the object store instead of streaming a cold file from it."""
    assert settings.database is not None
    database = PostgresDatabase(settings.database, max_size=settings.pool_size)
    blobs: BlobStore | None = None
    if settings.blobs:
        from pipgate.proxy.storage.s3 import S3Blobs

        blobs = S3Blobs(settings.blobs)
    health = StoreHealth(
        StoreStatus("state", database.label),
        StoreStatus("blobs", settings.blobs) if settings.blobs else None,
    )
    cluster = Cluster(
        settings=settings,
        database=database,
        blobs=blobs,
        leases=Leases(
            database,
            ttl=settings.lease_ttl.total_seconds(),
            holder=holder_id(),
            url=own_url,
        ),
        pages=PageState(database),
        facts=FileFacts(database),
        health=health,
        metrics=metrics,
        peers=Peers(own_url, read_timeout=peer_timeout),
    )
    cluster.ensure_schema()
    if health.schema_problem is None:
        health.state.update(None)
    return cluster
