"""Pickles an archive ships (a model's weights, a cache, a fitted estimator): loading one
calls whatever callables it names, so a pickle that names ``os.system``, ``exec`` or
``subprocess.Popen`` runs a command the moment ``pickle.load``, ``torch.load`` or
``joblib.load`` reads it, whatever the code around it looks like.

``wanted(path)`` says which members to read the head of; ``named_callables(data)`` lists the
``module.name`` callables a pickle stream names, read with ``pickletools.genops`` (which
parses opcodes and runs nothing); ``check(heads)`` finds the pickles among them that name a
callable that runs commands or code. A PyTorch file is a zip whose entries are stored
uncompressed, so its ``data.pkl`` stream is read in place.
"""

from __future__ import annotations

import io
import pickletools
import re
from collections.abc import Iterator, Mapping

from pipgate.policies.scan import Finding

from .rules import finding

_PICKLE_FILE = re.compile(r"\.(?:pkl|pickle|joblib|pt|pth|ckpt|bin|sav)$", re.I)
#: A protocol 2-5 stream starts with PROTO; protocol 0 and 1 streams name callables with
#: GLOBAL (``c`` module newline name newline).
_PROTO = re.compile(rb"\x80[\x02-\x05]")
_GLOBAL = re.compile(rb"c([A-Za-z_][\w.]{0,60})\n([A-Za-z_]\w{0,60})\n")
#: Streams tried in one file, and opcodes read of each.
_STREAMS = 8
_OPCODES = 20_000
_STRINGS = frozenset(
    {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING", "BINSTRING"}
)
#: Callables that run a command, code or a connection when a pickle calls them.
_RUNS = {
    "os": r"system|popen|exec\w*|spawn\w*|startfile",
    "posix": r"system|popen|exec\w*|spawn\w*",
    "nt": r"system|popen|exec\w*|spawn\w*|startfile",
    "subprocess": r"\w+",
    "builtins": r"exec|eval|compile|__import__|execfile",
    "__builtin__": r"exec|eval|compile|__import__|execfile",
    "runpy": r"\w+",
    "pty": r"spawn",
    "commands": r"\w+",
    "socket": r"socket|create_connection",
    "webbrowser": r"open\w*",
    "code": r"InteractiveInterpreter|interact",
}


def wanted(path: str) -> bool:
    """Whether a member may be a pickle (by its name)."""
    return _PICKLE_FILE.search(path) is not None


def named_callables(data: bytes) -> list[str]:
    """The ``module.name`` callables the pickle streams in ``data`` name (GLOBAL, INST and
    STACK_GLOBAL opcodes), in the order found; a stream cut short or broken ends its
    listing, never the caller."""
    found = [
        f"{module.decode()}.{name.decode()}"
        for module, name in _GLOBAL.findall(data)
        if module.decode().split(".", 1)[0] in _RUNS
    ]
    for number, match in enumerate(_PROTO.finditer(data)):
        if number == _STREAMS:
            break
        strings: list[str] = []
        stream = io.BytesIO(data)
        stream.seek(match.start())  # read in place, not from a copy of the rest
        try:
            for count, (opcode, arg, _) in enumerate(pickletools.genops(stream)):
                if count == _OPCODES or opcode.name == "STOP":
                    break
                if opcode.name in _STRINGS:
                    strings.append(arg if isinstance(arg, str) else str(arg))
                elif opcode.name == "STACK_GLOBAL" and len(strings) >= 2:
                    found.append(f"{strings[-2]}.{strings[-1]}")
                elif opcode.name in ("GLOBAL", "INST") and isinstance(arg, str):
                    found.append(arg.replace(" ", "."))
        except Exception:  # a broken or cut stream is data, not a fault of ours
            continue
    return found


def runs_something(callable_name: str) -> bool:
    """Whether calling ``callable_name`` (``os.system``) runs a command, code or a
    connection."""
    module, _, name = callable_name.rpartition(".")
    pattern = _RUNS.get(module)
    return pattern is not None and re.fullmatch(pattern, name) is not None


def check(heads: Mapping[str, bytes]) -> Iterator[Finding]:
    """``pickle-code`` for each shipped pickle (by name, ``wanted``) whose stream names a
    callable that runs a command or code (``runs_something``)."""
    for path, data in heads.items():
        if not wanted(path):
            continue
        bad = next((c for c in named_callables(data) if runs_something(c)), None)
        if bad is not None:
            yield finding("pickle-code", path, 0, f"loading it calls {bad}")
