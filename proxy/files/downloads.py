"""Single-flight downloads: one upstream fetch per cold file, streamed to every waiter.

The first request for a cold file starts a ``Download`` in a task of its own
(a client hanging up does not stop it). Bytes are hashed as they arrive and
written to a temporary file; every request for the same file follows that
file as it grows. A follower never receives the last byte before the file is
``verified`` (size and hash checked, content scan done), so a corrupt, truncated
or unscanned download never reaches a client whole. Only a verified file is
committed to the store; clients are answered from the verified temporary file
while that happens (in a cluster: the upload to the object store and the
facts), so keeping a file never delays its first client.

Followers read through a descriptor the download opens on its temporary file
and keeps for ``LINGER`` seconds after it ends, so a follower that comes late
gets the verified bytes even when the store has already evicted them again, or
refused them (a full disk). A file that cannot even be written to ``tmp/``
raises ``StorageError`` before any byte was sent, so the caller can stream it
from upstream instead (``open_unstored``).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import os
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import httpx
from anyio import to_thread

from pipgate.proxy.errors import (
    IntegrityError,
    StorageError,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from pipgate.proxy.files.reads import read_at
from pipgate.proxy.files.store import FileStore, extract_wheel_metadata
from pipgate.proxy.observe.disk import STORAGE_ERRORS
from pipgate.proxy.storage.blobs import BlobMissing, BlobStore, file_key
from pipgate.proxy.storage.peers import PeerUnavailable
from pipgate.proxy.upstream.client import UpstreamClient, translate
from pipgate.proxy.urls import redact

if TYPE_CHECKING:
    from pipgate.proxy.storage.leases import Lease, Leases
    from pipgate.proxy.storage.peers import Peers

log = logging.getLogger("pipgate.downloads")

#: Bytes read from upstream at a time.
CHUNK = 256 * 1024
#: Seconds a finished download keeps its bytes readable for late followers.
LINGER = 5.0
#: Longest wait between two looks for a file another replica is fetching.
MAX_POLL = 0.25

#: What a download reads: ``(announced size or None, chunks)``.
Source = tuple[int | None, AsyncIterator[bytes]]


@dataclass(frozen=True)
class SharedFiles:
    """The shared stores a download uses in a cluster (``Downloads(cluster=...)``)."""

    leases: Leases
    #: The object store; ``None`` when processes share one data directory instead.
    blobs: BlobStore | None
    #: Streams a file from the replica holding its lease (``None``: wait for the store).
    peers: Peers | None = None
    #: First wait between two looks for a file another replica is fetching.
    poll: float = 0.05
    #: Longest wait for another replica's download before answering 504.
    wait_limit: float = 600.0


@dataclass(eq=False)
class Download:
    """One file being fetched. ``size`` is known once upstream's headers arrive."""

    key: str
    filename: str
    temp_path: Path
    expected_sha256: str | None
    size: int | None
    written: int = 0
    sha256: str | None = None
    error: UpstreamError | StorageError | None = None
    #: Size and hash checked and the content scan done: the bytes may go out whole.
    verified: bool = False
    #: Finished: verified and kept (or not), or failed.
    done: bool = False
    #: Whether the verified file went into the store.
    stored: bool = False
    #: Whether it went into the cluster's shared store (by this replica, under the lease).
    published: bool = False
    store: FileStore | None = None
    #: A read-only descriptor on the temporary file (its bytes outlive the file's name).
    reader: int | None = None
    headers_ready: asyncio.Event = field(default_factory=asyncio.Event)
    _progress: asyncio.Condition = field(default_factory=asyncio.Condition)
    #: The sha256 of the bytes written so far (a download may resume from another source).
    _digest: Any = field(default_factory=hashlib.sha256)

    async def _advance(self, written: int) -> None:
        async with self._progress:
            self.written = written
            self._progress.notify_all()

    async def _verified(self) -> None:
        async with self._progress:
            self.verified = True
            self._progress.notify_all()

    async def _finish(self, error: UpstreamError | StorageError | None) -> None:
        async with self._progress:
            self.error = error
            self.verified = error is None
            self.done = True
            self.headers_ready.set()
            self._progress.notify_all()

    async def wait_for_headers(self) -> None:
        """Return once upstream answered (or failed); raises the failure, if any."""
        await self.headers_ready.wait()
        if self.error is not None and self.written == 0:
            raise self.error

    async def wait_until_done(self) -> None:
        """Return once the download finished; raises its failure, if any."""
        async with self._progress:
            await self._progress.wait_for(lambda: self.done)
        if self.error is not None:
            raise self.error

    async def wait_until_verified(self) -> None:
        """Return once the file is verified (it may still be being stored); raises the
        download's failure, if any."""
        async with self._progress:
            await self._progress.wait_for(lambda: self.verified or self.done)
        if self.error is not None:
            raise self.error

    async def open_verified(self) -> BinaryIO | None:
        """A handle on the verified file (from the download while it runs or lingers,
        else from the store), or ``None``."""
        if not self.verified or self.sha256 is None or self.error is not None:
            return None
        fd = self._dup()
        if fd is not None:
            return os.fdopen(fd, "rb")
        if self.stored and self.store is not None:
            return await self.store.threads.run(self.store.open, self.sha256)
        return None

    def _dup(self) -> int | None:
        """A descriptor of our own on the bytes, or ``None`` once the linger ended.
        Only on the event loop: ``reader`` is closed there too, so its number
        cannot be reused by another file in between."""
        return None if self.reader is None else os.dup(self.reader)

    def _close_reader(self) -> None:
        reader, self.reader = self.reader, None
        if reader is not None:
            os.close(reader)

    def has_part(self, last: int) -> bool:
        """Whether bytes up to offset ``last`` (inclusive) are written and may be handed
        out now: never the file's last byte before the download is verified."""
        return self.error is None and not self.done and last < self.written - 1

    async def part(
        self, first: int, last: int, chunk_size: int = CHUNK
    ) -> AsyncIterator[bytes | bytearray]:
        """Bytes ``first`` to ``last`` (inclusive) of the file, which ``has_part`` said
        are written; read through a descriptor of its own (the download may end meanwhile)."""
        fd = self._dup()
        if fd is None:
            raise IntegrityError(f"{self.filename!r} is no longer being downloaded")
        try:
            offset = first
            while offset <= last:
                chunk = await read_at(fd, offset, min(chunk_size, last + 1 - offset))
                if not chunk:
                    raise IntegrityError(f"{self.filename!r} ended before byte {offset}")
                offset += len(chunk)
                yield chunk
        finally:
            os.close(fd)

    async def follow(
        self, chunk_size: int = CHUNK, *, start: int = 0
    ) -> AsyncIterator[bytes | bytearray]:
        """The file's bytes from ``start``, as they arrive, ``chunk_size`` at a time
        (the last one once verified); raises if the download fails."""
        offset = start
        fd: int | None = None
        try:
            while True:
                async with self._progress:
                    while not (self.verified or self.done) and self.written - 1 <= offset:
                        await self._progress.wait()
                    if self.error is not None:
                        raise self.error
                    limit = self.written if self.verified else self.written - 1
                if fd is None:
                    fd = self._dup()
                if fd is None:  # came after the linger: the store has it, or nobody
                    handle = await self.open_verified()
                    if handle is None:
                        raise IntegrityError(f"{self.filename!r} was evicted while being served")
                    fd = os.dup(handle.fileno())
                    handle.close()
                while offset < limit:
                    chunk = await read_at(fd, offset, min(chunk_size, limit - offset))
                    if not chunk:
                        break
                    offset += len(chunk)
                    yield chunk
                if self.verified and offset >= self.written:
                    return
        finally:
            if fd is not None:
                os.close(fd)


