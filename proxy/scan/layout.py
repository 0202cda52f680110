"""What runs when: the role of each file of a wheel or an sdist.

- ``INSTALL``: runs when the sdist is built or installed: ``setup.py``, the in-tree build
  backend named in ``pyproject.toml`` (``backend-path``), the build hooks and setuptools
  command classes the configuration names, and the project's own modules they import;
- ``PTH``: a ``.pth`` file, whose ``import`` lines run at every interpreter start;
- ``IMPORT``: runs on ``import``: top-level modules and package ``__init__.py`` files (also
  in a folder ``top_level.txt`` names, or the first under a namespace package), and the
  project's modules they import (followed a few levels deep);
- ``SCRIPT``: ``*.data/scripts/*`` and the modules entry points name;
- ``MODULE``: any other Python file (runs only when something calls into it).

Paths are relative to the distribution root: an sdist's ``name-version/`` directory is
stripped, and so is a wheel's ``*.data/purelib/``, ``platlib/`` or ``data/lib/python3.X/
site-packages/`` (``installed_path``).
"""

from __future__ import annotations

import configparser
import enum
import functools
import re
import tomllib
from collections.abc import Container, Iterable, Iterator, Mapping

_SOURCE = (".py", ".pyw")
METADATA_NAMES = frozenset(
    {
        "PKG-INFO",
        "METADATA",
        "entry_points.txt",
        "pyproject.toml",
        "setup.cfg",
        "requires.txt",
        "top_level.txt",
    }
)
#: A wheel's folders that install into site-packages: ``purelib``, ``platlib``, and the
#: ``data`` scheme's own path to it (``data/lib/python3.12/site-packages/``).
_DATA_LIB = re.compile(
    r"^[^/]+\.data/(?:purelib|platlib|data/(?:lib|Lib)(?:/python[\d.]+)?/site-packages)/"
)
_DATA_SCRIPT = re.compile(r"^[^/]+\.data/scripts/")
_ENTRY = re.compile(r"^\s*[^=#\[\s][^=]*=\s*([A-Za-z_][\w.]*)\s*(?::|$)", re.M)


_COMMAND_GROUP = re.compile(r"^\s*\[\s*(?:console|gui)_scripts\s*\]\s*$")
_COMMAND = re.compile(r"^\s*[^=#\[\s][^=]*=\s*([A-Za-z_][\w.]*)\s*:\s*([A-Za-z_]\w*)\s*(?:\[.*)?$")


#: Entry-point groups whose modules a host program imports by itself: pytest's plug-ins at
#: every test run, setuptools' and distutils' at every build in the environment.
_AUTOLOADED_GROUP = re.compile(
    r"^\s*\[\s*(?:pytest11|setuptools\.[\w.]+|distutils\.[\w.]+|egg_info\.writers)\s*\]\s*$"
)


def autoloaded_modules(entry_points: str) -> set[str]:
    """The modules of ``entry_points.txt``'s plug-ins that a host imports unasked
    (``_AUTOLOADED_GROUP``): installed, they run in every pytest run or build."""
    return {match.group(1) for match in _entries(entry_points, _AUTOLOADED_GROUP, _ENTRY)}


def _entries(
    entry_points: str, group: re.Pattern[str], entry: re.Pattern[str]
) -> Iterator[re.Match[str]]:
    """``entry``'s matches on the lines of ``entry_points.txt`` under a header ``group`` matches."""
    inside = False
    for line in entry_points.splitlines():
        if line.lstrip().startswith("["):
            inside = bool(group.match(line))
        elif inside and (match := entry.match(line)):
            yield match


def declared_entry_points(pyproject: str | None, setup_cfg: str | None) -> str:
    """The entry points an sdist declares without an ``entry_points.txt`` of its own, in
    that file's format: ``[project.scripts]``, ``[project.gui-scripts]`` and
    ``[project.entry-points.*]`` of ``pyproject.toml``, poetry's ``[tool.poetry.scripts]``,
    and ``[options.entry_points]`` of ``setup.cfg``."""
    groups: dict[str, dict[str, str]] = {}
    if pyproject:
        document = parsed_toml(pyproject)
        project = document.get("project")
        project = project if isinstance(project, dict) else {}
        tool = document.get("tool")
        poetry = tool.get("poetry") if isinstance(tool, dict) else None
        tables = [
            ("console_scripts", project.get("scripts")),
            ("gui_scripts", project.get("gui-scripts")),
            ("console_scripts", poetry.get("scripts") if isinstance(poetry, dict) else None),
        ]
        others = project.get("entry-points")
        if isinstance(others, dict):
            tables += list(others.items())
        for group, table in tables:
            if isinstance(table, dict):
                groups.setdefault(group, {}).update(
                    (str(k), v) for k, v in table.items() if isinstance(v, str)
                )
    if setup_cfg:
        for group, value in _cfg(setup_cfg).get("options.entry_points", {}).items():
            for line in value.splitlines():
                name, _, target = line.partition("=")
                if target.strip():
                    groups.setdefault(group, {})[name.strip()] = target.strip()
    return "\n".join(
        f"[{group}]\n" + "\n".join(f"{name} = {target}" for name, target in table.items())
        for group, table in groups.items()
    )


