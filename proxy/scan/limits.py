"""The caps a scan stays within, and the one exception that says a scan could not finish."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ScanLimits:
    """Per-archive caps. What exceeds one is *unscannable* (held), never passed.

    - ``max_archive``: bytes of the archive file itself;
    - ``max_members``: entries in the archive;
    - ``max_unpacked``: bytes decompressed while walking it (a tar is read whole, a zip
      only where a member is read);
    - ``max_ratio``: decompressed/compressed bytes, checked once more than ``ratio_floor``
      bytes have been decompressed (small archives of text compress well and are fine);
    - ``max_source``: bytes of one file read for analysis (a larger one is analysed
      lexically from its first ``max_source`` bytes);
    - ``max_entry_source``: the same for a file that may run at install or import time
      (``setup.py``, a top-level module): payloads hide behind megabytes of padding. A
      Python file read only in part that runs at install or import time, by its place or
      because such code imports it, makes the archive unscannable;
    - ``max_kept``: bytes of source kept in memory for analysis, all files together;
    - ``timeout``: seconds of wall time for the whole scan;
    - ``max_memory``: bytes of memory a scan worker process may hold (its data segment:
      the heap and anonymous mappings, ``RLIMIT_DATA``), set by the worker before each
      scan (``proxy/files/scan_workers.py``). A scan that needs more ends with
      ``MemoryError`` and its file is held. Not applied to a scan in a thread of the
      server or of ``pipgate scan``: a limit is per process.
    """

    max_archive: int = 4 * 1024**3
    max_members: int = 200_000
    max_unpacked: int = 2 * 1024**3
    max_ratio: float = 200.0
    ratio_floor: int = 64 * 1024**2
    max_source: int = 2 * 1024**2
    max_entry_source: int = 16 * 1024**2
    max_kept: int = 64 * 1024**2
    timeout: float = 30.0
    max_memory: int = 1024**3


class Unscannable(Exception):
    """The archive cannot be scanned within its caps, or cannot be read at all.

    The message is the reason shown to people (``zip bomb: member x expands 1000x``).
    """


class Deadline:
    """``check()`` raises ``Unscannable`` once ``seconds`` have passed since creation."""

    __slots__ = ("_end", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self._end:
            raise Unscannable(f"scan took longer than {self.seconds:g} s")
