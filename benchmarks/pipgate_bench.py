"""pipgate on its own, against the fake upstream's ``bench`` scenario (issue 2).

    .venv/bin/python benchmarks/pipgate_bench.py [--seconds 3] [--quick]

Starts the fake upstream and ``pipgate serve`` as subprocesses (fresh data dir,
policies at their defaults), warms every page and the 30 MB wheel, then measures:
warm page latency (sequential, p50/p99) and requests per second (16 connections)
for a small project and the 10,000-file project in JSON and HTML; warm file
throughput; peak RSS (VmHWM) after serving the 10,000-file page; and the policy
layer's cost: the warm 10,000-file JSON page with policies on versus all off, in
a second proxy run. Writes ``benchmarks/results/pipgate.md`` and prints it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks.harness import (
    ACCEPT,
    POLICIES_DEFAULT,
    POLICIES_OFF,
    RESULTS,
    Load,
    fake_upstream_process,
    fetch_ok,
    machine_line,
    markdown_table,
    measure,
    median,
    memory_kb,
    run_pipgate,
    wrk_available,
)

SMALL, HUGE, WHEEL_PROJECT = "bench-small", "bench-huge", "big-wheel"
HUGE_FILES = 10_000
POLICY_ROUNDS = 3
TARGETS = {"huge_json_p50_ms": 20.0, "rss_mb": 150.0, "policy_ms": 2.0}


def page_url(base: str, project: str) -> str:
    return f"{base}/simple/{project}/"


def warm(base: str, client: httpx.Client) -> str:
    """Fetch every benchmarked page in both formats and the big wheel until it is
    served from the store; return the wheel's URL on the proxy."""
    for project in (SMALL, HUGE, WHEEL_PROJECT):
        for fmt in ("json", "html"):
            fetch_ok(client, page_url(base, project), ACCEPT[fmt])
    check_page(client, base, HUGE, HUGE_FILES)
    page = client.get(page_url(base, WHEEL_PROJECT), headers=ACCEPT["json"]).json()
    wheel_url = str(httpx.URL(page_url(base, WHEEL_PROJECT)).join(page["files"][0]["url"]))
    deadline = time.monotonic() + 60
    while True:
        response = client.get(wheel_url)
        if response.status_code == 200 and response.headers.get("x-pipgate-cache") == "hit":
            return wheel_url
        if time.monotonic() > deadline:
            raise RuntimeError(f"{wheel_url} never came from the store: {response.status_code}")
        time.sleep(0.2)


def check_page(client: httpx.Client, base: str, project: str, expected: int) -> None:
    """Fail the run if a policy (or anything else) hid files the bench expects."""
    files = client.get(page_url(base, project), headers=ACCEPT["json"]).json()["files"]
    if len(files) != expected:
        raise RuntimeError(f"{project} lists {len(files)} files, expected {expected}")


def ms(value: float) -> str:
    return f"{value:.2f}"


