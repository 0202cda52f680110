"""Soak: minutes of mixed traffic against pipgate while upstream faults come and go (issue 8).

    .venv/bin/python benchmarks/soak.py [--minutes 20] [--fault-every 30] [--seed 1]

``pipgate serve`` runs as a subprocess (its memory and file descriptors are sampled
every 5 s from /proc); the fake upstream (``tests/support/fake_upstream.py``, the
``bench`` projects plus a brand-new release and a typosquat, so there are holds to
review) runs in this process, so its fault knobs can be flipped: every ``--fault-every``
seconds upstream turns healthy or takes the next fault in turn (pages answering 503,
hanging, garbage, a project taken down; files corrupt, truncated, slow). The file
store is kept smaller than what is downloaded, so the 30 MB wheel is evicted and
fetched again, through the faults, over and over. Meanwhile, concurrently:

- page requests: every bench project, JSON and HTML, other spellings, unknown names;
- file requests, each body hashed and compared with the sha256 upstream lists;
- ``pip install bench-app`` (24 projects) into a fresh target, isolated from this
  machine's pip configuration;
- slow readers of the 30 MB wheel (8 KiB every 0.1 s for 10 s) and idle ones (none);
- admin actions with a configured token: list, show, stats, decisions, release by
  name, deny-list add and remove.

Reported: responses by kind and status (a 500 fails the run), files whose bytes did
not match (must be 0), pip installs, and pipgate's RSS and open descriptors per minute.
After a warm-up (every page in both formats and every file once, then the traffic for
``min(2 min, 20%)`` of the run) the traffic pauses until pipgate
is at rest (no download open, 15 s quiet), and again after the run. The run passes
when no response was a 500, every whole file matched, the median RSS of the last
minute is within 10% of the first measured minute, RSS at rest is within 10% of RSS
at rest after the warm-up, and neither the open files (caches, logs, downloads) nor
all descriptors at rest grew by more than 10%. Writes ``benchmarks/results/soak.json``
and ``soak.md`` (exit status 1 when the run did not pass).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import os
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks.harness import (
    PYTHON,
    RESULTS,
    fake_upstream_dir,
    free_port,
    machine_line,
    markdown_table,
    pipgate_argv,
)
from pipgate.proxy.quarantine.auth import hash_token
from tests.support.fake_upstream import (
    DATA_FORMAT,
    FakeFile,
    FakeProject,
    FakeUpstream,
    bench_projects,
    create_fake_upstream,
)
from tests.support.servers import client_env, run_process

WHEEL_PROJECT = "big-wheel"
#: (what, how) in turn, each after a healthy period.
FAULTS: list[tuple[str, str]] = [
    ("pages", "5xx"),
    ("files", "corrupt"),
    ("pages", "timeout"),
    ("files", "truncate"),
    ("pages", "garbage"),
    ("files", "slow"),
    ("project", "404"),
    ("files", "5xx"),
]
SAMPLE_EVERY = 5.0


@dataclass
class Tally:
    """What the traffic saw."""

    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    errors: Counter[tuple[str, str]] = field(default_factory=Counter)
    verified: int = 0
    mismatched: list[str] = field(default_factory=list)
    pip: Counter[str] = field(default_factory=Counter)
    pip_failures: list[str] = field(default_factory=list)
    phases: list[dict[str, object]] = field(default_factory=list)
    samples: list[dict[str, float]] = field(default_factory=list)
    #: pipgate at rest after the warm-up and after the run.
    rest: list[dict[str, float]] = field(default_factory=list)

    def status(self, kind: str, status: int) -> None:
        self.statuses[(kind, status)] += 1

    def error(self, kind: str, exc: BaseException) -> None:
        self.errors[(kind, type(exc).__name__)] += 1


def soak_upstream(dist_dir: Path) -> FakeUpstream:
    """The bench projects, a release uploaded today (held by age) and a typosquat."""
    projects = bench_projects(dist_dir)
    small = next(p for p in projects if p.name == "bench-small")
    now = datetime.now(UTC)
    young = [
        FakeFile.from_bytes(f.filename.replace("bench_small", "bench_young"), f.read() or b"")
        for f in small.files
    ]
    for f in young:
        f.upload_time = now - timedelta(hours=2)
    projects.append(FakeProject("bench-young", young))
    projects.append(FakeProject("reqeusts", [FakeFile.phantom("reqeusts-2.0.tar.gz", 1000)]))
    return create_fake_upstream(projects, hang_seconds=120, slow_chunk_size=64 * 1024)


def set_fault(upstream: FakeUpstream, fault: tuple[str, str] | None) -> None:
    upstream.heal()
    if fault is None:
        return
    where, how = fault
    if where == "pages":
        upstream.mode = how  # type: ignore[assignment]
    elif where == "files":
        upstream.file_mode = how  # type: ignore[assignment]
    else:
        upstream.project_modes["bench-lib-03"] = how  # type: ignore[assignment]


def real_files(upstream: FakeUpstream) -> list[tuple[str, FakeFile]]:
    return [
        (project.normalized, f)
        for project in upstream.projects.values()
        for f in project.files
        if f.content is not None and project.name != "bench-young"
    ]


def proxy_config(workdir: Path, token: str) -> Path:
    config = workdir / "pipgate.toml"
    config.write_text(
        f"""\
