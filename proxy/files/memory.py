"""Giving memory back to the system after a burst of downloads.

glibc keeps freed heap memory in its arenas, and by default makes one arena per
thread that allocates, up to eight per core; file chunks are read in worker threads,
so after a burst of a few hundred downloads the worker arenas kept ~40 MB that
``malloc_trim`` could not return (measured: ``benchmarks/slow_readers.py``).
``limit_arenas`` (called by ``pipgate serve`` before any thread starts) caps them at
two, like ``MALLOC_ARENA_MAX=2``; ``Trimmer`` calls ``malloc_trim(0)`` in a worker
thread shortly after downloads fall to half of their peak since the last trim, or to
zero. Elsewhere than glibc both do nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
import logging
from collections.abc import Callable

from anyio import to_thread

log = logging.getLogger("pipgate.memory")

#: A burst smaller than this many downloads is not worth a trim.
MIN_BURST = 8


#: Arenas glibc may make (``M_ARENA_MAX``): the main one and one for all threads.
ARENAS = 2
_M_ARENA_MAX = -8  # from glibc's malloc.h


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    except (OSError, AttributeError):
        return None
    return libc


def _malloc_trim() -> Callable[[int], int] | None:
    libc = _libc()
    return None if libc is None else libc.malloc_trim  # type: ignore[no-any-return]


def limit_arenas(count: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas at ``count``; true if it could. Call before threads start."""
    libc = _libc()
    return libc is not None and libc.mallopt(_M_ARENA_MAX, count) == 1


def release_free_memory() -> bool:
    """Return the allocator's free pages to the system; true if it could. Blocking."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


class Trimmer:
    """Watches the number of open downloads (``update``) and trims after a burst."""

    def __init__(self, *, delay: float = 1.0) -> None:
        self._delay = delay
        self._peak = 0
        self._pending: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.trims = 0

    def update(self, open_now: int) -> None:
        """Called with the number of open downloads whenever it changes."""
        self._peak = max(self._peak, open_now)
        ended = open_now == 0 or open_now <= self._peak // 2
        if self._peak >= MIN_BURST and ended and self._pending is None:
            self._pending = asyncio.get_running_loop().call_later(self._delay, self._start)

    def _start(self) -> None:
        self._pending = None
        self._peak = 0
        task = asyncio.get_running_loop().create_task(self._trim())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _trim(self) -> None:
        if await to_thread.run_sync(release_free_memory):
            self.trims += 1
            log.debug("returned free memory to the system after a burst of downloads")

    def close(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
