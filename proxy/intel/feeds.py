"""Every configured advisory feed, loaded at start-up and refreshed on its schedule.

A feed is identified by its ``feed`` setting as written (a directory, a zip
file or an http(s) URL); several policies and indexes naming the same feed
share one load, whose records are split into the kinds they use. A refresh
that fails keeps the last good snapshot (logged, counted in
``pipgate_intel_refresh_total{feed,outcome}``), and a refresh that changes
nothing builds nothing. ``on_change`` hears of every new snapshot.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from anyio import to_thread
from prometheus_client import Counter, Gauge

from pipgate.policies.advisories import KINDS, MALICIOUS, VULNERABILITIES
from pipgate.proxy.config.policies import Intel
from pipgate.proxy.config.settings import Settings, validate_policies
from pipgate.proxy.intel.download import FeedDownload, copy_directory
from pipgate.proxy.intel.sources import FeedContents, FeedError, fingerprint, read_feed
from pipgate.proxy.observe.metrics import Metrics
from pipgate.proxy.urls import redact

log = logging.getLogger("pipgate.intel")

Clock = Callable[[], datetime]
#: A feed that never loaded is tried again this often, whatever its schedule.
RETRY_UNLOADED = timedelta(minutes=5)


@dataclass(frozen=True)
class FeedSpec:
    """One feed as configured: its source, the kinds of advisories wanted from it,
    and how often it is read again (the shortest ``refresh`` of the tables naming it;
    zero: never)."""

    source: str
    kinds: frozenset[str]
    refresh: timedelta

    @property
    def is_url(self) -> bool:
        return urlsplit(self.source).scheme in ("http", "https")


def feed_specs(settings: Settings) -> list[FeedSpec]:
    """The feeds the policies of every index use (a policy that is off uses none)."""
    found: dict[str, tuple[set[str], list[timedelta]]] = {}
    for index in settings.index_names:
        policies = validate_policies(settings, index)
        for kind, table in (
            (MALICIOUS, policies.malicious),
            (VULNERABILITIES, policies.vulnerabilities),
        ):
            if table.mode != "off" and table.feed:
                kinds, intervals = found.setdefault(table.feed, (set(), []))
                kinds.add(kind)
                intervals.append(table.refresh)
    return [
        FeedSpec(source, frozenset(kinds), min(intervals))
        for source, (kinds, intervals) in found.items()
    ]


class Feed:
    """One feed's state: the snapshot last read, when, and the last failure."""

    def __init__(self, spec: FeedSpec, data_dir: Path, clock: Clock) -> None:
        self.spec = spec
        self.name = redact(spec.source)
        self.label = f"feed {self.name}"
        self._clock = clock
        self.download = (
            FeedDownload(spec.source, copy_directory(data_dir, spec.source), clock=clock)
            if spec.is_url
            else None
        )
        self.path = self.download.copy if self.download else Path(spec.source).expanduser()
        self.contents: FeedContents | None = None
        self.read_at: datetime | None = None
        self.checked_at: datetime | None = None
        self.failed_at: datetime | None = None
        self.error: str | None = None
        self.lock = asyncio.Lock()
        self._fingerprint: str | None = None

    async def load_copy(self) -> bool:
        """Read the last good copy of a URL feed, or a local feed itself; false when a
        URL feed has no copy yet. Raises ``FeedError``."""
        if self.download is not None:
            await to_thread.run_sync(self.download.remove_partial)
            if not await to_thread.run_sync(self.download.copy.exists):
                return False
        if self.download is None:
            self._fingerprint = await to_thread.run_sync(fingerprint, self.path)
        await self._read(self.path)
        if self.download is not None:
            self.checked_at = self.download.fetched_at()
        return True

    async def refresh(self, client: httpx.AsyncClient | None) -> bool:
        """Read the feed again; true when its records changed. Raises ``FeedError``."""
        if self.download is None:
            token = await to_thread.run_sync(fingerprint, self.path)
            if token is not None and token == self._fingerprint and self.contents is not None:
                self.checked_at = self._clock()
                return False
            changed = await self._read(self.path)
            self._fingerprint = token
            return changed
        assert client is not None
        # A copy that could not be read must not be confirmed by a 304.
        fetched = await self.download.fetch(client, conditional=self.contents is not None)
        if fetched is None:  # 304: the copy is current
            self.checked_at = self._clock()
            return await self._read(self.path) if self.contents is None else False
        temp, validators = fetched
        try:
            changed = await self._read(temp)
        except BaseException:
            await to_thread.run_sync(self.download.discard, temp)
            raise
        await to_thread.run_sync(self.download.commit, temp, validators)
        return changed

    async def _read(self, path: Path) -> bool:
        contents = await to_thread.run_sync(
            lambda: read_feed(path, self.spec.kinds, label=self.label)
        )
        changed = self.contents is None or contents.digest != self.contents.digest
        if changed:
            self.contents = contents
        self.read_at = self.checked_at = self._clock()
        return changed

    def due_in(self, now: datetime) -> float | None:
        """Seconds until the next scheduled refresh; ``None``: never."""
        interval = self.spec.refresh
        if self.contents is None:
            interval = min(interval, RETRY_UNLOADED) if interval else RETRY_UNLOADED
        elif not interval:
            return None
        tried = [t for t in (self.checked_at, self.failed_at) if t is not None]
        if not tried:
            return 0.0
        last = max(tried)
        return max(0.0, (last + interval - now).total_seconds())

    def status(self) -> str:
        """One line for ``/readyz``: what is loaded, when, and the last failure."""
        parts = []
        if self.contents is None:
            parts.append(f"{self.label}: not loaded")
        else:
            counts = ", ".join(
                f"{index.advisory_count} {kind}"
                for kind, index in sorted(self.contents.indexes.items())
            )
            bad = f" ({self.contents.bad} bad records skipped)" if self.contents.bad else ""
            parts.append(f"{self.label}: advisories: {counts}{bad}")
            parts.append(f"read {_stamp(self.read_at)}")
            parts.append(f"checked {_stamp(self.checked_at)}")
        if self.error is not None:
            parts.append(f"last refresh failed {_stamp(self.failed_at)}: {self.error}")
        return "; ".join(parts)


