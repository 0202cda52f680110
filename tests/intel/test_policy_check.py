"""``pipgate policy check`` with advisory feeds: offline from a local feed or a URL feed's copy."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from pipgate.policies.advisories import MALICIOUS
from pipgate.proxy.cli.main import main
from pipgate.proxy.intel.feeds import FeedSpec, IntelFeeds
from tests.support.feed_records import GHSA_ID, MAL_ID, MALWARE, VULNERABILITY
from tests.support.feed_server import FeedServer
from tests.support.osv_records import record, write_dir, zip_bytes


def check(config: Path, *requirements: str) -> tuple[int, dict[str, dict], str]:
    result = CliRunner().invoke(
        main, ["policy", "check", "--config", str(config), "--format", "json", *requirements]
    )
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    return result.exit_code, {f"{r['name']}=={r['version']}": r for r in rows}, result.stderr


def test_local_feed(tmp_path: Path) -> None:
    feed = write_dir(tmp_path / "feed", [MALWARE, VULNERABILITY])
    config = tmp_path / "pipgate.toml"
    config.write_text(
        f'[cache]\ndata_dir = "{tmp_path / "data"}"\n'
        f'[policies.malicious]\nfeed = "{feed}"\n'
        f'[policies.vulnerabilities]\nmode = "enforce"\nfeed = "{feed}"\n'
    )
    status, rows, _ = check(
        config, "evil-pkg", "demo-pkg==1.0.0", "demo-pkg==1.1.0", "demo-pkg", "requests"
    )
    assert status == 1
    assert rows["evil-pkg==None"]["policy"] == "malicious"
    assert MAL_ID in rows["evil-pkg==None"]["reason"]
    old = rows["demo-pkg==1.0.0"]
    assert (old["action"], old["policy"]) == ("block", "vulnerabilities")
    assert GHSA_ID in old["reason"] and "fixed in 1.1.0" in old["reason"]
    assert rows["demo-pkg==1.1.0"]["action"] == "allow"
    unpinned = rows["demo-pkg==None"]
    assert unpinned["action"] == "allow"
    assert (
        f"vulnerabilities: 1 known vulnerability affects some versions ({GHSA_ID})"
        in (unpinned["note"])
    )
    assert rows["requests==None"]["action"] == "allow"


def test_url_feed_reads_the_last_good_copy_offline(tmp_path: Path) -> None:
    server = FeedServer(body=zip_bytes([record("MAL-2025-7", "evil-pkg")]))
    data_dir = tmp_path / "data"
    config = tmp_path / "pipgate.toml"
    with server.serve() as url:
        config.write_text(
            f'[cache]\ndata_dir = "{data_dir}"\n[policies.malicious]\nfeed = "{url}"\n'
        )
        status, rows, stderr = check(config, "evil-pkg")
        assert (status, rows["evil-pkg==None"]["action"]) == (0, "allow")  # offline: no copy yet
        assert "is not available (not downloaded yet" in stderr

        async def download() -> None:
            spec = FeedSpec(url, frozenset({MALICIOUS}), timedelta(hours=6))
            feeds = IntelFeeds([spec], data_dir, clock=lambda: datetime.now(UTC))
            await feeds.load()
            await feeds.aclose()

        asyncio.run(download())
        server.fail = "500"
        status, rows, stderr = check(config, "evil-pkg")
    assert status == 1 and "MAL-2025-7" in rows["evil-pkg==None"]["reason"]
    assert len(server.requests) == 1 and stderr == ""
