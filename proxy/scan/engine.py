"""``scan_archive``: one distribution file in, one ``ScanReport`` out.

The archive is read from memory or a stream (a path is opened read-only); nothing is
extracted, written, imported, built or run. Python is parsed with ``ast`` only. Within the
caps of ``ScanLimits``; beyond them the report is ``incomplete`` (and the policy holds it).
The report is a pure function of the bytes, the filename's kind and ``RULES_VERSION``, so
it may be cached by ``(sha256, rules_version)``.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from pipgate.policies.scan import Finding, ScanReport

from . import bundled, compiled, layout, linking, pickles
from .archive import Member, walk
from .facts import Facts
from .identity import Identities, bundled_summaries
from .layout import Role
from .limits import Deadline, ScanLimits, Unscannable
from .metadata import (
    check_anonymous,
    check_archive,
    check_commands,
    check_url_requirements,
    declares_requirements,
    read_metadata,
    requirement_names,
)
from .names import Lookalikes, bundled_lookalikes
from .pth import check_pth
from .rules import RULES_VERSION, check_python, finding, paired_claim
from .scoring import ordered, score
from .source import decode_source, disguise, local_imports, read_source
from .triage import hides_code, patches_and_phones, worth_parsing

DEFAULT_LIMITS = ScanLimits()
#: Install- and import-time files up to this size are always parsed, as much as the default
#: reading cap (``ScanLimits.max_source``); one past the cap is refused. (At 256 KB, harmless
#: code put before a setup script's own left it to triage alone.)
_EARLY_PARSE = 2 * 1024 * 1024
#: A module that install- or import-time code imports is parsed for a hint of hidden code
#: (``hides_code``) only up to this size: generated wrappers (SWIG's) are megabytes of
#: ``__import__``; beyond it, what it runs at its top level decides (``_runs_something``).
_IMPORTED_PARSE = 256 * 1024

log = logging.getLogger(__name__)
_EXECUTABLE = re.compile(r"\.(?:exe|scr|vbs|msi)$", re.I)
_LAUNCHER = re.compile(r"(?:^|/)(?:cli|gui|t|w)(?:-?(?:32|64))?(?:-arm(?:64)?)?\.exe$", re.I)
#: Directories an installation never runs: findings there are about tests and examples.
_INERT_WORDS = frozenset(
    {
        "test",
        "tests",
        "testing",
        "doc",
        "docs",
        "example",
        "examples",
        "bench",
        "benchmark",
        "benchmarks",
        "tutorial",
        "tutorials",
        ".github",
        ".evergreen",
        ".ci",
    }
)
#: Top-level folders of an sdist that hold its developers' tools, not code it installs.
_DEVELOPER_FOLDERS = frozenset(
    {"scripts", "tools", "ci", "dev", "devtools", "build_tools", "tasks", "resources"}
    | {"maint", "maintenance", "release", "hack"}
)
_INERT_FILE = re.compile(r"(?:^|/)(?:test_[^/]*|[^/]*_test|conftest)\.py$")
_WORDS = re.compile(r"[\s-]+")
#: An sdist's root folder: the project's name and version (``test-utils-1.0``).
_SDIST_ROOT = re.compile(r".+-\d[\w.!+]*")


def inert(path: str) -> bool:
    """Whether a module lies where nothing an installation runs lives: a directory named
    (or made of words such as) ``tests``, ``docs``, ``examples`` (``manual tests/``,
    ``_test-data/``), or a test file (``test_x.py``, ``conftest.py``)."""
    if _INERT_FILE.search(path):
        return True
    for part in path.split("/")[:-1]:
        words = _WORDS.split(part.lower().lstrip("_"))
        if not _INERT_WORDS.isdisjoint(words):
            return True
    return False


#: How ``ScanReport.incomplete`` begins when a defect of the scanner stopped it: such a
#: verdict is not kept on disk, so a fixed scanner judges the file again.
SCANNER_ERROR = "scanner error"
#: How it begins when the scan needed more memory than its process may hold
#: (``ScanLimits.max_memory``): the file is held, and the verdict is not kept on disk
#: either (a larger limit may judge it).
OUT_OF_MEMORY = "scan ran out of memory"
#: The beginnings of verdicts about the scanner or its process rather than the file alone.
NOT_KEPT = (SCANNER_ERROR, OUT_OF_MEMORY)


def _developer_folders(paths: set[str]) -> set[str]:
    """The sdist's top-level folders named for its developers' tools (``scripts/``,
    ``tools/``) that are no package (no ``__init__.py`` of their own): nothing installs or
    imports their modules, so what those do runs on the developers' machines, not the
    user's. Install-time code that runs or imports one still makes it install code."""
    folders = {path.split("/", 1)[0] for path in paths if "/" in path}
    return {f for f in folders & _DEVELOPER_FOLDERS if f"{f}/__init__.py" not in paths}