def _stamp(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "never"


class IntelMetrics:
    def __init__(self, metrics: Metrics) -> None:
        registry = metrics.registry
        self.refreshes = Counter(
            "pipgate_intel_refresh_total",
            "Advisory feed reads, by feed and outcome (updated, unchanged, failed).",
            ["feed", "outcome"],
            registry=registry,
        )
        self.last_success = Gauge(
            "pipgate_intel_last_success_timestamp_seconds",
            "When each advisory feed was last read or confirmed current (Unix time).",
            ["feed"],
            registry=registry,
        )
        self.advisories = Gauge(
            "pipgate_intel_advisories",
            "Advisories loaded from each feed, by kind (malicious, vulnerabilities).",
            ["feed", "kind"],
            registry=registry,
        )
        self.bad_records = Gauge(
            "pipgate_intel_bad_records",
            "Records of each feed's last read that could not be read (skipped).",
            ["feed"],
            registry=registry,
        )


OnChange = Callable[[Feed], Awaitable[None]]


class IntelFeeds:
    """The feeds of one proxy (see the module docstring)."""

    def __init__(
        self,
        specs: list[FeedSpec],
        data_dir: Path,
        *,
        clock: Clock,
        metrics: Metrics | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.feeds = [Feed(spec, data_dir, clock) for spec in specs]
        self._clock = clock
        self._metrics = IntelMetrics(metrics) if metrics is not None and self.feeds else None
        self._client = (
            httpx.AsyncClient(
                timeout=httpx.Timeout(120.0, connect=10.0),
                follow_redirects=True,
                transport=transport,
                headers={"User-Agent": "pipgate (advisory feed)"},
            )
            if any(spec.is_url for spec in specs)
            else None
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._on_change: OnChange | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, *, clock: Clock, metrics: Metrics | None = None
    ) -> IntelFeeds:
        return cls(feed_specs(settings), settings.cache.data_dir, clock=clock, metrics=metrics)

    def __bool__(self) -> bool:
        return bool(self.feeds)

    def snapshot(self) -> Intel:
        """The indexes loaded now, by feed source and kind."""
        return {f.spec.source: f.contents.indexes for f in self.feeds if f.contents is not None}

    async def load(self, *, download: bool = True) -> None:
        """At start-up: every feed's last good copy (a local feed itself); a URL feed
        with no usable copy is downloaded now, unless ``download`` is false. Failures
        are logged, never raised: the proxy serves, and the policies of a feed not
        loaded stay inactive."""
        for feed in self.feeds:
            try:
                if await feed.load_copy():
                    self._succeeded(feed, "updated")
                    continue
                if not download:
                    feed.error = "not downloaded yet (no copy under the data directory)"
            except FeedError as exc:
                self._failed(feed, exc, keeping="no advisories")
                if feed.download is None:
                    continue
            if download and feed.download is not None:
                await self._refresh(feed)

    def start(self, on_change: OnChange) -> None:
        """Remember the event loop and who hears of changes (before ``run``)."""
        self._loop = asyncio.get_running_loop()
        self._on_change = on_change

    async def run(self) -> None:
        """Refresh every feed on its schedule, forever (cancel to stop)."""
        if not self.feeds:
            return
        async with asyncio.TaskGroup() as group:
            for feed in self.feeds:
                group.create_task(self._schedule(feed))

    async def _schedule(self, feed: Feed) -> None:
        while True:
            delay = feed.due_in(self._clock())
            if delay is None:
                return
            await asyncio.sleep(delay)
            await self.refresh(feed)

    async def refresh(self, feed: Feed) -> bool:
        """Refresh ``feed`` now and tell ``on_change`` if it changed."""
        async with feed.lock:
            changed = await self._refresh(feed)
        if changed and self._on_change is not None:
            await self._on_change(feed)
        return changed

    async def refresh_all(self) -> list[bool]:
        return [await self.refresh(feed) for feed in self.feeds]

    def refresh_soon(self) -> concurrent.futures.Future[list[bool]]:
        """From any thread: refresh every feed now; the future gives which changed."""
        if self._loop is None:
            raise RuntimeError("the feeds are not running")
        return asyncio.run_coroutine_threadsafe(self.refresh_all(), self._loop)

    async def _refresh(self, feed: Feed) -> bool:
        keeping = "the last good copy" if feed.contents is not None else "no advisories"
        try:
            changed = await feed.refresh(self._client)
        except FeedError as exc:
            self._failed(feed, exc, keeping=keeping)
            return False
        except Exception as exc:  # a full disk, a permission: the schedule must go on
            log.exception("reading %s failed", feed.label)
            self._failed(feed, FeedError(f"cannot read {feed.label}: {exc}"), keeping=keeping)
            return False
        self._succeeded(feed, "updated" if changed else "unchanged")
        return changed

    def _succeeded(self, feed: Feed, outcome: str) -> None:
        feed.error = None
        contents = feed.contents
        assert contents is not None
        if outcome == "updated":
            counts = ", ".join(
                f"{index.advisory_count} {kind} advisories on {len(index)} projects"
                for kind, index in sorted(contents.indexes.items())
            )
            log.info(
                "%s read: %s (%d records skipped as unreadable, %d not used)",
                feed.label,
                counts,
                contents.bad,
                contents.ignored,
            )
            for problem in contents.problems:
                log.warning("%s: skipped a record: %s", feed.label, problem)
        if self._metrics is not None:
            self._metrics.refreshes.labels(feed.name, outcome).inc()
            stamp = feed.checked_at or self._clock()
            self._metrics.last_success.labels(feed.name).set(stamp.timestamp())
            for kind in KINDS:
                index = contents.indexes.get(kind)
                if index is not None:
                    self._metrics.advisories.labels(feed.name, kind).set(index.advisory_count)
            self._metrics.bad_records.labels(feed.name).set(contents.bad)

    def _failed(self, feed: Feed, exc: FeedError, *, keeping: str) -> None:
        feed.error = str(exc)
        feed.failed_at = self._clock()
        log.error("%s; keeping %s", exc, keeping)
        if self._metrics is not None:
            self._metrics.refreshes.labels(feed.name, "failed").inc()

    def status(self) -> list[str]:
        return [feed.status() for feed in self.feeds]

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
