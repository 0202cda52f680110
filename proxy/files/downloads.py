"""Single-flight downloads: one upstream fetch per cold file, streamed to every waiter.

The first request for a cold file starts a ``Download`` in a task of its own
(a client hanging up does not stop it). Bytes are hashed as they arrive and
written to a temporary file; every request for the same file follows that
file as it grows. A follower never receives the last byte before the hash
has been checked, so a corrupt or truncated download never reaches a client
whole. Only a verified file is committed to the store.

Followers read through a descriptor the download opens on its temporary file
and keeps for ``LINGER`` seconds after it ends, so a follower that comes late
gets the verified bytes even when the store has already evicted them again, or
refused them (a full disk). A file that cannot even be written to ``tmp/``
raises ``StorageError`` before any byte was sent, so the caller can stream it
from upstream instead (``open_unstored``).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import httpx
from anyio import to_thread

from pipgate.proxy.errors import IntegrityError, StorageError, UpstreamError, UpstreamTimeout
from pipgate.proxy.files.reads import read_at
from pipgate.proxy.files.store import FileStore, extract_wheel_metadata
from pipgate.proxy.observe.disk import STORAGE_ERRORS
from pipgate.proxy.storage.blobs import BlobStore, file_key
from pipgate.proxy.upstream.client import UpstreamClient, translate
from pipgate.proxy.urls import redact

if TYPE_CHECKING:
    from pipgate.proxy.storage.leases import Lease, Leases

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
    done: bool = False
    #: Whether the verified file went into the store.
    stored: bool = False
    store: FileStore | None = None
    #: A read-only descriptor on the temporary file (its bytes outlive the file's name).
    reader: int | None = None
    headers_ready: asyncio.Event = field(default_factory=asyncio.Event)
    _progress: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def _advance(self, written: int) -> None:
        async with self._progress:
            self.written = written
            self._progress.notify_all()

    async def _finish(self, error: UpstreamError | StorageError | None) -> None:
        async with self._progress:
            self.error = error
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

    async def open_verified(self) -> BinaryIO | None:
        """A handle on the finished, verified file (from the download while it
        lingers, else from the store), or ``None``."""
        if self.sha256 is None or self.error is not None:
            return None
        fd = self._dup()
        if fd is not None:
            return os.fdopen(fd, "rb")
        if self.stored and self.store is not None:
            return await to_thread.run_sync(self.store.open, self.sha256)
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

    async def follow(self, chunk_size: int = CHUNK) -> AsyncIterator[bytes | bytearray]:
        """The file's bytes from the start, as they arrive, ``chunk_size`` at a time;
        raises if the download fails."""
        offset = 0
        fd: int | None = None
        try:
            while True:
                async with self._progress:
                    while not self.done and self.written - 1 <= offset:
                        await self._progress.wait()
                    if self.error is not None:
                        raise self.error
                    limit = self.written if self.done else self.written - 1
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
                if self.done and offset >= self.written:
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
        """The download of ``url``: the one in flight, or a new one."""
        key = sha256 or url
        download = self._inflight.get(key)
        if download is not None:
            return download
        self._prune_lingering()
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

    async def _run(self, download: Download, project: str, url: str) -> None:
        what = f"file {download.filename!r}"
        error: UpstreamError | StorageError | None = None
        try:
            if self._cluster is None:
                error, source = (
                    await self._fetch(download, self._from_upstream(url, what), what),
                    "upstream",
                )
            else:
                error, source = await self._obtain_shared(download, url, what)
            scanned = self._cluster is not None and source == "upstream"  # under the lease
            if error is None and source != "store" and not scanned and self._verify is not None:
                # Before the commit and before followers get the last byte: no client
                # receives a file whole until its content scan has a report.
                error = await self._verify(download)
            if error is None and source == "store":
                download.stored = True  # another process of this data directory stored it
            elif error is None:
                sha256 = str(download.sha256)
                try:
                    has_metadata = await to_thread.run_sync(
                        self._commit,
                        download,
                        sha256,
                        url,
                        source == "upstream" and self._cluster is None,
                    )
                except STORAGE_ERRORS as exc:
                    # Verified but not kept: followers read it through the download.
                    log.warning("could not store %s (%s); serving it unstored", what, exc)
                else:
                    download.stored = True
                    self._on_committed(project, download.filename, sha256, has_metadata)
        except (UpstreamError, StorageError) as exc:
            error = exc
        except Exception as exc:  # never leave waiters hanging
            log.exception("download of %s failed", redact(url))
            error = IntegrityError(f"could not fetch {what}: {exc}")
        finally:
            self._inflight.pop(download.key, None)
            download.temp_path.unlink(missing_ok=True)
            if error is None:
                self._lingering.append((time.monotonic() + LINGER, download))
                asyncio.get_running_loop().call_later(LINGER, self._prune_lingering)
            else:
                download._close_reader()
            await download._finish(error)

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
    async def _from_upstream(self, url: str, what: str) -> AsyncIterator[Source]:
        async with self._upstream.stream(url, what) as response:
            announced = response.headers.get("content-length")

            async def chunks() -> AsyncIterator[bytes]:
                try:
                    async for chunk in _as_sent(response):
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
        """Fetch ``source`` into the temporary file, checking size and sha256 (``expected``,
        else the index's); raises ``StorageError`` when the disk refuses it."""
        expected = expected or download.expected_sha256
        digest = hashlib.sha256()
        written = 0
        try:
            out = download.temp_path.open("wb")
        except OSError as exc:
            raise StorageError(
                f"cannot write {what} to {download.temp_path.parent}: {exc}"
            ) from exc
        try:
            download.reader = os.open(download.temp_path, os.O_RDONLY)
        except OSError as exc:
            out.close()
            raise StorageError(f"cannot read back {what} from {download.temp_path}: {exc}") from exc
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
                        digest.update(chunk)
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
        if download.size is not None and written != download.size:
            return IntegrityError(
                f"{counted_as} sent {written} of {download.size} bytes for {what} (truncated)"
            )
        actual = digest.hexdigest()
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
    ) -> tuple[UpstreamError | StorageError | None, str]:
        """Fill ``download`` from the shared stores, or from upstream under the cluster's
        lease so that one replica fetches it; returns ``(error, source)``, the source being
        ``blobs`` (the object store), ``store`` (this data directory, written by another
        process) or ``upstream``.

        The others wait: they look for the object every ``poll`` seconds (a little
        longer each time) and try the lease again, which is free once its holder
        finished (the object is there then) or crashed (its lease expired)."""
        cluster = self._cluster
        assert cluster is not None
        key = "file:" + (download.expected_sha256 or hashlib.sha256(url.encode()).hexdigest())
        delay = cluster.poll
        deadline = time.monotonic() + cluster.wait_limit
        while True:
            found = await self._from_shared(download, url, what)
            if found is not None:
                return found
            lease = await to_thread.run_sync(cluster.leases.acquire, key)
            if lease is not None:
                renewing = asyncio.create_task(self._renew(lease))
                try:
                    found = await self._from_shared(download, url, what)  # stored meanwhile?
                    if found is not None:
                        return found
                    error = await self._fetch(download, self._from_upstream(url, what), what)
                    if error is None and self._verify is not None:
                        error = await self._verify(download)  # scanned before it is shared
                    if error is None:
                        await self._publish(download, url)
                    return error, "upstream"
                finally:
                    renewing.cancel()
                    try:
                        await to_thread.run_sync(cluster.leases.release, lease)
                    except StorageError as exc:  # it expires by itself
                        log.warning("could not release the lease of %s: %s", what, exc)
            if time.monotonic() > deadline:
                return UpstreamTimeout(
                    f"{what} has been fetched by another replica for more than "
                    f"{cluster.wait_limit:g} s; try again"
                ), "upstream"
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, MAX_POLL)

    async def _from_shared(
        self, download: Download, url: str, what: str
    ) -> tuple[UpstreamError | StorageError | None, str] | None:
        """The file from the object store or this data directory, if it is there."""
        cluster = self._cluster
        assert cluster is not None
        sha256 = download.expected_sha256 or await to_thread.run_sync(
            self._store.sha256_for_url, url
        )
        if sha256 is None:
            return None
        handle = await to_thread.run_sync(self._store.open, sha256)
        if handle is not None:
            with handle:
                download.reader = os.dup(handle.fileno())
                size = os.fstat(handle.fileno()).st_size
            download.size, download.sha256 = size, sha256
            download.headers_ready.set()
            await download._advance(size)
            return None, "store"
        if cluster.blobs is None or await cluster.blobs.head(file_key(sha256)) is None:
            return None
        source = _from_blob(cluster.blobs, file_key(sha256))
        error = await self._fetch(download, source, what, expected=sha256, counted_as="blobs")
        return error, "blobs"

    async def _publish(self, download: Download, url: str) -> None:
        """Under the lease: the verified file into the object store, then its facts (the
        hash of an unhashed URL, a wheel's METADATA), so a replica that sees the lease
        free finds everything."""
        cluster = self._cluster
        assert cluster is not None and download.sha256 is not None
        sha256 = download.sha256
        if cluster.blobs is not None:
            await cluster.blobs.put_file(
                file_key(sha256), download.temp_path, size=download.written
            )
        if download.filename.endswith(".whl"):
            metadata = await to_thread.run_sync(extract_wheel_metadata, download.temp_path)
            if metadata is not None:
                await to_thread.run_sync(self._store.put_metadata, sha256, metadata)
        if download.expected_sha256 is None:
            await to_thread.run_sync(self._store.remember_url, url, sha256)

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


@asynccontextmanager
async def _from_blob(blobs: BlobStore, key: str) -> AsyncIterator[Source]:
    size, chunks = await blobs.stream(key)
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