def scan_archive(
    source: str | os.PathLike[str] | BinaryIO | bytes,
    filename: str | None = None,
    limits: ScanLimits = DEFAULT_LIMITS,
    lookalikes: Lookalikes | None = None,
) -> ScanReport:
    """Scan one wheel, sdist or egg. ``filename`` (the distribution's name, for its kind and
    version) defaults to the path's name. ``lookalikes`` judges the project's name
    (default: the corpus shipped with pipgate). Never raises for bad archive content."""
    started = time.perf_counter()
    scan = functools.partial(_scan, limits=limits, lookalikes=lookalikes or bundled_lookalikes())
    if isinstance(source, bytes):
        return scan(io.BytesIO(source), filename or "archive", started=started)
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        with path.open("rb") as handle:
            return scan(handle, filename or path.name, started=started)
    return scan(source, filename or getattr(source, "name", "archive"), started=started)


def _scan(
    fileobj: BinaryIO, filename: str, *, limits: ScanLimits, lookalikes: Lookalikes, started: float
) -> ScanReport:
    deadline = Deadline(limits.timeout)
    scan = _Scan(filename, limits, lookalikes)
    try:
        size = fileobj.seek(0, io.SEEK_END)
        fileobj.seek(0)
        if size > limits.max_archive:
            raise Unscannable(f"archive is {size} bytes; the limit is {limits.max_archive}")
        for member in walk(fileobj, limits, deadline, scan.want):
            scan.take(member)
        findings = list(scan.judge(deadline))
        claimed = paired_claim(findings)
        if claimed is not None:
            findings.append(claimed)
        anonymous = check_anonymous(findings, scan.metadata, scan.metadata_path)
        if anonymous is not None:
            findings.append(anonymous)
    except Unscannable as exc:
        return ScanReport(
            RULES_VERSION,
            0.0,
            incomplete=str(exc),
            files_read=scan.files_read,
            bytes_read=scan.bytes_read,
            seconds=time.perf_counter() - started,
        )
    except OSError:
        raise  # the store's file could not be read: not the archive's doing
    except MemoryError:
        scan.texts.clear()  # what it kept, so the report can still be made
        return ScanReport(
            RULES_VERSION,
            0.0,
            incomplete=f"{OUT_OF_MEMORY} (the limit is {limits.max_memory} bytes)",
            files_read=scan.files_read,
            bytes_read=scan.bytes_read,
            seconds=time.perf_counter() - started,
        )
    except Exception as exc:
        # A defect of the scanner that this archive brings out: the file is held (not
        # passed, and no 500 for what an upload did), and the defect is logged.
        log.exception("scanning %s failed", filename)
        return ScanReport(
            RULES_VERSION,
            0.0,
            incomplete=f"{SCANNER_ERROR} ({type(exc).__name__}: {exc})",
            files_read=scan.files_read,
            bytes_read=scan.bytes_read,
            seconds=time.perf_counter() - started,
        )
    kept = ordered(findings)
    return ScanReport(
        RULES_VERSION,
        score(kept),
        kept,
        files_read=scan.files_read,
        bytes_read=scan.bytes_read,
        seconds=time.perf_counter() - started,
    )


