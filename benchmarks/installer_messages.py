"""What pip, uv, poetry and pdm print when an index withholds something: a measurement.

    .venv/bin/python benchmarks/installer_messages.py [--client pip ...] [--rep NAME ...]
        [--scenario NAME ...] [--max-verbosity N] [--out FILE] [--list]

Serves small static indexes (one per candidate *representation*, each under its own
path prefix of one starlette app on a free loopback port) holding real wheels built by
``tests/support/dists.py``, runs each installer against each, and records its exit
status, full output, the requests it made and what it ended up with. Writes the raw
runs to ``benchmarks/results/installer_messages.json`` (or ``--out``) and prints the
matrix as Markdown (the tables in ``docs/installer-messages.md``).

Two cases, each with its own representations (``--list`` names them):

- a held *version*: ``demo==2.0`` is held by release age while ``demo==1.0`` is
  allowed; requirements ``demo==2.0`` (exact pin), ``demo>=2`` (range) and ``demo``
  (unpinned, must fall back to 1.0 and install it);
- a held or blocked *project*: ``coloarma`` (a typosquat of colorama, quarantined)
  unpinned and pinned, and ``jwt`` (denied, blocked).

Every refused file (and ``.metadata``) answers 403 with the decision as its reason
phrase (``pipgate.proxy.reason_phrase``, the server's own mechanism), a text/plain body
and ``X-Pipgate-*`` headers, as pipgate does, so nothing listed bypasses the hold.

Clients are isolated from this machine: pip with ``PIP_CONFIG_FILE=/dev/null``, no
``PIP_*``/``UV_*`` variables and ``--no-cache-dir``; uv with ``--no-cache`` and
``UV_NO_CONFIG``; poetry and pdm in temporary projects whose only source is the index,
with temporary cache, config and data directories and the keyring off. A run counts
the reason as *shown* when the text that only the reason carries (``REASONS[...].marker``)
appears in what the client printed to the terminal (stdout + stderr).
"""

from __future__ import annotations

import argparse
import html
import json
import platform
import re
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from packaging.utils import canonicalize_name, parse_wheel_filename  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import Response  # noqa: E402
from starlette.routing import Route  # noqa: E402

from pipgate.proxy import reason_phrase  # noqa: E402
from tests.support.dists import build_wheel, sha256_of, wheel_metadata  # noqa: E402
from tests.support.servers import client_env, run_app  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "installer_messages.json"
BIN = Path(sys.executable).parent
JSON_V1 = "application/vnd.pypi.simple.v1+json"
#: pipgate's own caching headers (``proxy/views.py``, ``proxy/files/serving.py``).
PAGE_CACHE = {"Cache-Control": "max-age=0, must-revalidate"}
FILE_CACHE = {"Cache-Control": "public, max-age=31536000, immutable"}


# -- what is held, and why --------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    """A policy decision as pipgate states it; ``marker`` is text only the reason carries."""

    action: str
    policy: str
    text: str
    marker: str
    available_at: datetime | None = None

    def phrase(self) -> str:
        """The status line's reason phrase (``pipgate.proxy.pages.refusal_status``)."""
        return f"{self.action.capitalize()} by {self.policy}: {self.text}"

    @property
    def done(self) -> str:
        return {"quarantine": "quarantined", "block": "blocked"}[self.action]

    def sentence(self) -> str:
        """One line for a person: what ``yanked-reason`` or a fake file carries."""
        return f"pipgate: {self.done} by policy {self.policy!r}: {self.text}"


def _reasons(now: datetime) -> dict[str, Reason]:
    available = (now + timedelta(days=7) - timedelta(hours=1)).replace(second=0, microsecond=0)
    return {
        "demo": Reason(
            "quarantine",
            "release-age",
            "uploaded 1 h ago; minimum age is 7 d; available from "
            + available.strftime("%Y-%m-%d %H:%M UTC"),
            "minimum age is 7 d",
            available,
        ),
        "coloarma": Reason(
            "quarantine",
            "typosquat",
            "name 'coloarma' imitates popular project 'colorama' (rank 37; swapped letters); "
            "first upload 2 d ago",
            "imitates popular project",
        ),
        "jwt": Reason(
            "block",
            "allowlist",
            "'jwt' is on the denylist (entry 'jwt')",
            "is on the denylist",
        ),
    }


#: project -> versions built as real wheels.
RELEASES = {"demo": ("1.0", "2.0"), "coloarma": ("1.0",), "jwt": ("1.0",)}
HELD_VERSION = ("demo", "2.0")
BLOCKED_PROJECTS = ("coloarma", "jwt")


# -- representations --------------------------------------------------------------------------


