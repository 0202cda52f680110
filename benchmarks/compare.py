"""pipgate side by side with proxpi and devpi-server, nginx as the ceiling (issue 5).

    benchmarks/compare [--rounds 3] [--seconds 2] [--quick] [--systems pipgate,proxpi,...]

Installs the pinned devpi-server and proxpi into their own virtual environments
under ``benchmarks/.work/`` (from PyPI, isolated from this machine's pip config),
serves the fake upstream's ``bench`` scenario in-process (so upstream requests can
be counted), and then, for ``--rounds`` rounds, starts each system in turn on a
fresh data directory (the order rotates every round, so drift hits all alike) and
measures: cold start to the first answered page; 8 concurrent cold requests for
the 30 MB wheel (upstream fetches and redirects counted, bytes verified); warm
small and 10,000-file pages (p50/p99 on one connection, requests/s on 16); warm
file throughput; a real ``pip install bench-app`` (24 projects); peak memory
(VmHWM of the server's process tree). nginx serves the same bytes statically.

Writes ``benchmarks/results/compare.md``, ``compare.json`` and ``compare.png``.
Figures are medians over rounds; memory is the highest peak.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks.harness import (
    POLICIES_DEFAULT,
    PYTHON,
    REPO,
    RESULTS,
    WORK,
    fake_upstream_dir,
    free_port,
    machine_line,
    markdown_table,
    measure,
    median,
    memory_kb,
    nginx_conf,
    pipgate_argv,
    wrk_available,
)
from tests.support.dists import build_sdist, build_wheel
from tests.support.fake_upstream import (
    DATA_FORMAT,
    FakeFile,
    FakeProject,
    FakeUpstream,
    bench_projects,
    create_fake_upstream,
    generated_big_project,
)
from tests.support.servers import client_env, run_process

#: What pip 24+ sends when it asks for a project page.
PIP_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, "
    "text/html; q=0.01"
)
PAGE_HEADERS = {"Accept": PIP_ACCEPT}
PINS = {
    "devpi-server": ("devpi-server==6.20.3",),
    "proxpi": ("proxpi==1.3.1", "gunicorn==27.0.1"),
    "chart": ("matplotlib==3.11.2",),
}
SMALL, HUGE, WHEEL, APP = "bench-small", "bench-huge", "big-wheel", "bench-app"
COLD_CLIENTS = 8
ALL_SYSTEMS = ("pipgate", "pipgate-w2", "proxpi", "devpi-server", "nginx")


# -- the fixture set ----------------------------------------------------------------------


def tiny_projects(dist_dir: Path) -> list[FakeProject]:
    """The bench scenario's names at a tiny size: a 200-file page, a 256 kB wheel and
    ``bench-app`` needing two libraries (for the test suite's smoke run)."""
    dist_dir.mkdir(parents=True, exist_ok=True)

    def release(name: str, version: str = "1.0.0", **kw: Any) -> list[FakeFile]:
        return [
            FakeFile.from_path(build_wheel(dist_dir, name, version, **kw)),
            FakeFile.from_path(
                build_sdist(dist_dir, name, version, requires=kw.get("requires", ()))
            ),
        ]

    return [
        FakeProject(SMALL, release(SMALL)),
        generated_big_project(HUGE, 200),
        FakeProject(
            WHEEL,
            [FakeFile.from_path(build_wheel(dist_dir, WHEEL, "1.0.0", size_padding=256 * 1024))],
        ),
        FakeProject(APP, release(APP, requires=("bench-lib-01>=1.0", "bench-lib-02>=1.0"))),
        FakeProject("bench-lib-01", release("bench-lib-01")),
        FakeProject("bench-lib-02", release("bench-lib-02")),
    ]


@dataclass
class Fixture:
    upstream: FakeUpstream
    url: str
    huge_files: int
    app_projects: int
    wheel: FakeFile


@contextmanager
def fake_upstream(size: str) -> Iterator[Fixture]:
    if size == "tiny":
        tmp = tempfile.TemporaryDirectory(prefix="pipgate-compare-dists-")
        projects, huge, app = tiny_projects(Path(tmp.name)), 200, 3
    else:
        tmp = None
        projects, huge, app = bench_projects(fake_upstream_dir() / DATA_FORMAT), 10_000, 24
    try:
        upstream = create_fake_upstream(projects)
        wheel = upstream.project(WHEEL).files[0]
        with upstream.serve() as url:
            yield Fixture(upstream, url, huge, app, wheel)
    finally:
        if tmp is not None:
            tmp.cleanup()


# -- the systems --------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    pid: int
    index_url: str  # what pip gets as --index-url, ends with "/"
    started_in: float  # seconds from launch to the first answered page

    def page(self, project: str) -> str:
        return f"{self.index_url}{project}/"


class System:
    name = ""
    version = ""

    def missing(self) -> str | None:
        """Why this system cannot run here, or ``None``."""
        return None

    def prepare(self, fixture: Fixture, work: Path) -> None:
        """Once per run, before the first round."""

    def close(self) -> None:
        """Once per run, after the last round (or a failure)."""

    @contextmanager
    def start(self, fixture: Fixture, workdir: Path) -> Iterator[Server]:
        raise NotImplementedError
        yield


@contextmanager
def launched(
    name: str,
    argv: Sequence[str],
    index_url: str,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 120,
) -> Iterator[Server]:
    """Start ``argv``; it counts as started when the small page answers."""
    began = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(REPO)} if env is None else env
    with run_process(argv, f"{index_url}{SMALL}/", env=env, cwd=cwd, timeout=timeout) as proc:
        started_in = time.perf_counter() - began
        yield Server(name, proc.popen.pid, index_url, started_in)


