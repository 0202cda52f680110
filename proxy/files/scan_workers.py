"""Worker processes for the content scan, so a scan never holds the server's GIL.

The scan is pure Python and CPU-bound (a large sdist takes a second or more): in a thread
of the server it would hold the GIL the event loop needs, and every warm request would
wait behind it. ``ScanWorkers`` runs each scan in a pool of ``processes`` worker processes:

- started by a fork server (``forkserver``; never ``fork``: the server runs threads and an
  event loop), which imports the scan engine once for every worker it forks;
- lazily, on the first scan: start-up stays fast and a server that scans nothing starts
  no process;
- at most ``processes`` scans are handed to the pool at once, so a worker that dies
  (killed, out of memory) takes only the scans it was running with it: each raises
  ``WorkerDied``, and the next scan starts a new pool;
- a worker ends itself when the server process is gone (killed: it could not stop it);
- a pool is retired (its workers finish what they run, then exit) after
  ``recycle_after`` scans, or once a worker's peak memory passes ``recycle_rss`` bytes
  or half a scan's ``max_memory``: a process keeps the memory of the largest scan it
  made, which the next scan's limit would count;
- each scan may hold at most ``ScanLimits.max_memory`` bytes in its worker (the data
  segment's limit, ``RLIMIT_DATA``, set before it starts): a scan that needs more ends
  as ``OUT_OF_MEMORY`` (its file held, its pool retired) instead of taking the host's
  memory, where the kernel's out-of-memory killer would pick a process, maybe the server;
- and an alarm stops a scan that runs ``hard_deadline_grace`` seconds past its deadline
  (``hard_deadline``): the scan's own check comes only between its steps; one still
  running ``kill_after`` seconds past it (a call into C that no alarm interrupts) has its
  pool's workers killed: it, and any scan beside it, ends as ``WorkerDied``.

This module is what a worker imports: the scan engine, anyio and the standard library.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path

from anyio import to_thread

from pipgate.policies.scan import ScanReport
from pipgate.proxy.scan import OUT_OF_MEMORY, RULES_VERSION, ScanLimits, Unscannable, scan_archive

log = logging.getLogger("pipgate.scan")

#: Scans one worker pool makes before it is replaced by a fresh one.
RECYCLE_AFTER = 200
#: Peak resident memory of a worker past which its pool is replaced after the scan.
RECYCLE_RSS = 1024 * 1024**2
#: Seconds past a scan's own deadline (``ScanLimits.timeout``) at which the worker's alarm
#: stops it: the scan's own check, between steps, says so first when it can.
HARD_DEADLINE_GRACE = 2.0
#: Seconds past a scan's deadline at which the server kills its worker: one call into C
#: code (a parse, a regular expression) runs on through the alarm.
KILL_AFTER = 15.0


class WorkerDied(Exception):
    """The worker process running a scan ended before answering (killed, out of memory)."""


class ScanWorkers:
    """A lazily started pool of ``processes`` scan worker processes (see module docstring)."""

    def __init__(
        self,
        processes: int,
        *,
        recycle_after: int = RECYCLE_AFTER,
        recycle_rss: int = RECYCLE_RSS,
        hard_deadline_grace: float = HARD_DEADLINE_GRACE,
        kill_after: float = KILL_AFTER,
    ) -> None:
        if processes < 1:
            raise ValueError(f"scan workers need at least one process, not {processes}")
        self.processes = processes
        self.recycle_after = recycle_after
        self.recycle_rss = recycle_rss
        self.hard_deadline_grace = hard_deadline_grace
        self.kill_after = kill_after
        #: Pools started so far (a new one after a death or a retirement).
        self.pools_started = 0
        self._pool: ProcessPoolExecutor | None = None
        self._pool_scans = 0
        self._slots = asyncio.Semaphore(processes)
        self._lock = threading.Lock()
        self._closed = False

    async def scan(self, source: Path | bytes, filename: str, limits: ScanLimits) -> ScanReport:
        """``scan_archive(source, filename, limits)`` in a worker process. ``source`` is a
        path the worker opens (a missing file raises ``FileNotFoundError`` here) or the
        archive's bytes. Raises ``WorkerDied`` if the worker ends first."""
        await self._slots.acquire()
        try:
            # In a thread (the event loop would wait for the start of the fork server
            # and a worker otherwise: a fifth of a second on the first scan), finished
            # even if the caller is cancelled meanwhile, so the slot goes with the scan.
            pool, future = await to_thread.run_sync(
                self._submit, str(source) if isinstance(source, Path) else source, filename, limits
            )
        except BaseException:
            self._slots.release()
            raise
        loop = asyncio.get_running_loop()
        # The slot is the worker's until its scan ends, even when the caller stops waiting.
        future.add_done_callback(lambda _: _call_soon(loop, self._slots.release))
        answer = asyncio.wrap_future(future)
        answer.add_done_callback(_retrieve)  # also when nobody awaits it any more (below)
        try:
            report, peak_rss = await asyncio.wait_for(
                asyncio.shield(answer), limits.timeout + self.kill_after
            )
        except TimeoutError as exc:
            self._kill(pool)
            raise WorkerDied(
                f"the scan of {filename} ran {self.kill_after:g} s past its deadline "
                f"({limits.timeout:g} s): its worker process was killed"
            ) from exc
        except BrokenProcessPool as exc:
            self._retire(pool)
            raise WorkerDied(
                f"the scan's worker process ended before answering "
                f"(killed, or out of memory) while scanning {filename}"
            ) from exc
        except MemoryError as exc:  # outside the scan itself (sending the report back)
            self._retire(pool)
            raise WorkerDied(f"the scan's worker process ran out of memory: {filename}") from exc
        self._pool_scans += 1
        if (
            self._pool_scans >= self.recycle_after
            or peak_rss > min(self.recycle_rss, limits.max_memory // 2)
            or (report.incomplete or "").startswith(OUT_OF_MEMORY)
        ):
            self._retire(pool)
        return report

    def close(self) -> None:
        """Stop the workers (blocks until a running scan ends); no scan after this."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _submit(
        self, source: str | bytes, filename: str, limits: ScanLimits
    ) -> tuple[ProcessPoolExecutor, Future[tuple[ScanReport, int]]]:
        for _ in range(2):  # a pool found broken is replaced once
            try:
                pool = self._current()
                return pool, pool.submit(
                    scan_in_worker, source, filename, limits, self.hard_deadline_grace
                )
            except BrokenProcessPool:
                self._retire(pool)
            except OSError as exc:
                # No process could be started (out of file descriptors, memory or
                # process slots): the file is held as unscannable, never a server error.
                raise WorkerDied(
                    f"no scan worker process could be started to scan {filename}: {exc}"
                ) from exc
        raise WorkerDied(f"no scan worker process could be started to scan {filename}")

    def _current(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError("the scan workers are closed")
            if self._pool is None:
                # Never ``fork``: this process runs threads and an event loop. ``spawn``
                # where there is no fork server (Windows).
                method = (
                    "forkserver"
                    if "forkserver" in multiprocessing.get_all_start_methods()
                    else "spawn"
                )
                context = multiprocessing.get_context(method)
                if method == "forkserver":
                    # Imported once by the fork server, inherited by every worker it forks.
                    context.set_forkserver_preload([__name__])
                self._pool = ProcessPoolExecutor(
                    self.processes,
                    mp_context=context,
                    initializer=_worker_started,
                    initargs=(gc.get_threshold(),),
                )
                self._pool_scans = 0
                self.pools_started += 1
            return self._pool

    def _kill(self, pool: ProcessPoolExecutor) -> None:
        """End ``pool``'s workers now (the scans they run end as ``WorkerDied``)."""
        with self._lock:
            if self._pool is pool:
                self._pool = None
        # (``_processes``: the executor's own map of its worker processes; it has no
        # public way to stop a running call.)
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    def _retire(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False)


def scan_in_worker(
    source: str | bytes, filename: str, limits: ScanLimits, grace: float = HARD_DEADLINE_GRACE
) -> tuple[ScanReport, int]:
    """In a worker: the report, and the worker's peak resident memory in bytes. The scan
    may hold ``limits.max_memory`` and is stopped ``grace`` seconds past its deadline."""
    limit_memory(limits.max_memory)
    archive = source if isinstance(source, bytes) else Path(source)
    try:
        with hard_deadline(limits.timeout + grace):
            report = scan_archive(archive, filename, limits)
    except Unscannable as exc:  # the alarm, between the scan's end and the timer's
        report = ScanReport(RULES_VERSION, 0.0, incomplete=str(exc))
    return report, _peak_rss()


@contextmanager
def hard_deadline(seconds: float) -> Iterator[None]:
    """Raise ``Unscannable`` in this (main) thread once ``seconds`` of wall time pass.

    The scan checks its own deadline between steps; one step (a file's analysis) may run
    far past it. The alarm (``SIGALRM``) interrupts Python code wherever it is, so a scan
    ends within about ``seconds`` unless one call into C runs longer (the parse of a file,
    which ``source.MAX_PARSE_COST`` bounds). Nothing where there is no ``SIGALRM``."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise Unscannable(f"scan took longer than {seconds:g} s and was stopped")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def limit_memory(limit: int) -> None:
    """Let this process hold at most ``limit`` bytes of data (``RLIMIT_DATA``: its heap and
    anonymous mappings; code and mapped files aside), within any hard limit already set,
    so an allocation past it raises ``MemoryError``. Nothing where there is no such
    limit (Windows)."""
    try:
        import resource
    except ImportError:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))


def _peak_rss() -> int:
    """This process's peak resident memory in bytes (0 where it cannot be known)."""
    try:
        import resource
    except ImportError:  # not on Windows
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _worker_started(gc_thresholds: tuple[int, int, int]) -> None:
    # Ctrl-C reaches the whole process group: the server stops its workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The garbage collector as the server runs it (``pipgate serve`` collects less often:
    # a scan's syntax trees are many objects, 3-7% of a large sdist's scan at the
    # defaults); what the worker imported lives as long as it does.
    gc.freeze()
    gc.set_threshold(*gc_thresholds)
    # A server that is killed (SIGKILL, the out-of-memory killer) cannot stop its
    # workers: each ends itself when the server is gone, or it would wait for work
    # forever, and keep the fork server alive with it.
    server = multiprocessing.parent_process()
    if server is not None:
        threading.Thread(target=_exit_with, args=(server.sentinel,), daemon=True).start()


def _exit_with(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(0)


def _retrieve(answer: asyncio.Future[object]) -> None:
    if not answer.cancelled():
        answer.exception()  # a killed worker's answer is nobody's: not "never retrieved"


def _call_soon(loop: asyncio.AbstractEventLoop, callback) -> None:  # type: ignore[no-untyped-def]
    try:
        loop.call_soon_threadsafe(callback)
    except RuntimeError:  # the loop is closed: nobody waits for the slot any more
        pass
