"""The scan's own tar reader gives the members ``tarfile`` gives, and hands what it does not
read the same way back to ``tarfile``."""

from __future__ import annotations

import io
import tarfile

import pytest

from pipgate.proxy.scan import ScanLimits, scan_archive
from pipgate.proxy.scan.archive import _walk_tar, _walk_tarfile
from pipgate.proxy.scan.limits import Deadline, Unscannable


def _tar(entries: list[tarfile.TarInfo | tuple[tarfile.TarInfo, bytes]], fmt: int) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=fmt) as archive:
        for entry in entries:
            if isinstance(entry, tuple):
                info, data = entry
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
            else:
                archive.addfile(entry)
    return raw.getvalue()


def _file(name: str, data: bytes = b"x = 1\n") -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def _special(name: str, kind: bytes, target: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


LONG = "demo-1.0/" + "deep/" * 40 + "module.py"  # past the 100 bytes of a ustar name
MEMBERS = [
    _file("demo-1.0/setup.py", b"from setuptools import setup\nsetup()\n"),
    _special("demo-1.0/demo", tarfile.DIRTYPE),
    _file("demo-1.0/demo/__init__.py", "# ünïcode\n".encode()),
    _file(LONG, b"y = 2\n" * 500),
    _special("demo-1.0/demo/link.py", tarfile.SYMTYPE, "/etc/passwd"),
    _special("demo-1.0/demo/hard.py", tarfile.LNKTYPE, "demo-1.0/setup.py"),
    _special("demo-1.0/fifo", tarfile.FIFOTYPE),
    _file("demo-1.0/../evil.py"),
    _file("demo-1.0/data.bin", bytes(range(256)) * 40),
]


def _members(walk, data: bytes) -> list[tuple]:  # type: ignore[no-untyped-def]
    out = []
    try:
        for member in walk(io.BytesIO(data), data[:512], ScanLimits(), Deadline(60), _want):
            out.append((member.path, member.size, member.unsafe, member.data, member.truncated))
    except Unscannable as exc:
        out.append(("unscannable", str(exc)))
    return out


def _want(path: str, size: int) -> int:
    return 1000


@pytest.mark.parametrize(
    "fmt",
    [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT],
    ids=["pax", "gnu", "ustar"],
)
def test_same_members_as_tarfile(fmt: int) -> None:
    data = _tar(MEMBERS, fmt)  # ustar splits the long name into its prefix field
    ours = _members(_walk_tar, data)
    assert ours == _members(_walk_tarfile, data)
    assert len(ours) == len(MEMBERS) - 1  # the directory is not a member
    assert (LONG, 3000, None, b"y = 2\n" * 166 + b"y = ", True) in ours
    assert ("demo-1.0/demo/link.py", 0, "link", None, False) in ours


def test_a_pax_size_and_path_override_the_header() -> None:
    info, data = _file("short.py", b"z = 3\n" * 100)
    info.pax_headers = {"path": "demo-1.0/" + "p" * 120 + ".py"}
    archive = _tar([(info, data), _file("demo-1.0/after.py")], tarfile.PAX_FORMAT)
    ours = _members(_walk_tar, archive)
    assert ours == _members(_walk_tarfile, archive)
    assert ours[0][0].endswith("p" * 120 + ".py") and ours[1][0] == "demo-1.0/after.py"


def test_what_it_leaves_to_tarfile_is_read_by_tarfile() -> None:
    # An unknown member type after two ordinary members: tarfile reads the rest, and the
    # members already given are not given twice.
    odd = tarfile.TarInfo("demo-1.0/odd")
    odd.type = b"Z"
    data = _tar(
        [_file("demo-1.0/a.py"), _file("demo-1.0/b.py"), odd, _file("demo-1.0/c.py")],
        tarfile.GNU_FORMAT,
    )
    ours = _members(_walk_tar, data)
    assert ours == _members(_walk_tarfile, data)
    assert [m[0] for m in ours] == [
        "demo-1.0/a.py",
        "demo-1.0/b.py",
        "demo-1.0/odd",
        "demo-1.0/c.py",
    ]


def test_a_bad_checksum_first_is_unreadable_later_ends_the_archive() -> None:
    data = bytearray(_tar([_file("demo-1.0/a.py"), _file("demo-1.0/b.py")], tarfile.USTAR_FORMAT))
    later = bytearray(data)
    later[1024 + 148 : 1024 + 156] = b"0000000\0"  # b.py's header
    assert _members(_walk_tar, bytes(later)) == _members(_walk_tarfile, bytes(later))
    assert [m[0] for m in _members(_walk_tar, bytes(later))] == ["demo-1.0/a.py"]
    data[148:156] = b"0000000\0"
    first = _members(_walk_tar, bytes(data))
    assert first[-1][0] == "unscannable" and "checksum" in first[-1][1]


def test_truncated_data_is_unscannable() -> None:
    data = _tar([_file("demo-1.0/setup.py", b"x = 1\n" * 2000)], tarfile.PAX_FORMAT)
    report = scan_archive(data[:3000], "demo-1.0.tar")
    assert report.incomplete is not None and "end of data" in report.incomplete