#: An entry point as ``setup.py`` spells one in its literal lists (``"demo = demo.cli:main"``).
_ENTRY_LITERAL = re.compile(r"^\s*[\w.-]+\s*=\s*[A-Za-z_][\w.]*\s*(?::\s*[A-Za-z_][\w.]*)?\s*$")


def _runs_by_itself(group: str) -> bool:
    """Whether a group's entries run by themselves: commands, and plug-ins hosts load
    unasked (the groups ``command_functions`` and ``autoloaded_modules`` read)."""
    header = f"[{group}]"
    return bool(_COMMAND_GROUP.match(header) or _AUTOLOADED_GROUP.match(header))


def setup_entry_points(literals: Iterable[str]) -> str:
    """The commands and self-loading plug-ins ``setup(entry_points={...})`` declares, in
    ``entry_points.txt``'s format, from ``setup.py``'s string literals in source order: a
    group's name, then its entries (``"console_scripts"``, ``"demo = demo.cli:main"``)."""
    groups: dict[str, list[str]] = {}
    group = ""
    for text in literals:
        if _runs_by_itself(text):
            group = text
        elif group and _ENTRY_LITERAL.match(text):
            groups.setdefault(group, []).append(text.strip())
    return "\n".join(f"[{name}]\n" + "\n".join(lines) for name, lines in groups.items())


def command_functions(entry_points: str) -> set[tuple[str, str]]:
    """The ``(module, function)`` each console or GUI command of ``entry_points.txt`` runs
    (``demo = demo.cli:main`` gives ``("demo.cli", "main")``); other groups are plug-ins
    their host loads, not commands."""
    return {(m.group(1), m.group(2)) for m in _entries(entry_points, _COMMAND_GROUP, _COMMAND)}


class Role(enum.Enum):
    INSTALL = "install"
    PTH = "pth"
    IMPORT = "import"
    SCRIPT = "script"
    MODULE = "module"


def wanted(path: str, size: int = 0) -> bool:
    """Whether the walk should read a member: Python sources, ``.pth`` and metadata files."""
    base = path.rsplit("/", 1)[-1]
    return (
        base.endswith((*_SOURCE, ".pth"))
        or base in METADATA_NAMES
        or bool(_DATA_SCRIPT.match(path))
    )


#: What an archive carries about itself rather than to install: documents and packaging
#: files at its top, and its metadata folders.
_ABOUT = re.compile(
    r"^(?:[^/]+\.(?:dist|egg)-info/.*|"
    r"(?:readme|licen[cs]e|copying|notice|authors|contributors|changelog|changes|history|"
    r"manifest|setup|tox|requirements|\.git\w*)(?:[._-][\w.-]*)?|[^/]+\.(?:md|rst|txt|cfg|toml|in))$",
    re.I,
)


def carries_content(paths: Iterable[str]) -> bool:
    """Whether root-relative member ``paths`` name anything besides Python sources (which
    their code judges), metadata, documents and packaging files: data, compiled code,
    scripts, type stubs, ``.pth`` files."""
    return any(
        path
        and not path.endswith("/")
        and not path.endswith(_SOURCE)
        and path.rsplit("/", 1)[-1] not in METADATA_NAMES
        and not _ABOUT.match(path)
        for path in paths
    )


def is_wheel(filename: str) -> bool:
    return filename.lower().endswith((".whl", ".egg"))


def project_name(filename: str) -> str:
    """The project name a distribution's filename starts with (``demo_pkg-1.0.tar.gz``)."""
    base = filename.rsplit("/", 1)[-1]
    return re.split(r"-\d", base, maxsplit=1)[0]


def strip_root(paths: Iterable[str], wheel: bool) -> str:
    """The prefix shared by every member of an sdist (``name-1.0/``), or ``''``."""
    if wheel:
        return ""
    firsts = {p.split("/", 1)[0] for p in paths if p}
    if len(firsts) == 1:
        (first,) = firsts
        if all("/" in p for p in paths if p and p != first):
            return first + "/"
    return ""