class _Scan:
    """The state of one scan: what the walk kept, then the judgement of it."""

    def __init__(self, filename: str, limits: ScanLimits, lookalikes: Lookalikes) -> None:
        self.filename = filename
        self.limits = limits
        self.lookalikes = lookalikes
        self.wheel = layout.is_wheel(filename)
        self.paths: list[str] = []
        self.texts: dict[str, str] = {}  # raw member path -> text kept for analysis
        self.early: list[Finding] = []
        self.files_read = 0
        self.bytes_read = 0
        self.python_bytes = 0
        self.truncated: list[str] = []  # Python files larger than what is read of them
        self.unparsed_code = 0  # Python files not kept for analysis (nothing suspicious)
        self.passed_code = False  # whether one of those has a line of code
        # Whether a module outside tests and examples (``inert``) has code: a package
        # without one installs its tests and examples as its code.
        self.own_code = False
        self._kept = 0
        # Python files triage passed over, kept (while the package is small) in case code
        # run at install or import imports them: raw member path -> bytes.
        self.deferred: dict[str, bytes] = {}
        self._deferred_bytes = 0
        self._inert_bytes = 0
        # The heads of scripts, extension-less files (``bundled``) and pickles (``pickles``).
        self.heads: dict[str, bytes] = {}
        self._head_bytes = 0
        # Small compiled files, read whole for the sinks they carry (``compiled``).
        self.binaries: dict[str, bytes] = {}
        self._binary_bytes = 0
        # What the archive says of itself (``PKG-INFO``/``METADATA``), once judged.
        self.metadata: dict[str, list[str]] = {}
        self.metadata_path = filename

    def want(self, path: str, size: int) -> int:
        """How much of a member to read: what may run early is read further."""
        if not layout.wanted(path, size):
            if self._head_bytes < bundled.TOTAL and (bundled.wanted(path) or pickles.wanted(path)):
                return bundled.HEAD
            if self._binary_bytes + size <= compiled.TOTAL and compiled.wanted(path, size):
                self._binary_bytes += size
                return compiled.MAX_BYTES
            return 0
        if path.endswith((".py", ".pyw")) and self._early(path):
            return self.limits.max_entry_source
        return self.limits.max_source

    def _early(self, path: str) -> bool:
        """Whether a Python file may run at install or import time, by its place alone:
        ``setup.py`` and its neighbours, top-level modules (also under ``src/``) and the
        top-level packages' ``__init__.py`` (right for root-less sdists too)."""
        if self.wheel:
            path = layout.installed_path(path)
        depth = path.count("/")
        base = path.rsplit("/", 1)[-1]
        if self.wheel:
            return depth == 0 or (depth == 1 and base == "__init__.py")
        return (
            depth <= 1
            or (depth == 2 and "/src/" in path)
            or (base == "__init__.py" and (depth == 2 or (depth == 3 and "/src/" in path)))
        )

    def _inert(self, path: str) -> bool:
        """``inert`` of a member's path, not counting an sdist's root folder: in
        ``test-utils-1.0/test_utils/core.py`` the project's name says nothing of its code."""
        head, slash, rest = path.partition("/")
        if slash and not self.wheel and _SDIST_ROOT.fullmatch(head):
            return inert(rest)
        return inert(path)

    def take(self, member: Member) -> None:
        self.paths.append(member.path)
        if member.unsafe in ("absolute path", "path traversal"):
            self.early.append(finding("unsafe-member", member.path, 0, member.unsafe))
            return
        # Read only for the sinks it may carry (``compiled``): otherwise as a member not read.
        for_sinks = (
            member.data is not None
            and not layout.wanted(member.path)
            and not bundled.wanted(member.path)
            and compiled.wanted(member.path, len(member.data))
        )
        if (
            (member.data is None or for_sinks)
            and not self.wheel
            and _EXECUTABLE.search(member.path)
            and not _LAUNCHER.search(member.path)
        ):
            self.early.append(finding("bundled-executable", member.path, 0, "bundled"))
        if member.data is None:
            return
        self.bytes_read += len(member.data)
        if member.path.endswith((".py", ".pyw")):
            self.python_bytes += len(member.data)
            if member.truncated:
                self.truncated.append(member.path)
            if not self.own_code and member.path.rsplit("/", 1)[-1] != "setup.py":
                self.own_code = not self._inert(member.path) and _has_code(member.data)
        if for_sinks:
            self.binaries[member.path] = member.data
            return
        if not layout.wanted(member.path):
            self.heads[member.path] = member.data
            self._head_bytes += len(member.data)
            return
        self.files_read += 1
        if not self._worth_keeping(member):
            if member.size > _STUB_BYTES:
                self.unparsed_code += 1
            self.passed_code = self.passed_code or _has_code(member.data)
            self._defer(member)
            return
        self._kept += len(member.data)
        if self._kept > self.limits.max_kept:
            raise Unscannable(f"more than {self.limits.max_kept} bytes of source to analyse")
        self.texts[member.path] = decode_source(member.data)

    def _defer(self, member: Member) -> None:
        """Keep a passed-over Python file of a small package until the walk is done.
        Tests and examples are kept on a budget of their own: they count only if code run
        at install or import time imports them (a payload hidden in ``pkg/tests/``)."""
        if self._deferred_bytes < 0 or not member.path.endswith((".py", ".pyw")):
            return
        if member.data is None or member.truncated:
            return
        if self._inert(member.path):
            if self._inert_bytes + len(member.data) <= _DEFERRED_BYTES:
                self._inert_bytes += len(member.data)
                self.deferred[member.path] = member.data
            return
        self._deferred_bytes += len(member.data)
        if self._deferred_bytes > _DEFERRED_BYTES:
            # A large package: its modules are judged by triage alone (as they all were).
            self.deferred.clear()
            self._deferred_bytes = -1
            return
        self.deferred[member.path] = member.data

    def _worth_keeping(self, member: Member) -> bool:
        path = member.path
        if not path.endswith((".py", ".pyw")):
            return True  # .pth, metadata, scripts: small and always read
        early = self._early(path)
        if early and len(member.data) <= _EARLY_PARSE:
            return True
        if disguise(member.data):
            return True  # what its bytes show is not what Python reads
        if early:
            return worth_parsing(member.data, runs_early=True)
        return not self._inert(path) and worth_parsing(member.data)

    def judge(self, deadline: Deadline) -> Iterator[Finding]:
        yield from self.early
        root = layout.strip_root(self.paths, self.wheel)
        texts = {path[len(root) :]: text for path, text in self.texts.items()}
        facts: dict[str, Facts] = {}
        # Data followed across modules in a small package (``_LINKED_BYTES``): a payload's
        # package, not a library's, whose thousands of calls between its modules would
        # each cost a flow check.
        small = self._deferred_bytes >= 0 and self.python_bytes <= _LINKED_BYTES
        for path, text in texts.items():
            if path.endswith((".py", ".pyw")) or layout._DATA_SCRIPT.match(path):
                deadline.check()
                facts[path] = read_source(text, links=small)
        metadata_path = _first(texts, ("PKG-INFO", "METADATA"))
        deferred = {path[len(root) :]: data for path, data in self.deferred.items()}
        entry_points = texts.get(_own_entry_points(texts) or "") or ""
        if not entry_points and not self.wheel:
            # An sdist without one declares them in its configuration or its setup script.
            setup = facts.get("setup.py")
            entry_points = "\n".join(
                (
                    layout.declared_entry_points(
                        texts.get("pyproject.toml"), texts.get("setup.cfg")
                    ),
                    layout.setup_entry_points(t for t, _ in setup.strings) if setup else "",
                )
            )
        # A command's module runs whenever its user runs the command, wherever it lies and
        # however it is named (`demo.tests.cli:main`, `demo.test_cli:main`); a setuptools
        # command class's, whenever the project is built or installed; a pytest or setuptools
        # plug-in's, whenever those run.
        commands = {module for module, _ in layout.command_functions(entry_points)}
        commands.update(layout.command_classes(texts.get("pyproject.toml"), texts.get("setup.cfg")))
        commands.update(layout.autoloaded_modules(entry_points))

        def read(path: str) -> None:
            """Read a passed-over module after all (what it runs was found to run)."""
            texts[path] = decode_source(deferred.pop(path))
            facts[path] = read_source(texts[path], links=small)

        for path in [p for p in deferred if layout.module_of(p) in commands]:
            read(path)
        if not self.wheel and "pyproject.toml" in texts:
            # What the build backend runs from the project (an in-tree backend, its hooks,
            # the code it reads the version from) runs at install, wherever it lies.
            python = [p for p in [*facts, *deferred] if p.endswith((".py", ".pyw"))]
            every = {layout.module_of(p): p for p in python}
            for path in layout.backend_paths(texts["pyproject.toml"], every):
                if path in deferred:
                    read(path)
        if not self.own_code:
            # Nothing but tests and examples (`pkg/example/run.py`): what it installs is
            # there, judged as any package's modules are.
            for path in [p for p in deferred if inert(p) and worth_parsing(deferred[p])]:
                read(path)
        # Modules of a few lines read only because the package is small: as before, unless
        # early code imports them, they do not make it a package with code (`check_archive`),
        # as unread ones of that size do not.
        stubs: set[str] = set()
        if self.python_bytes <= _SMALL_PACKAGE:
            # A small package's modules are read whole, whatever triage made of them: its
            # substrings miss what an aliased import spells (`from curl_cffi import requests
            # as cr; cr.post(...)`), and reading a few pages of Python costs little.
            for path in [p for p in deferred if not inert(p) and p.endswith((".py", ".pyw"))]:
                if len(deferred[path]) <= _STUB_BYTES:
                    stubs.add(path)
                read(path)
        top_level = texts.get(_first(texts, ("top_level.txt",)) or "") or ""
        # A top-level package outside the places the walk knows (`package_dir={"": "lib"}`,
        # found by `top_level.txt`): its `__init__` runs on import, read as the walk reads
        # the usual places' (whole when small, else what triage finds).
        top_names = set(top_level.split())
        members = {p[len(root) :] for p in self.paths}
        # The first package under a namespace package (`acme/evil/__init__.py`, no
        # `acme/__init__.py`) is a top-level one too.
        for path in [
            p
            for p in deferred
            if layout.placed_package(p, top_names) or layout.namespace_package(p, members)
        ]:
            data = deferred[path]
            if len(data) <= _EARLY_PARSE or worth_parsing(data, runs_early=True):
                read(path)
        skimmed: dict[str, bytes] = {}  # modules followed for their imports alone

        def early_roles() -> tuple[dict[str, Role], dict[str, set[str]], set[tuple[str, str]]]:
            """The roles, what each module imports when imported, and the functions early
            code calls in other modules: the functions called widen what is imported (a
            lazy import in ``main`` runs when ``__init__`` calls it), which widens the
            roles and so the calls, until nothing more is called."""
            reached: set[tuple[str, str]] = set()
            while True:
                on_import = _imports_on_import(facts, reached)
                roles = layout.roles(
                    {
                        **{p: f.local_imports for p, f in facts.items()},
                        **{p: set() for p in texts if p.endswith(".pth")},
                    },
                    wheel=self.wheel,
                    pyproject=texts.get("pyproject.toml"),
                    entry_points=entry_points,
                    top_level=top_level,
                    setup_cfg=texts.get("setup.cfg"),
                    members=members,
                    on_import=on_import,
                )
                called = _early_called(facts, roles)
                if not on_import:
                    return roles, on_import, called
                more = _calls_reached(facts, called)
                if more <= reached:
                    return roles, on_import, called
                reached |= more

        for level in range(_FOLLOWED + 1):
            roles, on_import, called = early_roles()
            imported = (
                _imported_early(roles, facts, deferred, on_import) if level < _FOLLOWED else []
            )
            if not imported:
                break
            for path in imported:
                # A module setup.py or an __init__.py imports runs with it: what triage
                # lets pass in such code (any network or process use) is read properly;
                # from the others only the imports, to follow them further.
                deadline.check()
                data = deferred.pop(path)
                # A test module was never triaged (nothing runs tests); imported, it runs.
                # So does a function or class of any module that early code calls.
                runs_then = inert(path) or _defines_one_of(data, path, called)
                if _runs_something(data) or (runs_then and worth_parsing(data, runs_early=True)):
                    texts[path] = decode_source(data)
                    facts[path] = read_source(texts[path], links=small)
                else:
                    facts[path] = Facts(local_imports=local_imports(data), statements=1)
                    skimmed[path] = data
        if self.truncated:
            _refuse_unread_early(
                [p[len(root) :] for p in self.truncated],
                [p[len(root) :] for p in self.paths],
                facts,
                roles,
                on_import,
                [p[len(root) :] for p in self.truncated if self._early(p)],
            )
        heads = {path[len(root) :]: head for path, head in self.heads.items()}

        def read_handed_to_python(role: Role) -> None:
            """Read each file of the archive that code of ``role`` hands to Python: it runs
            then too, whatever its name, so it is read as code of that role."""
            for path in bundled.run_by_python(facts, roles, [*texts, *deferred, *heads], role):
                source = texts.get(path) or decode_source(
                    deferred.pop(path, None) or heads.get(path, b"")
                )
                texts[path] = source
                facts[path] = read_source(source, links=small)
                roles[path] = role

        read_handed_to_python(Role.INSTALL)
        # Modules whose functions or values code read here uses, read for what they hand
        # over (not judged themselves: nothing here says they run).
        helpers: dict[str, Facts] = {}
        unread = {**deferred, **skimmed} if small else {}
        for _ in range(_HELPER_LEVELS):
            wanted = linking.wanted({**facts, **helpers}, [p for p in unread if p not in helpers])
            for path in wanted[: _HELPERS - len(helpers)]:
                deadline.check()
                data = unread[path]
                if len(data) <= _SMALL_HELPER or _hands_something(data):
                    helpers[path] = read_source(decode_source(data), links=True)
                else:
                    helpers[path] = Facts(statements=1)  # nothing worth handing over
            if not wanted or len(helpers) >= _HELPERS:
                break
        linking.link(facts, helpers)
        _mark_early_calls(facts, roles)
        read_handed_to_python(Role.IMPORT)  # its early calls are known only now
        _mark_command_calls(facts, roles, layout.command_functions(entry_points))
        members = [path[len(root) :] for path in self.paths]
        yield from bundled.check_runs(facts, roles, heads, members)
        yield from pickles.check({p: head for p, head in heads.items() if not inert(p)})
        yield from compiled.check(
            {p[len(root) :]: data for p, data in self.binaries.items() if not inert(p[len(root) :])}
        )
        if not self.wheel or self.filename.endswith("-none-any.whl"):
            yield from bundled.check_loads(facts, roles, members)
            yield from bundled.check_compiled_imports(facts, roles, members)
        tooling = set() if self.wheel else _developer_folders(set(members))
        # In a small package every module is what it was installed for: no library's rarely
        # used corners whose weak signals the module factor is there to damp.
        whole = self.python_bytes <= _SMALL_PACKAGE
        built = (
            set()
            if self.wheel
            else layout.build_helpers(
                {p: f.local_imports for p, f in facts.items()}, roles, top_level
            )
        )
        for path, role in sorted(roles.items()):
            if role in _RUNS_EARLY and path in facts and facts[path].too_large:
                # What it runs could not be analysed within bounds: held, as a file read
                # only in part is (a payload padded with millions of statements).
                raise Unscannable(
                    f"{path} runs at install or import time and is too large to analyse "
                    f"({facts[path].max_line} lines)"
                )
        for path, role in roles.items():
            deadline.check()
            skipped = (inert(path) and self.own_code) or path.split("/", 1)[0] in tooling
            if role is Role.MODULE and skipped:
                continue
            if role is Role.PTH:
                yield from check_pth(path, texts[path])
            else:
                yield from check_python(
                    path, role, facts[path], damped=not whole, build=path in built
                )
        metadata = read_metadata(texts[metadata_path]) if metadata_path else {}
        self.metadata, self.metadata_path = metadata, metadata_path or self.filename
        name = (metadata.get("name") or [""])[0] or layout.project_name(self.filename)
        yield from check_archive(
            self.filename,
            metadata,
            {
                path: found
                for path, found in facts.items()
                if path not in stubs or roles.get(path) is not Role.MODULE
            },
            # What setup.py imports and the archive does not install is setup code too:
            # no code of the package's own.
            {path: Role.INSTALL if path in built else role for path, role in roles.items()},
            metadata_path or "",
            more_code=self.unparsed_code > 0,
            content=self.passed_code
            or any(  # a module that does not parse (Python 2) is still code
                path.endswith((".py", ".pyw"))
                and path.rsplit("/", 1)[-1] != "setup.py"
                and path[len(root) :] not in built
                and _has_code(text.encode())
                for path, text in texts.items()
            )
            or layout.carries_content(p[len(root) :] for p in self.paths),
            requirements=declares_requirements(metadata, texts),
            known_name=self.lookalikes.popular(name),
        )
        declared = {
            path: texts[path]
            for path in (
                _own_entry_points(texts),
                _first(texts, ("setup.cfg",)),
                _first(texts, ("pyproject.toml",)),
            )
            if path
        }
        if "setup.py" in facts:
            declared["setup.py"] = "\n".join(text for text, _ in facts["setup.py"].strings)
        yield from check_commands(name, declared, metadata_path or self.filename)
        yield from check_url_requirements(texts)
        for path in sorted(p[len(root) :] for p in self.paths):
            if _STARTUP_HOOK.fullmatch(layout.installed_path(path)):
                # Installed beside site-packages' own modules, Python imports it at every
                # start of every program: a `.pth` file in all but name.
                yield finding("startup-hook", path, 0, "imported at every interpreter start")
        yield from self.lookalikes.check(name, metadata_path or self.filename)
        identities = Identities(bundled_summaries(), self.lookalikes.index)
        yield from identities.check(name, metadata, metadata_path or self.filename)
        yield from self.lookalikes.check_requirements(
            name, requirement_names(texts), metadata_path or self.filename
        )


