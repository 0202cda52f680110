"""Triage: which Python files are worth parsing at all.

Parsing is the dear part of a scan (a large sdist carries tens of MB of Python), and a
module can only raise a finding if its text shows what a rule looks for. So every file that
install time does not run is first looked at as bytes: a handful of substring tests (memory
speed), then, only where one hits, the rules' own patterns on the raw text. What passes both
is parsed and judged properly; comments and docstrings that merely mention a webhook or
``exec`` cost a parse, never a finding.
"""

from __future__ import annotations

import re

from . import indicators

_SINK_CALL = indicators.Indicator(
    re.compile(r"\b(?:exec|eval)\s*\(|__import__\s*\(\s*[^'\"\s)]"), ("exec", "eval", "__import__")
)
_DECODING = (
    b"b64decode",
    b"b32decode",
    b"b16decode",
    b"a85decode",
    b"b85decode",
    b"unhexlify",
    b"fromhex",
    b"decompress",
    b"marshal",
    b"decrypt",
    b"codecs",
    b"chr(",
    b"urlopen",
    b"requests.",
    b".content",
    b".text",
    b"[::-1]",
)
_BUILTINS = re.compile(r"getattr\s*\(\s*(?:__builtins__|builtins|globals\s*\(\s*\))")
_RAW_IP = re.compile(rb"://[1-9]")


def _exec_chain(text: str, low: str, lower: bytes) -> bool:
    return any(token in lower for token in _DECODING) and bool(_SINK_CALL.search(text, low))


def _any(*found: indicators.Indicator):  # type: ignore[no-untyped-def]
    return lambda text, low, lower: any(i.search(text, low) for i in found)


_NETWORK = (b"requests.", b"urlopen", b"urllib", b"http.client", b"socket", b"httpx", b"dns.")
_SPAWN = (b"subprocess", b"os.system", b"startfile", b"popen")


def _phones(text: str, low: str, lower: bytes) -> bool:
    return any(token in lower for token in _NETWORK)


def _drops(text: str, low: str, lower: bytes) -> bool:
    fetch = any(token in lower for token in (*_NETWORK, b"curl", b"wget", b"invoke-webrequest"))
    return fetch and any(token in lower for token in _SPAWN)


_CREDENTIALS = tuple(indicator for _, indicator in indicators.CREDENTIALS.values())

#: (lower-case byte substrings, the check to run where one occurs). Only files where a
#: check passes are parsed. Few tokens, because each costs one pass over every module byte.
_TRIAGE = (
    ((b"exec(", b"eval(", b"__import__("), _exec_chain),
    (
        (b"pyarmor", b"dup2", b"pty.spawn", b"/dev/tcp", b"ngrok"),
        lambda text, low, lower: True,
    ),
    (
        (b"rentry", b"paste", b"pipedream", b"oast", b"dnslog"),
        lambda text, low, lower: True,
    ),
    ((b"getuser", b"gethostname", b"getlogin", b"platform.node", b"os.uname"), _phones),
    ((b".exe",), _drops),
    ((b".recv(", b"b64decode", b".write("), _drops),
    ((b"/etc/passwd", b"/etc/shadow", b"serviceaccount/token"), _phones),
    ((b"__builtins__",), lambda text, low, lower: bool(_BUILTINS.search(text))),
    ((b"webhook", b"telegram"), _any(*indicators.SINKS.values())),
    (
        (b"login data", b"leveldb", b"roblosecurity"),
        lambda text, low, lower: True,
    ),
    ((b"cookies", b"tdata", b"wallet"), _any(*_CREDENTIALS)),
    ((b"powershell", b"| sh", b"|sh", b"chmod +x", b"base64 -d"), _any(indicators.DOWNLOAD_RUN)),
    ((b"currentversion", b"start menu", b"crontab", b"bashrc"), _any(indicators.PERSISTENCE)),
    (
        (b"clipboard", b"pyperclip"),
        lambda text, low, lower: bool(indicators.CRYPTO_ADDRESS.pattern.search(text)),
    ),
)


#: What code run at install or import time may do that a rule judges by where it runs.
_EARLY = (*_NETWORK, *_SPAWN)


def worth_parsing(data: bytes, *, runs_early: bool = False) -> bool:
    """Whether a Python file's bytes show anything a rule could find in it; for a file run
    at install or import time (``runs_early``), also any network or process use."""
    lower = data.lower()
    if runs_early and any(token in lower for token in _EARLY):
        return True
    text = low = None
    for tokens, check in _TRIAGE:
        if any(token in lower for token in tokens):
            if text is None:
                text = data.decode("utf-8", "replace")
                low = text.lower()
            if check(text, low, lower):
                return True
    if _RAW_IP.search(data):
        text = data.decode("utf-8", "replace")
        return indicators.raw_ip(text) is not None
    return False