[upstream]
timeout = "10s"

[cache]
index_ttl = "20s"
max_size = "24MB"           # smaller than what is downloaded: the 30 MB wheel keeps coming back

[admin]
tokens = [{{ name = "soak", sha256 = "{hash_token(token)}", scope = "admin" }}]
"""
    )
    return config


# -- traffic ------------------------------------------------------------------------------


async def pages(client: httpx.AsyncClient, base: str, names: list[str], tally: Tally, until: float):
    rng = random.Random(secrets.randbits(32))
    while time.monotonic() < until:
        name = rng.choice(names)
        roll = rng.random()
        if roll < 0.1:
            name = f"soak-unknown-{rng.randrange(10_000)}"
        elif roll < 0.15:
            name = name.upper().replace("-", "_")
        accept = rng.choice(["application/vnd.pypi.simple.v1+json", "text/html", "*/*"])
        try:
            response = await client.get(f"{base}/simple/{name}/", headers={"Accept": accept})
            tally.status("page", response.status_code)
        except httpx.HTTPError as exc:
            tally.error("page", exc)
        await asyncio.sleep(rng.uniform(0.01, 0.1))


async def files(
    client: httpx.AsyncClient,
    base: str,
    targets: list[tuple[str, FakeFile]],
    tally: Tally,
    until: float,
):
    rng = random.Random(secrets.randbits(32))
    while time.monotonic() < until:
        project, f = rng.choice(targets)
        digest, received = hashlib.sha256(), 0
        url = f"{base}/files/{project}/{f.filename}"
        try:
            async with client.stream("GET", url) as response:
                async for chunk in response.aiter_raw():
                    digest.update(chunk)
                    received += len(chunk)
                tally.status("file", response.status_code)
                if response.status_code == 200:
                    if digest.hexdigest() == f.sha256 and received == f.size:
                        tally.verified += 1
                    else:
                        tally.mismatched.append(f"{f.filename}: {received} bytes")
        except httpx.HTTPError as exc:  # cut mid-body: a bad upstream file never completes
            tally.error("file", exc)
        await asyncio.sleep(rng.uniform(0.05, 0.3))


async def pip_installs(base: str, workdir: Path, tally: Tally, until: float):
    number = 0
    while time.monotonic() < until:
        number += 1
        target = workdir / f"pip-{number}"
        process = await asyncio.create_subprocess_exec(
            str(PYTHON),
            "-m",
            "pip",
            "install",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "--index-url",
            f"{base}/simple/",
            "--target",
            str(target),
            "bench-app",
            env=client_env(),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            _, err = await asyncio.wait_for(process.communicate(), 300)
            tally.pip["ok" if process.returncode == 0 else "failed"] += 1
            if process.returncode:
                fault = tally.phases[-1]["fault"] if tally.phases else "?"
                last = err.decode(errors="replace").strip().splitlines()[-1:] or ["?"]
                tally.pip_failures.append(f"during {fault}: {last[0][:200]}")
        except TimeoutError:
            process.kill()
            tally.pip["timed out"] += 1
        await asyncio.to_thread(_remove_tree, target)
        await asyncio.sleep(3)


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


async def slow_reader(url: httpx.URL, source: str, seconds: float, rate: int, tally: Tally):
    """Request ``url`` and read ``rate`` bytes every 0.1 s (0: nothing) for ``seconds``."""
    try:
        reader, writer = await asyncio.open_connection(
            url.host, url.port, local_addr=(source, 0), limit=16 * 1024
        )
    except OSError as exc:
        tally.error("slow reader", exc)
        return
    try:
        writer.write(f"GET {url.raw_path.decode()} HTTP/1.1\r\nHost: {url.host}\r\n\r\n".encode())
        await writer.drain()
        head = await asyncio.wait_for(reader.readline(), 30)
        match = re.match(rb"HTTP/1\.1 (\d{3})", head)
        tally.status("slow reader", int(match.group(1)) if match else 0)
        ends = time.monotonic() + seconds
        while time.monotonic() < ends:
            if rate:
                await reader.read(rate)
            await asyncio.sleep(0.1)
    except (OSError, TimeoutError) as exc:
        tally.error("slow reader", exc)
    finally:
        writer.close()


async def slow_readers(base: str, tally: Tally, until: float):
    url = httpx.URL(f"{base}/files/{WHEEL_PROJECT}/big_wheel-1.0.0-py3-none-any.whl")
    burst = 0
    while time.monotonic() < until:
        burst += 1
        readers = [
            slow_reader(url, f"127.0.1.{1 + n % 20}", 10, 8192 if n % 2 else 0, tally)
            for n in range(60)
        ]
        await asyncio.gather(*readers)
        await asyncio.sleep(10)


async def admin(client: httpx.AsyncClient, base: str, token: str, tally: Tally, until: float):
    headers = {"Authorization": f"Bearer {token}"}
    api = f"{base}/-/admin"
    round_ = 0
    while time.monotonic() < until:
        round_ += 1
        calls: list[tuple[str, str, dict[str, object] | None]] = [
            ("GET", "/quarantine?state=quarantined", None),
            ("GET", "/stats", None),
            ("GET", "/decisions?limit=20", None),
            ("GET", "/audit?limit=20", None),
        ]
        if round_ % 3 == 0:
            calls += [
                (
                    "POST",
                    "/decide/release",
                    {"project": "bench-young", "until": "1m", "reason": "soak"},
                ),
                ("POST", "/lists/deny/add", {"rule": f"soak-denied-{round_}", "reason": "soak"}),
                ("POST", "/lists/deny/remove", {"rule": f"soak-denied-{round_}"}),
            ]
        try:
            listed = await client.get(f"{api}/quarantine", headers=headers)
            tally.status("admin", listed.status_code)
            entries = listed.json().get("entries", []) if listed.status_code == 200 else []
            if entries:
                calls.append(("GET", f"/quarantine/{entries[0]['id']}", None))
            for method, path, body in calls:
                response = await client.request(method, api + path, headers=headers, json=body)
                tally.status("admin", response.status_code)
        except httpx.HTTPError as exc:
            tally.error("admin", exc)
        await asyncio.sleep(5)


async def faults(upstream: FakeUpstream, every: float, tally: Tally, until: float, start: float):
    turn = 0
    while time.monotonic() < until:
        fault = None if turn % 2 == 0 else FAULTS[(turn // 2) % len(FAULTS)]
        set_fault(upstream, fault)
        tally.phases.append(
            {"at_s": round(time.monotonic() - start), "fault": "/".join(fault) if fault else "none"}
        )
        turn += 1
        await asyncio.sleep(min(every, max(0.0, until - time.monotonic())))
    set_fault(upstream, None)


async def sampler(pid: int, tally: Tally, until: float, start: float):
    while time.monotonic() < until:
        fds = _fds(pid)
        tally.samples.append(
            {
                "t_s": round(time.monotonic() - start, 1),
                "rss_mb": round(_status_kb(pid, "VmRSS") / 1024, 1),
                "fds": sum(fds.values()),
                "files": fds["file"],
                "sockets": fds["socket"],
                "threads": _status_kb(pid, "Threads"),
            }
        )
        await asyncio.sleep(SAMPLE_EVERY)


def _fds(pid: int) -> Counter[str]:
    """Open descriptors by kind: ``file`` (a path: caches, logs, downloads), ``socket``, ``other``."""
    kinds: Counter[str] = Counter()
    directory = f"/proc/{pid}/fd"
    for fd in os.listdir(directory):
        try:
            target = os.readlink(f"{directory}/{fd}")
        except OSError:
            continue
        kinds["file" if target.startswith("/") else target.split(":")[0]] += 1
    other = sum(kinds.values()) - kinds["file"] - kinds["socket"]
    return Counter(file=kinds["file"], socket=kinds["socket"], other=other)


def _status_kb(pid: int, name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    return 0


async def traffic(
    base: str,
    upstream: FakeUpstream,
    pid: int,
    token: str,
    fault_every: float,
    workdir: Path,
    tally: Tally,
    start: float,
    seconds: float,
) -> None:
    """Every kind of traffic at once for ``seconds``, with the faults turning."""
    until = time.monotonic() + seconds
    names = sorted(upstream.projects)
    targets = real_files(upstream)
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(timeout=120, limits=limits, trust_env=False) as client:
        await asyncio.gather(
            faults(upstream, fault_every, tally, until, start),
            sampler(pid, tally, until, start),
            *(pages(client, base, names, tally, until) for _ in range(3)),
            *(files(client, base, targets, tally, until) for _ in range(2)),
            pip_installs(base, workdir, tally, until),
            slow_readers(base, tally, until),
            admin(client, base, token, tally, until),
        )


async def warm(base: str, upstream: FakeUpstream) -> None:
    """Fill pipgate's caches: every page in both formats, every file once."""
    async with httpx.AsyncClient(timeout=120, trust_env=False) as client:
        for name in sorted(upstream.projects):
            for accept in ("application/vnd.pypi.simple.v1+json", "text/html"):
                await client.get(f"{base}/simple/{name}/", headers={"Accept": accept})
        for project, f in real_files(upstream):
            await client.get(f"{base}/files/{project}/{f.filename}")


