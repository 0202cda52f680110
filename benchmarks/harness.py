"""What both benchmarks share: load generation, servers, memory, machine facts, tables.

Load comes from ``wrk`` when it is installed (one C process, so the client is not
the bottleneck) and otherwise from an asyncio httpx client with keep-alive
connections; every result names the tool that produced it. Latency is measured
with one connection (sequential requests), throughput with ``connections``.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from tests.support.servers import RunningProcess, run_process  # noqa: E402

WORK = REPO / "benchmarks" / ".work"
RESULTS = REPO / "benchmarks" / "results"
PYTHON = Path(sys.executable)
PIPGATE = PYTHON.with_name("pipgate")

JSON_V1 = "application/vnd.pypi.simple.v1+json"
ACCEPT = {"json": {"Accept": JSON_V1}, "html": {"Accept": "text/html"}}

#: Policies at their defaults, said out loud. The bench files were uploaded in 2024,
#: so the 7-day release age holds none of them, and no ``bench-*`` name imitates a
#: popular project; ``check_page`` fails the run if a page ever comes back shorter.
POLICIES_DEFAULT = """\
[policies.release_age]
mode = "enforce"
min_age = "7d"

[policies.typosquat]
mode = "enforce"
"""

POLICIES_OFF = """\
[policies.release_age]
mode = "off"

[policies.typosquat]
mode = "off"

[policies.allowlist]
mode = "off"

[policies.dependency_confusion]
mode = "off"
"""


# -- load ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """One timed run against one URL."""

    tool: str
    connections: int
    requests: int
    seconds: float
    bytes: int
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def mb_per_s(self) -> float:
        return self.bytes / self.seconds / 1e6 if self.seconds else 0.0


_WRK_REPORT = """\
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\nWRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p99_us":%d,'
    .. '"errors":%d,"status_errors":%d}\\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def measure(
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    connections: int = 1,
    seconds: float = 3.0,
    use_wrk: bool | None = None,
) -> Load:
    """Requests to ``url`` for ``seconds`` over ``connections`` keep-alive connections.

    Any status of 400 or more, or a transport error, counts in ``errors``.
    """
    if use_wrk is None:
        use_wrk = wrk_available()
    if use_wrk:
        return _wrk(url, headers or {}, connections, seconds)
    return asyncio.run(_httpx_load(url, headers or {}, connections, seconds))


