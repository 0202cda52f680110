"""A full disk under the quarantine store (issue 8, item 7), on a real small tmpfs.

Nothing may be half done: an action the disk refuses is a 503 that says why,
leaves no audit line behind and hands out no id twice; holds recorded while
the disk is full reach the queue once there is room again.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from pipgate.proxy.errors import StoreUnavailable
from pipgate.proxy.observe.recorder import Held
from pipgate.proxy.quarantine.intake import HoldIntake
from pipgate.proxy.quarantine.records import EntryQuery
from pipgate.proxy.quarantine.review import Review
from pipgate.proxy.quarantine.store import QuarantineStore
from tests.support.clocks import Clock
from tests.support.console import log_in
from tests.support.fresh_release import FRESH_VERSION
from tests.support.review_records import NOW, SQUAT, hold, record


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs of its own (needs root and mount(2); skipped elsewhere)."""
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to fill up here: {mounted.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        if subprocess.run(["umount", str(mountpoint)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mountpoint)], check=True)


@contextmanager
def disk_full(directory: Path, *databases: Path) -> Iterator[None]:
    """Fill the file system of ``directory`` to the last block, then free it again.

    The databases' write-ahead logs are emptied first, so their next write needs
    new blocks (SQLite would otherwise reuse the log's old ones).
    """
    for path in databases:
        db = sqlite3.connect(path)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        block = b"\0" * 65536
        while True:
            try:
                os.write(fd, block)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                if len(block) == 1:
                    break
                block = block[: len(block) // 2]
    finally:
        os.close(fd)
    try:
        yield
    finally:
        filler.unlink()


def audit_lines(data_dir: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in (data_dir / "audit.jsonl").read_bytes().splitlines()]


def test_a_refused_action_leaves_nothing_behind_and_holds_wait(small_disk: Path) -> None:
    clock = Clock(NOW)
    review = Review(small_disk, clock=clock)
    try:
        record(review, hold())
        database = small_disk / "quarantine.sqlite3"
        with disk_full(small_disk, database):
            with pytest.raises(StoreUnavailable, match="disk is full") as refused:
                review.decide("reject", project="demo", reason="malware", actor="alice")
            assert refused.value.status_code == 503
            review.intake(
                "default", "held-while-full", [Held(None, SQUAT)], "10.0.0.7", NOW, page=True
            )
            with pytest.raises(StoreUnavailable):
                review.intake.drain()
            assert review.intake.pending == 1
            page = review.entries()  # reads still work
            assert page.total == 1 and page.entries[0].state == "quarantined"
            assert review.rules() == [] and review.audit() == []
        assert audit_lines(small_disk) == []  # no record of what was never done

        review.intake.drain()
        assert review.intake.pending == 0
        assert {e.project for e in review.entries().entries} == {"demo", "held-while-full"}
        rule = review.decide("reject", project="demo", reason="malware", actor="alice")
        (line,) = audit_lines(small_disk)
        assert (line["rule"], line["action"], line["audit_id"]) == (rule.id, "reject", 1)
    finally:
        review.close()


def wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        threading.Event().wait(0.005)


def test_the_writer_thread_keeps_failed_batches_and_retries(small_disk: Path) -> None:
    store = QuarantineStore(small_disk / "quarantine.sqlite3")
    intake = HoldIntake(store, clock=Clock(NOW), interval=0.01)
    intake.start()
    try:
        with disk_full(small_disk, small_disk / "quarantine.sqlite3"):
            for n in range(4):
                intake("default", f"held-{n}", [Held(None, SQUAT)], "10.0.0.7", NOW, page=True)
            wait_until(lambda: intake.pending == 4)  # taken off the queue, not written
        wait_until(lambda: intake.pending == 0)
        assert intake.dropped == 0
        assert {e.project for e in store.entries.page(EntryQuery()).entries} == {
            f"held-{n}" for n in range(4)
        }
    finally:
        intake.close()
        store.close()


def test_a_line_cut_short_in_the_mirror_is_completed(tmp_path: Path) -> None:
    review = Review(tmp_path, clock=Clock(NOW))
    try:
        review.decide("reject", project="demo", reason="malware", actor="alice")
        with (tmp_path / "audit.jsonl").open("ab") as handle:
            handle.write(b'{"audit_id": 2, "time": "2026-')  # the disk filled up mid-line
        review.decide("reject", project="other", reason="malware", actor="alice")
        assert [x["audit_id"] for x in audit_lines(tmp_path)] == [1, 2]
    finally:
        review.close()


def test_admin_actions_on_a_full_disk_are_503_and_holds_wait_for_room(
    small_disk: Path, start_proxy: Callable[..., Any], upstream_url: str
) -> None:
    data_dir = small_disk / "data"
    config = {"server": {"trust_forwarded": True}}
    with start_proxy(upstream_url, data_dir=data_dir, config=config) as proxy:
        api = proxy.client()
        ui = httpx.Client(base_url=f"{proxy.url}/-/ui", timeout=10)
        assert log_in(ui).status_code == 303
        assert httpx.get(f"{proxy.index_url}demo-pkg/").status_code == 200
        held = f"{proxy.url}/files/demo-pkg/demo_pkg-{FRESH_VERSION}-py3-none-any.whl"
        with disk_full(small_disk, data_dir / "quarantine.sqlite3"):
            refused = api.post("/decide/reject", json={"project": "demo-pkg", "reason": "x"})
            assert refused.status_code == 503, refused.text
            assert "disk is full" in refused.json()["error"]
            assert refused.headers["retry-after"]
            assert api.get("/quarantine").status_code == 200  # reads still work
            assert ui.get("/").status_code == 200
            not_out = ui.post("/logout")  # must not pretend: the session would live on
            assert not_out.status_code == 503 and "disk is full" in not_out.text
            # Each new client's refusal is logged and held: more than the last free block.
            for n in range(40):
                asked = ui.get(held, headers={"X-Forwarded-For": f"10.0.0.{n}"})
                assert asked.status_code == 403, asked.text
        (entry,) = api.get("/quarantine", params={"project": "demo-pkg"}).json()["entries"]
        wheel = next(f for f in entry["files"] if f["file"].endswith(".whl"))
        assert wheel["requests"] >= 40  # every hold reached the queue once there was room
        done = api.post("/decide/reject", json={"project": "demo-pkg", "reason": "x"})
        assert done.status_code == 200, done.text
        assert [x["rule"] for x in audit_lines(data_dir)] == [done.json()["id"]]
        assert ui.post("/logout").status_code == 303
        assert ui.get("/").status_code == 303
        api.close()
        ui.close()