@dataclass(frozen=True)
class Rep:
    """How the index shows what it withholds.

    ``held``: what the page does with a held file: ``omit`` it, list it ``yanked`` with
    the reason, list it plainly (``listed``; fetching it is refused), or list one
    ``fake`` yanked file whose local version spells the reason instead of the real ones.
    ``metadata``: whether a held wheel's PEP 658 ``.metadata`` is ``refused`` (403 +
    reason, like the file) or ``served``. For the project case, ``page_status`` is the
    status of the project page (200 renders a page with PEP 792 ``project-status``),
    ``page_body`` the body of a refused page (``page`` = the simple page with
    project-status and no files, as pipgate does today; ``text``; ``html``),
    ``www_authenticate`` adds a ``Basic realm=<reason>`` challenge and ``content_type``
    overrides the page's media type.
    """

    name: str
    case: str  # "version" | "project"
    summary: str
    held: str = "omit"
    metadata: str = "refused"
    page_status: int = 200
    page_body: str = "page"
    www_authenticate: bool = False
    content_type: str | None = None


REPS: tuple[Rep, ...] = (
    Rep("v-omit", "version", "today: held files left off the page and out of PEP 700 versions"),
    Rep(
        "v-yanked",
        "version",
        "held files listed as yanked (reason = the hold); .metadata and file refuse 403",
        held="yanked",
    ),
    Rep(
        "v-yanked-meta",
        "version",
        "held files listed as yanked; .metadata served, only the file refuses 403",
        held="yanked",
        metadata="served",
    ),
    Rep(
        "v-listed",
        "version",
        "held files listed plainly; .metadata and file refuse 403",
        held="listed",
    ),
    Rep(
        "p-403",
        "project",
        "today: 403 + reason phrase, page body with project-status, X-Pipgate-* headers",
        page_status=403,
    ),
    Rep(
        "p-403-text",
        "project",
        "403 + reason phrase, text/plain body",
        page_status=403,
        page_body="text",
    ),
    Rep(
        "p-401",
        "project",
        "401 + reason phrase + WWW-Authenticate: Basic realm=<reason>, text body",
        page_status=401,
        page_body="text",
        www_authenticate=True,
    ),
    Rep("p-404", "project", "404 + reason phrase, text body", page_status=404, page_body="text"),
    Rep(
        "p-410", "project", "410 Gone + reason phrase, text body", page_status=410, page_body="text"
    ),
    Rep(
        "p-451",
        "project",
        "451 + reason phrase, text body",
        page_status=451,
        page_body="text",
    ),
    Rep("p-200-status", "project", "200, project-status quarantined + reason, no files"),
    Rep(
        "p-200-yanked",
        "project",
        "200, project-status, every real file yanked with the reason; files refuse 403",
        held="yanked",
    ),
    Rep(
        "p-200-listed",
        "project",
        "200, project-status, real files listed plainly; .metadata and files refuse 403",
        held="listed",
    ),
    Rep(
        "p-200-fake",
        "project",
        "200, project-status, one fake yanked file 0+<reason words>; it refuses 403",
        held="fake",
    ),
    Rep(
        "p-200-badtype",
        "project",
        "200 text/plain body, reason in a Content-Type parameter",
        page_body="text",
        content_type="text/plain",
    ),
)
#: Not measured: the same files with nothing held, as another index would serve them.
OPEN = Rep("open", "open", "nothing held: another index serving the same files")
REPS_BY_NAME = {rep.name: rep for rep in (*REPS, OPEN)}


@dataclass(frozen=True)
class Scenario:
    name: str
    case: str
    requirement: str
    project: str
    #: what a correct outcome installs: a version, or None for "nothing".
    expect: str | None
    #: run once with everything allowed first, keeping the client's cache: does a
    #: cached copy bypass a hold that came later? ``same`` warms through the same
    #: index URL, ``elsewhere`` through another index serving the same bytes.
    warm: str | None = None
    #: another index configured after this one, serving everything: does a refusal
    #: here make the client fall through to it?
    second_index: bool = False


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("pin", "version", "demo==2.0", "demo", None),
    Scenario("range", "version", "demo>=2", "demo", None),
    Scenario("unpinned", "version", "demo", "demo", "1.0"),
    Scenario("typosquat", "project", "coloarma", "coloarma", None),
    Scenario("typosquat-pin", "project", "coloarma==1.0", "coloarma", None),
    Scenario("denied", "project", "jwt", "jwt", None),
    Scenario("pin-warm", "version", "demo==2.0", "demo", None, warm="same"),
    Scenario("typosquat-warm", "project", "coloarma", "coloarma", None, warm="same"),
    Scenario("pin-warm-elsewhere", "version", "demo==2.0", "demo", None, warm="elsewhere"),
    Scenario("typosquat-warm-elsewhere", "project", "coloarma", "coloarma", None, warm="elsewhere"),
    Scenario("typosquat-2nd-index", "project", "coloarma", "coloarma", None, second_index=True),
    Scenario("pin-2nd-index", "version", "demo==2.0", "demo", None, second_index=True),
)


