"""The running proxy's parts: one frozen, typed state built by the app's lifespan.

The lifespan yields it as Starlette's lifespan state (``request.state.pipgate``,
``scope["state"]["pipgate"]`` in middleware); it is also kept on
``app.state.pipgate`` for tests and tools that hold the app, not a request.
Nothing in it is looked up by a string key: what the quarantine layer needs is
a field like any other.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import HTTPConnection
from starlette.templating import Jinja2Templates

from pipgate.proxy.access import ProjectAccess
from pipgate.proxy.config.settings import Settings, format_size
from pipgate.proxy.files.downloads import Downloads
from pipgate.proxy.files.scan import FileScan
from pipgate.proxy.files.slots import DownloadSlots
from pipgate.proxy.files.store import FileStore
from pipgate.proxy.gate import Gate
from pipgate.proxy.hosted.store import HostedStore
from pipgate.proxy.index.cache import IndexCache
from pipgate.proxy.index.pages import PageRenderer
from pipgate.proxy.intel.feeds import IntelFeeds
from pipgate.proxy.observe.decision_log import DecisionSink
from pipgate.proxy.observe.disk import space_of
from pipgate.proxy.observe.metrics import Metrics
from pipgate.proxy.observe.recorder import Recorder
from pipgate.proxy.quarantine.auth import TokenBook
from pipgate.proxy.quarantine.review import Review
from pipgate.proxy.routing import Router
from pipgate.proxy.upstream.circuit import State
from pipgate.proxy.upstream.client import UpstreamClient

if TYPE_CHECKING:
    from pipgate.proxy.storage.cluster import Cluster

KEY = "pipgate"


@dataclass(frozen=True, slots=True)
class AppState:
    settings: Settings
    upstream: UpstreamClient
    index_cache: IndexCache
    store: FileStore
    downloads: Downloads
    pages: PageRenderer
    #: One gate per index; the dict is fixed, a gate's policies are swapped in place.
    gates: dict[str, Gate]
    access: ProjectAccess
    metrics: Metrics
    recorder: Recorder
    decision_log: DecisionSink
    slots: DownloadSlots
    review: Review
    tokens: TokenBook
    #: The advisory feeds of the malicious and vulnerabilities policies.
    intel: IntelFeeds | None
    #: The content scan of distribution files (``scan.active`` false when it is off).
    scan: FileScan
    #: The console's templates (``quarantine.console.build_templates``).
    templates: Jinja2Templates
    #: The one clock of this proxy (UTC); tests inject their own.
    clock: Callable[[], datetime]
    #: The shared stores, when this process is a replica (``[storage] database``).
    cluster: Cluster | None = None
    #: Each index's sources (``routing.py``), shared with ``access``.
    router: Router | None = None
    #: The projects uploaded to hosted indexes, if any index is hosted.
    hosted: HostedStore | None = None

    def readiness_problems(self) -> list[str]:
        """What keeps this proxy from serving (blocking: call in a thread)."""
        problems = []
        data_dir = self.settings.cache.data_dir
        if not os.access(data_dir, os.W_OK):
            problems.append(f"data directory {str(data_dir)!r} is not writable")
        if not os.access(self.store.tmp_dir, os.W_OK):
            problems.append(f"download directory {str(self.store.tmp_dir)!r} is not writable")
        try:
            space = space_of(data_dir)
        except OSError as exc:
            problems.append(f"cannot read the free space of {str(data_dir)!r}: {exc}")
        else:
            wanted = self.settings.cache.min_free_bytes(space.total)
            if space.free < wanted:
                problems.append(
                    f"only {format_size(space.free)} free in data directory {str(data_dir)!r} "
                    f"(min_free_space is {self.settings.cache.min_free_space}); "
                    "caches and logs cannot be written"
                )
        if self.cluster is not None:
            problems += self.cluster.health.problems()
        return problems

    def readiness_notes(self) -> list[str]:
        """What is degraded but still served: an upstream whose circuit is open."""
        notes = [b.describe() for b in self.upstream.breakers if b.state is not State.CLOSED]
        return notes + (self.cluster.health.notes() if self.cluster is not None else [])

    def close(self) -> None:
        self.index_cache.close()
        for source in self.router.upstream_sources() if self.router else ():
            if source.index_cache is not self.index_cache:
                source.index_cache.close()
        if self.hosted is not None:
            self.hosted.close()
        self.store.close()
        self.decision_log.close()


def state_of(connection: HTTPConnection | dict[str, Any]) -> AppState:
    """The state of the app serving ``connection`` (a request, or an ASGI scope)."""
    scope_state = connection.state if isinstance(connection, HTTPConnection) else None
    if scope_state is not None:
        return getattr(scope_state, KEY)  # type: ignore[no-any-return]
    return connection["state"][KEY]  # type: ignore[index,no-any-return]
