"""``pipgate scan``: judge distribution files on disk with the proxy's content scan.

The same engine and policy the proxy applies, configured by ``[policies.scan]`` of the
chosen index; one line (or JSON object) per archive, in the order given. Each archive is
scanned as the proxy scans it, in a worker process (``ScanWorkers``, ``jobs`` at once):
under the scan's memory limit and hard deadline, so a hostile archive in a wheelhouse
cannot take the runner's memory or hang the job; a worker that dies leaves its file
unscannable (judged by ``unscannable``) and the other files are scanned on. Exit status as
``policy check``: 0 when every file is allowed, 1 when one is quarantined or blocked, 2 on
a usage or configuration error.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipgate.policies.decision import Action, Decision
from pipgate.policies.scan import ScanPolicy, ScanReport
from pipgate.proxy.config.policies import ScanSettings, build_scan_policy
from pipgate.proxy.files.scan_workers import ScanWorkers, WorkerDied
from pipgate.proxy.scan import RULES_VERSION, ScanLimits, scan_archive

#: Most worker processes ``pipgate scan`` starts unless told: in a container, the CPUs
#: a process may run on are often the host's, not its quota, and each worker may hold
#: ``max_memory``.
MAX_DEFAULT_JOBS = 4


def default_jobs() -> int:
    """The CPUs this process may run on, at most ``MAX_DEFAULT_JOBS``."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_DEFAULT_JOBS))


#: One archive's verdict: its path, the scan's report and the policy's decision.
Result = tuple[Path, ScanReport, Decision]


def scan_files(
    paths: list[Path],
    settings: ScanSettings,
    jobs: int = 1,
    each: Callable[[Result], None] | None = None,
) -> list[Result]:
    """Scan each file in one of ``jobs`` worker processes (``0``: in this process, one
    after another, with no memory limit or alarm, as the proxy's ``workers = 0``) and judge
    it; the results in the order of ``paths``, each also handed to ``each`` as soon as it
    and those before it are known (so a long run shows its progress). ``mode = "off"`` is
    judged with the default thresholds."""
    policy = build_scan_policy(settings) or ScanPolicy()
    results: list[Result] = []

    def judged(path: Path, report: ScanReport) -> None:
        results.append((path, report, policy.decide(report)))
        if each is not None:
            each(results[-1])

    limits = settings.limits()
    if jobs == 0:
        for path in paths:
            judged(path, _in_this_process(path, limits))
    else:
        asyncio.run(_scan_all(paths, limits, jobs, judged))
    return results


async def _scan_all(
    paths: list[Path],
    limits: ScanLimits,
    jobs: int,
    judged: Callable[[Path, ScanReport], None],
) -> None:
    workers = ScanWorkers(jobs)
    # (ScanWorkers hands at most `jobs` scans to its processes at once; the rest wait.)
    scans = [asyncio.ensure_future(_in_a_worker(workers, path, limits)) for path in paths]
    try:
        for path, scan in zip(paths, scans, strict=True):
            judged(path, await scan)
    finally:
        for scan in scans:
            scan.cancel()
        workers.close()


async def _in_a_worker(workers: ScanWorkers, path: Path, limits: ScanLimits) -> ScanReport:
    try:
        return await workers.scan(path, path.name, limits)
    except WorkerDied as exc:
        return ScanReport(RULES_VERSION, 0.0, incomplete=str(exc))
    except OSError as exc:
        return _unreadable(exc)


def _in_this_process(path: Path, limits: ScanLimits) -> ScanReport:
    try:
        return scan_archive(path, path.name, limits)
    except OSError as exc:
        return _unreadable(exc)


def _unreadable(exc: OSError) -> ScanReport:
    """A file gone or unreadable since it was named: not scanned, so held."""
    return ScanReport(RULES_VERSION, 0.0, incomplete=f"could not be read: {exc}")


def as_json(path: Path, report: ScanReport, decision: Decision) -> dict[str, Any]:
    data: dict[str, Any] = {
        "file": str(path),
        "action": str(decision.action),
        "score": report.score,
        "reason": decision.reason,
        "rules_version": report.rules_version,
        "findings": [finding.as_json() for finding in report.findings],
    }
    if report.incomplete:
        data["incomplete"] = report.incomplete
    return data


def as_text(path: Path, report: ScanReport, decision: Decision) -> str:
    head = f"{path.name}: {decision.action} (score {report.score:g})"
    if report.incomplete:
        head += f" not scanned: {report.incomplete}"
    lines = [head]
    for finding in sorted(report.findings, key=lambda f: -f.weight):
        lines.append(
            f"  {finding.rule:<20} {finding.weight:>4g}  {finding.where}  {finding.detail}"
        )
    return "\n".join(lines)


def exit_status(results: list[Result]) -> int:
    return 1 if any(d.action is not Action.ALLOW for _, _, d in results) else 0


def render(result: Result, output: str) -> str:
    """One archive's verdict: a JSON object on one line, or text lines."""
    return json.dumps(as_json(*result)) if output == "json" else as_text(*result)