# -- the index --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Wheel:
    project: str
    version: str
    path: Path
    sha256: str
    metadata: bytes


@dataclass
class Index:
    """Wheels on disk, the reasons, and a log of every request (for the run in progress)."""

    wheels: dict[str, Wheel]
    reasons: dict[str, Reason]
    log: list[dict[str, object]] = field(default_factory=list)
    #: Everything allowed: the state before a hold or a deny (warms clients' caches).
    allow_all: bool = False

    def files_of(self, project: str) -> list[Wheel]:
        return [w for w in self.wheels.values() if w.project == project]

    def held(self, rep: Rep, project: str, version: str | None) -> Reason | None:
        """Why ``project`` (or that version of it) is withheld under ``rep``, else None."""
        if self.allow_all or rep.case == "open":
            return None
        if rep.case == "version":
            return self.reasons[project] if (project, version) == HELD_VERSION else None
        return self.reasons[project] if project in BLOCKED_PROJECTS else None


def build_index(dest: Path, now: datetime) -> Index:
    wheels = {}
    for project, versions in RELEASES.items():
        for version in versions:
            path = build_wheel(dest, project, version)
            wheels[path.name] = Wheel(project, version, path, sha256_of(path), wheel_metadata(path))
    return Index(wheels, _reasons(now))


def _fake_filename(project: str, reason: Reason) -> str:
    words = re.sub(r"[^a-z0-9]+", ".", f"{reason.done} by {reason.policy} {reason.text}".lower())
    return f"{project}-0+pipgate.{words.strip('.')}-py3-none-any.whl"


@dataclass(frozen=True)
class Listed:
    filename: str
    sha256: str
    yanked: str | None
    metadata_sha256: str | None


def _listing(index: Index, rep: Rep, project: str) -> list[Listed]:
    out = []
    for wheel in index.files_of(project):
        reason = index.held(rep, project, wheel.version)
        meta = _sha256(wheel.metadata)
        if reason is None:
            out.append(Listed(wheel.path.name, wheel.sha256, None, meta))
        elif rep.held == "yanked":
            out.append(Listed(wheel.path.name, wheel.sha256, reason.sentence(), meta))
        elif rep.held == "listed":
            out.append(Listed(wheel.path.name, wheel.sha256, None, meta))
    if rep.held == "fake" and project in BLOCKED_PROJECTS:
        reason = index.reasons[project]
        out = [Listed(_fake_filename(project, reason), "0" * 64, reason.sentence(), None)]
    return out


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _version_of(filename: str) -> str:
    return str(parse_wheel_filename(filename)[1])


def _render_json(
    project: str, files: list[Listed], base: str, status: tuple[str, str] | None
) -> bytes:
    body: dict[str, object] = {
        "meta": {"api-version": "1.4"},
        "name": project,
        "versions": sorted({_version_of(f.filename) for f in files}),
        "files": [
            {
                "filename": f.filename,
                "url": f"{base}/files/{project}/{quote(f.filename)}",
                "hashes": {"sha256": f.sha256},
                **({"core-metadata": {"sha256": f.metadata_sha256}} if f.metadata_sha256 else {}),
                **({"yanked": f.yanked} if f.yanked else {}),
            }
            for f in files
        ],
    }
    if status is not None:
        body["project-status"] = {"status": status[0], "reason": status[1]}
    return json.dumps(body, indent=1).encode()


def _render_html(
    project: str, files: list[Listed], base: str, status: tuple[str, str] | None
) -> bytes:
    head = ['<meta name="pypi:repository-version" content="1.4">']
    if status is not None:
        head.append(f'<meta name="pypi:project-status" content="{html.escape(status[0])}">')
        head.append(f'<meta name="pypi:project-status-reason" content="{html.escape(status[1])}">')
    links = []
    for f in files:
        url = f"{base}/files/{project}/{quote(f.filename)}#sha256={f.sha256}"
        attrs = [f'href="{html.escape(url)}"']
        if f.metadata_sha256:
            value = f"sha256={f.metadata_sha256}"
            attrs.append(f'data-core-metadata="{value}" data-dist-info-metadata="{value}"')
        if f.yanked:
            attrs.append(f'data-yanked="{html.escape(f.yanked)}"')
        links.append(f"<a {' '.join(attrs)}>{html.escape(f.filename)}</a><br>")
    return (
        "<!DOCTYPE html>\n<html><head>"
        + "".join(head)
        + f"<title>Links for {html.escape(project)}</title></head><body>"
        + f"<h1>Links for {html.escape(project)}</h1>"
        + "".join(links)
        + "</body></html>\n"
    ).encode()


