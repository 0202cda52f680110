"""Files an archive ships and its early code runs: shell scripts, programs, native
libraries and modules shipped only compiled.

A ``setup.py`` that runs ``sh install.sh`` or ``./helper`` from its own archive hides what
it does from a scanner that reads only Python. ``wanted(path)`` says which members to read
the head of (scripts, and files with no extension, which may be either); ``check_runs``
matches the words of install-time process calls against those members and judges what
they run: a program is held for a person, a script is read like the install code itself
(a download run, a reverse shell, a miner, persistence or a known sink in it counts).
``check_loads`` and ``check_compiled_imports`` hold a platform-free archive (an sdist, a
``none-any`` wheel) whose early code loads a native library it ships, or imports a module
it ships only compiled: code no build made, that nothing here can read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from pipgate.policies.scan import Finding

from . import indicators, layout
from .facts import Call, Facts
from .layout import Role
from .rules import PROCESS, finding, names_one_of

#: Bytes read of each candidate member, and of all of them together.
HEAD = 64 * 1024
TOTAL = 4 * 1024 * 1024

_SCRIPT = re.compile(r"\.(?:sh|bash|zsh|bat|cmd|ps1|vbs|command|js|mjs|cjs)$", re.I)
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
    for each import-time one (module level, or a function early code calls) that starts
    such a member hidden or detached from the user's session (``creationflags``,
    ``start_new_session``, ``startupinfo``), or for its own sake (nothing reads what it
    prints): importing a library has no program of its own to start. One asked its
    version, its output read, is a wrapper checking its tool.
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
            if role is Role.IMPORT and not (
                call.top and (call.discarded or _HIDDEN.intersection(call.keywords))
            ):
                continue
            for word in {w for text in _spelled(call, found) for w in _WORD.findall(text)}:
                for member in by_name.get(word, ()):
                    reason = _judge(member, heads.get(member))
                    if reason is not None:
                        yield finding(
                            "install-run-bundled", source, call.line, f"runs {member}: {reason}"
                        )
                        return


#: Calls that load a native library (its initialisers run, then whatever it is asked).
_LIBRARY_LOADERS = (
    *("ctypes.CDLL", "ctypes.WinDLL", "ctypes.PyDLL", "ctypes.OleDLL"),
    *(".LoadLibrary", ".LoadLibraryA", ".LoadLibraryW", ".dlopen"),
)
_LIBRARY = re.compile(r"\.(?:dll|so|dylib|pyd)(?:\.\d+)*$", re.I)


def check_loads(
    facts: Mapping[str, Facts], roles: Mapping[str, Role], paths: list[str]
) -> Iterator[Finding]:
    """``bundled-library`` for code run at install time, or when a module is imported (its
    module level, and what early code calls), that loads a native library the archive
    ships, by the file name its line spells. For archives that claim no platform (an
    sdist, a ``none-any`` wheel), where a library is no build's product: it was compiled
    elsewhere, and what it does cannot be read here."""
    libraries: dict[str, str] = {}
    for path in paths:
        base = path.rsplit("/", 1)[-1]
        if _LIBRARY.search(base):
            libraries.setdefault(base, path)
    if not libraries:
        return
    for source, found in facts.items():
        role = roles.get(source)
        if role is None or role is Role.PTH:
            continue
        for call in found.calls:
            if not (call.top or role is Role.INSTALL) or not names_one_of(
                call.name, _LIBRARY_LOADERS
            ):
                continue
            for word in {w for text in _spelled(call, found) for w in _WORD.findall(text)}:
                member = libraries.get(word)
                if member is not None:
                    detail = f"{call.name} loads {member}, shipped prebuilt"
                    yield finding("bundled-library", source, call.line, detail)
                    return


def check_compiled_imports(
    facts: Mapping[str, Facts], roles: Mapping[str, Role], paths: list[str]
) -> Iterator[Finding]:
    """``bundled-library`` for install-, import- or startup-time code that imports one of
    the project's modules the archive ships only compiled (``_core.pyc``, ``_speed.so``,
    ``_speed.cp311-win_amd64.pyd``, with no ``.py``, ``.pyx`` or C source of that name),
    and for a top-level package or module shipped only as bytecode (``pkg/__init__.pyc``),
    in an archive that claims no platform: code that runs unread."""
    sources = {p.rsplit(".", 1)[0] for p in paths if p.endswith(_SOURCE_SUFFIXES)}
    compiled: dict[str, str] = {}
    for path in paths:
        folder, _, base = path.rpartition("/")
        match = _COMPILED_MODULE.match(base)
        if match is None or "__pycache__" in folder:
            continue
        stem = f"{folder}/{match.group(1)}" if folder else match.group(1)
        if stem not in sources:
            compiled.setdefault(layout.module_of(stem + ".py"), path)
    if not compiled:
        return
    for module, path in sorted(compiled.items()):
        if "." not in module and path.endswith(".pyc"):
            # The package itself (``pkg/__init__.pyc``), or a top-level module, with no
            # source: importing the project runs it, whatever imports it.
            yield finding("bundled-library", path, 0, f"{module} ships only compiled (no source)")
            return
    imported = {p: f.local_imports for p, f in facts.items()}
    for source, role in sorted(roles.items()):
        if role not in (Role.INSTALL, Role.IMPORT, Role.PTH):
            continue
        for target in layout.imports_of(source, imported, compiled):
            detail = f"imports {target}, shipped compiled (no source)"
            yield finding("bundled-library", source, 0, detail)
            return


_SOURCE_SUFFIXES = (".py", ".pyw", ".pyx", ".c", ".cc", ".cpp", ".cxx", ".rs", ".f90")
#: A compiled module's file name: its module name, then an ABI tag (``.cpython-311-...``).
_COMPILED_MODULE = re.compile(r"^([A-Za-z_]\w*)(?:\.[\w-]+)?\.(?:pyc|so|pyd)$")


def run_by_python(
    facts: Mapping[str, Facts],
    roles: Mapping[str, Role],
    members: list[str],
    when: Role = Role.INSTALL,
) -> list[str]:
    """The members (of ``members``, root-relative paths whose text can be had) that a
    process call of code with role ``when`` runs with a Python interpreter
    (``[sys.executable, path]``, ``os.system("python helper")``), not yet read with that
    role. Install code's every call counts; import code's (``Role.IMPORT``, ``Role.PTH``
    for ``when=Role.IMPORT``) only those that run on import (``call.top``)."""
    sources = (Role.IMPORT, Role.PTH) if when is Role.IMPORT else (when,)
    by_name: dict[str, list[str]] = {}
    for path in members:
        by_name.setdefault(path.rsplit("/", 1)[-1], []).append(path)
    found: list[str] = []
    for source, known in list(facts.items()):
        if roles.get(source) not in sources:
            continue
        for call in known.calls:
            if not _is_process(call.name) or not (call.top or when is Role.INSTALL):
                continue
            words = [w for text in _spelled(call, known) for w in _WORD.findall(text)]
            if not any(_PYTHON_WORD.match(w) for w in words):
                continue
            for word in words:
                for member in by_name.get(word, ()):
                    if roles.get(member) not in (Role.INSTALL, when) and member not in found:
                        found.append(member)
    return found


#: Process options that hide a program or detach it from the session that started it.
_HIDDEN = frozenset({"creationflags", "start_new_session", "startupinfo", "preexec_fn"})
_PYTHON_WORD = re.compile(r"^python[\d.]*w?(?:\.exe)?$", re.I)


def _spelled(call: Call, found: Facts) -> list[str]:
    """What a call's line spells: its literal arguments, and the literals on its line (a
    path built in the call, ``os.path.join(here, "start.py")``)."""
    return [*call.args, *(text for text, line in found.strings if line == call.line)]


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
        ("JavaScript that runs what it fetches", indicators.JS_REMOTE_CODE),
        ("persistence", indicators.PERSISTENCE),
        ("an upload", indicators.UPLOAD_COMMAND),
        *((category, sink) for category, sink in indicators.SINKS.items()),
    ):
        match = indicator.search(text, lower)
        if match is not None:
            return f"{label} ({' '.join(match.group(0).split())[:40]})"
    return None
