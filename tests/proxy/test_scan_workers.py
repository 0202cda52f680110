"""Scans in worker processes: off the server's GIL, surviving a worker's death."""

from __future__ import annotations

import asyncio
import hashlib
import io
import multiprocessing
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pipgate.policies.scan import ScanPolicy
from pipgate.proxy.files.scan_verdicts import ScanVerdicts
from pipgate.proxy.files.scan_workers import ScanWorkers, WorkerDied, hard_deadline
from pipgate.proxy.scan import OUT_OF_MEMORY, ScanLimits, Unscannable
from tests.support.archives import sdist, tar_gz, wheel

EVIL = sdist({"setup.py": "import base64\nexec(base64.b64decode('eA=='))\n"})
SHA = hashlib.sha256(EVIL).hexdigest()
CLEAN = sdist(
    {"setup.py": "from setuptools import setup\nsetup()\n", "clean.py": "def f():\n    return 1\n"},
    root="clean-1.0",
)


def _slow_sdist() -> bytes:
    """An sdist whose scan takes a while (a third of a second here): 600 modules that
    its ``__init__`` imports, 26 MB of Python."""
    body = "import os\nimport subprocess\n\n" + "".join(
        f"def get_{i}(key):\n    if os.environ.get('DEBUG_{i}'):\n"
        f"        return subprocess.run(['echo', key]).stdout\n    return {{'key': key}}\n\n"
        for i in range(300)
    )
    members = {f"slow-1.0/slow/m{n}.py": body for n in range(600)}
    members["slow-1.0/slow/__init__.py"] = "".join(f"from . import m{n}\n" for n in range(600))
    members["slow-1.0/setup.py"] = "from setuptools import setup\nsetup()\n"
    return tar_gz(members)


def _verdicts(tmp_path: Path, workers: ScanWorkers | None) -> ScanVerdicts:
    return ScanVerdicts(tmp_path / "scans", ScanLimits(), workers=workers)


def _holders(path: Path) -> set[int]:
    """This process and those of its children that have ``path`` open."""
    pids = {os.getpid(), *(child.pid for child in multiprocessing.active_children())}
    found = set()
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) == str(path):
                    found.add(pid)
            except OSError:
                continue
    return found


def test_a_worker_that_dies_mid_scan_holds_its_file_and_the_next_scan_works(tmp_path) -> None:
    slow = tmp_path / "slow-1.0.tar.gz"
    slow.write_bytes(_slow_sdist())
    archive = tmp_path / "demo-1.0.tar.gz"
    archive.write_bytes(EVIL)
    workers = ScanWorkers(1)
    verdicts = _verdicts(tmp_path, workers)
    readers: set[int] = set()
    scanning = threading.Event()

    def kill_the_scanner() -> None:
        scanning.wait(10)
        deadline = time.monotonic() + 30
        while not readers and time.monotonic() < deadline:
            readers.update(_holders(slow))  # the scan holds the archive open while it runs
            time.sleep(0.001)
        for pid in readers - {os.getpid()}:
            os.kill(pid, signal.SIGKILL)

    async def scenario():  # type: ignore[no-untyped-def]
        killer = threading.Thread(target=kill_the_scanner)
        killer.start()
        try:
            scanning.set()
            died = await verdicts.scan_path("f" * 64, slow.name, slow)
        finally:
            await asyncio.to_thread(killer.join)
        after = await verdicts.scan_path(SHA, archive.name, archive)
        return died, after

    try:
        died, after = asyncio.run(scenario())
    finally:
        workers.close()
    assert len(readers) == 1 and os.getpid() not in readers  # the scan ran in another process
    assert died.incomplete and "worker process ended" in died.incomplete, died
    assert not ScanPolicy().decide(died).allowed  # held as unscannable, never passed
    assert verdicts.known("f" * 64) is died  # remembered, so not scanned again now...
    assert not (tmp_path / "scans" / "ff").exists()  # ...but not kept across a restart
    assert after.score >= 10 and after.incomplete is None  # a fresh worker scanned it
    assert workers.pools_started == 2