def _wants_json(accept: str) -> bool:
    return JSON_V1 in accept


def _decision_headers(reason: Reason) -> dict[str, str]:
    headers = {
        "X-Pipgate-Action": reason.action,
        "X-Pipgate-Policy": reason.policy,
        "X-Pipgate-Reason": reason.text,
    }
    if reason.available_at is not None:
        headers["X-Pipgate-Available-At"] = reason.available_at.isoformat()
    return headers


def _refusal_text(what: str, reason: Reason) -> str:
    """The body pipgate answers a refused file with (``proxy/views.py: _refusal``)."""
    lines = [f"pipgate: {what} is {reason.done} by policy {reason.policy!r}: {reason.text}"]
    if reason.available_at is not None:
        stamp = reason.available_at.strftime("%Y-%m-%d %H:%M UTC")
        lines.append(f"It becomes available by itself at {stamp}.")
    else:
        lines.append("Ask your security team to review it.")
    return "\n".join(lines) + "\n"


def _refusal(code: int, what: str, reason: Reason) -> Response:
    return Response(
        _refusal_text(what, reason),
        status_code=reason_phrase.Status(code, reason.phrase()),
        media_type="text/plain",
        headers=_decision_headers(reason),
    )


def make_app(index: Index) -> Starlette:
    def record(request: Request, rep: str, status: int, kind: str) -> None:
        index.log.append(
            {
                "method": request.method,
                "path": request.url.path,
                "rep": rep,
                "status": int(status),
                "served": kind,
                "accept": request.headers.get("accept", ""),
                "user_agent": request.headers.get("user-agent", "")[:120],
            }
        )

    async def page(request: Request) -> Response:
        rep = REPS_BY_NAME[request.path_params["rep"]]
        project = canonicalize_name(request.path_params["project"])
        base = f"{request.url.scheme}://{request.url.netloc}/{rep.name}"
        if project not in RELEASES:
            record(request, rep.name, 404, "unknown")
            return Response("no such project\n", status_code=404, media_type="text/plain")
        reason = index.held(rep, project, None)
        status = None
        if rep.case == "project" and reason is not None:
            status = ("quarantined", reason.sentence())
            if rep.page_status != 200 or rep.content_type:
                return _refused_page(request, rep, project, reason, base, record)
        files = _listing(index, rep, project)
        as_json = _wants_json(request.headers.get("accept", ""))
        render = _render_json if as_json else _render_html
        media = JSON_V1 if as_json else "text/html; charset=utf-8"
        record(request, rep.name, 200, "json" if as_json else "html")
        return Response(render(project, files, base, status), media_type=media, headers=PAGE_CACHE)

    async def file(request: Request) -> Response:
        rep = REPS_BY_NAME[request.path_params["rep"]]
        project = request.path_params["project"]
        requested = request.path_params["filename"]
        filename = requested.removesuffix(".metadata")
        wheel = index.wheels.get(filename)
        if wheel is None:
            reason = index.reasons.get(project)
            if reason is not None and filename == _fake_filename(project, reason):
                record(request, rep.name, 403, "refused fake")
                return _refusal(403, f"project {project!r}", reason)
            record(request, rep.name, 404, "missing")
            return Response("no such file\n", status_code=404, media_type="text/plain")
        reason = index.held(rep, wheel.project, wheel.version)
        is_metadata = requested.endswith(".metadata")
        if reason is not None and not (is_metadata and rep.metadata == "served"):
            record(request, rep.name, 403, "refused")
            what = f"file {filename!r}" if rep.case == "version" else f"project {project!r}"
            return _refusal(403, what, reason)
        if is_metadata:
            record(request, rep.name, 200, "metadata")
            return Response(
                wheel.metadata, media_type="application/octet-stream", headers=FILE_CACHE
            )
        record(request, rep.name, 200, "wheel")
        data = wheel.path.read_bytes()
        if request.method == "HEAD":
            return Response(
                headers={"Content-Length": str(len(data)), **FILE_CACHE},
                media_type="application/octet-stream",
            )
        return Response(data, media_type="application/octet-stream", headers=FILE_CACHE)

    return Starlette(
        routes=[
            Route("/{rep}/simple/{project}/", page, methods=["GET", "HEAD"]),
            Route("/{rep}/files/{project}/{filename}", file, methods=["GET", "HEAD"]),
        ]
    )


