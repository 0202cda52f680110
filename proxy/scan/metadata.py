"""What an archive says about itself: version, summary, requirements, and whether it has code.

A dependency-confusion placeholder claims a name and carries nothing: a ``0.0.0`` or
``99.x``/``9999.x`` version, no module with code in it, a summary that calls it a dummy,
and often an install hook that only phones home (which the Python rules see).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from email.parser import HeaderParser

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from pipgate.policies.scan import Finding

from . import indicators
from .facts import Facts
from .identity import names_a_home
from .layout import Role, parsed_toml
from .rules import NETWORK, PROCESS, finding
from .scoring import ARCHIVE_RULES

_PLACEHOLDER_VERSION = re.compile(
    r"^(?!(?:19|20)\d\d(?:\.\d+)+$)(?:0+(?:\.0+)+|9{2,}(?:\.\d+)*|[1-9]\d{2,}(?:\.\d+)*)$"
)  # not a calendar version (2026.9.1)
_FILENAME_VERSION = re.compile(
    r"-(\d[\w.!+]*?)(?:\.tar\.gz|\.tar\.bz2|\.tgz|\.zip|-py|-cp|\.whl|$)"
)


def read_metadata(text: str) -> dict[str, list[str]]:
    """The headers of a ``PKG-INFO``/``METADATA`` file (repeated headers kept), lenient."""
    message = HeaderParser().parsestr(text)
    headers: dict[str, list[str]] = {}
    for key, value in message.items():
        headers.setdefault(key.lower(), []).append(str(value))
    return headers


#: A non-empty requirement list in ``setup.py``, ``pyproject.toml`` or ``requires.txt``
#: (``install_requires=[...]``, ``dependencies = [...]``, a line naming a project).
_DECLARED_REQUIREMENTS = re.compile(
    r"\binstall_requires\s*=\s*(?!\[\s*\]|\(\s*\)|None\b)\S|"
    r"^\s*dependencies\s*=\s*\[\s*[\"'][A-Za-z0-9]",
    re.M,
)


#: ``install_requires =`` in ``setup.cfg`` with a value on its line or the next, indented.
_CFG_REQUIREMENTS = re.compile(r"^\s*install_requires\s*=\s*(?:\S|\n[ \t]+\S)", re.M)


def declares_requirements(metadata: Mapping[str, list[str]], texts: Mapping[str, str]) -> bool:
    """Whether the archive names other projects to install with it (a meta-package's whole
    purpose): ``Requires-Dist``, ``install_requires``, ``[project] dependencies`` or an
    egg-info ``requires.txt``. ``texts`` are the root-relative member texts read."""
    if metadata.get("requires-dist"):
        return True
    for path, text in texts.items():
        base = path.rsplit("/", 1)[-1]
        if base == "requires.txt" and ".egg-info/" in path:
            # Unconditional requirements come first; `[extra]` sections after them.
            first = next((line.strip() for line in text.splitlines() if line.strip()), "")
            if first and not first.startswith(("[", "#")):
                return True
        elif base in ("setup.py", "pyproject.toml", "setup.cfg"):
            if base == "setup.cfg":
                if _CFG_REQUIREMENTS.search(text):
                    return True
            elif _DECLARED_REQUIREMENTS.search(text):
                return True
    return False


def check_archive(
    filename: str,
    metadata: Mapping[str, list[str]],
    facts: Mapping[str, Facts],
    roles: Mapping[str, Role],
    metadata_path: str,
    more_code: bool = False,
    content: bool = True,
    requirements: bool = True,
    known_name: bool = False,
) -> Iterator[Finding]:
    """Archive-level findings: placeholder versions and text, empty packages, stealer deps.

    ``more_code`` says the archive has Python files with code that were not analysed;
    ``content`` that it carries code in any module but ``setup.py`` (a top-level module of
    an sdist is both ``setup.py``'s neighbour and a module it installs), or files other than
    Python, metadata and documents (data, compiled code, stubs); ``requirements`` that it names projects to install with it;
    ``known_name`` that its name is one of the popular projects pipgate ships (whose empty
    releases are retired projects' stubs: ``asyncio`` 4.0.0 says "do not install").
    """
    version = (metadata.get("version") or [""])[0].strip() or _version_from(filename)
    has_code = more_code or any(
        (f.statements or f.definitions) and roles.get(path) is not Role.INSTALL
        for path, f in facts.items()
    )
    # What its install runs (a process, a request): with nothing to install, that is what
    # the package is for (asked only of a package with nothing else).
    hook = (
        None
        if has_code or content or known_name
        else next(
            (
                call.name
                for path, f in facts.items()
                if roles.get(path) is Role.INSTALL
                for call in (f.called(*NETWORK, *PROCESS),)
                if call is not None
            ),
            None,
        )
    )
    if not (has_code or content or (requirements and hook is None) or known_name):
        # Nothing to install but a name: no code, no data, nothing it brings along. Nobody
        # needs such a file; it claims a name (a look-alike, a name an assistant invents,
        # another organisation's internal one) for a payload to come, or tests who installs it.
        detail = "nothing to install: no code, data or requirements"
        if requirements:
            detail = f"nothing to install but requirements, and its install runs {hook}"
        if version and _PLACEHOLDER_VERSION.match(version):
            detail += f"; version {version}"
        yield finding("placeholder", metadata_path or filename, 0, detail, 10)
    elif version and _PLACEHOLDER_VERSION.match(version):
        state = "no code" if not has_code else "with code"
        weight = 5 if not has_code else 2
        yield finding(
            "placeholder", metadata_path or filename, 0, f"version {version}, {state}", weight
        )
    elif not has_code and facts:
        # With no code of its own, a package whose install uses the network exists for
        # that call: a beacon.
        beacon = any(
            roles.get(path) is Role.INSTALL and f.called(*NETWORK) is not None
            for path, f in facts.items()
        )
        detail = "no module with code" + ("; its install uses the network" if beacon else "")
        yield finding("placeholder", metadata_path or filename, 0, detail, 4 if beacon else 2)
    summary = " ".join(metadata.get("summary", []) + metadata.get("description", [])[:1])[:2000]
    match = indicators.PLACEHOLDER_TEXT.search(summary)
    if match and not has_code:
        yield finding("placeholder-text", metadata_path, 0, f"says {match.group(0)!r}", 5)
    for requirement in metadata.get("requires-dist", []):
        try:
            name = canonicalize_name(Requirement(requirement).name)
        except InvalidRequirement:
            continue
        if name in indicators.STEALER_REQUIREMENTS:
            yield finding("stealer-dependency", metadata_path, 0, name)
            break


#: Headers that say where a project lives (``Home-page``, ``Project-URL``, ``Download-URL``):
#: a reviewer can follow them to its source and its people.
_WHERE_FROM = ("home-page", "project-url", "download-url")


def check_anonymous(
    findings: Iterable[Finding], metadata: Mapping[str, list[str]], metadata_path: str
) -> Finding | None:
    """``anonymous`` for an archive whose code has findings (any rule not about the archive
    as a whole) and whose metadata names no home page, repository or project URL but
    placeholders (``identity.names_a_home``: ``https://github.com``, ``example.com``); ``None``
    for an archive without metadata (nothing is known of it either way), one that names
    where it lives, or one whose code shows nothing.

    Alone it weighs nothing (it is only emitted beside code evidence); beside evidence
    just short of the line it holds the file. Of the 2,348 legitimate archives in the tuning
    halves, 269 (11%) name no address; of the development malware, 88%.
    """
    if not metadata or not any(item.rule not in ARCHIVE_RULES for item in findings):
        return None
    addresses = [
        value.partition(",")[2] if header == "project-url" else value
        for header in _WHERE_FROM
        for value in metadata.get(header, [])
    ]
    if any(names_a_home(address) for address in addresses):
        return None
    detail = "no home page, repository or project URL"
    named = [a.strip() for a in addresses if a.strip() not in ("", "UNKNOWN")]
    if named:
        detail = f"no address of its own: {named[0][:80]} is a placeholder"
    return finding("anonymous", metadata_path, 0, detail)


#: A requirement named by URL (PEP 508 `name @ url`): pip fetches it from that address
#: itself, never asking the index (nor a proxy in front of it) about it.
_URL_REQUIREMENT = re.compile(
    r"""(?:^|['"\s,\[]|Requires-Dist:\s*)[A-Za-z0-9][\w.-]*\s*(?:\[[^\]\n]*\]\s*)?@\s*"""
    r"""((?:git\+|hg\+|svn\+|bzr\+)?(?:https?|ftp|file|ssh)://[^\s'",;\]]+)""",
    re.M,
)


def check_url_requirements(texts: Mapping[str, str]) -> Iterator[Finding]:
    """``url-requirement``: a requirement by URL that installing the archive asks for: in
    ``setup.py``, ``setup.cfg``, ``[project]`` or ``[build-system]`` of ``pyproject.toml``,
    the egg-info's ``requires.txt``, or a ``Requires-Dist`` of the archive's own metadata
    (``texts``: root-relative member texts). 10 for an address off the code forges; 4 on one; 2 for an
    archive pinned by its digest (``#sha256=``)."""
    for path, requirements in _requirement_texts(texts):
        match = _URL_REQUIREMENT.search(requirements)
        if match is not None:
            url = match.group(1)
            weight = 2 if "#sha256=" in url else 4 if indicators.FORGE_URL.match(url) else 10
            yield finding("url-requirement", path, 0, f"from {url[:80]}", weight)
            return


#: ``install_requires=[...]`` (or ``setup_requires``) in a setup script, and the quoted
#: items of its literal list.
_SETUP_REQUIREMENTS = re.compile(r"\b(?:install|setup)_requires\s*=\s*[\[(]([^\])]*)")
_QUOTED = re.compile(r"""['"]([^'"\n]+)['"]""")
#: ``install_requires =`` (or ``setup_requires``) in ``setup.cfg``: the value on its line and
#: the indented lines after.
_CFG_REQUIREMENT_LINES = re.compile(
    r"^\s*(?:install|setup)_requires\s*=([^\n]*(?:\n[ \t]+[^\n]*)*)", re.M
)


def requirement_names(texts: Mapping[str, str]) -> set[str]:
    """The canonical names of the projects the archive requires, extras included: from its
    metadata's ``Requires-Dist``, the egg-info's ``requires.txt``, ``[project]`` and
    ``[build-system]`` of ``pyproject.toml``, and the literal lists of ``setup.py``
    (``install_requires``, ``setup_requires``) and ``setup.cfg``
    (``texts``: root-relative member texts). What does not parse is left out."""
    names: set[str] = set()
    for path, text in _requirement_texts(texts):
        if path.endswith("setup.py"):
            items = [q for m in _SETUP_REQUIREMENTS.finditer(text) for q in _QUOTED.findall(m[1])]
        elif path.endswith("setup.cfg"):
            items = [
                line for m in _CFG_REQUIREMENT_LINES.finditer(text) for line in m[1].split("\n")
            ]
        else:
            items = text.splitlines()
        for item in items:
            item = item.strip()
            if not item or item.startswith(("[", "#", "-")):
                continue
            try:
                names.add(canonicalize_name(Requirement(item).name))
            except InvalidRequirement:
                continue
    return names


def _requirement_texts(texts: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    """(path, the text of the requirements it declares) for each file that declares some."""
    for path, text in texts.items():
        base = path.rsplit("/", 1)[-1]
        if (base in ("setup.py", "setup.cfg") and "/" not in path) or (
            base == "requires.txt" and ".egg-info/" in path and path.count("/") <= 2
        ):
            yield path, text
        elif base in ("METADATA", "PKG-INFO") and path.count("/") <= 1:
            headers = read_metadata(text.split("\n\n", 1)[0])
            yield path, "\n".join(headers.get("requires-dist", []))
        elif base == "pyproject.toml" and "/" not in path:
            document = parsed_toml(text)
            project = document.get("project", {})
            system = document.get("build-system", {})
            declared = []
            if isinstance(project, dict):
                declared += project.get("dependencies") or []
                for extra in (project.get("optional-dependencies") or {}).values():
                    declared += extra if isinstance(extra, list) else []
            if isinstance(system, dict):
                # What the build installs and runs before anything else of the project.
                declared += system.get("requires") or []
            yield path, "\n".join(str(item) for item in declared if isinstance(item, str))


#: Commands people type every day; a package that installs one of these names as its own
#: console script runs its code instead of the real one.
_SYSTEM_COMMANDS = (
    "pip|pip3|python|python3|sudo|su|ls|cd|cp|mv|rm|cat|ssh|scp|git|curl|wget|bash|sh|zsh|"
    "apt|apt-get|yum|dnf|brew|npm|node|powershell|cmd|explorer|whoami|passwd|chmod|ps|kill"
)
_TRUSTED_COMMANDS = frozenset({"pip", "python", "sudo", "su", "ssh", "scp", "git"})
_HIJACK = re.compile(
    rf"^\s*[\"']?((?:{_SYSTEM_COMMANDS})(?:\d+(?:\.\d+)?)?)[\"']?\s*=\s*[\"']?[A-Za-z_][\w.]*\s*:",
    re.M,
)


def check_commands(name: str, sources: Mapping[str, str], where: str) -> Iterator[Finding]:
    """``command-hijack``: a console script named like a system command (``pip``,
    ``sudo``, ``ls``) that the project itself is not. ``sources`` are the texts that declare
    entry points (``entry_points.txt``, ``setup.cfg``, ``pyproject.toml``, ``setup.py``'s
    string literals joined by newlines), by path."""
    own = canonicalize_name(name) if name else ""
    for path, text in sources.items():
        for match in _HIJACK.finditer(_script_declarations(path, text)):
            command = match.group(1)
            if canonicalize_name(command.rstrip("0123456789.")) != own:
                # The installer, the interpreter, and the commands that take passwords or
                # keys: whoever replaces one of them gets what the user types into it.
                weight = 10 if command.rstrip("0123456789.") in _TRUSTED_COMMANDS else None
                detail = f"installs a {command!r} command"
                yield finding("command-hijack", path or where, 0, detail, weight)
                return


_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*$")
_SCRIPT_SECTIONS = frozenset(
    {
        "console_scripts",
        "gui_scripts",
        "project.scripts",
        "project.gui-scripts",
        "tool.poetry.scripts",
    }
)


def _script_declarations(path: str, text: str) -> str:
    """The lines of ``text`` that declare commands: the ``console_scripts``/``gui_scripts``
    groups (``[project.scripts]`` in ``pyproject.toml``), not other entry-point groups (a
    ``python = ...`` extractor plug-in installs no command)."""
    if path.endswith("setup.py"):
        return text if ("console_scripts" in text or "gui_scripts" in text) else ""
    kept: list[str] = []
    section = ""
    in_key = False  # setup.cfg: inside `console_scripts =` and its indented lines
    for line in text.splitlines():
        header = _SECTION.match(line)
        if header:
            section = header.group(1).strip().strip("\"'")
            in_key = False
            continue
        if section in _SCRIPT_SECTIONS:
            kept.append(line)
        elif section == "options.entry_points":
            if line[:1].strip():
                key, _, value = line.partition("=")
                in_key = key.strip() in ("console_scripts", "gui_scripts")
                if in_key and value.strip():
                    kept.append(value)
            elif in_key:
                kept.append(line)
    return "\n".join(kept)


def requirements_from_setup(facts: Facts) -> list[str]:
    """String literals of ``setup.py`` that read as requirement names (``install_requires``)."""
    names = []
    for text, _line in facts.strings:
        if 1 < len(text) < 80 and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*(?:[<>=!~ ].*)?", text):
            try:
                names.append(canonicalize_name(Requirement(text).name))
            except InvalidRequirement:
                continue
    return names


def _version_from(filename: str) -> str:
    match = _FILENAME_VERSION.search(filename.rsplit("/", 1)[-1])
    return match.group(1) if match else ""