def _wrk(url: str, headers: Mapping[str, str], connections: int, seconds: float) -> Load:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_REPORT)
    try:
        argv = [
            "wrk",
            f"-t{min(connections, 2)}",
            f"-c{connections}",
            f"-d{max(seconds, 1):.0f}s",
            "--timeout",
            "30s",
            "-s",
            script.name,
        ]
        for key, value in headers.items():
            argv += ["-H", f"{key}: {value}"]
        out = subprocess.run([*argv, url], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    line = next(line for line in out.splitlines() if line.startswith("WRK_JSON "))
    data = json.loads(line.removeprefix("WRK_JSON "))
    return Load(
        tool="wrk",
        connections=connections,
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        bytes=data["bytes"],
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=data["errors"] + data["status_errors"],
    )


async def _httpx_load(
    url: str, headers: Mapping[str, str], connections: int, seconds: float
) -> Load:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    latencies: list[float] = []
    counts = {"bytes": 0, "errors": 0}
    async with httpx.AsyncClient(limits=limits, timeout=30, trust_env=False) as client:
        await client.get(url, headers=dict(headers))  # open a connection before the clock
        start = time.perf_counter()
        deadline = start + seconds

        async def worker() -> None:
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                try:
                    response = await client.get(url, headers=dict(headers))
                    counts["bytes"] += len(response.content)
                    counts["errors"] += response.status_code >= 400
                except httpx.HTTPError:
                    counts["errors"] += 1
                latencies.append(time.perf_counter() - t0)

        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    return Load(
        tool="httpx",
        connections=connections,
        requests=len(latencies),
        seconds=elapsed,
        bytes=counts["bytes"],
        p50_ms=percentile(latencies, 50) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        errors=counts["errors"],
    )


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


# -- processes ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (gunicorn workers, nginx workers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def memory_kb(pid: int, field: str = "VmHWM") -> int:
    """``field`` of /proc/<pid>/status summed over the process tree, in kB.

    ``VmHWM`` is each process's peak resident set; summed over a master and its
    workers it is an upper bound of the tree's peak.
    """
    total = 0
    for member in process_tree(pid):
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def fake_upstream_dir() -> Path:
    """Where the bench dists are built once and reused (30 MB; gitignored)."""
    path = WORK / "fake-upstream"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def fake_upstream_process() -> Iterator[str]:
    """The bench scenario in its own process; yields its index URL."""
    argv = [
        str(PYTHON),
        "-m",
        "tests.support.fake_upstream",
        "--scenario",
        "bench",
        "--port",
        "0",
        "--data-dir",
        str(fake_upstream_dir()),
    ]
    with run_process(argv, url_line_prefix="FAKE_UPSTREAM_URL=", cwd=REPO, timeout=180) as proc:
        yield proc.url


def pipgate_argv(upstream: str, data_dir: Path, config: Path, port: int) -> list[str]:
    command = [str(PIPGATE)] if PIPGATE.exists() else [str(PYTHON), "-m", "pipgate"]
    return [
        *command,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--upstream",
        upstream,
        "--data-dir",
        str(data_dir),
        "--config",
        str(config),
        "--log-level",
        "warning",
    ]


@contextmanager
def run_pipgate(upstream: str, workdir: Path, policies: str) -> Iterator[RunningProcess]:
    """``pipgate serve`` on a free port with a fresh data dir under ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "pipgate.toml"
    config.write_text(policies)
    port = free_port()
    argv = pipgate_argv(upstream, workdir / "data", config, port)
    with run_process(argv, f"http://127.0.0.1:{port}/readyz", cwd=workdir, timeout=60) as proc:
        yield proc


@contextmanager
def storage_for(workers: int | None) -> Iterator[str]:
    """The ``[storage]`` table ``pipgate serve --workers N`` needs (its processes share
    state through PostgreSQL): a throw-away cluster for the block; ``""`` for one process."""
    if not workers or workers < 2:
        yield ""
        return
    from tests.support.postgres import PostgresServer

    with PostgresServer.create() as postgres:
        yield f'\n[storage]\ndatabase = "{postgres.url}"\n'


def fetch_ok(client: httpx.Client, url: str, headers: Mapping[str, str] | None = None) -> bytes:
    response = client.get(url, headers=dict(headers or {}))
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}: {response.text[:300]}")
    return response.content


# -- reporting ----------------------------------------------------------------------------


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "CPU": model,
        "Cores": str(os.cpu_count()),
        "Python": platform.python_version(),
        "OS": f"{platform.system()} {platform.release()}",
        "Date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def machine_line(info: Mapping[str, str] | None = None) -> str:
    info = info or machine()
    return "; ".join(f"{key}: {value}" for key, value in info.items())


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def nginx_conf(workdir: Path, port: int, root: Path) -> Path:
    """An nginx configuration in ``workdir`` (one worker, sendfile, no access log, its
    temporary files and logs inside ``workdir``) serving ``root`` statically on
    ``127.0.0.1:port``, with PEP 691 JSON for ``index.json``; returns its path."""
    for sub in ("tmp", "logs"):
        (workdir / sub).mkdir(parents=True, exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "\n".join(
        f"  {kind}_temp_path {workdir}/tmp/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = workdir / "nginx.conf"
    conf.write_text(
        f"""{user}worker_processes 1;
daemon off;
pid {workdir}/nginx.pid;
error_log {workdir}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
{temp}
  types {{ application/vnd.pypi.simple.v1+json json; application/zip whl; application/gzip gz; }}
  default_type application/octet-stream;
  server {{
    listen 127.0.0.1:{port};
    root {root};
    index index.json;
  }}
}}
"""
    )
    return conf