def _refused_page(
    request: Request,
    rep: Rep,
    project: str,
    reason: Reason,
    base: str,
    record: Callable[[Request, str, int, str], None],
) -> Response:
    headers = {**_decision_headers(reason), **PAGE_CACHE}
    if rep.www_authenticate:
        realm = reason.sentence().replace('"', "'")
        headers["WWW-Authenticate"] = f'Basic realm="{realm}"'
    if rep.content_type:
        media = (
            f'{rep.content_type}; pipgate-reason="{reason.sentence().replace(chr(34), chr(39))}"'
        )
        record(request, rep.name, rep.page_status, "text")
        return Response(
            _refusal_text(f"project {project!r}", reason),
            status_code=rep.page_status,
            headers={**headers, "Content-Type": media},
        )
    status = reason_phrase.Status(rep.page_status, reason.phrase())
    if rep.page_body == "text":
        record(request, rep.name, rep.page_status, "text")
        return Response(
            _refusal_text(f"project {project!r}", reason),
            status_code=status,
            media_type="text/plain",
            headers=headers,
        )
    as_json = _wants_json(request.headers.get("accept", ""))
    project_status = ("quarantined", f"{reason.action} by {reason.policy}: {reason.text}")
    render = _render_json if as_json else _render_html
    record(request, rep.name, rep.page_status, "json" if as_json else "html")
    return Response(
        render(project, [], base, project_status),
        status_code=status,
        media_type=JSON_V1 if as_json else "text/html; charset=utf-8",
        headers=headers,
    )


# -- the clients ------------------------------------------------------------------------------

#: The verbosity flags tried per client, mildest first.
VERBOSITY = {
    "pip": ("", "-v", "-vv"),
    "uv": ("", "-v", "-vv"),
    "poetry": ("", "-vvv"),
    "pdm": ("", "-v"),
}
CLIENTS = tuple(VERBOSITY)


@dataclass
class Run:
    client: str
    rep: str
    scenario: str
    requirement: str
    verbosity: str
    argv: list[str]
    exit: int
    seconds: float
    output: str
    got: str | None
    reason_shown: bool
    reason_lines: list[str]
    requests: list[dict[str, object]]
    notes: dict[str, object] = field(default_factory=dict)


def _env(work: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in client_env().items()
        if not k.startswith(("POETRY_", "PDM_")) and k not in ("VIRTUAL_ENV", "CONDA_PREFIX")
    }
    env.update(
        NO_COLOR="1",
        TERM="dumb",
        COLUMNS="200",
        HOME=str(work / "home"),
        XDG_CACHE_HOME=str(work / "xdg-cache"),
        XDG_CONFIG_HOME=str(work / "xdg-config"),
        XDG_DATA_HOME=str(work / "xdg-data"),
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        VIRTUALENV_OVERRIDE_APP_DATA=str(SEED_APP_DATA),
    )
    env.update(extra)
    return env


#: virtualenv's seed wheels, shared by every run (not a package cache of the index).
SEED_APP_DATA = Path(tempfile.gettempdir()) / "pipgate-installer-messages-virtualenv"

PYPROJECT_POETRY = """\
[project]
name = "through-the-index"
version = "0.1.0"
requires-python = ">={major}.{minor},<4"
dependencies = []

[tool.poetry]
package-mode = false

[[tool.poetry.source]]
name = "gate"
url = "{url}"
priority = "primary"
"""

PYPROJECT_PDM = """\
[project]
name = "through-the-index"
version = "0.1.0"
requires-python = ">={major}.{minor},<4"
dependencies = []

[tool.pdm]
distribution = false

[[tool.pdm.source]]
name = "pypi"
url = "{url}"
verify_ssl = false
"""


#: A second source after the index, for the fall-through scenarios.
SECOND_SOURCE = {
    "poetry": '\n[[tool.poetry.source]]\nname = "other"\nurl = "{url}"\npriority = "supplemental"\n',
    "pdm": '\n[[tool.pdm.source]]\nname = "other"\nurl = "{url}"\nverify_ssl = false\n',
}


def _pyproject(template: str, url: str) -> str:
    return template.format(major=sys.version_info.major, minor=sys.version_info.minor, url=url)


