"""Memory under slow readers: N clients open a cached 30 MB wheel and read nothing (issue 8).

    .venv/bin/python benchmarks/slow_readers.py [--readers 300] [--label branch] [--src DIR]

Starts the fake upstream (``bench`` scenario) and ``pipgate serve`` as subprocesses,
downloads the 30 MB wheel once so it is in the store, then opens ``--readers`` raw
sockets that each request the wheel and never read, spread over many loopback source
addresses (127.0.0.2, 127.0.0.3, ...; ``--per-client`` sockets each) the way separate
machines would come. It records pipgate's resident memory (VmRSS of the process) before,
while the sockets are open (once it stops growing), its peak (VmHWM), and after the
sockets are closed; and the status each socket got (200, or 503 over a download cap).

``--src DIR`` runs the pipgate found in DIR (``git archive main | tar -x -C DIR``)
instead of this checkout, to compare. Results are merged by ``--label`` into
``benchmarks/results/slow_readers.json`` and the table in ``slow_readers.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks.harness import (
    POLICIES_DEFAULT,
    PYTHON,
    RESULTS,
    fake_upstream_process,
    free_port,
    machine_line,
    markdown_table,
    memory_kb,
    pipgate_argv,
)
from benchmarks.pipgate_bench import warm
from tests.support.servers import RunningProcess, run_process


@contextmanager
def pipgate_process(upstream: str, workdir: Path, src: Path | None) -> Iterator[RunningProcess]:
    """``pipgate serve`` from this checkout, or from ``src`` when given."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "pipgate.toml"
    config.write_text(POLICIES_DEFAULT)
    port = free_port()
    argv = pipgate_argv(upstream, workdir / "data", config, port)
    env = dict(os.environ)
    if src is not None:
        argv = [str(PYTHON), "-m", "pipgate", *argv[argv.index("serve") :]]
        env["PYTHONPATH"] = str(src)
    with run_process(
        argv, f"http://127.0.0.1:{port}/readyz", env=env, cwd=workdir, timeout=60
    ) as proc:
        yield proc


def rss_mb(pid: int) -> float:
    return memory_kb(pid, "VmRSS") / 1024


def settle(pid: int, *, quiet: float = 3.0, limit: float = 60.0) -> float:
    """The RSS once it has not moved by more than 1% for ``quiet`` seconds."""
    deadline = time.monotonic() + limit
    last, since = rss_mb(pid), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = rss_mb(pid)
        if abs(now - last) > max(1.0, last * 0.01):
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return rss_mb(pid)


def open_readers(url: str, readers: int, per_client: int) -> list[socket.socket]:
    """``readers`` sockets that request ``url`` and read nothing (a small receive window)."""
    target = httpx.URL(url)
    request = (
        f"GET {target.raw_path.decode()} HTTP/1.1\r\nHost: {target.host}:{target.port}\r\n\r\n"
    ).encode()
    sockets = []
    for number in range(readers):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.bind((f"127.0.{2 + number // per_client // 250}.{2 + number // per_client % 250}", 0))
        sock.connect((target.host, target.port))
        sock.sendall(request)
        sockets.append(sock)
    return sockets


def statuses(sockets: list[socket.socket]) -> Counter[str]:
    """The status code each socket received (reads only the first bytes)."""
    seen: Counter[str] = Counter()
    for sock in sockets:
        sock.settimeout(5)
        try:
            head = sock.recv(64)
            seen[head.split(b" ", 2)[1].decode() if head.startswith(b"HTTP/") else "none"] += 1
        except OSError:
            seen["error"] += 1
    return seen


def run(readers: int, per_client: int, src: Path | None, workdir: Path) -> dict[str, object]:
    with (
        fake_upstream_process() as upstream,
        pipgate_process(upstream, workdir, src) as proxy,
    ):
        base = proxy.url.removesuffix("/readyz")
        pid = proxy.popen.pid
        with httpx.Client(timeout=60, trust_env=False) as client:
            wheel_url = warm(base, client)
        before = settle(pid)
        sockets = open_readers(wheel_url, readers, per_client)
        try:
            during = settle(pid)
            peak = memory_kb(pid, "VmHWM") / 1024
            seen = statuses(sockets)
        finally:
            for sock in sockets:
                sock.close()
        time.sleep(2)
        after = settle(pid)
        with httpx.Client(timeout=60, trust_env=False) as client:
            still_ok = client.get(wheel_url).status_code
    return {
        "readers": readers,
        "per_client": per_client,
        "rss_before_mb": round(before, 1),
        "rss_during_mb": round(during, 1),
        "rss_peak_mb": round(peak, 1),
        "rss_after_mb": round(after, 1),
        "per_reader_kib": round((during - before) * 1024 / readers, 1),
        "statuses": dict(seen),
        "served_after": still_ok,
    }


def write_results(label: str, figures: dict[str, object]) -> str:
    path = RESULTS / "slow_readers.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results[label] = {**figures, "machine": machine_line()}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    rows = [
        [
            name,
            r["readers"],
            f"{r['rss_before_mb']:.0f}",
            f"{r['rss_during_mb']:.0f}",
            f"{r['rss_peak_mb']:.0f}",
            f"{r['rss_after_mb']:.0f}",
            f"{r['per_reader_kib']:.0f}",
            ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items())),
        ]
        for name, r in results.items()
    ]
    text = "\n".join(
        [
            "# Slow readers of a cached 30 MB wheel",
            "",
            "Each reader opens a socket (4 KiB receive buffer), requests the wheel and reads "
            f"nothing; {figures['per_client']} readers per loopback source address. RSS of the "
            "pipgate process in MB: before, while the sockets are open (settled), peak (VmHWM), "
            "and after they are closed (settled).",
            "",
            markdown_table(
                [
                    "Run",
                    "readers",
                    "before",
                    "during",
                    "peak",
                    "after",
                    "KiB per reader",
                    "statuses",
                ],
                rows,
            ),
            "",
            f"Machine: {machine_line()}.",
            "",
            "Reproduce: `.venv/bin/python benchmarks/slow_readers.py --readers 300 --label NAME`"
            " (`--src DIR` for another checkout).",
            "",
        ]
    )
    (RESULTS / "slow_readers.md").write_text(text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readers", type=int, default=300)
    parser.add_argument("--per-client", type=int, default=10, help="sockets per source address")
    parser.add_argument("--label", default="this checkout")
    parser.add_argument("--src", type=Path, help="run the pipgate in this directory instead")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pipgate-slow-") as tmp:
        figures = run(args.readers, args.per_client, args.src, Path(tmp))
    print(json.dumps(figures, indent=2))
    print(write_results(args.label, figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
