"""Compiled code an archive ships (an extension module, a DLL, a program) that carries an
exfiltration sink: a Discord or Slack webhook, a Telegram bot's token or API address, a
request catcher.

A stealer compiled with Cython or Nuitka, or a PyInstaller program, hides its code from a
reader of Python, but not its strings: the address it sends to sits in the binary as text.
Legitimate compiled code names no one's private webhook. ``wanted(path, size)`` says which
members to read (whole, up to ``MAX_BYTES``); ``check(binaries)`` finds the sinks in them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping

import ahocorasick_rs

from pipgate.policies.scan import Finding

from . import indicators
from .rules import finding

_COMPILED = re.compile(r"\.(?:so|pyd|dll|dylib|exe)(?:\.[\d.]+)?$", re.I)
#: Bytes read of one binary, and of all of them together. A compiled stealer is small; the
#: libraries of numerical and machine-learning projects, which run to hundreds of MB, are
#: not read.
MAX_BYTES = 8 * 1024 * 1024
TOTAL = 24 * 1024 * 1024
#: The sinks a compiled file is judged by: ones that name a private channel, not a host.
_SINKS = ("discord webhook", "telegram bot", "slack webhook", "request catcher")


def wanted(path: str, size: int) -> bool:
    """Whether to read a member whole: compiled code no larger than ``MAX_BYTES``."""
    return 0 < size <= MAX_BYTES and _COMPILED.search(path) is not None


#: A binary is searched for the anchors this many bytes at a time (each window overlapping
#: the next by the longest anchor less one), so the matches listed at once stay few even in
#: a file made of nothing but one anchor.
_WINDOW = 1 << 16


@functools.cache
def _anchors() -> tuple[ahocorasick_rs.BytesAhoCorasick, int]:
    """The ``_SINKS``' anchors (lower-case ASCII) in one automaton (every match of a sink
    holds one of them), and the longest anchor's length."""
    anchors = sorted({a.encode() for c in _SINKS for a in indicators.SINKS[c].anchors})
    automaton = ahocorasick_rs.BytesAhoCorasick(
        anchors,
        matchkind=ahocorasick_rs.MATCHKIND_STANDARD,
        implementation=ahocorasick_rs.Implementation.DFA,
    )
    return automaton, max(map(len, anchors))


def _holds_an_anchor(lower: bytes) -> bool:
    automaton, longest = _anchors()
    view = memoryview(lower)
    for offset in range(0, max(len(lower) - longest + 1, 1), _WINDOW):
        if automaton.find_matches_as_indexes(view[offset : offset + _WINDOW + longest - 1]):
            return True
    return False


def check(binaries: Mapping[str, bytes]) -> Iterator[Finding]:
    """``compiled-sink`` for the first binary (of ``wanted`` ones) that carries one of the
    ``_SINKS``. A binary none of their anchors occurs in is passed over after one
    Aho-Corasick pass (most: the patterns then run only where one may match)."""
    for path, data in binaries.items():
        if not _holds_an_anchor(data.lower()):
            continue
        text = data.decode("latin-1")
        lower = text.lower()
        for category in _SINKS:
            match = indicators.SINKS[category].search(text, lower)
            if match is not None:
                detail = f"{category} in compiled code: {match.group(0)[:60]}"
                yield finding("compiled-sink", path, 0, detail)
                return
