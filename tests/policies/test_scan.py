"""The scan policy: a report's score and findings to a decision, with a reason."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from packaging.utils import canonicalize_name

from pipgate.policies.decision import Action
from pipgate.policies.scan import Finding, ScanPolicy, ScanReport
from pipgate.policies.subjects import FileSubject

NOW = datetime(2026, 11, 29, tzinfo=UTC)
DECODE = Finding("decode-exec", 10, "setup.py", 3, "decoded data into exec")
SINK = Finding("exfil-sink", 6, "demo/__init__.py", 12, "discord webhook")
WEAK = Finding("install-process", 2, "setup.py", 5, "subprocess.run")


def report(*findings: Finding, incomplete: str | None = None) -> ScanReport:
    return ScanReport("1.test", sum(f.weight for f in findings), findings, incomplete)


@pytest.mark.parametrize(
    ("policy", "scan", "action"),
    [
        (ScanPolicy(), report(), Action.ALLOW),
        (ScanPolicy(), report(WEAK), Action.ALLOW),
        (ScanPolicy(), report(DECODE), Action.QUARANTINE),
        (ScanPolicy(), report(SINK, WEAK), Action.ALLOW),
        (ScanPolicy(quarantine_at=8), report(SINK, WEAK), Action.QUARANTINE),
        (ScanPolicy(block_at=15), report(DECODE, SINK), Action.BLOCK),
        (ScanPolicy(block_at=15), report(DECODE), Action.QUARANTINE),
        (ScanPolicy(), report(incomplete="zip bomb"), Action.QUARANTINE),
        (ScanPolicy(unscannable=Action.BLOCK), report(incomplete="zip bomb"), Action.BLOCK),
        (ScanPolicy(unscannable=Action.ALLOW), report(incomplete="zip bomb"), Action.ALLOW),
    ],
)
def test_thresholds(policy: ScanPolicy, scan: ScanReport, action: Action) -> None:
    assert policy.decide(scan).action is action


def test_reason_names_rules_and_file_lines_heaviest_first() -> None:
    decision = ScanPolicy().decide(report(WEAK, SINK, DECODE))
    assert decision.policy == "scan"
    assert decision.reason.startswith("content scan score 18: decode-exec")
    assert "setup.py:3" in decision.reason and "demo/__init__.py:12" in decision.reason
    assert decision.reason.index("decode-exec") < decision.reason.index("exfil-sink")


def test_unscannable_reason_says_why() -> None:
    decision = ScanPolicy().decide(report(incomplete="decompression bomb: 1 from 2"))
    assert "could not be scanned: decompression bomb" in decision.reason


def test_check_file_reads_the_report_the_proxy_attached() -> None:
    subject = FileSubject(canonicalize_name("demo"), "demo-1.0.tar.gz", None, NOW)
    assert ScanPolicy().check_file(subject, NOW).allowed
    flagged = _with_scan(subject, report(DECODE))
    assert ScanPolicy().check_file(flagged, NOW).action is Action.QUARANTINE


def _with_scan(subject: FileSubject, scan: ScanReport):  # type: ignore[no-untyped-def]
    class Scanned:
        def __init__(self) -> None:
            self.scan = scan

        def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
            return getattr(subject, name)

    return Scanned()


@pytest.mark.parametrize(
    "kwargs",
    [{"quarantine_at": 0}, {"quarantine_at": 10, "block_at": 5}],
)
def test_invalid_thresholds(kwargs: dict) -> None:
    with pytest.raises(ValueError, match="scan:"):
        ScanPolicy(**kwargs)


def test_summary_and_json() -> None:
    scan = report(DECODE, SINK, WEAK)
    assert scan.summary(2) == (
        "score 18: decode-exec at setup.py:3; exfil-sink at demo/__init__.py:12 (+1 more)"
    )
    assert DECODE.as_json() == {
        "rule": "decode-exec",
        "weight": 10,
        "file": "setup.py",
        "line": 3,
        "detail": "decoded data into exec",
    }