def test_concurrent_requests_share_one_scan_in_a_worker(tmp_path) -> None:
    workers = ScanWorkers(1)
    verdicts = _verdicts(tmp_path, workers)
    path = tmp_path / "demo-1.0.tar.gz"
    path.write_bytes(EVIL)

    async def scenario():  # type: ignore[no-untyped-def]
        return await asyncio.gather(*(verdicts.scan_path(SHA, path.name, path) for _ in range(5)))

    try:
        reports = asyncio.run(scenario())
    finally:
        workers.close()
    assert verdicts.scanned == 1 and workers.pools_started == 1
    assert all(r == reports[0] for r in reports) and reports[0].score >= 10
    assert (tmp_path / "scans" / SHA[:2] / f"{SHA}.json").exists()


def _stream(tmp_path: Path) -> io.BufferedReader | io.BytesIO:
    return io.BytesIO(EVIL)


def _evicted(tmp_path: Path) -> io.BufferedReader | io.BytesIO:
    path = tmp_path / "evicted"
    path.write_bytes(EVIL)
    handle = path.open("rb")
    path.unlink()  # evicted after it was opened: the handle still reads it
    return handle


@pytest.mark.parametrize("opener", [_stream, _evicted])
def test_a_stored_file_without_a_path_is_copied_for_the_worker(tmp_path, opener) -> None:
    spill = tmp_path / "spill"
    spill.mkdir()
    workers = ScanWorkers(1)
    verdicts = ScanVerdicts(
        tmp_path / "scans", ScanLimits(), workers=workers, temp_path=lambda: spill / "copy.part"
    )
    try:
        report = asyncio.run(verdicts.scan_stored(SHA, "demo-1.0.tar.gz", lambda: opener(tmp_path)))
    finally:
        workers.close()
    assert report is not None and report.score >= 10 and workers.pools_started == 1
    assert list(spill.iterdir()) == []  # the copy is gone


def test_a_stream_that_cannot_be_copied_is_scanned_in_a_thread(tmp_path) -> None:
    (tmp_path / "full").write_bytes(b"")  # a file where the copy's folder would be
    workers = ScanWorkers(1)
    verdicts = ScanVerdicts(
        tmp_path / "scans",
        ScanLimits(),
        workers=workers,
        temp_path=lambda: tmp_path / "full" / "copy.part",
    )
    try:
        report = asyncio.run(verdicts.scan_stored(SHA, "demo-1.0.tar.gz", lambda: io.BytesIO(EVIL)))
    finally:
        workers.close()
    assert report is not None and report.score >= 10 and workers.pools_started == 0


def test_bytes_are_scanned_in_a_worker(tmp_path) -> None:
    workers = ScanWorkers(1)
    try:
        report = asyncio.run(_verdicts(tmp_path, workers).scan_bytes(SHA, "demo-1.0.tar.gz", EVIL))
    finally:
        workers.close()
    assert report.score >= 10 and workers.pools_started == 1


@pytest.mark.parametrize(
    ("knobs", "max_memory", "pools"),
    [
        ({}, ScanLimits().max_memory, 1),
        ({"recycle_after": 2}, ScanLimits().max_memory, 2),
        ({"recycle_rss": 1}, ScanLimits().max_memory, 3),
        # A worker (some 55 MB resident) holding more than half of what a scan may hold:
        # the next scan's limit would count what the last one left.
        ({}, 80 * 1024 * 1024, 3),
    ],
)
def test_workers_are_replaced_after_some_scans_or_much_memory(
    tmp_path, knobs, max_memory, pools
) -> None:
    workers = ScanWorkers(1, **knobs)
    limits = ScanLimits(max_memory=max_memory)

    async def scenario():  # type: ignore[no-untyped-def]
        return [await workers.scan(data, "demo-1.0.tar.gz", limits) for data in (EVIL, CLEAN, EVIL)]

    try:
        reports = asyncio.run(scenario())
    finally:
        workers.close()
    assert [r.score >= 10 for r in reports] == [True, False, True]
    assert workers.pools_started == pools