async def idle(pid: int, base: str, start: float, settle: float = 15.0) -> dict[str, float]:
    """pipgate at rest: once no download is open and ``settle`` seconds have passed
    (kept-alive connections and finished downloads let go within that)."""
    async with httpx.AsyncClient(timeout=30, trust_env=False) as client:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            metrics = (await client.get(f"{base}/metrics")).text
            if re.search(r"^pipgate_downloads_open 0\.0$", metrics, re.MULTILINE):
                break
            await asyncio.sleep(1)
    await asyncio.sleep(settle)
    fds = _fds(pid)
    return {
        "t_s": round(time.monotonic() - start, 1),
        "rss_mb": round(_status_kb(pid, "VmRSS") / 1024, 1),
        "fds": sum(fds.values()),
        "files": fds["file"],
        "sockets": fds["socket"],
        "threads": _status_kb(pid, "Threads"),
        "open_paths": _open_paths(pid),
    }


def _open_paths(pid: int) -> dict[str, int]:
    """The files open, counted by path with hex digests and numbers folded (what a growth
    of open files at rest is made of)."""
    directory = f"/proc/{pid}/fd"
    shapes: Counter[str] = Counter()
    for fd in os.listdir(directory):
        try:
            target = os.readlink(f"{directory}/{fd}")
        except OSError:
            continue
        if target.startswith("/"):
            shapes[re.sub(r"[0-9a-f]{8,}|\d+", "#", target)] += 1
    return dict(shapes.most_common())


