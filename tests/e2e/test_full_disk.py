"""A full data directory (a small tmpfs): requests are still answered, never with 500,
failed writes are counted, ``/readyz`` says why it is not ready, and all recovers."""

from __future__ import annotations

import hashlib
import re
import time
from datetime import UTC, datetime

import httpx

from pipgate.policies.decision import Action, Decision
from pipgate.proxy.observe.decision_log import DecisionLog, read_decisions
from tests.support.disks import fill
from tests.support.fake_upstream import FakeFile, FakeProject
from tests.support.servers import wait_until_stored

CACHED_WHEEL = "demo_pkg-1.1.0-py3-none-any.whl"
COLD_WHEEL = "demo_dep-0.2.0-py3-none-any.whl"


def settled_metrics(client: httpx.Client, url: str) -> str:
    """``/metrics`` once the page writes' failures are all counted: a fetched page is
    answered first and written in the background (a small one is answered without a
    thread hop, so before its write is tried), and its failed write is counted then."""
    seen: list[float] = []
    deadline = time.monotonic() + 10
    while True:
        text = client.get(url).text
        seen.append(counter(text, "pipgate_storage_errors_total", store="index"))
        if (seen[-1] > 0 and seen[-4:] == [seen[-1]] * 4) or time.monotonic() > deadline:
            return text
        time.sleep(0.05)


def counter(metrics: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    match = re.search(rf"^{name}{{{re.escape(wanted)}}} (\S+)$", metrics, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_a_full_disk_answers_every_request_and_fails_readiness_until_freed(
    upstream, upstream_url, start_proxy, small_disk
):
    upstream.add(FakeProject("coloarma", [FakeFile.phantom("coloarma-1.0.tar.gz", 100)]))
    config = {"cache": {"index_ttl": 0, "min_free_space": "1MB"}}
    with start_proxy(upstream_url, config=config, data_dir=small_disk / "data") as proxy:
        files = f"{proxy.url}/files"
        with httpx.Client(timeout=30) as client:
            assert client.get(f"{proxy.url}/simple/demo-pkg/").status_code == 200
            cached = client.get(f"{files}/demo-pkg/{CACHED_WHEEL}").content
            wait_until_stored(f"{files}/demo-pkg/{CACHED_WHEEL}")
            filler = fill(small_disk)

            full = {
                "readyz": client.get(f"{proxy.url}/readyz"),
                "cached page": client.get(f"{proxy.url}/simple/demo-pkg/"),
                "new page": client.get(f"{proxy.url}/simple/demo-dep/?format=json"),
                "cached file": client.get(f"{files}/demo-pkg/{CACHED_WHEEL}"),
                "new file": client.get(f"{files}/demo-dep/{COLD_WHEEL}"),
                "metadata": client.get(f"{files}/demo-pkg/{CACHED_WHEEL}.metadata"),
                "held": client.get(f"{proxy.url}/simple/coloarma/"),
            }
            metrics = settled_metrics(client, f"{proxy.url}/metrics")

            filler.unlink()
            ready = client.get(f"{proxy.url}/readyz")
            stored = client.get(f"{files}/demo-dep/{COLD_WHEEL}")
            wait_until_stored(f"{files}/demo-dep/{COLD_WHEEL}")
            after = client.get(f"{proxy.url}/metrics").text

    assert {what: r.status_code for what, r in full.items()} == {
        "readyz": 503,
        "cached page": 200,
        "new page": 200,
        "cached file": 200,
        "new file": 200,
        "metadata": 200,
        "held": 451,
    }
    assert "free in data directory" in full["readyz"].text
    assert "min_free_space is 1MB" in full["readyz"].text
    assert full["new page"].json()["name"] == "demo-dep"
    assert full["cached file"].content == cached
    new_file = upstream.file(COLD_WHEEL)
    assert hashlib.sha256(full["new file"].content).hexdigest() == new_file.sha256
    assert full["new file"].headers["x-pipgate-cache"] == "unstored"
    for store in ("index", "files", "decisions"):
        assert counter(metrics, "pipgate_storage_errors_total", store=store) > 0, store
    assert 'status="500"' not in metrics

    assert ready.status_code == 200
    assert hashlib.sha256(stored.content).hexdigest() == new_file.sha256
    assert counter(after, "pipgate_storage_errors_total", store="index") == counter(
        metrics, "pipgate_storage_errors_total", store="index"
    )


def test_a_decision_line_the_full_disk_cuts_short_costs_only_that_line(small_disk):
    errors: list[str] = []
    path = small_disk / "decisions.jsonl"
    log = DecisionLog(path, on_error=errors.append)

    def record(project: str) -> bool:
        decision = Decision(Action.QUARANTINE, "typosquat", "imitates 'colorama'")
        return log.record(
            index="default",
            project=project,
            file=None,
            decision=decision,
            client="127.0.0.1",
            now=datetime(2026, 1, 1, tzinfo=UTC),
        )

    assert record("first")
    filler = fill(small_disk)
    assert all(record(f"while-full-{n}") for n in range(100))  # each still a new decision
    filler.unlink()
    assert record("after")
    log.close()

    projects = [entry["project"] for entry in read_decisions(path)]
    assert projects[0] == "first"
    assert projects[-1] == "after"
    assert len(projects) < 102  # the disk refused some
    assert set(errors) == {"decisions"}