def roles(
    sources: Mapping[str, set[str]],
    *,
    wheel: bool,
    pyproject: str | None = None,
    entry_points: str | None = None,
    top_level: str | None = None,
    setup_cfg: str | None = None,
    members: Container[str] | None = None,
    on_import: Mapping[str, set[str]] | None = None,
) -> dict[str, Role]:
    """The role of each Python (or ``.pth``) file.

    ``sources`` maps each root-relative path to the names it imports (``Facts.local_imports``,
    empty for unparsed files); ``pyproject``, ``entry_points``, ``top_level`` (an sdist's
    ``*.egg-info/top_level.txt``) and ``setup_cfg`` are those files' text; ``members`` the
    archive's root-relative paths (by default ``sources``'), to tell namespace packages;
    ``on_import`` those of the names a module imports when it is imported (by default all:
    not those imported only in functions nothing calls then). Install-time code brings
    every module it imports (a build backend's hooks are called by the frontend).
    """
    top_names = set((top_level or "").split())
    modules = {_module_of(path): path for path in sources if path.endswith(_SOURCE)}
    result: dict[str, Role] = {}
    for path in sources:
        if path.endswith(".pth"):
            result[path] = Role.PTH
        elif _DATA_SCRIPT.match(path):
            result[path] = Role.SCRIPT
    install: list[str] = []
    if not wheel:
        if "setup.py" in sources:
            install.append("setup.py")
        install += backend_paths(pyproject, modules)
        install += [
            path
            for module in command_classes(pyproject, setup_cfg)
            if (path := modules.get(module)) is not None and path not in install
        ]
    # setup.py and the build backend run whole; the modules they import run as on import.
    _follow(install, sources, modules, result, Role.INSTALL, depth=0)
    imported = [target for path in install for target in imports_of(path, sources, modules)] + [
        path
        for path in sources
        if path.endswith(_SOURCE)
        and (
            _top_level(installed_path(path), wheel)
            or (not wheel and path.startswith("src/") and _top_level(path[4:], True))
            or (not wheel and "/" not in path and path.rsplit(".", 1)[0] in top_names)
            or (not wheel and placed_package(path, top_names))
            or namespace_package(path, sources if members is None else members)
        )
        and path != "setup.py"
    ]
    importing = sources if on_import is None else {**sources, **on_import}
    _follow(imported, importing, modules, result, Role.IMPORT)
    if entry_points:
        for module in _ENTRY.findall(entry_points):
            path = modules.get(module)
            if path is not None and path not in result:
                result[path] = Role.SCRIPT
    for path in sources:
        result.setdefault(path, Role.MODULE)
    return result


#: Folders an sdist's top-level package never lies in: the tests, docs and build copies.
_NOT_PACKAGE_DIRS = frozenset({"test", "tests", "doc", "docs", "example", "examples", "build"})


def placed_package(path: str, top_names: set[str]) -> bool:
    """``lib/evil/__init__.py`` of an sdist whose ``top_level.txt`` names ``evil``: a
    top-level package kept in a folder of its own (``package_dir={"": "lib"}``)."""
    parts = path.split("/")
    return (
        len(parts) == 3
        and parts[2] == "__init__.py"
        and parts[1] in top_names
        and parts[0].lower() not in _NOT_PACKAGE_DIRS
    )


def namespace_package(path: str, paths: Container[str]) -> bool:
    """``acme/evil/__init__.py`` when no ``acme/__init__.py`` is among ``paths``: the first
    package under a namespace package (``google/cloud/storage/``), which importing it runs
    as a top-level package's. Up to three namespace levels, under ``src/`` or a wheel's
    ``*.data/purelib/`` too; not in a tests, docs or build folder."""
    path = installed_path(path)
    prefix = "src/" if path.startswith("src/") else ""
    parts = path[len(prefix) :].split("/")
    if parts[-1] != "__init__.py" or not 3 <= len(parts) <= 5:
        return False
    if parts[0].lower() in _NOT_PACKAGE_DIRS:
        return False
    return all(
        prefix + "/".join(parts[:depth]) + "/__init__.py" not in paths
        for depth in range(1, len(parts) - 1)
    )


def installed_path(path: str) -> str:
    """Where a wheel's member lands relative to site-packages: ``demo-1.0.data/purelib/x.py``
    is ``x.py``; other paths are returned as they are."""
    return _DATA_LIB.sub("", path, count=1)


