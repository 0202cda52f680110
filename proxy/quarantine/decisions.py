"""Newest-first search of the decision log (``decisions.jsonl``), reading it from the end.

The log grows without bound, so a search reads backwards in blocks and stops
after ``limit`` matches or ``max_bytes`` read. Blocking: call it in a thread.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

BLOCK = 1 << 16
FIELDS = ("index", "project", "policy", "action", "mode", "client")


def lines_backwards(path: Path, *, max_bytes: int) -> Iterator[bytes]:
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return
    with handle:
        position = handle.seek(0, os.SEEK_END)
        floor = max(0, position - max_bytes)
        rest = b""
        while position > floor:
            step = min(BLOCK, position - floor)
            position -= step
            handle.seek(position)
            chunk = handle.read(step) + rest
            lines = chunk.split(b"\n")
            rest = lines.pop(0)
            for line in reversed(lines):
                if line.strip():
                    yield line
        if rest.strip() and floor == 0:
            yield rest


def search(
    path: Path,
    *,
    q: str | None = None,
    limit: int = 100,
    max_bytes: int = 64 << 20,
    **fields: str | None,
) -> list[dict[str, Any]]:
    """Entries newest first. ``q`` matches any text field (case-insensitive);
    ``fields`` (``project=``, ``policy=``, ...) must match exactly."""
    wanted = {k: v for k, v in fields.items() if v and k in FIELDS}
    needle = (q or "").strip().lower()
    found: list[dict[str, Any]] = []
    for line in lines_backwards(path, max_bytes=max_bytes):
        if needle and needle.encode() not in line.lower():
            continue
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if any(str(entry.get(k)) != v for k, v in wanted.items()):
            continue
        found.append(entry)
        if len(found) >= limit:
            break
    return found


@dataclass(frozen=True, slots=True)
class DecisionQuery:
    """A search of the decision log: ``q`` anywhere, the other fields exactly."""

    q: str | None = None
    limit: int = 100
    index: str | None = None
    project: str | None = None
    policy: str | None = None
    action: str | None = None
    mode: str | None = None
    client: str | None = None

    def fields(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in FIELDS}