def client_command(
    client: str,
    requirement: str,
    url: str,
    verbosity: str,
    work: Path,
    run: Path,
    cache: bool,
    second: str | None = None,
):
    """argv, environment and working directory for one run of ``client``.

    ``work`` holds what runs share (home, tool caches); ``run`` what this run makes
    (``out``, ``project``). With ``cache``, pip and uv keep a cache in ``work/cache``
    (poetry and pdm always cache under ``work/tool``, new for each measurement).
    ``second`` is another index the client may use after ``url`` (pip: an extra index;
    uv: the default index behind ``--index url``; poetry: a supplemental source; pdm: a
    second source).
    """
    flags = [verbosity] if verbosity else []
    pip_cache = ["--cache-dir", str(work / "cache")] if cache else ["--no-cache-dir"]
    uv_cache = ["--cache-dir", str(work / "cache")] if cache else ["--no-cache"]
    if client == "pip":
        argv = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            *pip_cache,
            "--disable-pip-version-check",
            "--no-input",
            "--dest",
            str(run / "out"),
            "--index-url",
            url,
            *(["--extra-index-url", second] if second else []),
            *flags,
            requirement,
        ]
        return argv, _env(work), work
    if client == "uv":
        argv = [
            str(BIN / "uv"),
            "pip",
            "install",
            *uv_cache,
            "--target",
            str(run / "out"),
            "--python",
            sys.executable,
            *(["--index", url, "--default-index", second] if second else ["--index-url", url]),
            *flags,
            requirement,
        ]
        return argv, _env(work), work
    project = run / "project"
    project.mkdir(parents=True)
    home = work / "tool"
    if client == "poetry":
        (project / "pyproject.toml").write_text(
            _pyproject(PYPROJECT_POETRY, url) + _second(client, second)
        )
        env = _env(
            work,
            POETRY_CONFIG_DIR=str(home / "config"),
            POETRY_CACHE_DIR=str(home / "cache"),
            POETRY_DATA_DIR=str(home / "data"),
            POETRY_VIRTUALENVS_IN_PROJECT="true",
            POETRY_VIRTUALENVS_USE_POETRY_PYTHON="true",
            POETRY_NO_INTERACTION="1",
            POETRY_KEYRING_ENABLED="false",
        )
        argv = [str(BIN / "poetry"), "--no-ansi", "add", *flags, requirement]
        return argv, env, project
    if client == "pdm":
        (project / "pyproject.toml").write_text(
            _pyproject(PYPROJECT_PDM, url) + _second(client, second)
        )
        # pdm installs into the interpreter it is given: give it the project's own venv.
        subprocess.run(
            [sys._base_executable, "-m", "venv", "--without-pip", str(project / ".venv")],
            check=True,
            timeout=120,
        )
        env = _env(
            work,
            PDM_CACHE_DIR=str(home / "cache"),
            PDM_LOG_DIR=str(home / "log"),
            PDM_CONFIG_FILE=str(home / "config.toml"),
            PDM_CHECK_UPDATE="false",
            PDM_NON_INTERACTIVE="1",
            PDM_PYTHON=str(project / ".venv" / "bin" / "python"),
            PDM_USE_UV="false",
        )
        argv = [str(BIN / "pdm"), "add", *flags, requirement]
        return argv, env, project
    raise ValueError(f"unknown client {client!r}")


def _second(client: str, second: str | None) -> str:
    return SECOND_SOURCE[client].format(url=second) if second else ""


def _got(client: str, run: Path, project: str) -> str | None:
    """The version of ``project`` the client ended up with (downloaded, installed or
    locked), or None."""
    prefix = project.replace("-", "_")
    if client in ("pip", "uv"):
        out = run / "out"
        for path in sorted(out.glob("*")) if out.exists() else ():
            if path.name.startswith(prefix + "-") and path.suffix in (".whl", ".dist-info"):
                return path.name.removesuffix(".dist-info").split("-")[1]
        return None
    lock = run / "project" / ("poetry.lock" if client == "poetry" else "pdm.lock")
    installed = sorted(
        (run / "project").glob(f".venv/lib/python*/site-packages/{prefix}-*.dist-info")
    )
    if installed:
        return installed[0].name.removesuffix(".dist-info").split("-")[1]
    if lock.exists():
        for package in tomllib.loads(lock.read_text()).get("package", []):
            if canonicalize_name(package["name"]) == project:
                return f"locked {package['version']} (not installed)"
    return None