def test_closed_workers_scan_no_more(tmp_path) -> None:
    workers = ScanWorkers(1)
    workers.close()
    with pytest.raises(RuntimeError, match="closed"):
        asyncio.run(workers.scan(EVIL, "demo-1.0.tar.gz", ScanLimits()))


DEMO_WHEEL = "demo_pkg-1.0.0-py3-none-any.whl"


def test_the_app_starts_scan_workers_on_the_first_scan_and_stops_them_at_exit(
    start_proxy_in_process,
) -> None:
    with start_proxy_in_process() as proxy:
        verdicts = proxy.state.scan.verdicts
        assert verdicts.workers is not None and verdicts.workers.pools_started == 0  # none yet
        before = {child.pid for child in multiprocessing.active_children()}
        assert proxy.http.get("/simple/demo-pkg/").status_code == 200
        response = proxy.http.get(f"/files/demo-pkg/{DEMO_WHEEL}")
        started = {child.pid for child in multiprocessing.active_children()} - before
        assert response.status_code == 200 and verdicts.scanned == 1
        assert verdicts.workers.pools_started == 1 and started
    assert not started & {child.pid for child in multiprocessing.active_children()}


def test_workers_0_scans_in_a_thread_of_the_server(start_proxy_in_process) -> None:
    with start_proxy_in_process(config={"policies": {"scan": {"workers": 0}}}) as proxy:
        assert proxy.http.get("/simple/demo-pkg/").status_code == 200
        response = proxy.http.get(f"/files/demo-pkg/{DEMO_WHEEL}")
        verdicts = proxy.state.scan.verdicts
    assert response.status_code == 200 and verdicts.scanned == 1 and verdicts.workers is None


#: A stand-in for the server: starts a scan worker, says its pid, then waits to be killed.
SERVER = """
import asyncio, multiprocessing, sys
from pipgate.proxy.files.scan_workers import ScanWorkers
from pipgate.proxy.scan import ScanLimits
from tests.support.archives import sdist

workers = ScanWorkers(1)
asyncio.run(workers.scan(sdist({"setup.py": "x = 1\\n"}), "demo-1.0.tar.gz", ScanLimits()))
print(*(child.pid for child in multiprocessing.active_children()), flush=True)
sys.stdin.read()
"""


def test_workers_end_when_their_server_is_killed(tmp_path) -> None:
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # its resource tracker's notes on what the kill leaked
        cwd=Path(__file__).parents[2],
    )
    try:
        assert server.stdout is not None
        (pid,) = map(int, server.stdout.readline().split())
        worker = os.pidfd_open(pid)
    finally:
        server.kill()  # SIGKILL: the server cannot stop its workers itself
        server.wait()
    try:
        ready, _, _ = select.select([worker], [], [], 30)  # readable once the worker ended
    finally:
        os.close(worker)
    assert ready == [worker], f"scan worker {pid} outlived its killed server"


