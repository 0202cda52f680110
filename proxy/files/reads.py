"""Reading file bytes from the event loop without waiting on the disk.

``read_at`` takes the bytes straight from the page cache when they are there:
``preadv2`` with ``RWF_NOWAIT`` (Linux) returns what is cached and never blocks
on the disk. Otherwise, or where the flag does not exist, the read runs in a
worker thread. A file being served is usually cached (just written, or read by
the previous client), so small reads do not each cost a thread hop.
"""

from __future__ import annotations

import os

from anyio import to_thread

_NOWAIT: int | None = getattr(os, "RWF_NOWAIT", None)


async def read_at(fd: int, offset: int, size: int) -> bytes | bytearray:
    """Up to ``size`` bytes of file ``fd`` at ``offset`` (fewer at the end; empty past it)."""
    if _NOWAIT is not None:
        buffer = bytearray(size)
        try:
            got = os.preadv(fd, [buffer], offset, _NOWAIT)
        except OSError:  # BlockingIOError: not in the page cache; or no RWF_NOWAIT here
            got = 0
        if got:
            if got < size:
                del buffer[got:]
            return buffer
    return await to_thread.run_sync(os.pread, fd, size, offset)
