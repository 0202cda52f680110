"""Scan reports by sha256: kept with the rules version, re-scanned when the rules change."""

from __future__ import annotations

import asyncio
import hashlib
import json

from pipgate.proxy.files.scan_verdicts import ScanVerdicts
from pipgate.proxy.scan import RULES_VERSION, ScanLimits
from tests.support.archives import sdist

EVIL = sdist({"setup.py": "import base64\nexec(base64.b64decode('eA=='))\n"})
SHA = hashlib.sha256(EVIL).hexdigest()


def _file(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "demo-1.0.tar.gz"
    path.write_bytes(EVIL)
    return path


def test_scanned_once_and_kept_on_disk(tmp_path) -> None:
    verdicts = ScanVerdicts(tmp_path / "scans", ScanLimits())
    path = _file(tmp_path)

    async def scenario():  # type: ignore[no-untyped-def]
        return await asyncio.gather(*(verdicts.scan_path(SHA, path.name, path) for _ in range(5)))

    reports = asyncio.run(scenario())
    assert verdicts.scanned == 1
    assert {r.score for r in reports} == {reports[0].score} and reports[0].score >= 10
    stored = json.loads((tmp_path / "scans" / SHA[:2] / f"{SHA}.json").read_text())
    assert stored["rules_version"] == RULES_VERSION
    fresh = ScanVerdicts(tmp_path / "scans", ScanLimits())  # a restart: read from disk
    again = fresh.known(SHA)
    assert again is not None
    assert (again.score, again.findings) == (reports[0].score, reports[0].findings)


def test_a_report_of_other_rules_is_scanned_again(tmp_path) -> None:
    verdicts = ScanVerdicts(tmp_path / "scans", ScanLimits())
    path = _file(tmp_path)
    asyncio.run(verdicts.scan_path(SHA, path.name, path))
    report_file = tmp_path / "scans" / SHA[:2] / f"{SHA}.json"
    old = json.loads(report_file.read_text())
    report_file.write_text(json.dumps(old | {"rules_version": "0.old", "score": 0}))
    upgraded = ScanVerdicts(tmp_path / "scans", ScanLimits())
    assert upgraded.known(SHA) is None
    report = asyncio.run(upgraded.scan_stored(SHA, path.name, lambda: path.open("rb")))
    assert report is not None and report.rules_version == RULES_VERSION and report.score >= 10
    assert upgraded.scanned == 1


def test_an_evicted_file_has_no_report(tmp_path) -> None:
    verdicts = ScanVerdicts(tmp_path / "scans", ScanLimits())
    assert asyncio.run(verdicts.scan_stored(SHA, "demo-1.0.tar.gz", lambda: None)) is None
    assert verdicts.scanned == 0


def test_an_unreadable_report_file_is_ignored(tmp_path) -> None:
    target = tmp_path / "scans" / SHA[:2] / f"{SHA}.json"
    target.parent.mkdir(parents=True)
    target.write_text("{not json")
    assert ScanVerdicts(tmp_path / "scans", ScanLimits()).known(SHA) is None


def test_a_scanner_defects_verdict_holds_the_file_but_is_not_kept_on_disk(
    tmp_path, monkeypatch
) -> None:
    from pipgate.proxy.scan import SCANNER_ERROR, engine

    def broken(text: str) -> None:
        raise KeyError("a defect")

    monkeypatch.setattr(engine, "read_source", broken)
    verdicts = ScanVerdicts(tmp_path / "scans", ScanLimits())  # scans in a thread
    path = _file(tmp_path)
    report = asyncio.run(verdicts.scan_path(SHA, path.name, path))
    assert report is not None and (report.incomplete or "").startswith(SCANNER_ERROR)
    assert verdicts.known(SHA) is report  # held while this process runs
    assert not (tmp_path / "scans" / SHA[:2] / f"{SHA}.json").exists()
    assert ScanVerdicts(tmp_path / "scans", ScanLimits()).known(SHA) is None  # a fixed scanner
