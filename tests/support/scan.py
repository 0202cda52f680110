"""What the content scan and the default scan policy make of a synthetic archive."""

from __future__ import annotations

from pipgate.policies.scan import ScanPolicy
from pipgate.proxy.scan import scan_archive

from .archives import wheel

POLICY = ScanPolicy()


def judge(archive: bytes, filename: str) -> tuple[dict[str, float], bool]:
    """The rules found (the heaviest weight of each) and whether the default policy holds
    the archive. Fails if the scan could not finish."""
    report = scan_archive(archive, filename)
    assert report.incomplete is None
    rules: dict[str, float] = {}
    for item in report.findings:
        rules[item.rule] = max(rules.get(item.rule, 0.0), item.weight)
    return rules, not POLICY.decide(report).allowed


def judge_in_function(client: str) -> tuple[dict[str, float], bool]:
    """``judge`` of a wheel whose ``__init__`` imports the module ``client`` (code inside
    functions nothing calls on import)."""
    archive = wheel({"demo/__init__.py": "from .client import connect\n", "demo/client.py": client})
    return judge(archive, "demo-1.0-py3-none-any.whl")
