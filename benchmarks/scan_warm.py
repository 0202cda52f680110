"""What the content scan costs everyone else: warm requests while large archives are scanned.

    .venv/bin/python benchmarks/scan_warm.py [--archives 5] [--clients 3] [--synthetic]
                                             [--scan-workers N] [--out benchmarks/results]

An upstream of its own process serves ``bench-small`` and ``--archives`` projects of one
large sdist each: the largest pure-Python sdists of the legitimate scan corpus
(``/work/scan-corpus/files``: kubernetes, google-cloud-aiplatform, litellm,
datadog-api-client, botocore; each 0.4-1.8 s of scan CPU), or, with ``--synthetic`` or
where that corpus is absent, generated sdists of a few thousand Python modules that the
scan parses (about a second of scan CPU each). Then, against a fresh ``pipgate serve``
(default policies, the scan on):

- every project page is asked for once (so only the files are cold), and a small wheel
  downloaded: the server's first scan, which starts its scan workers (timed apart);
- one connection, in a process of its own, asks for the warm small page every 2 ms;
- after a second at rest, ``--clients`` connections download the archives (each one
  distinct, so each is scanned once, before its last byte goes out);
- the warm latencies while any download is in flight beside those before (p50, p99,
  max), and scans per second over the download phase.

``--scan-workers N`` writes ``[policies.scan] workers = N`` (0: in a thread of the
server); without it pipgate's default applies. Writes ``scan_warm.md`` and
``scan_warm.json`` under ``--out`` (``--label`` is added to the names).
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import sys
import tarfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
import orjson

from benchmarks.cold_pages import PIP_HEADERS, SMALL, latency_summary, timed_get, warm_loop
from benchmarks.harness import (
    POLICIES_DEFAULT,
    PYTHON,
    REPO,
    free_port,
    machine_line,
    markdown_table,
    memory_kb,
    pipgate_argv,
    process_tree,
)
from tests.support.servers import run_process

CORPUS = Path("/work/scan-corpus/files")
#: Large legitimate sdists of mostly Python (PyPI files, served by the fake upstream).
CORPUS_FILES = (
    "kubernetes-37.0.2.tar.gz",
    "google_cloud_aiplatform-2.7.0.tar.gz",
    "litellm-1.110.2.tar.gz",
    "datadog_api_client-2.62.0.tar.gz",
    "botocore-1.44.8.tar.gz",
)


# -- the archives ---------------------------------------------------------------------------


def synthetic_sdist(name: str, modules: int = 3000) -> bytes:
    """An sdist of ``modules`` generated API-client modules, each imported by the
    package's ``__init__`` and each naming ``subprocess`` and ``os.environ`` (so the
    scan's triage passes them on to be parsed, as it does much of a real client library)."""
    package = name.replace("-", "_")
    root = f"{package}-1.0.0"
    members: dict[str, bytes] = {
        f"{root}/setup.py": b"from setuptools import setup\nsetup()\n",
        f"{root}/PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0.0\n".encode(),
    }
    imports = []
    for number in range(modules):
        module = f"model_{number:05d}"
        imports.append(f"from .{module} import Model{number}\n")
        members[f"{root}/{package}/{module}.py"] = _module(number).encode()
    members[f"{root}/{package}/__init__.py"] = "".join(imports).encode()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as archive:
        for path, blob in members.items():
            info = tarfile.TarInfo(path)
            info.size = len(blob)
            info.mtime = 1_700_000_000
            archive.addfile(info, io.BytesIO(blob))
    return raw.getvalue()


def _module(number: int) -> str:
    fields = "\n".join(
        f"    field_{i}: str | None = None  # the {i}th attribute of the model" for i in range(30)
    )
    methods = "\n".join(
        f"""
    def get_{i}(self, key: str, default: object = None) -> object:
        value = getattr(self, "field_{i}", default)
        if value is None and os.environ.get("MODEL_DEBUG_{i}"):
            return subprocess.run(["echo", key], capture_output=True, check=False).stdout
        return {{"key": key, "value": value, "index": {i}, "items": [v for v in range({i})]}}
"""
        for i in range(60)
    )
    return f'''"""Model {number}: generated."""
import os
import subprocess
from dataclasses import dataclass


@dataclass
class Model{number}:
    """A generated model with thirty fields."""
{fields}
{methods}
'''


# -- the upstream, in a process of its own -------------------------------------------------