#: Roles of code that runs when the package is installed or imported.
_RUNS_EARLY = (Role.INSTALL, Role.IMPORT, Role.PTH)
#: A module Python's `site` imports at every start when it lies on the path.
_STARTUP_HOOK = re.compile(r"(?:src/)?(?:site|user)customize\.py")
#: Python source (bytes) of a package whose modules are linked (``linking``).
_LINKED_BYTES = 256 * 1024
#: Python source (bytes) of a package whose modules nothing runs early weigh in full.
_SMALL_PACKAGE = 32 * 1024
#: A Python file this small that triage passed over is a stub, not code a package is for.
_STUB_BYTES = 512
#: Modules read only for what their functions hand to code read here (``linking``).
_HELPERS = 16
#: Rounds of such reading: a helper's function may return what another module's does.
_HELPER_LEVELS = 3
#: A helper this small is read whatever it shows (it may pass on another module's data).
_SMALL_HELPER = 4096
#: Bytes of passed-over Python kept for ``_imported_early``; a package with more is large
#: and relies on triage alone.
_DEFERRED_BYTES = 1024 * 1024
#: A call made at module level (``main()``, ``requests.post(...)``): code that runs when
#: the module is imported, not only defined.
_MODULE_CALL = re.compile(
    rb"^(?!(?:if|elif|while|for|with|return|print|assert)\b)[A-Za-z_][\w.]*\s*\(|"
    rb"^(?:from|import)\s+(?:setuptools|distutils)\.command\b",  # an install hook's module
    re.M,
)