async def soak(
    base: str, upstream: FakeUpstream, pid: int, token: str, args, workdir: Path
) -> Tally:  # type: ignore[no-untyped-def]
    """Warm-up (every page in both formats and every file once, then traffic), a rest,
    the measured traffic, a rest."""
    tally = Tally()
    start = time.monotonic()
    total = args.minutes * 60
    warmup = min(120.0, total * 0.2)
    await warm(base, upstream)
    await traffic(base, upstream, pid, token, args.fault_every, workdir, tally, start, warmup)
    set_fault(upstream, None)
    tally.rest.append(await idle(pid, base, start))
    await traffic(
        base, upstream, pid, token, args.fault_every, workdir, tally, start, total - warmup
    )
    set_fault(upstream, None)
    tally.rest.append(await idle(pid, base, start))
    return tally


# -- report -------------------------------------------------------------------------------


def flatness(samples: list[dict[str, float]], key: str, warmup: float) -> dict[str, float]:
    """``key`` in the first minute after ``warmup`` against the last minute: the median,
    the floor (the minimum), the extremes."""
    end = samples[-1]["t_s"]
    first = [s[key] for s in samples if warmup <= s["t_s"] < warmup + 60]
    last = [s[key] for s in samples if s["t_s"] >= end - 60]
    after = [s[key] for s in samples if s["t_s"] >= warmup]

    return {
        "first_minute": statistics.median(first),
        "last_minute": statistics.median(last),
        "change_pct": change_pct(statistics.median(first), statistics.median(last)),
        "first_minute_floor": min(first),
        "last_minute_floor": min(last),
        "floor_change_pct": change_pct(min(first), min(last)),
        "max": max(after),
        "min": min(after),
    }