Notify = Callable[[str, int], None]
#: Checks a downloaded, hash-verified file before it is committed; an error fails it.
Verify = Callable[["Download"], Awaitable["UpstreamError | None"]]


class Downloads:
    """The downloads in flight, keyed by expected sha256 (or URL when unknown)."""

    def __init__(
        self,
        store: FileStore,
        upstream: UpstreamClient,
        *,
        on_committed: Callable[[str, str, str, bool], None] | None = None,
        on_bytes: Notify | None = None,
        verify: Verify | None = None,
        cluster: SharedFiles | None = None,
    ) -> None:
        """``cluster``: the shared stores, when this process is one of several replicas
        (see ``_obtain_shared``); ``None``: the embedded default."""
        self._store = store
        self._cluster = cluster
        self._upstream = upstream
        self._inflight: dict[str, Download] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._lingering: list[tuple[float, Download]] = []
        self._on_committed = on_committed or (lambda project, filename, sha256, meta: None)
        self._on_bytes = on_bytes or (lambda outcome, n: None)
        self._verify = verify
        self.started = 0

    def in_progress(self, url: str, sha256: str | None) -> Download | None:
        """The download of that file under way, if any (``start`` would join it)."""
        return self._inflight.get(sha256 or url)

    def start(
        self, project: str, filename: str, url: str, sha256: str | None, size: int | None
    ) -> Download:
        """The download of ``url``: the one in flight, one that ended moments ago and
        lingers (a caller that looked in the store just before that download was kept
        there gets its bytes, not a second upstream fetch), or a new one."""
        key = sha256 or url
        download = self._inflight.get(key) or self._lingering_of(key)
        if download is not None:
            return download
        download = Download(
            key, filename, self._store.new_temp_path(), sha256, size, store=self._store
        )
        self._inflight[key] = download
        self.started += 1
        task = asyncio.create_task(self._run(download, project, url))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return download

    async def wait_idle(self) -> None:
        """Wait for every download in flight (used at shutdown and in tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def for_peer(self, sha256: str) -> Download | None:
        """The download of the file ``sha256`` under way or lingering (its bytes still
        readable), for another replica that streams it from this one."""
        return self._inflight.get(sha256) or self._lingering_of(sha256)

    def _lingering_of(self, key: str) -> Download | None:
        """The ended download of ``key`` (its URL or sha256) whose bytes are still readable."""
        self._prune_lingering()
        for _, lingering in self._lingering:
            if key in (lingering.key, lingering.sha256) and lingering.reader is not None:
                return lingering
        return None

    async def _run(self, download: Download, project: str, url: str) -> None:
        what = f"file {download.filename!r}"
        error: UpstreamError | StorageError | None = None
        held: _Held | None = None
        try:
            if self._cluster is None:
                error, source = (
                    await self._fetch(download, self._from_upstream(url, what), what),
                    "upstream",
                )
            else:
                error, source, held = await self._obtain_shared(download, url, what)
            if error is None and source != "store" and self._verify is not None:
                # Before the commit and before followers get the last byte: no client
                # receives a file whole until its content scan has a report.
                error = await self._verify(download)
            if error is None:
                await download._verified()  # clients get it whole now, while it is kept
                await self._keep(download, project, url, source, held)
        except (UpstreamError, StorageError) as exc:
            if not download.verified:
                error = exc
            else:  # clients have it whole: only keeping it failed
                log.warning("could not keep %s: %s", what, exc)
        except Exception as exc:  # never leave waiters hanging
            log.exception("download of %s failed", redact(url))
            if not download.verified:
                error = IntegrityError(f"could not fetch {what}: {exc}")
        finally:
            if held is not None:
                await held.release(self._cluster, stored=download.published, what=what)
            self._inflight.pop(download.key, None)
            download.temp_path.unlink(missing_ok=True)
            if error is None:
                self._lingering.append((time.monotonic() + LINGER, download))
                asyncio.get_running_loop().call_later(LINGER, self._prune_lingering)
            else:
                download._close_reader()
            await download._finish(error)

    async def _keep(
        self, download: Download, project: str, url: str, source: str, held: _Held | None
    ) -> None:
        """Keep the verified file: this replica's store, and in a cluster the shared ones
        when it came from upstream (``held``: under the lease)."""
        if source == "store":
            download.stored = True  # another process of this data directory stored it
            return
        sha256 = str(download.sha256)
        if held is not None:
            try:
                await self._publish(download, url)  # before the commit moves the temp file
            except StorageError as exc:
                # Served and kept here; another replica fetches it again when it needs it.
                log.warning("could not share %s with the cluster: %s", download.filename, exc)
        try:
            has_metadata = await self._store.threads.run(
                self._commit,
                download,
                sha256,
                url,
                source == "upstream" and self._cluster is None,
            )
        except STORAGE_ERRORS as exc:
            # Verified but not kept: followers read it through the download.
            log.warning("could not store %s (%s); serving it unstored", download.filename, exc)
        else:
            download.stored = True
            if held is not None and self._cluster is not None and self._cluster.blobs is None:
                download.published = True  # the shared data directory is the shared store
            self._on_committed(project, download.filename, sha256, has_metadata)

    def _prune_lingering(self) -> None:
        now = time.monotonic()
        while self._lingering and self._lingering[0][0] <= now:
            _, download = self._lingering.pop(0)
            download._close_reader()

    def close(self) -> None:
        """Let go of every lingering download (at shutdown)."""
        for _, download in self._lingering:
            download._close_reader()
        self._lingering.clear()

    @asynccontextmanager
    async def _from_upstream(self, url: str, what: str, offset: int = 0) -> AsyncIterator[Source]:
        """The file from upstream; from ``offset`` on when a download resumes (the bytes
        before it are read and dropped: the hash of the whole file is checked anyway)."""
        async with self._upstream.stream(url, what) as response:
            announced = response.headers.get("content-length")

            async def chunks() -> AsyncIterator[bytes]:
                skip = offset
                try:
                    async for chunk in _as_sent(response):
                        if skip:
                            dropped = min(skip, len(chunk))
                            chunk, skip = chunk[dropped:], skip - dropped
                            if not chunk:
                                continue
                        yield chunk
                except httpx.HTTPError as exc:
                    raise translate(exc, what, url) from exc

            yield (int(announced) if announced and announced.isdigit() else None), chunks()

    async def _fetch(
        self,
        download: Download,
        source: AbstractAsyncContextManager[Source],
        what: str,
        *,
        expected: str | None = None,
        counted_as: str = "upstream",
    ) -> UpstreamError | None:
        """Fetch ``source`` into the temporary file (after what it holds already: a source
        starts at ``download.written``), then check size and sha256 (``expected``, else the
        index's); raises ``StorageError`` when the disk refuses it."""
        error = await self._receive(download, source, what, counted_as)
        return error or self._check(download, what, expected, counted_as)

    async def _receive(
        self,
        download: Download,
        source: AbstractAsyncContextManager[Source],
        what: str,
        counted_as: str,
    ) -> UpstreamError | None:
        """Append what ``source`` sends to the temporary file, hashing it; returns the
        source's failure (what arrived before it is kept, so another source can go on)."""
        try:
            out = download.temp_path.open("ab" if download.written else "wb")
        except OSError as exc:
            raise StorageError(
                f"cannot write {what} to {download.temp_path.parent}: {exc}"
            ) from exc
        if download.reader is None:
            try:
                download.reader = os.open(download.temp_path, os.O_RDONLY)
            except OSError as exc:
                out.close()
                raise StorageError(
                    f"cannot read back {what} from {download.temp_path}: {exc}"
                ) from exc
        written = download.written
        with out:
            async with source as (announced, chunks):
                if announced is not None:
                    if download.size is not None and announced != download.size:
                        return IntegrityError(
                            f"{counted_as} announced {announced} bytes for {what}; "
                            f"the index says {download.size}"
                        )
                    download.size = announced
                download.headers_ready.set()
                try:
                    async for chunk in chunks:
                        download._digest.update(chunk)
                        try:
                            await to_thread.run_sync(_write_and_flush, out, chunk)
                        except OSError as exc:
                            raise StorageError(
                                f"cannot write {what} to {download.temp_path.parent}: {exc}"
                            ) from exc
                        written += len(chunk)
                        self._on_bytes(counted_as, len(chunk))
                        await download._advance(written)
                except UpstreamError as exc:
                    return exc
        return None

    def _check(
        self, download: Download, what: str, expected: str | None, counted_as: str
    ) -> UpstreamError | None:
        """Size and sha256 of everything received; sets ``download.sha256`` when they match."""
        expected = expected or download.expected_sha256
        if download.size is not None and download.written != download.size:
            return IntegrityError(
                f"{counted_as} sent {download.written} of {download.size} bytes for {what} "
                "(truncated)"
            )
        actual = download._digest.hexdigest()
        if expected and actual != expected:
            return IntegrityError(
                f"sha256 of {what} from {counted_as} is {actual}; the index says "
                f"{expected}; not stored"
            )
        download.sha256 = actual
        return None

    def _commit(self, download: Download, sha256: str, url: str, facts: bool = True) -> bool:
        """Store the verified file (and, with ``facts``, a wheel's METADATA and the hash of
        an unhashed URL); true if metadata was stored.

        A file the index lists without a hash is kept under the hash it arrived
        with (trust on first use), and its URL remembered, so it is fetched once.
        In a cluster the facts are published under the lease (``_publish``)."""
        metadata = None
        if facts and download.filename.endswith(".whl"):
            metadata = extract_wheel_metadata(download.temp_path)
        # Followers hold open handles; on POSIX the bytes stay readable after the move.
        self._store.commit(sha256, download.temp_path)
        stored_metadata = metadata is not None and self._store.put_metadata(sha256, metadata)
        if facts and download.expected_sha256 is None:
            self._store.remember_url(url, sha256)
        return stored_metadata or (not facts and self._store.metadata_hash(sha256) is not None)

    # -- in a cluster ------------------------------------------------------------------------

    async def _obtain_shared(
        self, download: Download, url: str, what: str
    ) -> tuple[UpstreamError | StorageError | None, str, _Held | None]:
        """Fill ``download`` from the shared stores, from the replica fetching it, or from
        upstream under the cluster's lease so that one replica fetches it; returns
        ``(error, source, lease held)``, the source being ``blobs`` (the object store),
        ``store`` (this data directory, written by another process), ``peer`` (streamed
        from the lease holder) or ``upstream`` (then the lease is held until the file is
        kept: see ``_run``).

        Before the upstream fetch this costs one look in the object store (a GET that
        reads the file when it is there) and one claim of the lease, which says when it
        loses who holds it or that the file was just stored (then look again). A
        replica that loses streams the file from the holder, as it arrives, hashing it
        itself; if the holder goes away mid-file (crashed), it goes on from where it was
        with whatever comes next: the object store, another holder, or the lease and
        upstream. Without a holder to stream from (no address, an unhashed file) it
        looks for the object every ``poll`` seconds (a little longer each time)."""
        cluster = self._cluster
        assert cluster is not None
        key = "file:" + (download.expected_sha256 or hashlib.sha256(url.encode()).hexdigest())
        delay = cluster.poll
        deadline = time.monotonic() + cluster.wait_limit
        over_marker = False
        while True:
            found = await self._from_shared(download, url, what)
            if found is not None:
                return (*found, None)
            claim = await to_thread.run_sync(
                functools.partial(cluster.leases.claim, key, over_marker=over_marker)
            )
            if claim.lease is not None:
                held = _Held(claim.lease, asyncio.create_task(self._renew(claim.lease)))
                try:
                    error = await self._fetch(
                        download, self._from_upstream(url, what, download.written), what
                    )
                except BaseException:
                    await held.release(cluster, stored=False, what=what)
                    raise
                return error, "upstream", held
            if claim.stored:
                # Stored since our look: look again. Stored but missing from the store
                # (deleted by hand): the next claim takes the lease over the marker.
                over_marker = True
                continue
            over_marker = False
            if claim.holder_url and cluster.peers is not None and download.expected_sha256:
                before = download.written
                error = await self._from_holder(download, claim.holder_url, what)
                if error is None:
                    return None, "peer", None
                if error is not _INTERRUPTED:
                    return error, "peer", None
                if download.written > before:  # it was moving: wait anew for what comes next
                    deadline = time.monotonic() + cluster.wait_limit
            if time.monotonic() > deadline:
                return (
                    UpstreamTimeout(
                        f"{what} has been fetched by another replica for more than "
                        f"{cluster.wait_limit:g} s; try again"
                    ),
                    "upstream",
                    None,
                )
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, MAX_POLL)

    async def _from_shared(
        self, download: Download, url: str, what: str
    ) -> tuple[UpstreamError | StorageError | None, str] | None:
        """The file from this data directory or the object store, if it is there (from
        where the download is: it may have part of the file already)."""
        cluster = self._cluster
        assert cluster is not None
        sha256 = download.expected_sha256 or await self._store.threads.run(
            self._store.sha256_for_url, url
        )
        if sha256 is None:
            return None
        if download.written == 0:
            handle = await self._store.threads.run(self._store.open, sha256)
            if handle is not None:
                with handle:
                    download.reader = os.dup(handle.fileno())
                    size = os.fstat(handle.fileno()).st_size
                download.size, download.sha256 = size, sha256
                download.headers_ready.set()
                await download._advance(size)
                return None, "store"
        if cluster.blobs is None:
            return None
        try:
            size, chunks = await cluster.blobs.stream(file_key(sha256), start=download.written)
        except BlobMissing:
            return None
        source = _opened(size, chunks)
        error = await self._fetch(download, source, what, expected=sha256, counted_as="blobs")
        return error, "blobs"

    async def _from_holder(
        self, download: Download, holder_url: str, what: str
    ) -> UpstreamError | None:
        """Stream the file from the replica holding its lease; ``_INTERRUPTED`` when that
        replica stopped answering before the end (try the stores and the lease again)."""
        cluster = self._cluster
        assert cluster is not None and cluster.peers is not None
        sha256 = str(download.expected_sha256)
        source = cluster.peers.stream(holder_url, sha256, download.written, what)
        try:
            error = await self._receive(download, source, what, "peer")
        except PeerUnavailable as exc:
            error = exc
        if error is None:
            error = self._check(download, what, None, "peer")
            if error is None or download.size is None or download.written >= download.size:
                return error  # whole (or whole and wrong: the holder verified it, so do not)
        log.info("streaming %s from %s stopped: %s", what, holder_url, error)
        return _INTERRUPTED

    async def _publish(self, download: Download, url: str) -> None:
        """Under the lease: the verified file into the object store, then its facts (the
        hash of an unhashed URL, a wheel's METADATA), so a replica that sees the lease
        free finds everything. Its clients are served meanwhile (see ``_run``)."""
        cluster = self._cluster
        assert cluster is not None and download.sha256 is not None
        sha256 = download.sha256
        if cluster.blobs is not None:
            await cluster.blobs.put_file(
                file_key(sha256), download.temp_path, size=download.written
            )
            download.published = True
        if download.filename.endswith(".whl"):
            metadata = await to_thread.run_sync(extract_wheel_metadata, download.temp_path)
            if metadata is not None:
                await self._store.threads.run(self._store.put_metadata, sha256, metadata)
        if download.expected_sha256 is None:
            await self._store.threads.run(self._store.remember_url, url, sha256)

    async def _renew(self, lease: Lease) -> None:
        cluster = self._cluster
        assert cluster is not None
        while True:
            await asyncio.sleep(cluster.leases.ttl / 3)
            try:
                if not await to_thread.run_sync(cluster.leases.renew, lease):
                    log.warning("lost the lease %s; another replica may fetch it too", lease.key)
                    return
            except StorageError as exc:
                log.warning("could not renew the lease %s: %s", lease.key, exc)