def serve_upstream(archives: int, synthetic: bool) -> int:
    """Serve the fixture until killed; print ``FAKE_UPSTREAM_URL=<index url>`` and one
    ``ARCHIVE=<project> <filename> <bytes>`` line per archive first."""
    import signal
    import tempfile

    from tests.support.fake_upstream import FakeProject, _release, create_fake_upstream
    from tests.support.servers import run_app

    with tempfile.TemporaryDirectory(prefix="pipgate-scan-warm-") as tmp:
        projects = [FakeProject(SMALL, _release(Path(tmp), SMALL, "1.0.0"))]
        for project, file in bench_files(archives, synthetic, Path(tmp)):
            projects.append(FakeProject(project, [file]))
            print(f"ARCHIVE={project} {file.filename} {file.size}", flush=True)
        upstream = create_fake_upstream(projects)
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        with run_app(upstream.app) as base:
            print(f"FAKE_UPSTREAM_URL={base}/simple/", flush=True)
            while not stop.wait(0.5):
                pass
    return 0


def bench_files(archives: int, synthetic: bool, tmp: Path) -> list[tuple[str, Any]]:
    from packaging.utils import parse_sdist_filename

    from tests.support.fake_upstream import FakeFile

    found = [] if synthetic else [CORPUS / f for f in CORPUS_FILES if (CORPUS / f).exists()]
    files = []
    for path in found[:archives]:
        project = str(parse_sdist_filename(path.name)[0])
        files.append((project, FakeFile.from_path(path)))
    for number in range(archives - len(files)):
        name = f"bench-scan-{number:02d}"
        path = tmp / f"{name.replace('-', '_')}-1.0.0.tar.gz"
        path.write_bytes(synthetic_sdist(name))
        files.append((name, FakeFile.from_path(path)))
    return files


# -- the measurements ---------------------------------------------------------------------