def _top_level(path: str, wheel: bool) -> bool:
    parts = path.split("/")
    if len(parts) == 1:
        return wheel and parts[0].endswith(_SOURCE)
    return len(parts) == 2 and parts[1] == "__init__.py"


def _module_of(path: str) -> str:
    path = installed_path(path)
    if path.startswith("src/"):
        path = path[4:]
    stem = path.rsplit(".", 1)[0]
    if stem.endswith("/__init__"):
        stem = stem[: -len("/__init__")]
    return stem.replace("/", ".")


def backend_paths(pyproject: str | None, modules: Mapping[str, str]) -> list[str]:
    """The files a build from the sdist runs: an in-tree build backend (``backend-path``),
    and the build hooks backends load from the project (hatch's custom hooks and version
    code, ``pdm_build.py`` and pdm's version getter, poetry's build script)."""
    if not pyproject:
        return []
    document = parsed_toml(pyproject)
    system = document.get("build-system", {})
    if not isinstance(system, dict):
        return []
    paths = set(modules.values())
    hooks = [path for path in _build_hooks(document, system) if path in paths]
    getter = _version_getter(document)
    if getter is not None and getter in modules and modules[getter] not in hooks:
        hooks.append(modules[getter])
    backend = system.get("build-backend")
    if not isinstance(backend, str) or not system.get("backend-path"):
        return hooks
    module = backend.split(":", 1)[0].strip()
    found = []
    for prefix in system.get("backend-path") or []:
        if not isinstance(prefix, str):
            continue
        prefix = prefix.strip("./")
        candidate = f"{prefix}.{module}" if prefix else module
        path = modules.get(candidate.replace("/", "."))
        if path is not None:
            found.append(path)
    if not found and module in modules:
        found.append(modules[module])
    return found + hooks


def _version_getter(document: dict) -> str | None:  # type: ignore[type-arg]
    """The module pdm-backend imports to call for the version (``[tool.pdm.version] source =
    "call"``, ``getter = "demo.version:get"``), or ``None``."""
    tool = document.get("tool")
    pdm = tool.get("pdm") if isinstance(tool, dict) else None
    version = pdm.get("version") if isinstance(pdm, dict) else None
    if not isinstance(version, dict) or version.get("source") != "call":
        return None
    getter = version.get("getter")
    if not isinstance(getter, str) or not getter.strip():
        return None
    return getter.split(":", 1)[0].strip()


def command_classes(pyproject: str | None, setup_cfg: str | None) -> list[str]:
    """The modules of the setuptools commands a project declares without ``setup.py``
    (``[tool.setuptools.cmdclass]``, ``cmdclass`` in ``setup.cfg``'s ``[options]``):
    setuptools imports them to build or install it."""
    targets: list[str] = []
    if pyproject:
        tool = parsed_toml(pyproject).get("tool")
        setuptools = tool.get("setuptools") if isinstance(tool, dict) else None
        cmdclass = setuptools.get("cmdclass") if isinstance(setuptools, dict) else None
        if isinstance(cmdclass, dict):
            targets += [t for t in cmdclass.values() if isinstance(t, str)]
    if setup_cfg:
        value = _cfg(setup_cfg).get("options", {}).get("cmdclass", "")
        targets += [line.partition("=")[2] for line in value.splitlines() if "=" in line]
    return [t.strip().rsplit(".", 1)[0] for t in targets if "." in t.strip()]


@functools.lru_cache(maxsize=8)
def parsed_toml(text: str) -> dict:  # type: ignore[type-arg]
    """``pyproject.toml`` parsed, once per text in a scan (several rules and ``metadata``
    read it); ``{}`` when it does not parse. Callers must not change what it returns."""
    try:
        document = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, AttributeError):
        return {}
    return document if isinstance(document, dict) else {}