#: ``_from_holder``: the holder stopped before the end; look elsewhere and go on.
_INTERRUPTED = UpstreamUnavailable("the replica fetching the file stopped answering")


@dataclass
class _Held:
    """A file lease this replica holds, renewed until it is released."""

    lease: Lease
    renewing: asyncio.Task[None]

    async def release(self, cluster: SharedFiles | None, *, stored: bool, what: str) -> None:
        self.renewing.cancel()
        assert cluster is not None
        try:
            await to_thread.run_sync(
                functools.partial(cluster.leases.release, self.lease, stored=stored)
            )
        except StorageError as exc:  # it expires by itself
            log.warning("could not release the lease of %s: %s", what, exc)


@asynccontextmanager
async def _opened(size: int, chunks: AsyncIterator[bytes]) -> AsyncIterator[Source]:
    """A blob already opened (``BlobStore.stream``) as a download's source."""
    try:
        yield size, chunks
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]


async def open_unstored(
    upstream: UpstreamClient,
    url: str,
    filename: str,
    sha256: str | None,
    size: int | None,
    *,
    chunk_size: int,
) -> tuple[int | None, AsyncGenerator[bytes, None]]:
    """A file straight from upstream, for when the disk cannot take it.

    Returns ``(size, chunks)`` once upstream answered (its errors are raised
    here, before any response starts). The chunks are checked like a download's:
    the last one is held back until size and hash match, so a bad file never
    arrives whole. Closing ``chunks`` (``aclose``) closes the upstream response.
    """
    what = f"file {filename!r}"
    stream = _unstored(upstream, url, what, sha256, size, chunk_size)
    announced = await anext(stream)  # runs up to upstream's answer, so aclose() cleans up
    return announced, stream  # type: ignore[return-value]