def per_minute(samples: list[dict[str, float]]) -> list[list[object]]:
    rows = []
    for minute in range(int(samples[-1]["t_s"] // 60) + 1):
        chunk = [s for s in samples if minute * 60 <= s["t_s"] < (minute + 1) * 60]
        if chunk:
            rows.append(
                [
                    minute + 1,
                    f"{statistics.median(s['rss_mb'] for s in chunk):.0f}",
                    f"{max(s['rss_mb'] for s in chunk):.0f}",
                    f"{statistics.median(s['files'] for s in chunk):.0f}",
                    f"{statistics.median(s['fds'] for s in chunk):.0f}",
                    f"{min(s['fds'] for s in chunk):.0f}",
                    f"{max(s['fds'] for s in chunk):.0f}",
                ]
            )
    return rows


def server_500s(metrics: str) -> int:
    """Responses with status 500 that pipgate itself counted (``pipgate_requests_total``)."""
    lines = re.finditer(r"^pipgate_requests_total\{(.*)\} (\S+)$", metrics, re.MULTILINE)
    return int(sum(float(m.group(2)) for m in lines if 'status="500"' in m.group(1)))


def change_pct(before: float, after: float) -> float:
    return round((after - before) / before * 100, 1) if before else 0.0


def report(tally: Tally, args, metrics: str, log_text: str) -> tuple[dict[str, object], str]:  # type: ignore[no-untyped-def]
    measured_from = tally.rest[0]["t_s"]
    rss = flatness(tally.samples, "rss_mb", measured_from)
    fds = flatness(tally.samples, "fds", measured_from)
    files = flatness(tally.samples, "files", measured_from)
    rested, ended = tally.rest
    at_rest = {key: change_pct(rested[key], ended[key]) for key in ("rss_mb", "files", "fds")}
    seen_500 = sum(n for (kind, status), n in tally.statuses.items() if status == 500)
    served_500 = server_500s(metrics)
    total = sum(tally.statuses.values())
    cut = sum(n for (kind, _), n in tally.errors.items() if kind == "file")
    tracebacks = log_text.count("Traceback")
    raised = Counter(
        line[:160]
        for line in log_text.splitlines()
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Timeout)\b", line)
    )
    ok = (
        seen_500 == 0
        and served_500 == 0
        and not tally.mismatched
        and abs(rss["change_pct"]) <= 10
        and abs(at_rest["rss_mb"]) <= 10
        and at_rest["files"] <= 10
        and at_rest["fds"] <= 10
    )
    figures: dict[str, object] = {
        "minutes": args.minutes,
        "fault_every_s": args.fault_every,
        "passed": ok,
        "responses": total,
        "status_500_seen": seen_500,
        "status_500_server_metrics": served_500,
        "files_verified": tally.verified,
        "files_mismatched": tally.mismatched,
        "file_bodies_cut": cut,
        "pip_installs": dict(tally.pip),
        "pip_failures": tally.pip_failures,
        "rss_mb": rss,
        "fds": fds,
        "file_fds": files,
        "at_rest": {"after_warmup": rested, "after_run": ended, "change_pct": at_rest},
        "statuses": {f"{k} {s}": n for (k, s), n in sorted(tally.statuses.items())},
        "client_errors": {f"{k} {e}": n for (k, e), n in sorted(tally.errors.items())},
        "tracebacks_in_server_log": tracebacks,
        "exceptions_in_server_log": dict(raised.most_common(20)),
        "phases": tally.phases,
        "samples": tally.samples,
        "machine": machine_line(),
    }
    verdict = "passed" if ok else "**FAILED**"
    summary = [
        ["responses (all kinds)", f"{total:,}", ""],
        ["status 500, seen by clients / counted by pipgate", f"{seen_500} / {served_500}", "0"],
        ["file bodies hashed and matching the index", f"{tally.verified:,}", ""],
        ["file bodies served whole that did not match", str(len(tally.mismatched)), "0"],
        ["file bodies cut short (bad upstream bytes, never completed)", str(cut), ""],
        [
            "pip install bench-app (24 projects)",
            ", ".join(f"{k}: {v}" for k, v in sorted(tally.pip.items())),
            "",
        ],
        [
            "RSS while loaded, first minute → last minute (median of 5 s samples)",
            f"{rss['first_minute']:.0f} → {rss['last_minute']:.0f} MB ({rss['change_pct']:+.1f}%), "
            f"max {rss['max']:.0f}",
            "within 10%",
        ],
        [
            "RSS at rest, after the warm-up → after the run",
            f"{rested['rss_mb']:.0f} → {ended['rss_mb']:.0f} MB ({at_rest['rss_mb']:+.1f}%)",
            "within 10%",
        ],
        [
            "open files at rest (caches, logs, downloads), same",
            f"{rested['files']:.0f} → {ended['files']:.0f} ({at_rest['files']:+.1f}%); "
            f"while loaded: median {files['first_minute']:.0f} → {files['last_minute']:.0f}, "
            f"max {files['max']:.0f}",
            "growth ≤ 10%",
        ],
        [
            "all open descriptors at rest, same",
            f"{rested['fds']:.0f} → {ended['fds']:.0f} ({at_rest['fds']:+.1f}%); "
            f"while loaded: median {fds['first_minute']:.0f} → {fds['last_minute']:.0f}, "
            f"max {fds['max']:.0f}",
            "growth ≤ 10%",
        ],
    ]
    statuses = [
        [kind, status, f"{n:,}"] for (kind, status), n in sorted(tally.statuses.items())
    ] + [[kind, error, f"{n:,}"] for (kind, error), n in sorted(tally.errors.items())]
    text = "\n".join(
        [
            "# Soak",
            "",
            f"{args.minutes:g} minutes of mixed traffic against `pipgate serve` while the fake "
            f"upstream turns faulty every other {args.fault_every:g} s "
            f"({', '.join('/'.join(f) for f in FAULTS)}, in turn): {verdict}. "
            "A warm-up (every page in both formats and every file once, then "
            f"{min(120.0, args.minutes * 12):.0f} s of the traffic) is followed by a rest: "
            "pipgate is measured once no download is open and 15 s passed, and again the same "
            "way after the run.",
            "",
            markdown_table(["Figure", "Value", "Target"], summary),
            "",
            "Responses by kind and status (and client-side errors):",
            "",
            markdown_table(["kind", "status or error", "count"], statuses),
            "",
            "pipgate's memory and open file descriptors per minute (median, min and max of 5 s "
            "samples; slow-reader bursts of 60 sockets come every 20 s):",
            "",
            markdown_table(
                ["minute", "RSS MB", "max", "open files", "all fds", "min", "max"],
                per_minute(tally.samples),
            ),
            "",
            f"Machine: {machine_line()}.",
            "",
            "Reproduce: `.venv/bin/python benchmarks/soak.py --minutes 20`.",
            "",
        ]
    )
    return figures, text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--fault-every", type=float, default=30.0, help="seconds per phase")
    parser.add_argument("--out", type=Path, default=RESULTS / "soak")
    parser.add_argument("--server-log", type=Path, help="also keep pipgate's output here")
    args = parser.parse_args(argv)
    token = "pg_" + secrets.token_urlsafe(24)
    upstream = soak_upstream(fake_upstream_dir() / DATA_FORMAT)
    with tempfile.TemporaryDirectory(prefix="pipgate-soak-") as tmp, upstream.serve() as index:
        logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)  # the fake's truncations
        workdir = Path(tmp)
        port = free_port()
        argv_ = pipgate_argv(index, workdir / "data", proxy_config(workdir, token), port)
        ready = f"http://127.0.0.1:{port}/readyz"
        with run_process(argv_, ready, cwd=workdir, timeout=60) as proxy:
            base = f"http://127.0.0.1:{port}"
            tally = asyncio.run(soak(base, upstream, proxy.popen.pid, token, args, workdir))
            metrics = httpx.get(f"{base}/metrics", timeout=30).text
            log_text = proxy.output()
    if args.server_log:
        args.server_log.write_text(log_text)
    figures, text = report(tally, args, metrics, log_text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(figures, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(text)
    print(text)
    return 0 if figures["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