class Pipgate(System):
    name = "pipgate"

    def __init__(self) -> None:
        from importlib.metadata import version

        self.version = version("pipgate")

    @contextmanager
    def start(self, fixture: Fixture, workdir: Path) -> Iterator[Server]:
        config = workdir / "pipgate.toml"
        config.write_text(POLICIES_DEFAULT)
        port = free_port()
        argv = pipgate_argv(fixture.url, workdir / "data", config, port)
        with launched(self.name, argv, f"http://127.0.0.1:{port}/simple/", cwd=workdir) as server:
            yield server


class PipgateWorkers(Pipgate):
    """``pipgate serve --workers 2``: both cores, sharing decisions, leases and pages
    through a PostgreSQL of its own (a throw-away cluster, a fresh database per round)."""

    name = "pipgate-w2"
    workers = 2

    def missing(self) -> str | None:
        from tests.support.postgres import PostgresUnavailable, find_binaries

        try:
            find_binaries()
        except PostgresUnavailable as exc:
            return f"--workers needs PostgreSQL: {exc}"
        return None

    def prepare(self, fixture: Fixture, work: Path) -> None:
        from tests.support.postgres import PostgresServer

        self.postgres = PostgresServer.create()
        self.rounds = 0

    def close(self) -> None:
        postgres = getattr(self, "postgres", None)
        if postgres is not None:
            postgres.close()

    @contextmanager
    def start(self, fixture: Fixture, workdir: Path) -> Iterator[Server]:
        self.rounds += 1
        database = f"bench{self.rounds}"
        self.postgres.create_database(database)
        config = workdir / "pipgate.toml"
        url = self.postgres.url_for(database)
        config.write_text(f'{POLICIES_DEFAULT}\n[storage]\ndatabase = "{url}"\n')
        port = free_port()
        argv = pipgate_argv(fixture.url, workdir / "data", config, port)
        argv += ["--workers", str(self.workers)]
        with launched(self.name, argv, f"http://127.0.0.1:{port}/simple/", cwd=workdir) as server:
            yield server


def venv_bin(name: str) -> Path:
    return WORK / "venvs" / name / "bin"


def ensure_venv(name: str, requirements: Sequence[str]) -> Path:
    """A virtual environment under ``.work/venvs`` holding exactly the pinned
    ``requirements`` (installed from PyPI once; reused while the pins are unchanged)."""
    bin_dir = venv_bin(name)
    marker = bin_dir.parent / "pipgate-bench-pins.txt"
    wanted = "\n".join(requirements)
    if marker.exists() and marker.read_text() == wanted:
        return bin_dir
    print(f"installing {', '.join(requirements)} into {bin_dir.parent}", file=sys.stderr)
    shutil.rmtree(bin_dir.parent, ignore_errors=True)
    subprocess.run([str(PYTHON), "-m", "venv", str(bin_dir.parent)], check=True)
    env = client_env()  # PyPI itself, not this machine's extra indexes
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", *requirements],
        check=True,
        env=env,
    )
    marker.write_text(wanted)
    return bin_dir