async def _unstored(
    upstream: UpstreamClient,
    url: str,
    what: str,
    sha256: str | None,
    size: int | None,
    chunk_size: int,
) -> AsyncGenerator[bytes | int | None, None]:
    async with upstream.stream(url, what) as response:
        announced = response.headers.get("content-length")
        if size is None and announced and announced.isdigit():
            size = int(announced)
        yield size
        async for chunk in _verified(response, what, url, sha256, size, chunk_size):
            yield chunk


async def _verified(
    response: httpx.Response,
    what: str,
    url: str,
    sha256: str | None,
    size: int | None,
    chunk_size: int,
) -> AsyncIterator[bytes]:
    digest, total, held = hashlib.sha256(), 0, b""
    try:
        async for chunk in _as_sent(response, chunk_size):
            digest.update(chunk)
            total += len(chunk)
            if held:
                yield held
            held = chunk
    except httpx.HTTPError as exc:
        raise translate(exc, what, url) from exc
    if size is not None and total != size:
        raise IntegrityError(f"upstream sent {total} of {size} bytes for {what} (truncated)")
    if sha256 is not None and digest.hexdigest() != sha256:
        raise IntegrityError(f"sha256 of {what} from upstream does not match the index")
    if held:
        yield held


async def _as_sent(response: httpx.Response, chunk_size: int = CHUNK) -> AsyncIterator[bytes]:
    """The body's bytes as the server sent them, never content-decoded: the index's
    sha256 and size are of those. (A response a transport already read whole, as
    ``httpx.MockTransport`` does, can only give its content.)"""
    if response.is_stream_consumed:
        yield response.content
        return
    async for chunk in response.aiter_raw(chunk_size):
        yield chunk


def _write_and_flush(out, chunk: bytes) -> None:  # type: ignore[no-untyped-def]
    out.write(chunk)
    out.flush()
