"""``pipgate scan``: judge distribution files on disk with the proxy's content scan.

The same engine and policy the proxy applies, configured by ``[policies.scan]`` of the
chosen index; one line (or JSON object) per archive. Exit status as ``policy check``:
0 when every file is allowed, 1 when one is quarantined or blocked, 2 on a usage or
configuration error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipgate.policies.decision import Action, Decision
from pipgate.policies.scan import ScanPolicy, ScanReport
from pipgate.proxy.config.policies import ScanSettings, build_scan_policy
from pipgate.proxy.scan import scan_archive


def scan_files(
    paths: list[Path], settings: ScanSettings
) -> list[tuple[Path, ScanReport, Decision]]:
    """Scan each file and judge it; ``mode = "off"`` is judged with the default thresholds."""
    policy = build_scan_policy(settings) or ScanPolicy()
    limits = settings.limits()
    results = []
    for path in paths:
        report = scan_archive(path, path.name, limits)
        results.append((path, report, policy.decide(report)))
    return results


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


def exit_status(results: list[tuple[Path, ScanReport, Decision]]) -> int:
    return 1 if any(d.action is not Action.ALLOW for _, _, d in results) else 0


def render(results: list[tuple[Path, ScanReport, Decision]], output: str) -> str:
    if output == "json":
        return "\n".join(json.dumps(as_json(*row)) for row in results)
    return "\n".join(as_text(*row) for row in results)