class Proxpi(System):
    """proxpi under gunicorn: one worker (like pipgate's one process), 16 threads."""

    name = "proxpi"
    version = PINS["proxpi"][0].split("==")[1]

    def prepare(self, fixture: Fixture, work: Path) -> None:
        self.bin = ensure_venv(self.name, PINS[self.name])

    @contextmanager
    def start(self, fixture: Fixture, workdir: Path) -> Iterator[Server]:
        port = free_port()
        env = {
            **os.environ,
            "PROXPI_INDEX_URL": fixture.url,
            "PROXPI_CACHE_DIR": str(workdir / "cache"),
            "PROXPI_LOGGING_LEVEL": "INFO",
        }
        argv = [
            str(self.bin / "gunicorn"),
            "--preload",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "16",
            "--access-logfile",
            "-",
            "--control-socket",
            str(workdir / "gunicorn.ctl"),
            "proxpi.server:app",
        ]
        with launched(
            self.name, argv, f"http://127.0.0.1:{port}/index/", env=env, cwd=workdir
        ) as s:
            yield s


class Devpi(System):
    """devpi-server with ``root/pypi`` mirroring the fake upstream.

    ``prepare`` runs ``devpi-init`` and configures the mirror through the API once;
    every round starts from a copy of that server directory (configured, cache empty).
    """

    name = "devpi-server"
    version = PINS["devpi-server"][0].split("==")[1]
    password = "bench"

    def prepare(self, fixture: Fixture, work: Path) -> None:
        self.bin = ensure_venv(self.name, PINS[self.name])
        self.template = work / "devpi-template"
        subprocess.run(
            [
                str(self.bin / "devpi-init"),
                "--serverdir",
                str(self.template),
                "--no-root-pypi",
                "--root-passwd",
                self.password,
            ],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [str(self.bin / "devpi-gen-secret"), "--secretfile", str(self.template / "secret")],
            check=True,
            capture_output=True,
        )
        port = free_port()
        with run_process(self._argv(self.template, port), f"http://127.0.0.1:{port}/+api"):
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(timeout=30, trust_env=False) as client:
                login = client.post(
                    f"{base}/+login",
                    json={"user": "root", "password": self.password},
                    headers={"Accept": "application/json"},
                )
                login.raise_for_status()
                token = login.json()["result"]["password"]
                import base64

                auth = base64.b64encode(f"root:{token}".encode()).decode()
                created = client.put(
                    f"{base}/root/pypi",
                    json={"type": "mirror", "mirror_url": fixture.url},
                    headers={"Accept": "application/json", "X-Devpi-Auth": auth},
                )
                if created.status_code not in (200, 201):
                    raise RuntimeError(f"devpi: creating root/pypi failed: {created.text}")

    def _argv(self, serverdir: Path, port: int) -> list[str]:
        return [
            str(self.bin / "devpi-server"),
            "--serverdir",
            str(serverdir),
            "--secretfile",
            str(self.template / "secret"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]

    @contextmanager
    def start(self, fixture: Fixture, workdir: Path) -> Iterator[Server]:
        serverdir = workdir / "server"
        shutil.copytree(self.template, serverdir)
        port = free_port()
        index = f"http://127.0.0.1:{port}/root/pypi/+simple/"
        with launched(self.name, self._argv(serverdir, port), index, cwd=workdir) as server:
            yield server


class Nginx(System):
    """The ceiling: the fake upstream's own pages and files as static files (JSON pages
    with file URLs made local), one worker process, sendfile on, no access log."""

    name = "nginx"

    def missing(self) -> str | None:
        if self.binary() is None:
            return "nginx is not installed (Debian: apt-get install -y nginx-light)"
        return None

    @staticmethod
    def binary() -> str | None:
        return shutil.which("nginx") or next(
            (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None
        )

    def prepare(self, fixture: Fixture, work: Path) -> None:
        out = subprocess.run([self.binary() or "nginx", "-v"], capture_output=True, text=True)
        self.version = out.stderr.strip().rsplit("/", 1)[-1]
        self.root = work / "nginx-root"
        base = fixture.url.removesuffix("/simple/")
        with httpx.Client(timeout=60, trust_env=False) as client:
            for name, project in fixture.upstream.projects.items():
                page = client.get(
                    fixture.url + name + "/", headers={"Accept": PAGE_HEADERS["Accept"]}
                )
                page.raise_for_status()
                target = self.root / "simple" / name / "index.json"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(page.content.replace(base.encode(), b""))
                for f in project.files:
                    data_path = self.root / f.url_path.lstrip("/")
                    data_path.parent.mkdir(parents=True, exist_ok=True)
                    if isinstance(f.content, Path):
                        data_path.symlink_to(f.content.resolve())
                    elif isinstance(f.content, bytes):
                        data_path.write_bytes(f.content)
                    if f.metadata is not None:  # PEP 658, as the page advertises
                        data_path.with_name(f.filename + ".metadata").write_bytes(f.metadata)

    @contextmanager
    def start(self, fixture: Fixture, workdir: Path) -> Iterator[Server]:
        port = free_port()
        conf = nginx_conf(workdir, port, self.root)
        argv = [self.binary() or "nginx", "-p", str(workdir), "-c", str(conf)]
        with launched(self.name, argv, f"http://127.0.0.1:{port}/simple/", cwd=workdir) as server:
            yield server


SYSTEM_TYPES: dict[str, Callable[[], System]] = {
    "pipgate": Pipgate,
    "pipgate-w2": PipgateWorkers,
    "proxpi": Proxpi,
    "devpi-server": Devpi,
    "nginx": Nginx,
}


# -- one round of one system --------------------------------------------------------------


@dataclass
class Options:
    seconds: float = 2.0
    connections: int = 16
    use_wrk: bool | None = None
    pip_install: bool = True
    #: Simultaneous ``pip install bench-app`` runs (pipgate and nginx only; 0: none).
    concurrent_installs: int = 50


def file_url_of(client: httpx.Client, page_url: str, filename: str) -> str:
    response = client.get(page_url, headers=PAGE_HEADERS)
    response.raise_for_status()
    if "json" in response.headers.get("content-type", ""):
        urls = [f["url"] for f in response.json()["files"] if f["filename"] == filename]
    else:
        urls = [u for u in re.findall(r'href="([^"]+)"', response.text) if filename in u]
    if not urls:
        raise RuntimeError(f"{page_url} does not list {filename}")
    return str(httpx.URL(page_url).join(urls[0])).split("#", 1)[0]


def listed_files(response: httpx.Response) -> int:
    if "json" in response.headers.get("content-type", ""):
        return len(response.json()["files"])
    return response.text.count("<a ")


def cold_concurrent(fixture: Fixture, url: str) -> dict[str, float]:
    """``COLD_CLIENTS`` simultaneous requests for the uncached big wheel."""
    upstream_path = fixture.wheel.url_path
    before = fixture.upstream.hits[upstream_path]
    results: list[tuple[int, bool, str]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(COLD_CLIENTS)

    def client() -> None:
        with httpx.Client(timeout=120, trust_env=False) as http:
            barrier.wait()
            digest, redirected = hashlib.sha256(), False
            with http.stream("GET", url) as response:
                status = response.status_code
                location = response.headers.get("location")
                if response.is_redirect and location:
                    redirected = True
                else:
                    for chunk in response.iter_bytes():
                        digest.update(chunk)
            if redirected:
                with http.stream("GET", str(httpx.URL(url).join(location))) as response:
                    status = response.status_code
                    for chunk in response.iter_bytes():
                        digest.update(chunk)
            with lock:
                results.append((status, redirected, digest.hexdigest()))

    began = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(COLD_CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    time.sleep(0.5)  # a background download may still be on its way to the store
    redirects = sum(redirected for _, redirected, _ in results)
    # Clients that were redirected fetched from upstream themselves; not the proxy's fetches.
    fetches = fixture.upstream.hits[upstream_path] - before - redirects
    good = sum(status == 200 and digest == fixture.wheel.sha256 for status, _, digest in results)
    if good != COLD_CLIENTS:
        print(f"cold requests to {url}: {sorted(r[:2] for r in results)}", file=sys.stderr)
    return {
        "cold_fetches": fetches,
        "cold_redirects": redirects,
        "cold_good": good,
        "cold_s": elapsed,
    }


def warm_file(client: httpx.Client, url: str, timeout: float = 60) -> None:
    """Until the file is answered from the server itself (no redirect, pipgate: a hit)."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(url)
        if response.status_code == 200 and response.headers.get("x-pipgate-cache", "hit") == "hit":
            client.get(url)
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} is not cached after {timeout} s ({response.status_code})")
        time.sleep(0.2)


def pip_install(server: Server, workdir: Path) -> tuple[float, int]:
    """Seconds for ``pip install bench-app`` through ``server``, and projects installed."""
    target = workdir / "pip-target"
    argv = [
        str(PYTHON),
        "-m",
        "pip",
        "install",
        "--no-cache-dir",
        "--no-input",
        "--disable-pip-version-check",
        "--target",
        str(target),
        "--index-url",
        server.index_url,
        APP,
    ]
    began = time.perf_counter()
    done = subprocess.run(argv, env=client_env(), capture_output=True, text=True)
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"pip install through {server.name} failed:\n{done.stdout}{done.stderr}")
    return elapsed, len(list(target.glob("*.dist-info")))


def concurrent_pip_installs(server: Server, workdir: Path, count: int) -> float:
    """Seconds for ``count`` simultaneous ``pip install bench-app`` through ``server``."""
    argv = [
        str(PYTHON),
        "-m",
        "pip",
        "install",
        "--no-cache-dir",
        "--no-input",
        "--disable-pip-version-check",
        "--quiet",
        "--index-url",
        server.index_url,
        APP,
    ]
    began = time.perf_counter()
    runs = [
        subprocess.Popen(
            [*argv, "--target", str(workdir / f"pip-many-{n}")],
            env=client_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for n in range(count)
    ]
    failed = [run.communicate()[1] for run in runs if run.wait() != 0]
    elapsed = time.perf_counter() - began
    if failed:
        raise RuntimeError(
            f"{len(failed)} of {count} pip installs through {server.name} failed:\n"
            + failed[0].decode(errors="replace")[-2000:]
        )
    return elapsed


def one_round(
    system: System, fixture: Fixture, workdir: Path, options: Options
) -> dict[str, float]:
    figures: dict[str, float] = {}
    with (
        system.start(fixture, workdir) as server,
        httpx.Client(timeout=120, trust_env=False) as client,
    ):
        figures["cold_start_s"] = server.started_in
        wheel_url = file_url_of(client, server.page(WHEEL), fixture.wheel.filename)
        if system.name != "nginx":
            figures.update(cold_concurrent(fixture, wheel_url))
        for project in (SMALL, HUGE):
            for _ in range(2):
                response = client.get(server.page(project), headers=PAGE_HEADERS)
                response.raise_for_status()
        figures["huge_files"] = listed_files(response)
        figures["huge_body_kb"] = len(response.content) / 1024
        if figures["huge_files"] != fixture.huge_files:
            raise RuntimeError(
                f"{system.name} lists {figures['huge_files']} files of {HUGE}, "
                f"expected {fixture.huge_files}"
            )
        warm_file(client, wheel_url)
        for key, project in (("small", SMALL), ("huge", HUGE)):
            url = server.page(project)
            latency = measure(
                url, headers=PAGE_HEADERS, seconds=options.seconds, use_wrk=options.use_wrk
            )
            load = measure(
                url,
                headers=PAGE_HEADERS,
                connections=options.connections,
                seconds=options.seconds,
                use_wrk=options.use_wrk,
            )
            if load.requests < options.connections:
                # Too slow to finish a request per connection in time: run long enough.
                longer = min(30.0, options.connections * latency.p50_ms / 1000 * 1.5 + 2)
                load = measure(
                    url,
                    headers=PAGE_HEADERS,
                    connections=options.connections,
                    seconds=max(longer, options.seconds),
                    use_wrk=options.use_wrk,
                )
            figures[f"{key}_p50_ms"], figures[f"{key}_p99_ms"] = latency.p50_ms, latency.p99_ms
            figures[f"{key}_rps"] = load.rps
            figures["errors"] = figures.get("errors", 0) + latency.errors + load.errors
        file_load = measure(wheel_url, seconds=options.seconds, use_wrk=options.use_wrk)
        figures["file_mb_s"] = file_load.mb_per_s
        figures["errors"] += file_load.errors
        if options.pip_install:
            try:
                figures["pip_install_s"], figures["pip_projects"] = pip_install(server, workdir)
            except RuntimeError as exc:
                print(exc, file=sys.stderr)
                figures["errors"] += 1
        if options.concurrent_installs and system.name in ("pipgate", "pipgate-w2", "nginx"):
            try:
                figures["pip_many_s"] = concurrent_pip_installs(
                    server, workdir, options.concurrent_installs
                )
            except RuntimeError as exc:
                print(exc, file=sys.stderr)
                figures["errors"] += 1
        figures["peak_rss_mb"] = memory_kb(server.pid) / 1024
    return figures


# -- the run ------------------------------------------------------------------------------


@dataclass
class Run:
    systems: list[str]
    versions: dict[str, str]
    rounds: list[dict[str, dict[str, float]]] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    machine: str = ""
    tool: str = ""
    size: str = "full"

    def figures(self) -> dict[str, dict[str, float]]:
        """Medians over rounds; peak memory is the highest of the rounds."""
        out: dict[str, dict[str, float]] = {}
        for name in self.systems:
            per_round = [r[name] for r in self.rounds if name in r]
            keys = {k for figures in per_round for k in figures}
            out[name] = {
                key: (max if key == "peak_rss_mb" else median)(
                    [figures[key] for figures in per_round if key in figures]
                )
                for key in keys
            }
        return out


def run(
    systems: Sequence[str],
    *,
    rounds: int,
    options: Options,
    size: str = "full",
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
) -> Run:
    chosen: list[System] = []
    result = Run(systems=[], versions={})
    for name in systems:
        system = SYSTEM_TYPES[name]()
        reason = system.missing()
        if reason:
            result.skipped[name] = reason
            log(f"skipping {name}: {reason}")
            continue
        chosen.append(system)
    result.systems = [s.name for s in chosen]
    result.size = size
    with (
        tempfile.TemporaryDirectory(prefix="pipgate-compare-") as tmp,
        fake_upstream(size) as fixture,
    ):
        work = Path(tmp)
        try:
            for system in chosen:
                log(f"preparing {system.name}")
                system.prepare(fixture, work)
                result.versions[system.name] = system.version
            _rounds(chosen, fixture, work, rounds, options, result, log)
        finally:
            for system in chosen:
                system.close()
    result.machine = machine_line()
    use_wrk = wrk_available() if options.use_wrk is None else options.use_wrk
    result.tool = "wrk" if use_wrk else "httpx (asyncio, keep-alive)"
    return result


def _rounds(
    chosen: Sequence[System],
    fixture: Fixture,
    work: Path,
    rounds: int,
    options: Options,
    result: Run,
    log: Callable[[str], None],
) -> None:
    for number in range(rounds):
        order = chosen[number % len(chosen) :] + chosen[: number % len(chosen)]
        figures: dict[str, dict[str, float]] = {}
        for system in order:
            began = time.perf_counter()
            workdir = work / f"round{number}" / system.name
            workdir.mkdir(parents=True)
            figures[system.name] = one_round(system, fixture, workdir, options)
            log(
                f"round {number + 1}/{rounds}: {system.name} done in {time.perf_counter() - began:.1f} s"
            )
        result.rounds.append(figures)


# -- reporting ----------------------------------------------------------------------------

#: key, label, format, higher is better (None: not a contest)
ROWS = (
    ("small_p50_ms", "warm small page p50 (ms)", "{:.2f}", False),
    ("small_p99_ms", "warm small page p99 (ms)", "{:.2f}", False),
    ("small_rps", "warm small page requests/s (c=16)", "{:,.0f}", True),
    ("huge_p50_ms", "warm 10,000-file page p50 (ms)", "{:.2f}", False),
    ("huge_p99_ms", "warm 10,000-file page p99 (ms)", "{:.2f}", False),
    ("huge_rps", "warm 10,000-file page requests/s (c=16)", "{:,.0f}", True),
    ("huge_body_kb", "10,000-file page body (kB, as pip asks)", "{:,.0f}", None),
    ("file_mb_s", "warm 30 MB wheel (MB/s, 1 connection)", "{:,.0f}", True),
    ("cold_start_s", "cold start to first answered page (s)", "{:.2f}", False),
    ("cold_fetches", "8 concurrent cold requests: upstream fetches", "{:.0f}", None),
    ("cold_redirects", "8 concurrent cold requests: redirects", "{:.0f}", None),
    ("cold_good", "8 concurrent cold requests: verified 200s", "{:.0f}", None),
    ("cold_s", "8 concurrent cold requests: all done (s)", "{:.2f}", False),
    ("pip_install_s", "pip install bench-app, warm (s)", "{:.2f}", False),
    ("pip_projects", "pip install bench-app: projects installed", "{:.0f}", None),
    ("pip_many_s", "50 concurrent pip install bench-app, all done (s)", "{:.1f}", False),
    ("peak_rss_mb", "peak memory, VmHWM (MB)", "{:.0f}", False),
)


def ratio(pipgate: float, other: float, higher: bool) -> float | None:
    if not pipgate or not other:
        return None
    return pipgate / other if higher else other / pipgate


def targets(figures: Mapping[str, Mapping[str, float]]) -> list[list[str]]:
    p = figures.get("pipgate", {})
    rows: list[list[str]] = []

    def check(label: str, value: float | None, goal: float, fmt: str = "{:.2f}x") -> None:
        if value is None:
            rows.append([label, "n/a", f">= {goal:g}x", "not measured"])
            return
        rows.append(
            [label, fmt.format(value), f">= {goal:g}x", "met" if value >= goal else "**missed**"]
        )

    for other, goal in (("proxpi", 2.0), ("devpi-server", 5.0)):
        o = figures.get(other)
        for key, what in (("small_rps", "small"), ("huge_rps", "10,000-file")):
            value = ratio(p.get(key, 0), o.get(key, 0), True) if o else None
            check(f"warm {what} page requests/s vs {other}", value, goal)
    n = figures.get("nginx")
    within = (p["file_mb_s"] / n["file_mb_s"]) if n and p.get("file_mb_s") else None
    if within is None:
        rows.append(["warm file throughput vs nginx", "n/a", ">= 0.5x", "not measured"])
    else:
        rows.append(
            [
                "warm file throughput vs nginx",
                f"{within:.2f}x",
                ">= 0.5x (within 2x)",
                "met" if within >= 0.5 else "**missed**",
            ]
        )
    fetches = p.get("cold_fetches")
    rows.append(
        [
            "upstream fetches for 8 concurrent cold requests",
            f"{fetches:.0f}" if fetches is not None else "n/a",
            "exactly 1",
            "met" if fetches == 1 else "**missed**",
        ]
    )
    proxies = {
        name: f["peak_rss_mb"]
        for name, f in figures.items()
        if name != "nginx" and "peak_rss_mb" in f
    }
    lowest = min(proxies, key=proxies.__getitem__) if proxies else None
    rows.append(
        [
            "lowest peak memory of the proxies",
            ", ".join(f"{k} {v:.0f} MB" for k, v in proxies.items()),
            "pipgate lowest",
            "met"
            if lowest == "pipgate" and len(proxies) > 1
            else "**missed**"
            if lowest
            else "n/a",
        ]
    )
    return rows


def nginx_targets(
    figures: Mapping[str, Mapping[str, float]], system: str = "pipgate"
) -> list[list[str]]:
    """Issue 15: ``system`` beside nginx serving the same bytes, in the same run."""
    p, n = figures.get(system, {}), figures.get("nginx", {})
    rows: list[list[str]] = []

    def row(label: str, value: float | None, goal: str, met: bool | None, fmt: str) -> None:
        shown = fmt.format(value) if value is not None else "n/a"
        verdict = "not measured" if met is None else "met" if met else "**missed**"
        rows.append([label, shown, goal, verdict])

    def share(key: str) -> float | None:
        return p[key] / n[key] if p.get(key) and n.get(key) else None

    for key, label, goal in (
        ("small_rps", "warm small page requests/s, share of nginx's", 0.25),
        ("huge_rps", "warm 10,000-file page requests/s, share of nginx's", 0.60),
        ("file_mb_s", "warm 30 MB wheel MB/s, share of nginx's", 0.90),
    ):
        value = share(key)
        row(label, value, f">= {goal:.0%}", None if value is None else value >= goal, "{:.0%}")
    p99 = (
        p["small_p99_ms"] / n["small_p99_ms"]
        if p.get("small_p99_ms") and n.get("small_p99_ms")
        else None
    )
    row(
        "warm small page p99, times nginx's",
        p99,
        "<= 5x",
        None if p99 is None else p99 <= 5,
        "{:.1f}x",
    )
    start = p.get("cold_start_s")
    row(
        "start-up to a served page (s)",
        start,
        "< 1 s",
        None if start is None else start < 1,
        "{:.2f}",
    )
    many = (
        p["pip_many_s"] / n["pip_many_s"] if p.get("pip_many_s") and n.get("pip_many_s") else None
    )
    row(
        "50 concurrent pip installs, times nginx's",
        many,
        "<= 1.1x",
        None if many is None else many <= 1.1,
        "{:.2f}x",
    )
    return rows


def report(result: Run, rounds: int, options: Options) -> str:
    figures = result.figures()
    names = result.systems
    header = ["", *(f"{n} {result.versions.get(n, '')}".strip() for n in names)]
    rows = []
    for key, label, fmt, higher in ROWS:
        cells = [label]
        for name in names:
            value = figures[name].get(key)
            if value is None:
                cells.append("-")
                continue
            text = fmt.format(value)
            if higher is not None and name != "pipgate" and "pipgate" in figures:
                r = ratio(figures["pipgate"].get(key, 0), value, higher)
                if r is not None:
                    text += f" (pipgate {r:.2f}x)"
            cells.append(text)
        rows.append(cells)
    lines = [
        "# pipgate, proxpi, devpi-server and nginx, side by side",
        "",
        f"Machine: {result.machine}.",
        *(
            [
                "",
                "**Smoke run on the tiny fixture set (a 200-file page, a 256 kB wheel, 3 "
                "projects to install): not a benchmark.**",
            ]
            if result.size == "tiny"
            else []
        ),
        "",
        f"One run, {rounds} round(s), systems taking turns (order rotated each round), "
        f"each started fresh on an empty cache per round; figures are medians over rounds, "
        f"memory the highest peak. Load: {result.tool}; latency on one keep-alive "
        f"connection, requests/s on {options.connections}, {options.seconds:g} s each. "
        "Pages are asked for with pip's Accept header (JSON preferred). "
        '"pipgate N x" is pipgate\'s advantage (above 1: pipgate better). '
        "pipgate: one process, policies at their defaults, access log on; proxpi: gunicorn, "
        "1 worker, 16 threads, access log on; devpi-server: defaults (50 threads); "
        "nginx: 1 worker, static files, sendfile, no access log.",
        "",
        markdown_table(header, rows),
        "",
        "## Targets beside nginx (issue 15)",
        "",
        *(
            line
            for name in ("pipgate", "pipgate-w2")
            if name in figures
            for line in (
                markdown_table(["Target", name, "Goal", "Result"], nginx_targets(figures, name)),
                "",
            )
        ),
        "## Targets (issue 5)",
        "",
        markdown_table(["Target", "pipgate", "Goal", "Result"], targets(figures)),
        "",
    ]
    if result.skipped:
        lines += ["Not run here: " + "; ".join(f"{k} ({v})" for k, v in result.skipped.items()), ""]
    lines += ["Reproduce: `benchmarks/compare` (`--quick` for a smoke run).", ""]
    return "\n".join(lines)


def draw_chart(result: Run, json_path: Path, png_path: Path) -> str | None:
    """Draw with matplotlib in its own venv; return why not, if it could not."""
    try:
        bin_dir = ensure_venv("chart", PINS["chart"])
    except subprocess.CalledProcessError as exc:
        return f"could not install matplotlib: {exc}"
    chart = Path(__file__).with_name("chart.py")
    done = subprocess.run(
        [str(bin_dir / "python"), str(chart), str(json_path), str(png_path)],
        capture_output=True,
        text=True,
    )
    return None if done.returncode == 0 else done.stderr[-2000:]


def write(result: Run, rounds: int, options: Options, out_dir: Path, *, chart: bool = True) -> str:
    out_dir.mkdir(parents=True, exist_ok=True)
    text = report(result, rounds, options)
    (out_dir / "compare.md").write_text(text)
    json_path = out_dir / "compare.json"
    json_path.write_text(
        json.dumps(
            {
                "machine": result.machine,
                "systems": result.systems,
                "versions": result.versions,
                "figures": result.figures(),
                "rounds": result.rounds,
                "skipped": result.skipped,
            },
            indent=1,
            sort_keys=True,
        )
    )
    if chart:
        problem = draw_chart(result, json_path, out_dir / "compare.png")
        if problem:
            print(f"no chart: {problem}", file=sys.stderr)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.0, help="length of each load run")
    parser.add_argument("--systems", default=",".join(ALL_SYSTEMS))
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: tiny fixture set, one round, 1-second loads, no pip install",
    )
    parser.add_argument("--no-chart", action="store_true")
    parser.add_argument(
        "--concurrent-installs",
        type=int,
        default=50,
        help="simultaneous pip installs through pipgate and nginx (0: skip)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = set(systems) - set(SYSTEM_TYPES)
    if unknown:
        parser.error(
            f"unknown systems: {', '.join(sorted(unknown))}; choose from {', '.join(ALL_SYSTEMS)}"
        )
    if not wrk_available():
        print(
            "wrk not found (Debian: apt-get install -y wrk); using the httpx load generator",
            file=sys.stderr,
        )
    rounds = 1 if args.quick else args.rounds
    options = Options(
        seconds=1.0 if args.quick else args.seconds,
        pip_install=not args.quick,
        concurrent_installs=0 if args.quick else args.concurrent_installs,
    )
    began = time.perf_counter()
    result = run(systems, rounds=rounds, options=options, size="tiny" if args.quick else "full")
    out = args.out if not args.quick or args.out != RESULTS else WORK / "quick"
    text = write(result, rounds, options, out, chart=not args.no_chart)
    print(text)
    print(f"({time.perf_counter() - began:.0f} s; written to {out})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
