"""uv through pipgate against uv straight from the upstream, on pages of realistic size.

    .venv/bin/python benchmarks/uv_resolve.py [--rounds 3] [--workers N]

An upstream of its own process (answers pre-rendered, as a CDN would) serves
``uv-app`` 1.0.0, which needs 20 libraries; every fifth of those needs one of three
base projects. Each library has two real releases (wheel, sdist, PEP 658 metadata)
and a history of older phantom releases (versions below 1.0, never chosen), so its
page is as large as real ones are: 50 to 5,000 files. For each round, with a fresh uv
cache each time:

- ``uv pip compile`` and ``uv pip install --target`` straight from the upstream;
- the same through a **fresh** pipgate (default policies; an empty data directory
  per command), so every page and file is cold;
- the same again through that pipgate once **warm**.

Writes ``benchmarks/results/uv_resolve.md`` and ``uv_resolve.json`` with ``--out``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks.harness import (
    POLICIES_DEFAULT,
    PYTHON,
    REPO,
    WORK,
    free_port,
    machine_line,
    markdown_table,
    pipgate_argv,
    storage_for,
)
from tests.support.servers import client_env, run_process

UV = PYTHON.with_name("uv")
APP = "uv-app"
LIBS = [f"uv-lib-{n:02d}" for n in range(1, 21)]
BASES = ["uv-base-1", "uv-base-2", "uv-base-3"]
#: Files on each library's page, cycled (PyPI: most pages are small, a few enormous).
PAGE_SIZES = (50, 120, 300, 800, 1500, 3000, 5000, 200, 80, 2000)
JSON_ACCEPT = "application/vnd.pypi.simple.v1+json"


def projects(dist_dir: Path) -> list[object]:
    from tests.support.fake_upstream import (
        FakeProject,
        _at,
        _release,
        generated_big_project,
    )

    day = _at("2024-01-01")
    out = [
        FakeProject(
            APP, _release(dist_dir, APP, "1.0.0", requires=tuple(f"{x}>=1.0" for x in LIBS))
        )
    ]
    for base in BASES:
        out.append(FakeProject(base, _release(dist_dir, base, "2.0.0", uploaded=day)))
    for i, lib in enumerate(LIBS):
        history = [
            f
            for f in generated_big_project(lib, PAGE_SIZES[i % len(PAGE_SIZES)] * 2).files
            if f.filename.split("-")[1].startswith("0.")
        ][: PAGE_SIZES[i % len(PAGE_SIZES)]]
        requires = (f"{BASES[i % 3]}>=2",) if i % 5 == 0 else ()
        real = []
        for n, version in enumerate(("1.0.0", "1.1.0")):
            real += _release(
                dist_dir, lib, version, requires=requires, uploaded=day + timedelta(days=30 * n)
            )
        out.append(FakeProject(lib, history + real))
    return out


def serve_upstream() -> int:
    """Serve the fixture until killed; print ``FAKE_UPSTREAM_URL=<index url>``."""
    import signal

    from tests.support.fake_upstream import create_fake_upstream
    from tests.support.servers import run_app

    dist_dir = WORK / "uv-resolve-dists"
    dist_dir.mkdir(parents=True, exist_ok=True)
    fixture = projects(dist_dir)
    upstream = create_fake_upstream(fixture)  # type: ignore[arg-type]
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with run_app(upstream.app) as base:
        index = f"{base}/simple/"
        with httpx.Client(trust_env=False, timeout=60) as client:
            for project in fixture:
                name = project.normalized  # type: ignore[attr-defined]
                page = client.get(f"{index}{name}/", headers={"Accept": JSON_ACCEPT})
                page.raise_for_status()
                upstream.raw_pages[name] = (page.headers["content-type"], page.content)
        print(f"FAKE_UPSTREAM_URL={index}", flush=True)
        while not stop.wait(0.5):
            pass
    return 0


def uv(command: str, index: str, work: Path) -> float:
    """Seconds for ``uv pip compile`` or ``uv pip install`` of ``uv-app`` from ``index``."""
    work.mkdir(parents=True, exist_ok=True)
    requirements = work / "requirements.in"
    requirements.write_text(f"{APP}\n")
    argv = [str(UV), "pip", command, "--index-url", index, "--cache-dir", str(work / "cache")]
    if command == "compile":
        argv += ["--python-version", "3.11", "-o", str(work / "requirements.txt"), "-q"]
    else:
        argv += ["--python", str(PYTHON), "--target", str(work / "target"), "-q"]
    argv.append(str(requirements) if command == "compile" else APP)
    began = time.perf_counter()
    done = subprocess.run(argv, env=client_env(), capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"uv pip {command} from {index} failed:\n{done.stderr[-3000:]}")
    if command == "install":
        installed = len(list((work / "target").glob("*.dist-info")))
        if installed != 1 + len(LIBS) + len(BASES):
            raise RuntimeError(f"uv installed {installed} projects from {index}")
    return elapsed


@contextmanager
def pipgate(upstream: str, data_dir: Path, workers: int | None) -> Iterator[str]:
    config = data_dir.parent / f"{data_dir.name}.toml"
    with storage_for(workers) as storage:
        config.write_text(POLICIES_DEFAULT + storage)
        port = free_port()
        command = pipgate_argv(upstream, data_dir, config, port)
        if workers:
            command += ["--workers", str(workers)]
        ready = f"http://127.0.0.1:{port}/readyz"
        with run_process(command, ready, cwd=data_dir.parent, timeout=60):
            yield f"http://127.0.0.1:{port}/simple/"


def run(rounds: int, workers: int | None) -> dict[str, object]:
    argv = [str(PYTHON), str(Path(__file__).resolve()), "--serve-upstream"]
    times: dict[str, list[float]] = {}
    with (
        run_process(argv, url_line_prefix="FAKE_UPSTREAM_URL=", cwd=REPO, timeout=600) as up,
        tempfile.TemporaryDirectory(prefix="pipgate-uv-") as tmp,
    ):
        work = Path(tmp)
        for number in range(rounds):
            for command in ("compile", "install"):
                key = f"{command} direct"
                times.setdefault(key, []).append(uv(command, up.url, work / f"{number}-{key}"))
                data = work / f"{number}-{command}-data"
                with pipgate(up.url, data, workers) as index:
                    for phase in ("fresh", "warm"):
                        key = f"{command} through pipgate, {phase}"
                        seconds = uv(command, index, work / f"{number}-{key}")
                        times.setdefault(key, []).append(seconds)
    pages = [PAGE_SIZES[i % len(PAGE_SIZES)] + 4 for i in range(len(LIBS))]
    return {
        "rounds": rounds,
        "workers": workers or 1,
        "projects": 1 + len(LIBS) + len(BASES),
        "files_on_pages": sum(pages),
        "seconds": times,
        "median": {key: statistics.median(values) for key, values in times.items()},
    }


def report(figures: dict[str, object]) -> str:
    median = figures["median"]
    assert isinstance(median, dict)
    rows = []
    for command in ("compile", "install"):
        direct = median[f"{command} direct"]
        for phase in ("direct", "through pipgate, fresh", "through pipgate, warm"):
            key = f"{command} {phase}"
            value = median[key]
            rows.append([f"`uv pip {command}`, {phase}", f"{value:.2f}", f"{value / direct:.2f}x"])
    return "\n".join(
        [
            f"## uv through pipgate ({figures['workers']} worker(s))",
            "",
            f"Machine: {machine_line()}.",
            "",
            f"`uv-app` and its {figures['projects'] - 1} dependencies; "
            f"{figures['files_on_pages']:,} files on their pages; medians of "
            f"{figures['rounds']} round(s), a fresh uv cache each time.",
            "",
            markdown_table(["", "seconds", "vs direct"], rows),
            "",
            "Goals (issue 15): through a fresh pipgate within 1.5x of direct; warm, faster "
            "than direct.",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--serve-upstream", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.serve_upstream:
        return serve_upstream()
    figures = run(args.rounds, args.workers)
    text = report(figures)
    print(text)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        stem = "uv_resolve" if not args.workers else f"uv_resolve_w{args.workers}"
        (args.out / f"{stem}.md").write_text(text)
        (args.out / f"{stem}.json").write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