def run_one(
    client: str, rep: Rep, scenario: Scenario, verbosity: str, base_url: str, index: Index
) -> Run:
    url = f"{base_url}/{rep.name}/simple/"
    with tempfile.TemporaryDirectory(prefix=f"im-{client}-") as tmp:
        work = Path(tmp)
        notes: dict[str, object] = {}
        if scenario.warm:
            warm_url = url if scenario.warm == "same" else f"{base_url}/{OPEN.name}/simple/"
            notes["warm_up"] = _warm_up(client, scenario, warm_url, work, index)
        run_dir = work / "run"
        second = f"{base_url}/{OPEN.name}/simple/" if scenario.second_index else None
        argv, env, cwd = client_command(
            client,
            scenario.requirement,
            url,
            verbosity,
            work,
            run_dir,
            bool(scenario.warm),
            second,
        )
        index.log.clear()
        started = time.monotonic()
        try:
            done = subprocess.run(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=240,
                check=False,
            )
            code, output = done.returncode, _joined(done.stdout, done.stderr)
        except subprocess.TimeoutExpired as exc:
            code, output = -1, f"TIMEOUT after 240 s\n{exc.stdout or ''}{exc.stderr or ''}"
        seconds = time.monotonic() - started
        got = _got(client, run_dir, scenario.project)
        requests = list(index.log)
    output = output.replace(tmp, "$TMP")
    marker = index.reasons[scenario.project].marker
    lines = [line.strip() for line in output.splitlines() if marker in line]
    return Run(
        client=client,
        rep=rep.name,
        scenario=scenario.name,
        requirement=scenario.requirement,
        verbosity=verbosity or "default",
        argv=[a.replace(tmp, "$TMP") for a in argv],
        exit=code,
        seconds=round(seconds, 2),
        output=output,
        got=got,
        reason_shown=bool(lines),
        reason_lines=_dedupe(lines)[:6],
        requests=requests,
        notes=notes,
    )