def _refuse_unread_early(
    truncated: list[str],
    paths: list[str],
    facts: dict[str, Facts],
    roles: dict[str, Role],
    on_import: dict[str, set[str]],
    early: list[str],
) -> None:
    """Raise ``Unscannable`` when a Python file read only in part (past ``max_source`` or
    ``max_entry_source``) runs at install or import time (``early``: by its place), or code
    that does imports it (``on_import``: what a module imports when imported, as for
    ``layout.roles``): what lies past the part read would run unjudged (padding a module
    past the cap is enough)."""
    cut = set(truncated)
    modules = {layout.module_of(p): p for p in paths if p.endswith((".py", ".pyw"))}
    sources = {p: f.local_imports for p, f in facts.items()}
    importing = {**sources, **on_import}
    reached = (
        target
        for path, role in sorted(roles.items())
        if role in _RUNS_EARLY
        for target in (
            path,
            *layout.imports_of(path, sources if role is Role.INSTALL else importing, modules),
        )
    )
    unread = next(iter(early), None) or next((t for t in reached if t in cut), None)
    if unread is not None:
        raise Unscannable(
            f"{unread} runs at install or import time and is larger than the part of it "
            "the scan reads"
        )


def _hands_something(data: bytes) -> bool:
    """Whether a module's bytes show anything its functions could hand code elsewhere that
    a rule judges: network or process use, hidden code, a credential store's name, host
    facts or the environment."""
    return bool(worth_parsing(data, runs_early=True) or hides_code(data) or _HANDED.search(data))


