"""Files an sdist ships and its install-time code runs: shell scripts and programs.

A ``setup.py`` that runs ``sh install.sh`` or ``./helper`` from its own archive hides what
it does from a scanner that reads only Python. ``wanted(path)`` says which members to read
the head of (scripts, and files with no extension, which may be either); ``check_runs``
matches the words of install-time process calls against those members and judges what
they run: a program is held for a person, a script is read like the install code itself
(a download run, a reverse shell, a miner, persistence or a known sink in it counts).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from pipgate.policies.scan import Finding

from . import indicators
from .facts import Facts
from .layout import Role
from .rules import PROCESS, finding

#: Bytes read of each candidate member, and of all of them together.
HEAD = 64 * 1024
TOTAL = 4 * 1024 * 1024

_SCRIPT = re.compile(r"\.(?:sh|bash|zsh|bat|cmd|ps1|vbs|command)$", re.I)
_PROGRAM = re.compile(r"\.(?:exe|bin|elf|out|dll|dylib|scr|com|msi|appimage|run)$", re.I)
#: Build tools an sdist may ship and run to compile itself.
_BUILD_TOOLS = frozenset(
    {"configure", "autogen", "bootstrap", "makefile", "gradlew", "mvnw", "cmake", "ninja"}
)
_MAGIC = (b"\x7fELF", b"MZ", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe")
_WORD = re.compile(r"[^\s'\"\\/;&|<>()=]+")


def wanted(path: str) -> bool:
    """Whether to read the head of a member: a script, or a file with no extension (a
    program or a script without one) outside the metadata directories."""
    base = path.rsplit("/", 1)[-1]
    if _SCRIPT.search(base):
        return True
    return "." not in base and ".egg-info/" not in path and base.lower() not in _BUILD_TOOLS


def check_runs(
    facts: Mapping[str, Facts],
    roles: Mapping[str, Role],
    heads: Mapping[str, bytes],
    paths: list[str],
) -> Iterator[Finding]:
    """``install-run-bundled`` for each install-time process call that runs a member of
    the archive (by the file name its arguments spell) that is a program, or a script that
    downloads and runs, opens a shell to a socket, mines, persists or sends to a sink; and
    for each import-time one that starts such a member hidden or detached from the user's
    session (``creationflags``, ``start_new_session``, ``startupinfo``).
    ``heads`` are the root-relative members read by ``wanted``; ``paths`` all members."""
    by_name: dict[str, list[str]] = {}
    for path in paths:
        by_name.setdefault(path.rsplit("/", 1)[-1], []).append(path)
    for source, found in facts.items():
        role = roles.get(source)
        if role is not Role.INSTALL and role is not Role.IMPORT:
            continue
        for call in found.calls:
            if not _is_process(call.name):
                continue
            if role is Role.IMPORT and not (call.top and _HIDDEN.intersection(call.keywords)):
                continue
            for word in {w for arg in call.args for w in _WORD.findall(arg)}:
                for member in by_name.get(word, ()):
                    reason = _judge(member, heads.get(member))
                    if reason is not None:
                        yield finding(
                            "install-run-bundled", source, call.line, f"runs {member}: {reason}"
                        )
                        return


def run_by_python(
    facts: Mapping[str, Facts], roles: Mapping[str, Role], members: list[str]
) -> list[str]:
    """The members (of ``members``, root-relative paths whose text can be had) that an
    install-time process call runs with a Python interpreter (``[sys.executable, path]``,
    ``os.system("python helper")``), not yet read as install code."""
    by_name: dict[str, list[str]] = {}
    for path in members:
        by_name.setdefault(path.rsplit("/", 1)[-1], []).append(path)
    found: list[str] = []
    for source, known in list(facts.items()):
        if roles.get(source) is not Role.INSTALL:
            continue
        for call in known.calls:
            if not _is_process(call.name):
                continue
            words = [w for arg in call.args for w in _WORD.findall(arg)]
            if not any(_PYTHON_WORD.match(w) for w in words):
                continue
            for word in words:
                for member in by_name.get(word, ()):
                    if roles.get(member) is not Role.INSTALL and member not in found:
                        found.append(member)
    return found


#: Process options that hide a program or detach it from the session that started it.
_HIDDEN = frozenset({"creationflags", "start_new_session", "startupinfo", "preexec_fn"})
_PYTHON_WORD = re.compile(r"^python[\d.]*w?(?:\.exe)?$", re.I)


def _is_process(name: str) -> bool:
    return name in PROCESS or name.startswith("subprocess.")


def _judge(path: str, head: bytes | None) -> str | None:
    if _PROGRAM.search(path) or (head is not None and head.startswith(_MAGIC)):
        return "a program shipped in the archive"
    if head is None:
        return None
    text = head.decode("utf-8", "replace")
    lower = text.lower()
    for label, indicator in (
        ("downloads and runs", indicators.DOWNLOAD_RUN),
        ("a reverse shell", indicators.REVERSE_SHELL),
        ("a miner", indicators.MINER),
        ("persistence", indicators.PERSISTENCE),
        ("an upload", indicators.UPLOAD_COMMAND),
        *((category, sink) for category, sink in indicators.SINKS.items()),
    ):
        match = indicator.search(text, lower)
        if match is not None:
            return f"{label} ({' '.join(match.group(0).split())[:40]})"
    return None