@functools.lru_cache(maxsize=8)
def _cfg(text: str) -> dict[str, dict[str, str]]:
    """``setup.cfg``'s sections, parsed once per text (as ``_toml``); ``{}`` when it does
    not parse."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
        return {name: dict(parser.items(name)) for name in parser.sections()}
    except configparser.Error:
        return {}


def _build_hooks(document: dict, system: dict) -> list[str]:  # type: ignore[type-arg]
    """Root-relative paths of the hooks a build backend loads from the project."""
    found: list[str] = []
    tool = document.get("tool")
    tool = tool if isinstance(tool, dict) else {}
    hatch = tool.get("hatch")
    if isinstance(hatch, dict):
        # [tool.hatch.build.hooks.custom], [tool.hatch.build.targets.<t>.hooks.custom],
        # [tool.hatch.metadata.hooks.custom]: `path`, by default hatch_build.py.
        build = hatch.get("build") if isinstance(hatch.get("build"), dict) else {}
        metadata = hatch.get("metadata") if isinstance(hatch.get("metadata"), dict) else {}
        tables = [build.get("hooks"), metadata.get("hooks")]
        targets = build.get("targets")
        if isinstance(targets, dict):
            tables += [t.get("hooks") for t in targets.values() if isinstance(t, dict)]
        for hooks in tables:
            custom = hooks.get("custom") if isinstance(hooks, dict) else None
            if isinstance(custom, dict):
                path = custom.get("path", "hatch_build.py")
                if isinstance(path, str):
                    found.append(path.strip("./"))
        # `[tool.hatch.version] source = "code"`: hatch runs the file to read the version.
        version = hatch.get("version")
        if isinstance(version, dict) and version.get("source") == "code":
            path = version.get("path")
            if isinstance(path, str):
                found.append(path.strip("./"))
    backend = system.get("build-backend")
    if isinstance(backend, str) and backend.startswith("pdm."):
        found.append("pdm_build.py")  # pdm-backend runs it when it is there
    poetry = tool.get("poetry")
    if isinstance(poetry, dict):
        script = poetry.get("build")
        if isinstance(script, dict):
            script = script.get("script")
        if isinstance(script, str):
            found.append(script.strip("./"))
    return found


def _follow(
    start: list[str],
    sources: Mapping[str, set[str]],
    modules: Mapping[str, str],
    result: dict[str, Role],
    role: Role,
    depth: int = 3,
) -> None:
    """Give ``role`` to ``start`` and to the project's modules they import, ``depth`` deep."""
    frontier = [p for p in start if p not in result]
    for level in range(depth + 1):
        following = []
        for path in frontier:
            if path in result:
                continue
            result[path] = role
            if level == depth:
                continue
            following += [t for t in imports_of(path, sources, modules) if t not in result]
        frontier = following


def build_helpers(
    sources: Mapping[str, set[str]], roles: Mapping[str, Role], top_level: str | None
) -> set[str]:
    """Modules at an sdist's root that setup.py or the build backend imports (a few levels
    deep) and that the archive does not install (``top_level.txt`` does not name them,
    lxml's ``buildlibxml.py``): what they run, they run while the package is built."""
    modules = {_module_of(path): path for path in sources if path.endswith(_SOURCE)}
    installed = set((top_level or "").split())
    frontier = [path for path, role in roles.items() if role is Role.INSTALL]
    seen = set(frontier)
    for _ in range(4):
        frontier = [t for p in frontier for t in imports_of(p, sources, modules) if t not in seen]
        seen.update(frontier)
    return {
        path
        for path in seen
        if roles.get(path) is Role.IMPORT
        and "/" not in path
        and path.rsplit(".", 1)[0] not in installed
    }


def imports_of(path: str, sources: Mapping[str, set[str]], modules: Mapping[str, str]) -> list[str]:
    """The project's own modules ``path`` imports."""
    package = _module_of(path)
    if not path.endswith("__init__.py"):
        package = package.rpartition(".")[0]
    found = []
    # In a fixed order (the names are a set): the roles, and so the order findings are
    # reported in, must not depend on the process's string hashing.
    for name in sorted(sources.get(path, ())):
        target = _resolve(name, package, modules)
        if target is None and not name.startswith(".") and package:
            # Python 2's implicit relative import (`import sibling` in a package).
            target = _resolve("." + name, package, modules)
        if target is not None and target != path:
            found.append(target)
    return found


def resolve_from(path: str, name: str, modules: Mapping[str, str]) -> str | None:
    """The project's module (its path) that ``name`` as imported in ``path`` refers to
    (``.send.ship`` in ``pkg/__init__.py``: ``pkg/send.py``), or ``None``."""
    package = _module_of(path)
    if not path.endswith("__init__.py"):
        package = package.rpartition(".")[0]
    return _resolve(name, package, modules)


def module_of(path: str) -> str:
    """The dotted module name of a root-relative path (``src/pkg/mod.py``: ``pkg.mod``)."""
    return _module_of(path)


def _resolve(name: str, package: str, modules: Mapping[str, str]) -> str | None:
    if name.startswith("."):
        level = len(name) - len(name.lstrip("."))
        base = package.split(".") if package else []
        base = base[: len(base) - (level - 1)] if level > 1 else base
        rest = name[level:]
        full = ".".join([*base, rest] if rest else base)
    else:
        full = name
    while full:
        if full in modules:
            return modules[full]
        full = full.rpartition(".")[0]
    return None