#: Names of what a module may read and hand over: credential stores, host facts, the
#: environment (``source`` judges them properly).
_HANDED = re.compile(
    rb"environ|getenv|gethostname|getuser|getlogin|platform\.node|uname|\.ssh\b|\.aws\b|"
    rb"Login Data|Local State|leveldb|Cookies|wallet|tdata|credentials|\.netrc|\.pypirc|\.npmrc",
    re.I,
)


def _has_code(data: bytes | None) -> bool:
    """Whether Python source has a line that is not blank or a comment."""
    return data is not None and any(
        line.strip() and not line.lstrip().startswith(b"#") for line in data.splitlines()
    )


def _runs_something(data: bytes) -> bool:
    """Whether a module imported at install or import time is worth parsing although
    triage passed it over: it hides code (``hides_code``), or it calls something at module
    level (or defines an install command) and uses the network or processes."""
    if len(data) <= _IMPORTED_PARSE and (hides_code(data) or patches_and_phones(data)):
        return True
    if not worth_parsing(data, runs_early=True):
        return False
    return bool(_MODULE_CALL.search(data)) or _acts_at_module_level(data)


#: A module-level line that opens a block the import runs (`if not isfile(path):`, `try:`,
#: `for ...:`; not `if __name__ == "__main__":`).
_RUN_BLOCK = re.compile(
    rb"(?:if(?!\s+__name__\b)|elif|else|try|except|finally|for|while|with|async\s+(?:for|with))\b"
)
#: Network, process and dynamic-code calls, as a line shows them.
_ACTS = re.compile(
    rb"urlopen|urlretrieve|requests\.\w+\(|httpx\.\w+\(|system\(|popen|Popen|subprocess\.|"
    rb"\bexec\(|\beval\(|socket\(|startfile|spawn|\.connect\("
)


