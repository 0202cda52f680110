"""Feeds from a URL (conditional GET, last good copy kept) and from local paths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipgate.policies.advisories import MALICIOUS, VULNERABILITIES
from pipgate.proxy.config.settings import load_settings
from pipgate.proxy.intel.feeds import FeedSpec, IntelFeeds, feed_specs
from pipgate.proxy.observe.metrics import Metrics
from tests.support.feed_server import FeedServer
from tests.support.osv_records import record, write_dir, zip_bytes

V1 = [record("MAL-2025-1", "evil-pkg")]
V2 = [*V1, record("MAL-2025-2", "newly-bad")]


def names(feeds: IntelFeeds, source: str, kind: str = MALICIOUS) -> list[str]:
    return sorted(feeds.snapshot()[source][kind].names())


@pytest.fixture
def server() -> FeedServer:
    return FeedServer(body=zip_bytes(V1))


async def test_url_feed_is_downloaded_revalidated_and_replaced(tmp_path: Path, server) -> None:
    metrics = Metrics()
    with server.serve() as url:
        feeds = IntelFeeds(
            [FeedSpec(url, frozenset({MALICIOUS}), timedelta(hours=6))],
            tmp_path,
            clock=lambda: datetime.now(UTC),
            metrics=metrics,
        )
        (feed,) = feeds.feeds
        try:
            await feeds.load()
            assert names(feeds, url) == ["evil-pkg"]
            assert server.requests[0]["if-none-match"] is None
            assert feed.download is not None and feed.download.copy.read_bytes() == server.body

            assert await feeds.refresh(feed) is False  # unchanged: a 304
            assert server.requests[-1] == {
                "if-none-match": '"v1"',
                "if-modified-since": "Wed, 01 Jan 2025 00:00:00 GMT",
            }
            assert server.statuses[-1] == 304

            server.publish(zip_bytes(V2), '"v2"')
            assert await feeds.refresh(feed) is True
            assert names(feeds, url) == ["evil-pkg", "newly-bad"]
            assert feed.download.copy.read_bytes() == server.body
        finally:
            await feeds.aclose()
    text = metrics.render().decode()
    assert f'pipgate_intel_refresh_total{{feed="{url}",outcome="updated"}} 2.0' in text
    assert f'pipgate_intel_refresh_total{{feed="{url}",outcome="unchanged"}} 1.0' in text
    assert f'pipgate_intel_advisories{{feed="{url}",kind="malicious"}} 2.0' in text


@pytest.mark.parametrize("failure", ["500", "garbage", "too large", "too large, chunked"])
async def test_a_failed_refresh_keeps_the_last_good_copy(tmp_path: Path, server, failure) -> None:
    metrics = Metrics()
    with server.serve() as url:
        feeds = IntelFeeds(
            [FeedSpec(url, frozenset({MALICIOUS}), timedelta(hours=6))],
            tmp_path,
            clock=lambda: datetime.now(UTC),
            metrics=metrics,
        )
        (feed,) = feeds.feeds
        try:
            await feeds.load()
            good = feed.download.copy.read_bytes()  # type: ignore[union-attr]
            server.publish(zip_bytes(V2), '"v2"')
            if failure.startswith("too large"):
                feed.download.max_bytes = 100  # type: ignore[union-attr]
                server.fail = "chunked" if failure.endswith("chunked") else None
            else:
                server.fail = failure
            assert await feeds.refresh(feed) is False
        finally:
            await feeds.aclose()
    assert names(feeds, url) == ["evil-pkg"]
    assert feed.download.copy.read_bytes() == good  # type: ignore[union-attr]
    assert list(feed.download.directory.glob("*.part")) == []  # type: ignore[union-attr]
    expected = {
        "500": "HTTP 500",
        "garbage": "neither a directory nor",
        "too large": "is 625 bytes, more than the 100 allowed",
        "too large, chunked": "sent more than the 100 bytes allowed",
    }
    assert expected[failure] in (feed.error or "")
    assert "last refresh failed" in feed.status() and "advisories: 1 malicious;" in feed.status()
    assert (
        f'pipgate_intel_refresh_total{{feed="{url}",outcome="failed"}} 1.0'
        in metrics.render().decode()
    )


async def test_a_restart_reads_the_copy_without_asking(tmp_path: Path, server) -> None:
    with server.serve() as url:
        spec = FeedSpec(url, frozenset({MALICIOUS}), timedelta(hours=6))
        first = IntelFeeds([spec], tmp_path, clock=lambda: datetime.now(UTC))
        await first.load()
        await first.aclose()
        server.fail = "500"
        second = IntelFeeds([spec], tmp_path, clock=lambda: datetime.now(UTC))
        await second.load()
        await second.aclose()
    assert len(server.requests) == 1
    assert names(second, url) == ["evil-pkg"]
    (feed,) = second.feeds
    due = feed.due_in(datetime.now(UTC))
    assert due is not None and timedelta(hours=5) < timedelta(seconds=due) <= timedelta(hours=6)


async def test_credentials_in_a_feed_url_are_not_shown(tmp_path: Path, server) -> None:
    with server.serve() as url:
        secret = url.replace("http://", "http://user:hunter2@")
        feeds = IntelFeeds(
            [FeedSpec(secret, frozenset({MALICIOUS}), timedelta(hours=6))],
            tmp_path,
            clock=lambda: datetime.now(UTC),
        )
        server.fail = "500"
        await feeds.load()
        await feeds.aclose()
    (feed,) = feeds.feeds
    assert "hunter2" not in feed.status() and "hunter2" not in feed.name
    assert "HTTP 500" in feed.status()
    assert not any("hunter2" in str(p) for p in tmp_path.rglob("*"))


async def test_local_directory_feed_is_read_again_only_when_it_changes(tmp_path: Path) -> None:
    root = write_dir(tmp_path / "feed", V1)
    source = str(root)
    feeds = IntelFeeds(
        [FeedSpec(source, frozenset({MALICIOUS}), timedelta(hours=6))],
        tmp_path / "data",
        clock=lambda: datetime.now(UTC),
    )
    await feeds.load()
    (feed,) = feeds.feeds
    assert names(feeds, source) == ["evil-pkg"]
    before = feeds.snapshot()[source][MALICIOUS]
    assert await feeds.refresh(feed) is False
    assert feeds.snapshot()[source][MALICIOUS] is before
    write_dir(root, V2[1:])
    assert await feeds.refresh(feed) is True
    assert names(feeds, source) == ["evil-pkg", "newly-bad"]


async def test_a_broken_local_feed_is_logged_and_loads_nothing(tmp_path: Path, caplog) -> None:
    feeds = IntelFeeds(
        [FeedSpec(str(tmp_path / "nowhere"), frozenset({MALICIOUS}), timedelta(hours=6))],
        tmp_path / "data",
        clock=lambda: datetime.now(UTC),
    )
    await feeds.load()
    assert feeds.snapshot() == {}
    assert "does not exist" in caplog.text
    (feed,) = feeds.feeds
    status = feed.status()
    assert status.startswith(f"feed {tmp_path / 'nowhere'}: not loaded; last refresh failed 20")
    assert status.endswith("does not exist")
    assert feed.due_in(feed.failed_at) == 300.0  # type: ignore[arg-type]


def test_specs_from_settings_share_a_feed_between_policies_and_indexes() -> None:
    settings = load_settings(
        None,
        environ={},
        overrides={
            "policies": {
                "malicious": {"feed": "/feeds/osv.zip", "refresh": "6h"},
                "vulnerabilities": {"mode": "enforce", "feed": "/feeds/osv.zip", "refresh": "12h"},
            },
            "indexes": {
                "strict": {"policies": {"malicious": {"refresh": "1h"}}},
                "legacy": {"policies": {"malicious": {"mode": "off"}}},
            },
        },
    )
    (spec,) = feed_specs(settings)
    assert spec.source == "/feeds/osv.zip"
    assert spec.kinds == {MALICIOUS, VULNERABILITIES}
    assert spec.refresh == timedelta(hours=1)
    assert feed_specs(load_settings(None, environ={})) == []


async def test_a_damaged_copy_is_downloaded_again_unconditionally(tmp_path: Path, server) -> None:
    with server.serve() as url:
        spec = FeedSpec(url, frozenset({MALICIOUS}), timedelta(hours=6))
        first = IntelFeeds([spec], tmp_path, clock=lambda: datetime.now(UTC))
        await first.load()
        await first.aclose()
        first.feeds[0].download.copy.write_bytes(b"damaged")  # type: ignore[union-attr]
        second = IntelFeeds([spec], tmp_path, clock=lambda: datetime.now(UTC))
        await second.load()
        await second.aclose()
    assert server.requests[-1]["if-none-match"] is None  # a 304 would keep the damaged copy
    assert names(second, url) == ["evil-pkg"]
    assert second.feeds[0].download.copy.read_bytes() == server.body  # type: ignore[union-attr]