class _NoProcesses:
    """A process pool that cannot start a process (the machine is out of descriptors)."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        pass

    def submit(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(24, "Too many open files")

    def shutdown(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        pass


def test_a_worker_that_cannot_be_started_holds_the_file_as_unscannable(
    tmp_path, monkeypatch
) -> None:
    """Not a server error: the file is held with the reason, kept in memory only (like a
    worker's death: a restart scans it again)."""
    monkeypatch.setattr("pipgate.proxy.files.scan_workers.ProcessPoolExecutor", _NoProcesses)
    workers = ScanWorkers(1)
    verdicts = _verdicts(tmp_path, workers)
    try:
        report = asyncio.run(verdicts.scan_bytes(SHA, "demo-1.0.tar.gz", EVIL))
    finally:
        workers.close()
    assert report is not None and report.incomplete is not None
    assert "no scan worker process could be started" in report.incomplete
    assert "Too many open files" in report.incomplete
    assert not ScanPolicy().decide(report).allowed
    assert not (tmp_path / "scans" / SHA[:2] / f"{SHA}.json").exists()


#: A module of many small statements: its scan holds a few hundred MB while it reads it.
_MANY_STATEMENTS = wheel({"demo/__init__.py": "import os\n" + "x = 1\n" * 60_000})


def test_a_scan_past_the_workers_memory_limit_holds_its_file_and_retires_the_pool(
    tmp_path,
) -> None:
    workers = ScanWorkers(1)
    tight = ScanLimits(max_memory=80 * 1024**2)  # a worker holds some 40 MB before it scans

    async def scenario():  # type: ignore[no-untyped-def]
        starved = await workers.scan(_MANY_STATEMENTS, DEMO_WHEEL, tight)
        roomy = await workers.scan(_MANY_STATEMENTS, DEMO_WHEEL, ScanLimits())
        return starved, roomy

    try:
        starved, roomy = asyncio.run(scenario())
    finally:
        workers.close()
    assert starved.incomplete is not None and starved.incomplete.startswith(OUT_OF_MEMORY)
    assert not ScanPolicy().decide(starved).allowed  # held, never passed
    assert roomy.incomplete is None  # the same file within the default limit: scanned
    assert workers.pools_started == 2  # the starved worker's pool was replaced


def test_an_out_of_memory_verdict_is_not_kept_on_disk(tmp_path) -> None:
    workers = ScanWorkers(1)
    verdicts = ScanVerdicts(
        tmp_path / "scans", ScanLimits(max_memory=80 * 1024**2), workers=workers
    )
    try:
        report = asyncio.run(verdicts.scan_bytes("e" * 64, DEMO_WHEEL, _MANY_STATEMENTS))
    finally:
        workers.close()
    assert report.incomplete is not None and report.incomplete.startswith(OUT_OF_MEMORY)
    assert verdicts.known("e" * 64) is report  # remembered for now...
    assert not (tmp_path / "scans" / "ee").exists()  # ...a larger limit may judge it later


def test_limit_memory_makes_a_larger_allocation_fail() -> None:
    code = (
        "from pipgate.proxy.files.scan_workers import limit_memory\n"
        "limit_memory(200 * 1024**2)\n"
        "try:\n    bytearray(400 * 1024**2)\nexcept MemoryError:\n    print('refused')\n"
        "bytearray(50 * 1024**2)\nprint('small ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["refused", "small", "ok"], done.stderr


def _busy(seconds: float) -> None:
    """One step that never checks a deadline."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        pass


def test_the_hard_deadline_stops_python_code_wherever_it_runs() -> None:
    with pytest.raises(Unscannable, match="longer than 0.2 s"), hard_deadline(0.2):
        _busy(30)
    with hard_deadline(5):  # and a step that ends in time is left alone
        total = sum(range(1000))
    assert total == 499500
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # no alarm left behind


def test_a_worker_stops_a_scan_whose_one_step_runs_past_its_deadline(tmp_path) -> None:
    # No grace: the alarm comes in the middle of reading the one large module (a step of
    # a second or more), before the scan's own check, between steps, could see the time.
    workers = ScanWorkers(1, hard_deadline_grace=0)
    try:
        report = asyncio.run(workers.scan(_MANY_STATEMENTS, DEMO_WHEEL, ScanLimits(timeout=0.05)))
    finally:
        workers.close()
    assert report.incomplete is not None and "was stopped" in report.incomplete
    assert not ScanPolicy().decide(report).allowed


def test_a_scan_that_outlives_its_alarm_has_its_worker_killed(tmp_path) -> None:
    # An alarm a minute away stands for one that cannot interrupt a call into C: the
    # server itself kills the worker 0.3 s past the deadline.
    workers = ScanWorkers(1, hard_deadline_grace=60, kill_after=0.3)

    async def scenario():  # type: ignore[no-untyped-def]
        await workers.scan(CLEAN, "clean-1.0.tar.gz", ScanLimits())  # the pool is up
        with pytest.raises(WorkerDied, match="was killed"):
            await workers.scan(_MANY_STATEMENTS, DEMO_WHEEL, ScanLimits(timeout=0.05))
        return await workers.scan(EVIL, "demo-1.0.tar.gz", ScanLimits())

    try:
        after = asyncio.run(scenario())
    finally:
        workers.close()
    assert after.score >= 10  # a new pool scans the next file
    assert workers.pools_started == 2