def _acts_at_module_level(data: bytes) -> bool:
    """Whether a module's import makes a network, process or dynamic-code call that
    ``_MODULE_CALL`` does not see: as the value of an assignment (`script =
    request.urlopen(...)`) or inside a block at module level (`if not isfile(path):`)."""
    in_block = False
    for line in data.splitlines():
        if line[:1] in (b" ", b"\t"):
            if in_block and _ACTS.search(line):
                return True
        elif line and line[:1] != b"#":
            in_block = bool(_RUN_BLOCK.match(line))
            if not in_block and b"=" in line and _ACTS.search(line):
                return True
    return False


#: Levels of imports followed from install- and import-time code into passed-over modules.
_FOLLOWED = 2


def _imported_early(
    roles: dict[str, Role],
    facts: dict[str, Facts],
    deferred: dict[str, bytes],
    on_import: dict[str, set[str]],
) -> list[str]:
    """The passed-over modules that code run at install or import time imports (import
    time: ``on_import``, what a module imports when imported, as for ``layout.roles``)."""
    if not deferred:
        return []
    sources = {**{p: f.local_imports for p, f in facts.items()}, **{p: set() for p in deferred}}
    importing = {**sources, **on_import}
    modules = {layout.module_of(p): p for p in sources if p.endswith((".py", ".pyw"))}
    found = []
    for path, role in roles.items():
        if role in (Role.INSTALL, Role.IMPORT) and path in facts:
            eager: set[str] | None = None
            imports = sources if role is Role.INSTALL else importing
            for target in layout.imports_of(path, imports, modules):
                if target in deferred and target not in found:
                    if inert(target):
                        # A test module counts only when importing the package imports
                        # it (`def test(): from .tests import run` is a developer's call).
                        if eager is None:
                            only = {path: sources[path] - facts[path].lazy_imports}
                            eager = set(layout.imports_of(path, {**sources, **only}, modules))
                        if target not in eager:
                            continue
                    found.append(target)
    return found


def _imports_on_import(
    facts: dict[str, Facts], called: set[tuple[str, str]]
) -> dict[str, set[str]]:
    """What each parsed module that imports in functions imports when it is imported: its
    imports but those made only in functions nothing calls then (``Facts.on_call_imports``),
    unless code run early elsewhere calls one of those (``called``, from ``_early_called``).
    Modules that do not are left out (all they import, they import then)."""
    found: dict[str, set[str]] = {}
    for path, module_facts in facts.items():
        waiting = module_facts.on_call_imports
        if not waiting:
            continue
        module = layout.module_of(path).rsplit(".", 1)[-1]
        reached: set[str] = set()
        for function, names in waiting.items():
            if (module, function) in called:
                reached |= names
        later = set().union(*waiting.values()) - reached
        found[path] = module_facts.local_imports - later
    return found