def run(seconds: float, workdir: Path) -> tuple[str, dict[str, float]]:
    rows: list[list[str]] = []
    figures: dict[str, float] = {}
    tools: set[str] = set()

    def row(what: str, latency: Load, load: Load) -> None:
        tools.update({latency.tool, load.tool})
        errors = latency.errors + load.errors
        rows.append([what, ms(latency.p50_ms), ms(latency.p99_ms), f"{load.rps:,.0f}", str(errors)])

    with (
        fake_upstream_process() as upstream,
        run_pipgate(upstream, workdir / "on", POLICIES_DEFAULT) as proxy,
        run_pipgate(upstream, workdir / "off", POLICIES_OFF) as bare,
    ):
        base, bare_base = proxy.url.removesuffix("/readyz"), bare.url.removesuffix("/readyz")
        pid = proxy.popen.pid
        startup_rss = memory_kb(pid, "VmRSS")
        with httpx.Client(timeout=60, trust_env=False) as client:
            wheel_url = warm(base, client)
            warm(bare_base, client)
        for project, label in ((SMALL, "small project (2 files)"), (HUGE, "10,000-file project")):
            for fmt in ("json", "html"):
                url, headers = page_url(base, project), ACCEPT[fmt]
                latency = measure(url, headers=headers, connections=1, seconds=seconds)
                load = measure(url, headers=headers, connections=16, seconds=seconds)
                row(f"warm page, {label}, {fmt.upper()}", latency, load)
                figures[f"{project}_{fmt}_p50_ms"] = latency.p50_ms
                figures[f"{project}_{fmt}_rps"] = load.rps
        rss_after_pages = memory_kb(pid) / 1024
        file_load = measure(wheel_url, connections=1, seconds=seconds)
        tools.add(file_load.tool)
        rss_end = memory_kb(pid) / 1024
        # The policy layer: the same warm page from both proxies, taking turns.
        on_p50, off_p50 = [], []
        for _ in range(POLICY_ROUNDS):
            for target, sink in ((base, on_p50), (bare_base, off_p50)):
                url = page_url(target, HUGE)
                sink.append(measure(url, headers=ACCEPT["json"], seconds=seconds).p50_ms)
        on_huge, off_huge = median(on_p50), median(off_p50)
        rss_bare = memory_kb(bare.popen.pid) / 1024
        policy_ms = on_huge - off_huge

    figures.update(
        file_mb_s=file_load.mb_per_s,
        rss_after_pages_mb=rss_after_pages,
        rss_end_mb=rss_end,
        rss_policies_off_mb=rss_bare,
        policy_ms=policy_ms,
    )
    huge_p50 = figures[f"{HUGE}_json_p50_ms"]
    summary = [
        ["warm file throughput, 30 MB wheel, 1 connection", f"{file_load.mb_per_s:,.0f} MB/s", ""],
        ["RSS at start (VmRSS)", f"{startup_rss / 1024:.0f} MB", ""],
        [
            "peak RSS after serving the 10,000-file page (VmHWM)",
            f"{rss_after_pages:.0f} MB",
            f"< {TARGETS['rss_mb']:.0f} MB: {verdict(rss_after_pages < TARGETS['rss_mb'])}",
        ],
        ["peak RSS at the end of the run (VmHWM)", f"{rss_end:.0f} MB", ""],
        ["peak RSS, same pages, all policies off (VmHWM)", f"{rss_bare:.0f} MB", ""],
        [
            "warm 10,000-file JSON page, median",
            f"{huge_p50:.2f} ms",
            f"< {TARGETS['huge_json_p50_ms']:.0f} ms: "
            f"{verdict(huge_p50 < TARGETS['huge_json_p50_ms'])}",
        ],
        [
            "policy layer: 10,000-file JSON page, policies on minus all off (median)",
            f"{policy_ms:+.2f} ms ({on_huge:.2f} vs {off_huge:.2f})",
            f"< {TARGETS['policy_ms']:.0f} ms: {verdict(policy_ms < TARGETS['policy_ms'])}",
        ],
    ]
    text = "\n".join(
        [
            "# pipgate benchmark",
            "",
            f"Machine: {machine_line()}.",
            f"Load: {', '.join(sorted(tools))}; latency from sequential requests on one "
            f"keep-alive connection, requests/s at 16 connections, {seconds:g} s each. "
            "Fake upstream and pipgate on loopback, policies at their defaults (typosquat, "
            "release age 7 d), access log on, no compression requested.",
            "",
            markdown_table(["What", "p50 ms", "p99 ms", "requests/s (c=16)", "errors"], rows),
            "",
            markdown_table(["Figure", "Value", "Target"], summary),
            "",
            "Reproduce: `.venv/bin/python benchmarks/pipgate_bench.py`.",
            "",
        ]
    )
    return text, figures


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each measurement")
    parser.add_argument("--quick", action="store_true", help="1-second measurements")
    parser.add_argument("--out", type=Path, default=RESULTS / "pipgate.md")
    args = parser.parse_args(argv)
    seconds = 1.0 if args.quick else args.seconds
    if not wrk_available():
        print("wrk not found; using the httpx load generator (slower client)", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="pipgate-bench-") as tmp:
        text, _ = run(seconds, Path(tmp))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
