"""Compiled code an archive ships (an extension module, a DLL, a program) that carries an
exfiltration sink: a Discord or Slack webhook, a Telegram bot's token or API address, a
request catcher.

A stealer compiled with Cython or Nuitka, or a PyInstaller program, hides its code from a
reader of Python, but not its strings: the address it sends to sits in the binary as text.
Legitimate compiled code names no one's private webhook. ``wanted(path, size)`` says which
members to read (whole, up to ``MAX_BYTES``); ``check(binaries)`` finds the sinks in them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from pipgate.policies.scan import Finding

from . import indicators
from .rules import finding
from .triage import Anchored

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


#: The compiled sinks' patterns, searched only where one of their anchors occurs.
_ANCHORED = Anchored(tuple(indicators.SINKS[category] for category in _SINKS))


def check(binaries: Mapping[str, bytes]) -> Iterator[Finding]:
    """``compiled-sink`` for the first binary (of ``wanted`` ones) that carries one of the
    ``_SINKS``. A binary none of their anchors occurs in is passed over after one
    Aho-Corasick pass (most: the patterns then run only where one may match)."""
    for path, data in binaries.items():
        candidates = _ANCHORED.candidates(data.lower())
        if not candidates:
            continue
        text = data.decode("latin-1")
        lower = text.lower()
        for category in _SINKS:
            indicator = indicators.SINKS[category]
            if indicator not in candidates:
                continue
            match = indicator.search(text, lower)
            if match is not None:
                detail = f"{category} in compiled code: {match.group(0)[:60]}"
                yield finding("compiled-sink", path, 0, detail)
                return
