"""Warm 30 MB wheel throughput: this checkout vs another pipgate vs nginx, taking turns (issue 15).

    .venv/bin/python benchmarks/files_throughput.py [--src DIR] [--rounds 6] [--seconds 3]

Starts the fake upstream (``bench`` scenario), ``pipgate serve`` from this checkout
("branch") and, with ``--src DIR`` (``git archive main | tar -x -C DIR``), from that
source ("other"), and nginx (when installed) serving the very same bytes with
sendfile. Each pipgate downloads the wheel once so it is in its store; then every
round measures each server in turn with one keep-alive connection (``wrk -c1`` when
installed) for ``--seconds``. The machine is shared, so the order alternates and the
medians are what count; the load average is recorded with each round. ``--hogs N``
keeps N busy-looping processes running meanwhile, a loaded machine made repeatable
(they are ended when the run ends).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks.harness import (
    POLICIES_DEFAULT,
    PYTHON,
    fake_upstream_process,
    free_port,
    measure,
    nginx_conf,
    pipgate_argv,
    process_tree,
)
from benchmarks.pipgate_bench import warm
from tests.support.servers import run_process


@contextmanager
def pipgate_at(upstream: str, workdir: Path, src: Path | None) -> Iterator[tuple[str, int]]:
    """``pipgate serve`` (from ``src`` when given); yields the warm wheel's URL and the pid."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "pipgate.toml"
    config.write_text(POLICIES_DEFAULT)
    port = free_port()
    argv = pipgate_argv(upstream, workdir / "data", config, port)
    env = dict(os.environ)
    if src is not None:
        argv = [str(PYTHON), "-m", "pipgate", *argv[argv.index("serve") :]]
        env["PYTHONPATH"] = str(src)
    ready = f"http://127.0.0.1:{port}/readyz"
    with run_process(argv, ready, env=env, cwd=workdir, timeout=90) as proc:
        with httpx.Client(timeout=120, trust_env=False) as client:
            yield warm(f"http://127.0.0.1:{port}", client), proc.popen.pid


@contextmanager
def nginx_serving(body: bytes, workdir: Path) -> Iterator[tuple[str, int]]:
    """nginx (one worker, sendfile, no access log) serving ``body``; yields URL and pid."""
    root = workdir / "root"
    root.mkdir(parents=True)
    (root / "wheel.whl").write_bytes(body)
    port = free_port()
    conf = nginx_conf(workdir, port, root)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    url = f"http://127.0.0.1:{port}/wheel.whl"
    argv = [nginx, "-p", str(workdir), "-c", str(conf)]
    with run_process(argv, url, cwd=workdir, timeout=30) as proc:
        yield url, proc.popen.pid


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` and its descendants so far."""
    total = 0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


@contextmanager
def cpu_hogs(count: int) -> Iterator[None]:
    """``count`` processes spinning on a core each, for as long as the block runs."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, help="another pipgate's source to compare")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--no-nginx", action="store_true")
    parser.add_argument("--hogs", type=int, default=0, help="busy processes meanwhile")
    options = parser.parse_args()

    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="pipgate-files-") as tmp:
        work = Path(tmp)
        upstream = stack.enter_context(fake_upstream_process())
        urls = {"branch": stack.enter_context(pipgate_at(upstream, work / "branch", None))}
        if options.src is not None:
            urls["other"] = stack.enter_context(pipgate_at(upstream, work / "other", options.src))
        have_nginx = shutil.which("nginx") or os.access("/usr/sbin/nginx", os.X_OK)
        if have_nginx and not options.no_nginx:
            body = httpx.get(urls["branch"][0], timeout=120, trust_env=False).content
            urls["nginx"] = stack.enter_context(nginx_serving(body, work / "nginx"))
        figures: dict[str, list[float]] = {name: [] for name in urls}
        cpu: dict[str, list[float]] = {name: [] for name in urls}
        names = list(urls)
        stack.enter_context(cpu_hogs(options.hogs))
        for round_no in range(options.rounds):
            order = names if round_no % 2 == 0 else names[::-1]
            cells = []
            for name in order:
                url, pid = urls[name]
                before = cpu_seconds(pid)
                load = measure(url, seconds=options.seconds)
                if load.errors:
                    raise RuntimeError(f"{name}: {load.errors} errors")
                mb_s = load.bytes / load.seconds / 1e6
                figures[name].append(mb_s)
                cpu[name].append((cpu_seconds(pid) - before) / (load.bytes / 1e9))
                cells.append(f"{name} {mb_s:,.0f} MB/s {cpu[name][-1]:.2f} cpu-s/GB")
            load1 = os.getloadavg()[0]
            print(f"round {round_no + 1}: {', '.join(cells)}; load {load1:.1f}", flush=True)
            time.sleep(0.5)
        print(
            f"tool: {load.tool}, 1 connection, {options.seconds:.0f} s per run, {options.hogs} hogs"
        )
        for name, values in figures.items():
            line = f"{name}: median {statistics.median(values):,.0f} MB/s"
            line += f", server CPU {statistics.median(cpu[name]):.2f} s per GB"
            if "nginx" in figures and name != "nginx":
                share = statistics.median(values) / statistics.median(figures["nginx"])
                line += f" ({share:.0%} of nginx)"
            print(line + f"  runs: {', '.join(f'{v:,.0f}' for v in values)}")


if __name__ == "__main__":
    main()
