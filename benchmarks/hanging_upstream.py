"""Request latency while upstream accepts connections and never answers (issue 8).

    .venv/bin/python benchmarks/hanging_upstream.py [--rounds 5] [--src DIR]

Starts the fake upstream (``standard`` projects, in this process) and ``pipgate serve``
with its defaults except ``index_ttl = "2s"``; caches the ``demo-pkg`` page and a wheel,
waits until the page is past its TTL, makes upstream hang, then times ``--rounds`` pairs
of requests (the page, then the wheel) and prints one line each: status, seconds, whether
the page was marked stale, and how many upstream requests were hanging at that moment.
``--src DIR`` runs the pipgate in DIR instead (``git archive main | tar -x -C DIR``):
there each request takes the full upstream timeout and retries (3 x 30 s).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks.harness import PYTHON, free_port
from tests.support.fake_upstream import create_fake_upstream, standard_projects
from tests.support.servers import run_process

WHEEL = "demo_pkg-1.1.0-py3-none-any.whl"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--src", type=Path, help="run the pipgate in this directory instead")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pipgate-hang-") as tmp:
        work = Path(tmp)
        upstream = create_fake_upstream(standard_projects(work / "dists"), hang_seconds=600)
        config = work / "pipgate.toml"
        config.write_text('[cache]\nindex_ttl = "2s"\n')
        port = free_port()
        argv_ = [str(PYTHON), "-m", "pipgate", "serve", "--port", str(port)]
        argv_ += ["--data-dir", str(work / "data"), "--config", str(config)]
        env = dict(os.environ)
        if args.src is not None:
            env["PYTHONPATH"] = str(args.src)
        with upstream.serve() as index:
            argv_ += ["--upstream", index, "--log-level", "warning"]
            with run_process(argv_, f"http://127.0.0.1:{port}/readyz", env=env, timeout=60):
                base = f"http://127.0.0.1:{port}"
                page, wheel = f"{base}/simple/demo-pkg/", f"{base}/files/demo-pkg/{WHEEL}"
                with httpx.Client(timeout=300, trust_env=False) as client:
                    for url in (page, wheel):
                        client.get(url).raise_for_status()
                    time.sleep(2.5)
                    upstream.mode = "timeout"
                    for what, url in [("page", page), ("file", wheel)] * args.rounds:
                        started = time.perf_counter()
                        response = client.get(url)
                        print(
                            f"{what}: {response.status_code} in "
                            f"{time.perf_counter() - started:.3f} s, "
                            f"stale: {'x-pipgate-stale' in response.headers}, "
                            f"upstream requests hanging: {upstream.hanging}",
                            flush=True,
                        )
                upstream.heal()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
