"""Reading a feed from a directory or a zip: lenient per record, strict per source."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from pipgate.policies.advisories import MALICIOUS, VULNERABILITIES
from pipgate.proxy.intel.sources import MAX_RECORD, FeedError, fingerprint, read_feed
from tests.support.osv_records import record, write_dir, zip_bytes

RECORDS = [
    record("MAL-2025-1", "evil-pkg"),
    record("MAL-2025-2", "hijacked", versions=["1.2.0"]),
    record("GHSA-aaaa-bbbb-cccc", "demo-pkg", ranges=[("0", "1.1.0")]),
    record("MAL-2025-3", "gone", withdrawn="2025-02-01T00:00:00Z"),
    record("MAL-2025-4", "left-pad", ecosystem="npm"),
]


def test_directory_is_read_recursively(tmp_path: Path) -> None:
    root = write_dir(tmp_path / "feed", RECORDS)
    (root / "README.md").write_text("not a record")
    contents = read_feed(root, [MALICIOUS, VULNERABILITIES])
    assert (contents.loaded, contents.bad, contents.ignored) == (3, 0, 2)
    assert sorted(contents.indexes[MALICIOUS].names()) == ["evil-pkg", "hijacked"]
    assert list(contents.indexes[VULNERABILITIES].names()) == ["demo-pkg"]


def test_zip_like_osv_export(tmp_path: Path) -> None:
    path = tmp_path / "all.zip"
    path.write_bytes(zip_bytes(RECORDS, {"notes.txt": b"x"}))
    contents = read_feed(path, [MALICIOUS])
    assert (contents.loaded, contents.ignored) == (2, 3)  # the GHSA record is not wanted
    assert set(contents.indexes) == {MALICIOUS}


def test_bad_records_are_skipped_and_counted(tmp_path: Path) -> None:
    root = write_dir(tmp_path / "feed", RECORDS[:2])
    (root / "pypi" / "broken.json").write_text('{"id": "MAL-9", "affected": [{"package": "PyPI"}]}')
    (root / "pypi" / "truncated.json").write_text(
        '{"id": "MAL-10", "summary": "PyPI", "affected": ['
    )
    (root / "pypi" / "huge.json").write_bytes(b"PyPI" + b" " * MAX_RECORD)
    contents = read_feed(root, [MALICIOUS])
    assert (contents.loaded, contents.bad) == (2, 3)
    assert any("MAL-9" in p and "package" in p for p in contents.problems)
    assert any("truncated.json: not JSON" in p for p in contents.problems)
    assert any("huge.json: larger than" in p for p in contents.problems)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p, "does not exist"),
        (lambda p: (p.mkdir(), p)[1], "holds no OSV records"),
        (lambda p: (p.write_bytes(b"PK\x03\x04 not really"), p)[1], "neither a directory nor"),
        (
            lambda p: (p.write_bytes(zip_bytes([], {"a.json": b'{"x": "PyPI"}'})), p)[1],
            "none of the 1 records",
        ),
    ],
    ids=["missing", "empty", "not a zip", "all bad"],
)
def test_a_source_that_cannot_be_used_is_an_error(tmp_path: Path, make, message: str) -> None:
    path = make(tmp_path / "feed")
    with pytest.raises(FeedError, match=message) as raised:
        read_feed(path, [MALICIOUS])
    assert "feed" in str(raised.value)


def test_damaged_zip_member(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "ok.zip", "w") as archive:  # a stored member we can corrupt
        archive.writestr("MAL-1.json", b'{"id": "MAL-1", "ecosystem": "PyPI"}' * 50)
    data = bytearray((tmp_path / "ok.zip").read_bytes())
    data[60:120] = b"\x00" * 60
    (tmp_path / "bad.zip").write_bytes(bytes(data))
    with pytest.raises(FeedError, match="damaged zip"):
        read_feed(tmp_path / "bad.zip", [MALICIOUS])


def test_fingerprint_changes_with_the_records(tmp_path: Path) -> None:
    root = write_dir(tmp_path / "feed", RECORDS[:1])
    first = fingerprint(root)
    assert first is not None and fingerprint(root) == first
    write_dir(root, RECORDS[1:2])
    assert fingerprint(root) != first
    assert fingerprint(tmp_path / "missing") is None