def measure(pipgate: str, base: str, archives: list[tuple[str, str, int]], clients: int) -> dict:
    """Warm ``SMALL`` at rest, then while ``archives`` are downloaded by ``clients``."""
    with httpx.Client(trust_env=False, timeout=120) as client:
        for _ in range(3):
            timed_get(client, f"{pipgate}{SMALL}/")
        for project, _, _ in archives:  # pages cold now, not during the downloads
            response = client.get(f"{pipgate}{project}/", headers=PIP_HEADERS)
            response.raise_for_status()
        # The server's first scan, of a small wheel: it starts the scan workers (if any),
        # a cost paid once, reported here and kept out of the scans per second below.
        page = client.get(f"{pipgate}{SMALL}/", headers=PIP_HEADERS)
        wheel = next(f["url"] for f in orjson.loads(page.content)["files"] if ".whl" in f["url"])
        began = time.perf_counter()
        client.get(urljoin(f"{pipgate}{SMALL}/", wheel)).raise_for_status()
        first_scan = time.perf_counter() - began

    busy: list[tuple[float, float]] = []  # each download: (start, end)
    failures: list[str] = []
    todo = list(archives)
    lock = threading.Lock()

    def download() -> None:
        with httpx.Client(trust_env=False, timeout=300) as client:
            while True:
                with lock:
                    if not todo:
                        return
                    project, filename, size = todo.pop(0)
                began = time.perf_counter()
                got = 0
                with client.stream("GET", f"{base}/files/{project}/{filename}") as response:
                    for chunk in response.iter_raw():
                        got += len(chunk)
                    status = response.status_code
                ended = time.perf_counter()
                with lock:
                    busy.append((began, ended))
                    if status != 200 or got != size:
                        failures.append(f"{filename}: {status}, {got} of {size} bytes")

    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    results = context.Queue()
    loop = context.Process(target=warm_loop, args=(f"{pipgate}{SMALL}/", stop, results))
    loop.start()
    try:
        time.sleep(2.0)  # warm latencies at rest first
        threads = [threading.Thread(target=download) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        time.sleep(0.5)
    finally:
        stop.set()
        warm: list[tuple[float, float]] = results.get(timeout=60)  # (start, seconds)
        loop.join(60)
    if failures:
        raise RuntimeError("downloads failed: " + "; ".join(failures))

    first, last = min(s for s, _ in busy), max(e for _, e in busy)

    def during(start: float, seconds: float) -> bool:
        return any(s <= start + seconds and start <= e for s, e in busy)

    rest = sorted(s for start, s in warm if start < first)
    loaded = sorted(s for start, s in warm if during(start, s))
    return {
        "archives": [{"file": f, "bytes": b} for _, f, b in archives],
        "clients": clients,
        "first_small_download_ms": round(first_scan * 1000),
        "download_phase_s": round(last - first, 2),
        "scans_per_s": round(len(archives) / (last - first), 2),
        "download_ms": sorted(round((e - s) * 1000) for s, e in busy),
        "warm_rest": latency_summary(rest),
        "warm_during_scans": latency_summary(loaded),
    }


def run(archives: int, clients: int, synthetic: bool, scan_workers: int | None) -> dict:
    import tempfile

    argv = [str(PYTHON), str(Path(__file__).resolve()), "--serve-upstream"]
    argv += ["--archives", str(archives)] + (["--synthetic"] if synthetic else [])
    with (
        run_process(argv, url_line_prefix="FAKE_UPSTREAM_URL=", cwd=REPO, timeout=300) as up,
        tempfile.TemporaryDirectory(prefix="pipgate-scan-warm-run-") as tmp,
    ):
        served = [
            line.removeprefix("ARCHIVE=").split()
            for line in up.output().splitlines()
            if line.startswith("ARCHIVE=")
        ]
        files = [(project, filename, int(size)) for project, filename, size in served]
        config = Path(tmp, "pipgate.toml")
        scan_table = (
            "" if scan_workers is None else f"\n[policies.scan]\nworkers = {scan_workers}\n"
        )
        config.write_text(POLICIES_DEFAULT + scan_table)
        port = free_port()
        command = pipgate_argv(up.url, Path(tmp, "data"), config, port)
        base = f"http://127.0.0.1:{port}"
        with run_process(command, f"{base}/readyz", cwd=tmp, timeout=60) as proc:
            figures = measure(f"{base}/simple/", base, files, clients)
            tree = process_tree(proc.popen.pid)
            figures["processes"] = len(tree)  # the server, and its scan workers and fork server
            figures["rss_mb"] = round(memory_kb(proc.popen.pid, "VmRSS") / 1024)
            figures["peak_rss_mb"] = round(memory_kb(proc.popen.pid, "VmHWM") / 1024)
            scans = _scans(Path(tmp, "data", "scans"))
            if len(scans) < len(files):
                raise RuntimeError(
                    f"{len(scans)} reports for {len(files)} archives: {proc.output()}"
                )
    figures["scan_s"] = sorted(round(s, 2) for s in scans)
    figures["scan_workers"] = "default" if scan_workers is None else scan_workers
    figures["synthetic"] = synthetic or not any((CORPUS / f).exists() for f in CORPUS_FILES)
    return figures


def _scans(directory: Path) -> list[float]:
    """The ``seconds`` of each scan report pipgate kept."""
    return [float(json.loads(path.read_text())["seconds"]) for path in directory.glob("*/*.json")]


def report(figures: dict[str, Any], label: str) -> str:
    rest, loaded = figures["warm_rest"], figures["warm_during_scans"]
    names = ", ".join(a["file"] for a in figures["archives"])
    rows = [
        ["archives", names],
        ["their scan time in pipgate (s)", ", ".join(f"{s:g}" for s in figures["scan_s"])],
        [
            "the server's first scan: a small wheel's download (ms; starts the workers)",
            figures["first_small_download_ms"],
        ],
        ["download phase (s), clients", f"{figures['download_phase_s']}, {figures['clients']}"],
        ["**scans per second**", f"**{figures['scans_per_s']}**"],
        [
            "pipgate's processes after the scans; their memory, now / peak (MB)",
            f"{figures['processes']}; {figures['rss_mb']} / {figures['peak_rss_mb']}",
        ],
        [
            "warm small page at rest: p50 / p99 / max (ms)",
            f"{rest.get('p50_ms')} / {rest.get('p99_ms')} / {rest.get('max_ms')} (n={rest['n']})",
        ],
        [
            "**warm small page while archives are scanned: p50 / p99 / max (ms)**",
            f"**{loaded.get('p50_ms')} / {loaded.get('p99_ms')} / {loaded.get('max_ms')}** "
            f"(n={loaded['n']})",
        ],
    ]
    return "\n".join(
        [
            f"## Warm requests during content scans ({label}; scan workers: "
            f"{figures['scan_workers']})",
            "",
            f"Machine: {machine_line()}.",
            "",
            markdown_table(["", "figure"], rows),
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--archives", type=int, default=5)
    parser.add_argument("--clients", type=int, default=3)
    parser.add_argument("--synthetic", action="store_true", help="generated sdists only")
    parser.add_argument("--scan-workers", type=int, default=None)
    parser.add_argument("--label", default="", help="added to the names of the results")
    parser.add_argument("--serve-upstream", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None, help="write .md and .json here")
    args = parser.parse_args(argv)
    if args.serve_upstream:
        return serve_upstream(args.archives, args.synthetic)
    figures = run(args.archives, args.clients, args.synthetic, args.scan_workers)
    text = report(figures, args.label or "this code")
    print(text)
    print(json.dumps(figures), file=sys.stderr)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        stem = "scan_warm" + (f"_{args.label}" if args.label else "")
        (args.out / f"{stem}.md").write_text(text)
        (args.out / f"{stem}.json").write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
