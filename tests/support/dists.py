"""Real, installable distributions built in pure Python, byte-for-byte deterministic.

Every archive member carries a fixed timestamp and mode, and members are written in a
fixed order, so the same arguments always give the same bytes and the same sha256.

``build_wheel`` writes a ``py3-none-any`` wheel that pip and uv install. ``build_sdist``
writes a ``.tar.gz`` whose in-tree PEP 517 backend (``backend.py``, stdlib only,
``requires = []``) lets pip and uv build it with no network and no index.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import random
import re
import tarfile
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import Version

#: Every archive member's timestamp (zip needs >= 1980).
FIXED_DATE_TIME = (2020, 1, 1, 0, 0, 0)
FIXED_MTIME = 1577836800  # 2020-01-01T00:00:00Z

#: The module name of the in-tree build backend inside every sdist.
BACKEND_MODULE = "backend"


def dist_name(name: str) -> str:
    """``name`` as it appears in wheel and sdist filenames: ``Demo.Pkg`` -> ``demo_pkg``."""
    return canonicalize_name(name).replace("-", "_")


def import_name(name: str) -> str:
    """The top-level package each built distribution ships: ``demo-pkg`` -> ``demo_pkg``."""
    return re.sub(r"\W", "_", dist_name(name))


def wheel_filename(name: str, version: str) -> str:
    return f"{dist_name(name)}-{Version(version)}-py3-none-any.whl"


def sdist_filename(name: str, version: str) -> str:
    return f"{dist_name(name)}-{Version(version)}.tar.gz"


def core_metadata(
    name: str,
    version: str,
    *,
    requires: Iterable[str] = (),
    requires_python: str | None = None,
) -> bytes:
    """The core metadata (``METADATA`` / ``PKG-INFO``) for a built distribution."""
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {name}",
        f"Version: {Version(version)}",
        f"Summary: {name} test distribution built by pipgate's tests",
    ]
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    lines += [f"Requires-Dist: {req}" for req in requires]
    return ("\n".join(lines) + "\n\n").encode()


def build_wheel(
    dest_dir: str | Path,
    name: str,
    version: str,
    *,
    requires: Iterable[str] = (),
    requires_python: str | None = None,
    modules: Mapping[str, str] | None = None,
    size_padding: int = 0,
) -> Path:
    """Write ``<dist>-<version>-py3-none-any.whl`` into ``dest_dir`` and return its path.

    The wheel ships ``<import_name>/__init__.py`` defining ``__version__``. ``modules``
    maps extra archive paths (``"demo_pkg/extra.py"``) to their text; it may replace
    the ``__init__.py``. ``size_padding > 0`` adds a stored (uncompressed), incompressible,
    deterministic data file of that many bytes, so the wheel is at least that big.
    An existing file at the target path is overwritten.
    """
    requires = tuple(requires)
    version = str(Version(version))
    pkg = import_name(name)
    files: dict[str, bytes] = {f"{pkg}/__init__.py": _init_source(name, version).encode()}
    for path, text in (modules or {}).items():
        files[path] = text.encode()
    stored: dict[str, bytes] = {}
    if size_padding > 0:
        stored[f"{pkg}/padding.bin"] = _incompressible(f"{name}=={version}", size_padding)
    metadata = core_metadata(name, version, requires=requires, requires_python=requires_python)
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / wheel_filename(name, version)
    target.write_bytes(_wheel_bytes(name, version, files, stored, metadata))
    return target


def build_sdist(
    dest_dir: str | Path,
    name: str,
    version: str,
    *,
    requires: Iterable[str] = (),
    requires_python: str | None = None,
) -> Path:
    """Write ``<dist>-<version>.tar.gz`` into ``dest_dir`` and return its path.

    The sdist holds ``PKG-INFO``, ``pyproject.toml`` (static ``[project]`` table and an
    in-tree backend with ``requires = []``), ``backend.py`` and the same package
    ``build_wheel`` ships. Building it needs nothing but the standard library.
    """
    requires = tuple(requires)
    version = str(Version(version))
    root = f"{dist_name(name)}-{version}"
    pkg = import_name(name)
    metadata = core_metadata(name, version, requires=requires, requires_python=requires_python)
    members = {
        "PKG-INFO": metadata,
        "pyproject.toml": _pyproject(name, version, requires, requires_python).encode(),
        f"{BACKEND_MODULE}.py": BACKEND_SOURCE.encode(),
        f"{pkg}/__init__.py": _init_source(name, version).encode(),
    }
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / sdist_filename(name, version)
    target.write_bytes(_tar_gz_bytes({f"{root}/{path}": data for path, data in members.items()}))
    return target


def wheel_metadata(path: str | Path) -> bytes:
    """The ``METADATA`` file of the wheel at ``path`` (what PEP 658 serves as ``.metadata``).

    Raises ``ValueError`` if the wheel has no top-level ``*.dist-info/METADATA``.
    """
    with zipfile.ZipFile(path) as zf:
        for member in zf.namelist():
            parts = member.split("/")
            if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "METADATA":
                return zf.read(member)
    raise ValueError(f"{path}: no .dist-info/METADATA in wheel")


def sha256_of(path: str | Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _init_source(name: str, version: str) -> str:
    return f'"""{name}: a test distribution."""\n\n__version__ = "{version}"\n'


def _incompressible(seed: str, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _wheel_bytes(
    name: str,
    version: str,
    files: Mapping[str, bytes],
    stored: Mapping[str, bytes],
    metadata: bytes,
) -> bytes:
    info = f"{dist_name(name)}-{version}.dist-info"
    wheel = (
        b"Wheel-Version: 1.0\nGenerator: pipgate-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    members: list[tuple[str, bytes, int]] = [
        *((path, data, zipfile.ZIP_DEFLATED) for path, data in sorted(files.items())),
        *((path, data, zipfile.ZIP_STORED) for path, data in sorted(stored.items())),
        (f"{info}/METADATA", metadata, zipfile.ZIP_DEFLATED),
        (f"{info}/WHEEL", wheel, zipfile.ZIP_DEFLATED),
    ]
    record = "".join(f"{path},{_record_hash(data)},{len(data)}\n" for path, data, _ in members)
    record += f"{info}/RECORD,,\n"
    members.append((f"{info}/RECORD", record.encode(), zipfile.ZIP_DEFLATED))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path, data, compression in members:
            zinfo = zipfile.ZipInfo(path, date_time=FIXED_DATE_TIME)
            zinfo.external_attr = 0o644 << 16
            zinfo.create_system = 3
            zinfo.compress_type = compression
            zf.writestr(zinfo, data)
    return buf.getvalue()


def _tar_gz_bytes(members: Mapping[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for path, data in sorted(members.items()):
            tinfo = tarfile.TarInfo(path)
            tinfo.size = len(data)
            tinfo.mtime = FIXED_MTIME
            tinfo.mode = 0o644
            tinfo.uid = tinfo.gid = 0
            tinfo.uname = tinfo.gname = ""
            tf.addfile(tinfo, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _pyproject(
    name: str, version: str, requires: tuple[str, ...], requires_python: str | None
) -> str:
    deps = ", ".join(_toml_str(req) for req in requires)
    lines = [
        "[build-system]",
        "requires = []",
        f'build-backend = "{BACKEND_MODULE}"',
        'backend-path = ["."]',
        "",
        "[project]",
        f"name = {_toml_str(name)}",
        f"version = {_toml_str(version)}",
        f"dependencies = [{deps}]",
    ]
    if requires_python:
        lines.append(f"requires-python = {_toml_str(requires_python)}")
    return "\n".join(lines) + "\n"


#: The in-tree PEP 517 backend shipped in every sdist: stdlib only, metadata from PKG-INFO.
BACKEND_SOURCE = '''\
"""A tiny, self-contained PEP 517 backend (written by pipgate's test support)."""

import base64
import email.parser
import hashlib
import io
import os
import re
import tarfile
import zipfile

_HERE = os.path.dirname(os.path.abspath(__file__))
_DATE_TIME = (2020, 1, 1, 0, 0, 0)


def _metadata():
    with open(os.path.join(_HERE, "PKG-INFO"), "rb") as fh:
        raw = fh.read()
    msg = email.parser.BytesParser().parsebytes(raw)
    return raw, msg["Name"], msg["Version"]


def _dist(name):
    return re.sub(r"[-_.]+", "_", name).lower()


def _info_dir(name, version):
    return "%s-%s.dist-info" % (_dist(name), version)


def _wheel_text():
    return (
        b"Wheel-Version: 1.0\\nGenerator: pipgate-tests-backend\\n"
        b"Root-Is-Purelib: true\\nTag: py3-none-any\\n"
    )


def _package_files(name):
    pkg = re.sub(r"\\W", "_", _dist(name))
    found = []
    for root, _dirs, files in os.walk(os.path.join(_HERE, pkg)):
        for fname in files:
            if fname.endswith(".pyc"):
                continue
            full = os.path.join(root, fname)
            found.append(os.path.relpath(full, _HERE).replace(os.sep, "/"))
    return sorted(found)


def _record_hash(data):
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    raw, name, version = _metadata()
    info = _info_dir(name, version)
    os.makedirs(os.path.join(metadata_directory, info), exist_ok=True)
    with open(os.path.join(metadata_directory, info, "METADATA"), "wb") as fh:
        fh.write(raw)
    with open(os.path.join(metadata_directory, info, "WHEEL"), "wb") as fh:
        fh.write(_wheel_text())
    return info


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    raw, name, version = _metadata()
    info = _info_dir(name, version)
    members = []
    for rel in _package_files(name):
        with open(os.path.join(_HERE, rel), "rb") as fh:
            members.append((rel, fh.read()))
    members.append((info + "/METADATA", raw))
    members.append((info + "/WHEEL", _wheel_text()))
    record = "".join("%s,%s,%d\\n" % (p, _record_hash(d), len(d)) for p, d in members)
    members.append((info + "/RECORD", (record + info + "/RECORD,,\\n").encode()))
    filename = "%s-%s-py3-none-any.whl" % (_dist(name), version)
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as zf:
        for path, data in members:
            zinfo = zipfile.ZipInfo(path, date_time=_DATE_TIME)
            zinfo.external_attr = 0o644 << 16
            zinfo.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zinfo, data)
    return filename


def build_sdist(sdist_directory, config_settings=None):
    _raw, name, version = _metadata()
    root = "%s-%s" % (_dist(name), version)
    filename = root + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz") as tf:
        for rel in ["PKG-INFO", "pyproject.toml", "backend.py"] + _package_files(name):
            tf.add(os.path.join(_HERE, rel), arcname=root + "/" + rel)
    return filename
'''
