"""The store's blocking calls run on a fixed few threads, so it holds a fixed few SQLite
connections however many requests call it at once (the soak saw open files at rest
grow with every anyio worker thread that had touched the store)."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

from pipgate.proxy.files.store import STORE_THREADS, FileStore
from pipgate.proxy.observe.disk import DiskThreads


def open_descriptors_under(directory: Path) -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith(str(directory)):
                count += 1
        except OSError:  # closed meanwhile
            pass
    return count


async def test_many_concurrent_callers_open_at_most_one_connection_per_store_thread(
    tmp_path: Path,
) -> None:
    store = FileStore(tmp_path, size_limit=10**8)
    at_rest = open_descriptors_under(tmp_path)
    threads: set[str] = set()

    def look() -> None:
        threads.add(threading.current_thread().name)
        store.sha256_for_url(f"https://files.example/{threading.get_ident()}")
        time.sleep(0.02)  # callers overlap: each free thread takes one

    try:
        await asyncio.gather(*(store.threads.run(look) for _ in range(120)))
        busy = open_descriptors_under(tmp_path)
    finally:
        store.close()
    assert len(threads) == STORE_THREADS, threads
    # Each thread's connection: the database, its -wal and -shm (at most three).
    assert at_rest < busy <= at_rest + 3 * STORE_THREADS


async def test_a_cancelled_caller_hears_of_it_once_the_call_has_returned() -> None:
    threads = DiskThreads("test", 1)
    started, finished = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        time.sleep(0.2)
        finished.set()
        return "done"

    try:
        task = asyncio.create_task(threads.run(slow))
        await asyncio.to_thread(started.wait, 5)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        else:
            raise AssertionError("the cancellation was lost")
        assert finished.is_set()  # what it worked on (a file being committed) is free now
    finally:
        threads.close()


def open_wal_files_under(directory: Path) -> int:
    """Open ``-wal`` files: one per live SQLite connection (a closed connection's
    database descriptor may linger, kept by SQLite for its locks, and is reused)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            path = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # closed meanwhile
            continue
        count += path.startswith(str(directory)) and path.endswith("-wal")
    return count


def test_a_store_called_on_other_threads_keeps_no_connection_in_them(tmp_path: Path) -> None:
    store = FileStore(tmp_path, size_limit=10**8)
    at_rest = open_wal_files_under(tmp_path)
    called, leave = threading.Barrier(21), threading.Event()

    def page_build() -> None:  # a worker thread that lives on after asking the store
        store.metadata_hashes(["0" * 64])
        assert "1" * 64 not in store
        called.wait(5)
        leave.wait(5)

    workers = [threading.Thread(target=page_build) for _ in range(20)]
    for worker in workers:
        worker.start()
    try:
        called.wait(5)
        assert open_wal_files_under(tmp_path) == at_rest == 1
    finally:
        leave.set()
        for worker in workers:
            worker.join()
        store.close()