def _calls_reached(facts: dict[str, Facts], called: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """``called`` (``(module, function)`` pairs, from ``_early_called``) and what those
    functions call in turn, in their module or another, a few calls deep (as
    ``_mark_early_calls`` follows them)."""
    for _ in range(3):
        more: set[tuple[str, str]] = set()
        for path, found in facts.items():
            module = layout.module_of(path).rsplit(".", 1)[-1]
            for call in found.calls:
                if call.within and (module, call.within) in called:
                    head, _, function = call.name.rpartition(".")
                    more.add((head.rsplit(".", 1)[-1] if head else module, function))
        if more <= called:
            break
        called = called | more
    return called


def _early_called(facts: dict[str, Facts], roles: dict[str, Role]) -> set[tuple[str, str]]:
    """``(module, function)`` pairs that code run at install, import or startup calls in
    another module by name (``from .core import main; main()`` gives ``("core", "main")``;
    a class made there gives its name)."""
    called: set[tuple[str, str]] = set()
    for path, role in roles.items():
        if role not in _RUNS_EARLY or path not in facts:
            continue
        for call in facts[path].calls:
            if call.top or role is Role.INSTALL:
                head, _, function = call.name.rpartition(".")
                if head and function:
                    called.add((head.rsplit(".", 1)[-1], function))
    return called


def _defines_one_of(data: bytes, path: str, called: set[tuple[str, str]]) -> bool:
    """Whether a module's bytes define a function or class that early code calls by this
    module's name (``called``, from ``_early_called``): its body runs then too."""
    module = layout.module_of(path).rsplit(".", 1)[-1]
    names = [function for owner, function in called if owner == module]
    return bool(names) and any(
        re.search(
            rb"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+" + re.escape(n.encode()) + rb"\b",
            data,
            re.M,
        )
        for n in names
    )


def _mark_early_calls(facts: dict[str, Facts], roles: dict[str, Role]) -> None:
    """Calls inside functions that code run at install or import time calls in another of
    the project's modules (``from .core import main; main()``) run then too: mark them
    ``top``. Functions are matched by module and function name, a few calls deep."""
    for _ in range(3):
        called = _early_called(facts, roles)
        marked = False
        for path, found in facts.items():
            module = layout.module_of(path).rsplit(".", 1)[-1]
            for call in found.calls:
                if not call.top and call.within and (module, call.within) in called:
                    call.top = marked = True
        for found in facts.values():
            marked = _mark_local_calls(found) or marked
        if not marked:
            break
    for found in facts.values():
        _sends_follow_calls(found)


def _mark_local_calls(found: Facts) -> bool:
    """Calls inside a module's own functions that its ``top`` calls call by name (``def
    connect(): _send(_info())``, ``connect`` run on import): ``top`` too, a few calls deep.
    Whether any call was newly marked."""
    marked = False
    for _ in range(3):
        local = {c.name for c in found.calls if c.top and "." not in c.name}
        fresh = [c for c in found.calls if not c.top and c.within and c.within in local]
        if not fresh:
            break
        for call in fresh:
            call.top = marked = True
    return marked


def _mark_command_calls(
    facts: dict[str, Facts], roles: dict[str, Role], commands: set[tuple[str, str]]
) -> None:
    """Calls in the function a console command names (``demo = demo.cli:main``) run
    whenever the command does, as a script's module-level code does: mark them ``top`` in
    the command's module (``Role.SCRIPT``). What they call elsewhere is not followed."""
    for path, role in roles.items():
        found = facts.get(path)
        if role is not Role.SCRIPT or found is None:
            continue
        module = layout.module_of(path)
        functions = {function for name, function in commands if name == module}
        for call in found.calls:
            if call.within in functions:
                call.top = True
        _sends_follow_calls(found)


def _sends_follow_calls(found: Facts) -> None:
    """A send is made by the calls on its line (the send itself, or the helper of the file
    it is sent through): ``top`` once they are marked so (a beacon in a function that
    import-time code in another module calls runs on import too)."""
    early = {c.line for c in found.calls if c.top}
    for send in found.sends:
        if not send.top and send.line in early:
            send.top = True


def _own_entry_points(texts: dict[str, str]) -> str | None:
    """The archive's own ``entry_points.txt``: in its ``.dist-info`` or ``.egg-info``
    directory at the root (or under ``src/``), never a vendored project's
    (``pex/vendor/_vendored/pip/pip-20.3.4.dist-info/entry_points.txt`` names pip's
    commands, which installing the archive does not install)."""
    found = [p for p in texts if p.endswith("entry_points.txt") and _metadata_place(p)]
    return min(found, key=lambda p: (p.count("/"), p)) if found else None


def _metadata_place(path: str) -> bool:
    """Whether a member lies in the archive's own metadata directory: ``X.dist-info/`` or
    ``X.egg-info/`` at the root, or ``src/X.egg-info/``."""
    parts = path.split("/")
    placed = len(parts) == 2 or (len(parts) == 3 and parts[0] == "src")
    return placed and parts[-2].endswith((".dist-info", ".egg-info"))


def _first(texts: dict[str, str], names: tuple[str, ...]) -> str | None:
    """The shallowest member whose base name is one of ``names``."""
    found = [p for p in texts if p.rsplit("/", 1)[-1] in names]
    return min(found, key=lambda p: (p.count("/"), p)) if found else None