def _warm_up(client: str, scenario: Scenario, url: str, work: Path, index: Index) -> dict:
    """Install ``scenario.requirement`` while everything is allowed, keeping the cache."""
    run_dir = work / "warm-up"
    argv, env, cwd = client_command(client, scenario.requirement, url, "", work, run_dir, True)
    index.allow_all = True
    try:
        done = subprocess.run(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
    finally:
        index.allow_all = False
    return {"exit": done.returncode, "got": _got(client, run_dir, scenario.project)}


def _joined(stdout: str, stderr: str) -> str:
    return (stdout or "") + ("\n--- stderr ---\n" + stderr if stderr else "")


def _dedupe(lines: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for line in lines:
        seen.setdefault(line[:400], None)
    return list(seen)


# -- the matrix -------------------------------------------------------------------------------


def _cell(runs: list[Run], scenario: Scenario) -> str:
    """``shown at`` (the mildest verbosity that printed the reason, or ✗), exit, outcome."""
    runs = sorted(runs, key=lambda r: VERBOSITY[r.client].index(_flag(r.verbosity)))
    shown = next((r.verbosity for r in runs if r.reason_shown), None)
    first = runs[0]
    got = first.got or "nothing"
    ok = _outcome_ok(first, scenario)
    mark = "" if ok else " ⚠"
    reason = f"✓ {shown}" if shown else "✗"
    return f"{reason}; exit {first.exit}; got {got}{mark}"


def _flag(verbosity: str) -> str:
    return "" if verbosity == "default" else verbosity


def _outcome_ok(run: Run, scenario: Scenario) -> bool:
    if scenario.expect is None:
        return run.exit != 0 and (run.got is None or run.got.startswith("locked"))
    return run.exit == 0 and run.got == scenario.expect


def _label(scenario: Scenario) -> str:
    if scenario.warm:
        return f"`{scenario.requirement}` after a warm-up ({scenario.warm})"
    if scenario.second_index:
        return f"`{scenario.requirement}` with a 2nd index"
    return f"`{scenario.requirement}`"


def matrix(runs: list[Run]) -> str:
    """Markdown tables: per case, one for the messages (every client, every
    representation, the three requirements) and one for the traps (caches, a second
    index), whose cells say what the client ended up with."""
    out = []
    for case in ("version", "project"):
        reps = [r for r in REPS if r.case == case]
        plain = [s for s in SCENARIOS if s.case == case and not (s.warm or s.second_index)]
        traps = [s for s in SCENARIOS if s.case == case and (s.warm or s.second_index)]
        for title, scenarios in (("messages", plain), ("traps", traps)):
            for client in CLIENTS:
                rows = []
                for rep in reps:
                    cells = []
                    for s in scenarios:
                        these = [
                            r
                            for r in runs
                            if (r.rep, r.scenario, r.client) == (rep.name, s.name, client)
                        ]
                        cells.append(_cell(these, s) if these else "–")
                    if any(c != "–" for c in cells):
                        rows.append(f"| {rep.name} | " + " | ".join(cells) + " |")
                if not rows:
                    continue
                out.append(f"\n#### {client}: held {case}, {title}\n")
                out.append("| representation | " + " | ".join(map(_label, scenarios)) + " |")
                out.append("|---|" + "---|" * len(scenarios))
                out.extend(rows)
    return "\n".join(out) + "\n"


def key_lines(runs: list[Run]) -> str:
    """For each client, representation and scenario: the mildest run's reason lines."""
    out = []
    groups: dict[tuple[str, str, str], list[Run]] = {}
    for run in runs:
        groups.setdefault((run.client, run.rep, run.scenario), []).append(run)
    for (client, rep, scenario), these in sorted(groups.items()):
        these.sort(key=lambda r: VERBOSITY[r.client].index(_flag(r.verbosity)))
        shown = next((r for r in these if r.reason_shown), None)
        if shown is None:
            last = _last_error_line(these[0].output)
            out.append(f"- {client} / {rep} / {scenario}: not shown; says: `{last}`")
        else:
            lines = "; ".join(f"`{line[:300]}`" for line in shown.reason_lines[:2])
            out.append(f"- {client} / {rep} / {scenario} ({shown.verbosity}): {lines}")
    return "\n".join(out) + "\n"


def _last_error_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip() and "---" not in line]
    for line in reversed(lines):
        if re.search(r"error|because|could not|no matching|not found|forbidden|unable", line, re.I):
            return line[:300]
    return lines[-1][:300] if lines else ""


# -- main -------------------------------------------------------------------------------------


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for client, argv in (
        ("pip", [sys.executable, "-m", "pip", "--version"]),
        ("uv", [str(BIN / "uv"), "--version"]),
        ("poetry", [str(BIN / "poetry"), "--version"]),
        ("pdm", [str(BIN / "pdm"), "--version"]),
    ):
        try:
            text = subprocess.run(
                argv, capture_output=True, text=True, timeout=60, check=False, env=client_env()
            ).stdout
        except OSError as exc:
            text = f"unavailable: {exc}"
        match = re.search(r"\d+\.\d+(\.\d+)?", text)
        found[client] = match.group(0) if match else text.strip()
    return found


@contextmanager
def serving(index: Index) -> Iterator[str]:
    reason_phrase.install()
    with run_app(make_app(index)) as url:
        yield url


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--client", action="append", choices=CLIENTS)
    parser.add_argument("--rep", action="append", choices=sorted(REPS_BY_NAME))
    parser.add_argument("--scenario", action="append", choices=[s.name for s in SCENARIOS])
    parser.add_argument("--max-verbosity", type=int, default=2, help="0 = default output only")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--merge", action="store_true", help="replace matching runs in --out")
    parser.add_argument("--list", action="store_true", help="list representations and exit")
    args = parser.parse_args(argv)
    if args.list:
        for rep in REPS:
            print(f"{rep.name:15} {rep.case:8} {rep.summary}")
        return 0
    clients = args.client or list(CLIENTS)
    reps = [REPS_BY_NAME[n] for n in args.rep] if args.rep else list(REPS)
    scenarios = [s for s in SCENARIOS if not args.scenario or s.name in args.scenario]
    now = datetime.now(UTC)
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="pipgate-im-index-") as tmp:
        index = build_index(Path(tmp), now)
        with serving(index) as url:
            for rep in reps:
                for scenario in (s for s in scenarios if s.case == rep.case):
                    for client in clients:
                        for verbosity in VERBOSITY[client][: args.max_verbosity + 1]:
                            run = run_one(client, rep, scenario, verbosity, url, index)
                            runs.append(run)
                            print(
                                f"{client:6} {rep.name:14} {scenario.name:13} "
                                f"{run.verbosity:7} exit={run.exit:<3} got={run.got} "
                                f"reason={'yes' if run.reason_shown else 'no'} "
                                f"{run.seconds:.1f}s",
                                file=sys.stderr,
                                flush=True,
                            )
    previous: list[dict[str, object]] = []
    if args.merge and args.out.exists():
        fresh = {(r.client, r.rep, r.scenario, r.verbosity) for r in runs}
        previous = [
            r
            for r in json.loads(args.out.read_text())["runs"]
            if (r["client"], r["rep"], r["scenario"], r["verbosity"]) not in fresh
        ]
    all_runs = previous + [asdict(r) for r in runs]
    report = {
        "measured_at": now.isoformat(timespec="seconds"),
        "versions": versions(),
        "representations": [asdict(r) for r in REPS],
        "scenarios": [asdict(s) for s in SCENARIOS],
        "runs": all_runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
    loaded = [Run(**r) for r in all_runs]
    print(matrix(loaded))
    print(key_lines(loaded))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
