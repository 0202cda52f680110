"""Cached project pages: fresh for a TTL, revalidated, served stale when upstream fails.

The parsed ``Project`` is cached (never upstream's bytes) in memory and in a
diskcache under the data directory, so a restart starts warm. Upstream 404s
are remembered for a short negative TTL and never served stale. Concurrent
misses for one project share one upstream request.

Past its TTL a page is revalidated by one refresh in a task of its own
(stale-while-revalidate). The request that started it waits for it at most
``revalidate_wait``: a healthy upstream answers well within it, so a takedown
(404) is seen at once; a slow or hanging one does not hold anyone up, as the
cached copy is served, marked stale, while the refresh goes on. A copy past its
TTL that upstream has not confirmed is always marked stale (``stale_since``).
After a refresh failed, the page is served stale without asking upstream for
``refresh_backoff``. A failed disk write never fails a request: the page is
kept in memory and the error counted (``on_storage_error``).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import operator
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import diskcache
from anyio import to_thread
from packaging.utils import NormalizedName

from pipgate.proxy.errors import (
    StoreUnavailable,
    UpstreamError,
    UpstreamNotFound,
    UpstreamUnavailable,
)
from pipgate.proxy.index import codec
from pipgate.proxy.models import Project
from pipgate.proxy.observe.disk import STORAGE_ERRORS, DiskThreads
from pipgate.proxy.upstream.client import NotModified, RawPage, UpstreamClient

if TYPE_CHECKING:
    from pipgate.proxy.storage.leases import Leases
    from pipgate.proxy.storage.pages import PageState

log = logging.getLogger("pipgate.cache")

T = TypeVar("T")

#: At most this many upstream 404s are remembered (the oldest are forgotten first).
NEGATIVE_ENTRIES = 1024


@dataclass
class CachedPage:
    """A page with its validators. ``revision`` changes whenever the content does.
    ``source`` is a digest of the bytes it was parsed from (an identical answer from
    upstream is not parsed again)."""

    project: Project
    fetched_at: float
    etag: str | None
    last_modified: str | None
    revision: int
    source: bytes | None = None

    def encode(self) -> bytes:
        """The page as ``codec`` bytes, for the disk or the shared store (CPU work: call
        it in a thread)."""
        return codec.encode(
            self.project,
            {
                "fetched_at": self.fetched_at,
                "etag": self.etag,
                "last_modified": self.last_modified,
                "revision": self.revision,
                "source": self.source.hex() if self.source is not None else None,
            },
        )

    @classmethod
    def decode(cls, data: bytes) -> CachedPage:
        """What ``encode`` wrote; ``ValueError`` for anything else."""
        project, extra = codec.decode(data)
        try:
            source = extra["source"]
            return cls(
                project,
                float(extra["fetched_at"]),
                extra["etag"],
                extra["last_modified"],
                int(extra["revision"]),
                bytes.fromhex(source) if source is not None else None,
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"cached page is damaged: {exc!r}") from exc

    @classmethod
    def read(cls, stored: object) -> CachedPage | None:
        """A stored page: ``codec`` bytes, or the ``CachedPage`` an older pipgate pickled
        (diskcache and the shared store unpickle it); ``ValueError`` if damaged."""
        if isinstance(stored, bytes):
            return cls.decode(stored)
        return stored if isinstance(stored, CachedPage) else None


def source_digest(raw: RawPage) -> bytes:
    """What a page's content depends on: its bytes, its type and the URL relative file
    URLs are resolved against (sha256 lets go of the GIL: fine in a thread; and it has
    the CPU's own instructions, quicker than blake2b)."""
    digest = hashlib.sha256()
    for part in (raw.url.encode(), b"\0", raw.content_type.encode(), b"\0", raw.body):
        digest.update(part)
    return digest.digest()


@dataclass(frozen=True)
class PageResult:
    """A page as served: ``stale_since`` is set when upstream failed and the copy is old."""

    page: CachedPage
    stale_since: float | None = None
    stale_reason: str | None = None


class IndexCache:
    def __init__(
        self,
        directory: Path,
        upstream: UpstreamClient,
        *,
        ttl: float,
        negative_ttl: float,
        memory_pages: int = 256,
        revalidate_wait: float = 1.0,
        refresh_backoff: float = 30.0,
        clock: Callable[[], float] = time.time,
        on_result: Callable[[str], None] | None = None,
        on_storage_error: Callable[[str], None] | None = None,
        shared: PageState | None = None,
        leases: Leases | None = None,
        lease_wait: float = 60.0,
    ) -> None:
        """``shared`` and ``leases``: pages shared with other replicas through PostgreSQL
        (``_refresh_shared``); memory is then this replica's L1 and nothing is on disk."""
        self._shared = shared
        self._leases = leases
        self._lease_wait = lease_wait
        self._disk = (
            diskcache.Cache(str(directory), eviction_policy="none") if shared is None else None
        )
        #: The threads that read and write ``_disk`` (a fixed few SQLite connections).
        self._disk_threads = DiskThreads("pages", 2) if self._disk is not None else None
        self._upstream = upstream
        self._ttl = ttl
        self._negative_ttl = negative_ttl
        self._memory: OrderedDict[str, CachedPage] = OrderedDict()
        self._memory_pages = memory_pages
        self._negative: dict[str, tuple[float, str]] = {}
        self._inflight: dict[str, tuple[asyncio.Task[PageResult], float]] = {}
        #: The latest write of each page under way (``_store``).
        self._persisting: dict[str, asyncio.Task[None]] = {}
        self._revalidate_wait = revalidate_wait
        self._refresh_backoff = refresh_backoff
        #: Pages whose last refresh failed: (no refresh before, why).
        self._failed: dict[str, tuple[float, str]] = {}
        #: Pages deleted after an upstream 404 whose disk copy could not be removed.
        self._tombstones: set[str] = set()
        self._clock = clock
        self._on_result = on_result or (lambda outcome: None)
        self._on_storage_error = on_storage_error or (lambda store: None)

    def close(self) -> None:
        if self._disk_threads is not None:
            self._disk_threads.close()
        if self._disk is not None:
            self._disk.close()

    async def _in_store_thread(self, call: Callable[..., T], *args: Any) -> T:
        """``call`` (``_load``, ``_persist``, ``_delete``) on the disk's own threads, or
        on anyio's for the shared store (PostgreSQL)."""
        if self._disk_threads is None:
            return await to_thread.run_sync(call, *args)
        return await self._disk_threads.run(call, *args)

    async def get(self, name: NormalizedName) -> PageResult:
        """The page for ``name``: cached if fresh, else from upstream (see module doc).

        Raises ``UpstreamNotFound`` for a project upstream does not have, and
        ``UpstreamTimeout``/``UpstreamUnavailable`` when upstream fails and
        nothing is cached.
        """
        fresh = self.fresh(name)
        if fresh is not None:
            return fresh
        now = self._clock()
        cached = self._memory.get(name)
        if cached is None:
            cached = await self._in_store_thread(self._load, name)
            if name in self._memory:  # stored while we read the disk: that copy is newer
                cached = self._memory[name]
            elif cached is not None and name in self._negative:
                cached = None  # read just before an upstream 404 deleted it: never revive it
            elif cached is not None:
                self._remember(name, cached)
        if cached is not None and now - cached.fetched_at < self._ttl:
            self._memory.move_to_end(name)
            self._on_result("hit")
            return PageResult(cached)
        negative = self._negative.get(name)
        if negative is not None and now < negative[0]:
            self._on_result("negative-hit")
            raise UpstreamNotFound(negative[1])
        if cached is not None:
            failed = self._failed.get(name)
            if failed is not None and now < failed[0]:
                return self._stale(cached, failed[1])
        inflight = self._inflight.get(name)
        if inflight is None:
            # A task of its own, so one client hanging up never cancels the others' fetch.
            task = asyncio.create_task(self._refresh(name, cached))
            inflight = (task, time.monotonic())
            self._inflight[name] = inflight
            task.add_done_callback(lambda done: self._fetched(name, done))
        task, started = inflight
        if cached is None:
            return await asyncio.shield(task)
        wait = started + self._revalidate_wait - time.monotonic()
        if wait > 0:
            await asyncio.wait([task], timeout=wait)
        if task.done():
            return task.result()
        return self._stale(
            cached,
            f"upstream has not answered for project {name!r} within "
            f"{self._revalidate_wait:g} s; refreshing in the background",
        )

    def fresh(self, name: str, *, count: bool = True) -> PageResult | None:
        """``get``'s answer when it is a page in memory within its TTL (counted as a hit
        unless ``count`` is false: the fast path counts it with ``hit`` once it answers),
        else ``None``: no disk, no upstream, no waiting."""
        cached = self._memory.get(name)
        if cached is None or self._clock() - cached.fetched_at >= self._ttl:
            return None
        self._memory.move_to_end(name)
        if count:
            self.hit()
        return PageResult(cached)

    def hit(self) -> None:
        """Count a page served from memory."""
        self._on_result("hit")

    async def wait_idle(self) -> None:
        """Wait for every refresh in flight and every write (tests, shutdown)."""
        while self._inflight or self._persisting:
            tasks = [task for task, _ in self._inflight.values()]
            await asyncio.wait([*tasks, *self._persisting.values()])

    async def flush(self) -> None:
        """Wait for the writes under way (at shutdown: the pages survive a restart)."""
        while self._persisting:
            await asyncio.wait(list(self._persisting.values()))

    def _stale(self, cached: CachedPage, reason: str) -> PageResult:
        self._on_result("stale")
        return PageResult(cached, stale_since=cached.fetched_at, stale_reason=reason)

    def _fetched(self, name: str, task: asyncio.Task[PageResult]) -> None:
        if self._inflight.get(name, (None, 0.0))[0] is task:
            del self._inflight[name]
        if not task.cancelled():
            task.exception()  # retrieved: every client may have hung up before it failed

    def _load(self, name: str) -> CachedPage | None:
        """The persisted page, or ``None``; an unreadable entry (a crash, an older
        pipgate's format) is dropped and refetched, never an error for the client."""
        if self._shared is not None:
            return self._shared_page(name)
        if name in self._tombstones:
            if not self._delete(name):
                return None
            self._tombstones.discard(name)
        assert self._disk is not None
        try:
            return CachedPage.read(self._disk.get(name))
        except Exception:  # unpickling can raise almost anything
            log.warning("dropping unreadable cached page for %r", name, exc_info=True)
            self._delete(name)
            return None

    def _shared_page(self, name: str) -> CachedPage | None:
        """The page the shared store holds, or ``None`` (also when unreadable: another
        pipgate version wrote it, and it is fetched again). Blocking."""
        assert self._shared is not None
        try:
            return CachedPage.read(self._shared.load(name))
        except ValueError:
            log.warning("ignoring an unreadable shared page of %r", name, exc_info=True)
            return None

    async def _refresh(self, name: NormalizedName, cached: CachedPage | None) -> PageResult:
        if self._shared is None:
            return await self._fetch(name, cached)
        try:
            return await self._refresh_shared(name, cached)
        except StoreUnavailable as exc:
            if cached is None:
                raise
            return self._stale(cached, str(exc))

    async def _refresh_shared(self, name: NormalizedName, cached: CachedPage | None) -> PageResult:
        """One replica fetches from upstream (under the lease ``page:<name>``); the others
        wait for the page it stores, or its 404. After ``lease_wait`` without either (a
        holder that hangs), a replica fetches by itself."""
        assert self._shared is not None and self._leases is not None
        delay, deadline = 0.05, time.monotonic() + self._lease_wait
        while True:
            stored = await to_thread.run_sync(self._shared_page, name)
            if isinstance(stored, CachedPage) and self._clock() - stored.fetched_at < self._ttl:
                self._remember(name, stored)
                self._failed.pop(name, None)
                self._on_result("shared")
                return PageResult(stored)
            missing = await to_thread.run_sync(self._shared.missing, name)
            if missing is not None and self._clock() < missing.until:
                self._memory.pop(name, None)
                self._remember_not_found(name, missing.message, share=False)
                self._on_result("not-found")
                raise UpstreamNotFound(missing.message)
            base = stored if isinstance(stored, CachedPage) else cached
            lease = await to_thread.run_sync(self._leases.acquire, "page:" + name)
            if lease is not None:
                try:
                    again = await to_thread.run_sync(self._shared_page, name)
                    if isinstance(again, CachedPage) and (
                        self._clock() - again.fetched_at < self._ttl
                    ):
                        self._remember(name, again)
                        return PageResult(again)
                    return await self._fetch(name, base)
                finally:
                    try:
                        await to_thread.run_sync(self._leases.release, lease)
                    except StoreUnavailable as exc:  # it expires by itself
                        log.warning("could not release the lease of page %r: %s", name, exc)
            if time.monotonic() > deadline:
                return await self._fetch(name, base)
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 0.25)

    async def _upstream_page(
        self, name: NormalizedName, cached: CachedPage | None
    ) -> tuple[RawPage, Project, bytes]:
        """Upstream's page of ``name``, parsed in a worker thread unless it is the very
        page ``cached`` was parsed from; raises what ``fetch_page`` and ``parse`` raise."""
        raw = await self._upstream.fetch_page(
            name,
            etag=cached.etag if cached else None,
            last_modified=cached.last_modified if cached else None,
        )
        if raw.small:  # cheaper here than a thread hop
            source = source_digest(raw)
            unchanged = cached is not None and cached.source == source
            return raw, cached.project if unchanged else raw.parse(), source  # type: ignore[union-attr]
        source = await to_thread.run_sync(source_digest, raw)
        if cached is not None and cached.source == source:
            return raw, cached.project, source
        return raw, await to_thread.run_sync(raw.parse), source

    async def _fetch(self, name: NormalizedName, cached: CachedPage | None) -> PageResult:
        try:
            raw, project, source = await self._upstream_page(name, cached)
        except NotModified:
            if cached is None:  # a 304 to a request without validators: a broken upstream
                self._on_result("error")
                raise UpstreamUnavailable(
                    f"upstream answered 304 Not Modified to an unconditional request "
                    f"for project {name!r}"
                ) from None
            cached.fetched_at = self._clock()
            self._failed.pop(name, None)
            await self._store(name, cached)
            self._on_result("revalidated")
            return PageResult(cached)
        except UpstreamNotFound as exc:
            # Upstream removed it (often: malware taken down). Never serve it stale.
            self._remember_not_found(name, str(exc))
            await self.forget(name)
            self._on_result("not-found")
            raise
        except UpstreamError as exc:
            if cached is None:
                self._on_result("error")
                raise
            # An open circuit says when upstream is worth asking again; else back off.
            wait = exc.retry_after if exc.retry_after is not None else math.inf
            backoff = min(self._refresh_backoff, wait)
            self._failed[name] = (self._clock() + backoff, str(exc))
            return self._stale(cached, str(exc))
        # A page with no cached copy (new, or dropped after a 404) starts from a
        # revision no earlier copy of it had, so no page rendered from that copy is reused.
        revision = (cached.revision + 1) if cached else time.time_ns()
        if cached is not None and (
            cached.project is project
            or await to_thread.run_sync(operator.eq, cached.project, project)
        ):
            revision, project = cached.revision, cached.project
        page = CachedPage(project, self._clock(), raw.etag, raw.last_modified, revision, source)
        self._negative.pop(name, None)
        self._failed.pop(name, None)
        await self._store(name, page)
        self._on_result("miss")
        return PageResult(page)

    def _remember_not_found(self, name: str, message: str, *, share: bool = True) -> None:
        """Remember a 404; lapsed entries are pruned, so random names cannot grow it forever."""
        now = self._clock()
        if share and self._shared is not None:
            try:
                self._shared.mark_missing(name, now + self._negative_ttl, message)
            except StoreUnavailable as exc:
                log.warning("could not share that %r is missing upstream: %s", name, exc)
        self._negative.pop(name, None)
        self._negative[name] = (now + self._negative_ttl, message)
        if len(self._negative) > NEGATIVE_ENTRIES:
            for stale in [n for n, (until, _) in self._negative.items() if until <= now]:
                del self._negative[stale]
            while len(self._negative) > NEGATIVE_ENTRIES:  # all live: forget the oldest
                del self._negative[next(iter(self._negative))]

    async def _store(self, name: str, page: CachedPage) -> None:
        """Keep ``page`` in memory now and write it in the background (after the write
        before it, if any): the request that fetched it is not kept waiting."""
        self._remember(name, page)
        before = self._persisting.get(name)

        async def persist() -> None:
            if before is not None:
                await asyncio.wait([before])
            await self._in_store_thread(self._persist, name, page)

        task = asyncio.create_task(persist())
        self._persisting[name] = task
        task.add_done_callback(lambda done: self._persisted(name, done))

    def _persisted(self, name: str, task: asyncio.Task[None]) -> None:
        if self._persisting.get(name) is task:
            del self._persisting[name]
        if not task.cancelled():
            task.exception()  # _persist reports its own failures

    def _persist(self, name: str, page: CachedPage) -> None:
        if self._shared is not None:
            try:
                self._shared.store(
                    name,
                    page.encode(),
                    fetched_at=page.fetched_at,
                    revision=page.revision,
                    etag=page.etag,
                )
            except StoreUnavailable as exc:  # served from memory meanwhile
                log.warning("could not share the page of %r: %s", name, exc)
                self._on_storage_error("state")
            return
        assert self._disk is not None
        try:
            self._disk.set(name, page.encode())
        except STORAGE_ERRORS as exc:
            # Served from memory meanwhile; the page is written again at its next refresh.
            log.warning("could not write the cached page of %r to disk: %s", name, exc)
            self._on_storage_error("index")

    def _delete(self, name: str) -> bool:
        if self._shared is not None:
            try:
                self._shared.delete(name)
            except StoreUnavailable as exc:
                log.warning("could not delete the shared page of %r: %s", name, exc)
                return False
            return True
        assert self._disk is not None
        try:
            self._disk.delete(name)
        except STORAGE_ERRORS as exc:
            log.warning("could not delete the cached page of %r from disk: %s", name, exc)
            self._on_storage_error("index")
            return False
        return True

    def _remember(self, name: str, page: CachedPage) -> None:
        self._memory[name] = page
        self._memory.move_to_end(name)
        while len(self._memory) > self._memory_pages:
            self._memory.popitem(last=False)

    async def forget(self, name: str) -> None:
        """Drop the cached page; one whose disk copy cannot be deleted yet is never read back."""
        self._memory.pop(name, None)
        self._failed.pop(name, None)
        writing = self._persisting.get(name)
        if writing is not None:  # a write still under way must not bring it back
            await asyncio.wait([writing])
        if not await self._in_store_thread(self._delete, name):
            self._tombstones.add(name)

    def has_page(self, name: str) -> bool:
        """Whether a page of ``name`` is cached, so the project exists upstream (no
        upstream request). Blocking: call in a thread."""
        if name in self._negative:
            return False
        if self._shared is not None:
            return name in self._memory or self._shared.exists(name)
        return name in self._memory or name in self._disk  # type: ignore[operator]

    def cached(self, name: str) -> CachedPage | None:
        """The cached page of ``name`` however old, without asking upstream, or ``None``.
        Blocking: call in a thread."""
        page = self._memory.get(name)
        return page if page is not None else self._load(name)

    def known_projects(self) -> list[str]:
        """Names with a cached page (on disk or in memory). Blocking: call in a thread."""
        stored = self._shared.names() if self._shared is not None else self._disk.iterkeys()  # type: ignore[union-attr]
        return sorted(set(stored) | set(self._memory))


__all__ = ["CachedPage", "IndexCache", "PageResult", "UpstreamUnavailable"]
