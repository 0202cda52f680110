"""pipgate's own cost for a cold 10,000-file page, and what a cold page costs everyone else.

    .venv/bin/python benchmarks/cold_pages.py [--pages 5] [--files 10000] [--workers N]

An upstream of its own process serves ``bench-small`` and ``--pages`` projects of
``--files`` files each (``generated_big_project``: realistic names, sizes, upload times,
every 25th release yanked), their PEP 691 JSON rendered once beforehand, so upstream
answers as fast as a CDN would and the difference is pipgate's. Then, against a fresh
``pipgate serve`` (default policies, access log on):

- **own cost of a cold page**: each huge page asked for once through pipgate (cold) and
  once straight from upstream, with pip's ``Accept`` and ``Accept-Encoding: gzip``; the
  difference per page, median over pages;
- **warm requests while a cold page is processed**: one connection asks for the warm
  small page every 2 ms while another asks for other cold huge pages one after another;
  the warm latencies during that time beside those before it (p50, p99, max).

Writes ``benchmarks/results/cold_pages.md`` and ``cold_pages.json``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import orjson

from benchmarks.harness import (
    POLICIES_DEFAULT,
    PYTHON,
    REPO,
    free_port,
    machine_line,
    markdown_table,
    percentile,
    pipgate_argv,
    storage_for,
)
from tests.support.servers import run_process

PIP_HEADERS = {
    "Accept": (
        "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, "
        "text/html; q=0.01"
    ),
    "Accept-Encoding": "gzip, deflate",
}
SMALL = "bench-small"


def cold_name(number: int) -> str:
    return f"bench-cold-{number:02d}"


# -- the upstream, in a process of its own -------------------------------------------------


def serve_upstream(pages: int, files: int) -> int:
    """Serve the fixture until killed; print ``FAKE_UPSTREAM_URL=<index url>``."""
    import signal
    import tempfile

    from tests.support.fake_upstream import (
        FakeProject,
        _release,
        create_fake_upstream,
        generated_big_project,
    )
    from tests.support.servers import run_app

    with tempfile.TemporaryDirectory(prefix="pipgate-cold-") as tmp:
        small = FakeProject(SMALL, _release(Path(tmp), SMALL, "1.0.0"))
        projects = [small, *(generated_big_project(cold_name(n), files) for n in range(2 * pages))]
        upstream = create_fake_upstream(projects)
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        with run_app(upstream.app) as base:
            index = f"{base}/simple/"
            with httpx.Client(trust_env=False, timeout=60) as client:
                for project in projects[1:]:
                    response = client.get(f"{index}{project.normalized}/", headers=PIP_HEADERS)
                    response.raise_for_status()
                    upstream.raw_pages[project.normalized] = (
                        response.headers["content-type"],
                        response.content,
                    )
            print(f"FAKE_UPSTREAM_URL={index}", flush=True)
            while not stop.wait(0.5):
                pass
    return 0


# -- the measurements ---------------------------------------------------------------------


def timed_get(client: httpx.Client, url: str) -> tuple[float, int]:
    began = time.perf_counter()
    response = client.get(url, headers=PIP_HEADERS)
    elapsed = time.perf_counter() - began
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}: {response.text[:300]}")
    return elapsed, len(orjson.loads(response.content)["files"])  # not json: its CPU counts


def measure(upstream: str, pipgate: str, pages: int, files: int) -> dict[str, object]:
    """Pages ``0..pages-1`` are asked for alone (own cost); ``pages..2*pages-1`` while the
    warm small page is asked for back to back."""
    quiet = [cold_name(n) for n in range(pages)]
    loaded_names = [cold_name(n) for n in range(pages, 2 * pages)]
    with httpx.Client(trust_env=False, timeout=120) as client:
        for _ in range(3):
            timed_get(client, f"{pipgate}{SMALL}/")
        direct = []
        for name in quiet:
            timed_get(client, f"{upstream}{name}/")  # once to warm the upstream's socket
            seconds, listed = timed_get(client, f"{upstream}{name}/")
            if listed != files:
                raise RuntimeError(f"upstream lists {listed} files of {name}, not {files}")
            direct.append(seconds)
        cold = []
        for name in quiet:
            seconds, listed = timed_get(client, f"{pipgate}{name}/")
            if listed != files:
                raise RuntimeError(f"pipgate lists {listed} files of {name}, not {files}")
            cold.append(seconds)
            time.sleep(0.3)

    busy: list[tuple[float, float]] = []  # each cold page: (start, end)
    loaded_cold: list[float] = []
    # The warm client runs in a process of its own: in a thread of this one it would wait
    # for this process's GIL while the cold client decodes a 4 MB answer, and pipgate
    # would be blamed for it. (``perf_counter`` is the system's monotonic clock on Linux,
    # the same in both processes.)
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    results = context.Queue()
    loop = context.Process(target=warm_loop, args=(f"{pipgate}{SMALL}/", stop, results))
    loop.start()
    try:
        time.sleep(1.0)  # warm latencies at rest first
        with httpx.Client(trust_env=False, timeout=120) as client:
            timed_get(client, f"{pipgate}{SMALL}/")  # a connection of its own, open
            for name in loaded_names:
                began = time.perf_counter()
                seconds, _ = timed_get(client, f"{pipgate}{name}/")
                busy.append((began, began + seconds))
                loaded_cold.append(seconds)
                time.sleep(0.3)
        time.sleep(0.5)
    finally:
        stop.set()
        warm: list[tuple[float, float]] = results.get(timeout=60)  # (start, seconds)
        loop.join(60)

    def during(start: float, seconds: float) -> bool:
        return any(s <= start + seconds and start <= e for s, e in busy)

    rest = sorted(s for start, s in warm if start < busy[0][0])
    loaded = sorted(s for start, s in warm if during(start, s))
    own = [c - d for c, d in zip(cold, direct, strict=True)]
    return {
        "pages": pages,
        "files": files,
        "direct_ms": [round(d * 1000, 1) for d in direct],
        "through_ms": [round(c * 1000, 1) for c in cold],
        "own_ms": [round(o * 1000, 1) for o in own],
        "own_median_ms": round(statistics.median(own) * 1000, 1),
        "through_under_load_ms": [round(c * 1000, 1) for c in loaded_cold],
        "warm_rest": latency_summary(rest),
        "warm_during_cold": latency_summary(loaded),
    }


def warm_loop(url: str, stop: Any, results: Any) -> None:
    """Ask for ``url`` every 2 ms until ``stop`` is set; put the ``(start, seconds)`` of
    each request on ``results``."""
    warm = []
    with httpx.Client(trust_env=False, timeout=60) as client:
        while not stop.is_set():
            began = time.perf_counter()
            timed_get(client, url)
            warm.append((began, time.perf_counter() - began))
            time.sleep(0.002)  # a client's pace, not a flood: the loop is not saturated
    results.put(warm)


def latency_summary(latencies: list[float]) -> dict[str, float]:
    if not latencies:
        return {"n": 0}
    return {
        "n": len(latencies),
        "p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 99) * 1000, 2),
        "max_ms": round(latencies[-1] * 1000, 2),
    }


@contextmanager
def profiled(pid: int, out: Path | None) -> Iterator[None]:
    """``py-spy record`` of ``pid`` (and its workers) while the body runs, written to ``out``
    as collapsed stacks (``--format raw``), when ``out`` is given."""
    if out is None:
        yield
        return
    spy = PYTHON.with_name("py-spy")
    argv = [
        str(spy),
        "record",
        "--pid",
        str(pid),
        "--subprocesses",
        "--format",
        "raw",
        *(["--idle"] if os.environ.get("PIPGATE_SPY_IDLE") else []),
    ]
    recorder = subprocess.Popen([*argv, "-o", str(out), "--rate", "250"], stdout=subprocess.DEVNULL)
    time.sleep(1.0)  # attached
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)
        recorder.wait(60)


def run(
    pages: int, files: int, workers: int | None, profile: Path | None = None
) -> dict[str, object]:
    import tempfile

    argv = [str(PYTHON), str(Path(__file__).resolve()), "--serve-upstream"]
    argv += ["--pages", str(pages), "--files", str(files)]
    with (
        run_process(argv, url_line_prefix="FAKE_UPSTREAM_URL=", cwd=REPO, timeout=300) as up,
        tempfile.TemporaryDirectory(prefix="pipgate-cold-run-") as tmp,
        storage_for(workers) as storage,
    ):
        config = Path(tmp, "pipgate.toml")
        config.write_text(POLICIES_DEFAULT + storage)
        port = free_port()
        command = pipgate_argv(up.url, Path(tmp, "data"), config, port)
        if workers:
            command += ["--workers", str(workers)]
        with (
            run_process(command, f"http://127.0.0.1:{port}/readyz", cwd=tmp, timeout=60) as proc,
            profiled(proc.popen.pid, profile),
        ):
            figures = measure(up.url, f"http://127.0.0.1:{port}/simple/", pages, files)
            if os.environ.get("PIPGATE_BENCH_SHOW_LOG"):
                print(proc.output()[-5000:], file=sys.stderr)
    figures["workers"] = workers or 1
    return figures


def report(figures: dict[str, object]) -> str:
    rest, loaded = figures["warm_rest"], figures["warm_during_cold"]
    assert isinstance(rest, dict) and isinstance(loaded, dict)
    rows = [
        [
            "cold page: straight from upstream (ms)",
            ", ".join(f"{v:g}" for v in figures["direct_ms"]),  # type: ignore[attr-defined]
        ],
        [
            "cold page: through pipgate (ms)",
            ", ".join(f"{v:g}" for v in figures["through_ms"]),  # type: ignore[attr-defined]
        ],
        ["**pipgate's own cost, median (ms)**", f"**{figures['own_median_ms']}**"],
        [
            "cold page through pipgate while the small page is asked for (ms)",
            ", ".join(f"{v:g}" for v in figures["through_under_load_ms"]),  # type: ignore[attr-defined]
        ],
        [
            "warm small page at rest: p50 / p99 / max (ms)",
            f"{rest.get('p50_ms')} / {rest.get('p99_ms')} / {rest.get('max_ms')} (n={rest['n']})",
        ],
        [
            "warm small page while cold pages are processed: p50 / p99 / max (ms)",
            f"{loaded.get('p50_ms')} / {loaded.get('p99_ms')} / {loaded.get('max_ms')} "
            f"(n={loaded['n']})",
        ],
    ]
    return "\n".join(
        [
            f"## Cold {figures['files']:,}-file pages ({figures['workers']} worker(s))",
            "",
            f"Machine: {machine_line()}.",
            "",
            markdown_table(["", "figure"], rows),
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=5)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--profile", type=Path, help="py-spy collapsed stacks of pipgate")
    parser.add_argument("--serve-upstream", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None, help="write .md and .json here")
    args = parser.parse_args(argv)
    if args.serve_upstream:
        return serve_upstream(args.pages, args.files)
    figures = run(args.pages, args.files, args.workers, args.profile)
    text = report(figures)
    print(text)
    print(json.dumps(figures), file=sys.stderr)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        stem = "cold_pages" if not args.workers else f"cold_pages_w{args.workers}"
        (args.out / f"{stem}.md").write_text(text)
        (args.out / f"{stem}.json").write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
