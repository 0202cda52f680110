"""Small OSV records written for tests, and feeds made of them (a directory or a zip).

``record("MAL-2025-1", "evil-pkg")`` is a record that condemns every version;
``versions=`` and ``ranges=`` narrow it (``ranges=[("0", "2.0")]`` is one
ECOSYSTEM range introduced at 0 and fixed in 2.0; a third element gives
``last_affected`` instead of ``fixed``).
``index_of(*records)`` reads records into the ``AdvisoryIndex`` a policy judges with;
``file_subject`` is the file of a version the policies are asked about.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from packaging.utils import NormalizedName
from packaging.version import Version

from pipgate.policies.advisories import VULNERABILITIES, AdvisoryIndex
from pipgate.policies.osv import FeedReader
from pipgate.policies.subjects import FileSubject

Range = tuple[str, str | None] | tuple[str, str | None, str]


def record(
    advisory_id: str,
    name: str,
    *,
    versions: Sequence[str] | None = None,
    ranges: Sequence[Range] | None = None,
    aliases: Sequence[str] = (),
    summary: str | None = None,
    cvss: str | None = None,
    severity: str | None = None,
    withdrawn: str | None = None,
    ecosystem: str = "PyPI",
    modified: str = "2025-01-01T00:00:00Z",
) -> dict[str, Any]:
    affected: dict[str, Any] = {"package": {"ecosystem": ecosystem, "name": name}}
    if versions is not None:
        affected["versions"] = list(versions)
    if ranges is not None:
        affected["ranges"] = [{"type": "ECOSYSTEM", "events": _events(r)} for r in ranges]
    data: dict[str, Any] = {
        "schema_version": "1.6.0",
        "id": advisory_id,
        "modified": modified,
        "published": "2025-01-01T00:00:00Z",
        "aliases": list(aliases),
        "summary": summary if summary is not None else f"Advisory {advisory_id} for {name}",
        "details": "Written for pipgate's tests.",
        "affected": [affected],
    }
    if cvss:
        data["severity"] = [{"type": "CVSS_V3", "score": cvss}]
    if severity:
        data["database_specific"] = {"severity": severity}
    if withdrawn:
        data["withdrawn"] = withdrawn
    return data


def _events(spec: Range) -> list[dict[str, str]]:
    introduced, end, *last = spec
    events = [{"introduced": introduced}]
    if last:
        events.append({"last_affected": last[0]})
    elif end is not None:
        events.append({"fixed": end})
    return events


def write_dir(directory: Path, records: Iterable[Mapping[str, Any]]) -> Path:
    """Records as ``<directory>/pypi/<name>/<id>.json`` (the malicious-packages layout)."""
    for data in records:
        name = data["affected"][0]["package"]["name"] if data.get("affected") else "none"
        path = directory / "pypi" / name / f"{data['id']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=1))
    return directory


def zip_bytes(
    records: Iterable[Mapping[str, Any]], extra: Mapping[str, bytes] | None = None
) -> bytes:
    """Records as a zip of ``<id>.json`` members (the layout of OSV's ``PyPI/all.zip``)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for data in records:
            archive.writestr(f"{data['id']}.json", json.dumps(data))
        for member, content in (extra or {}).items():
            archive.writestr(member, content)
    return buffer.getvalue()


def index_of(*records: dict[str, Any], kind: str = VULNERABILITIES) -> AdvisoryIndex:
    """The ``kind`` index of a feed holding ``records``."""
    reader = FeedReader([kind])
    for number, data in enumerate(records):
        reader.add(data, where=f"r{number}.json", fingerprint=repr(data).encode())
    return reader.indexes()[kind]


def file_subject(name: str, version: str | None, filename: str | None = None) -> FileSubject:
    """A file of ``name`` ``version`` (a wheel unless ``filename`` says otherwise)."""
    return FileSubject(
        NormalizedName(name),
        filename or f"{name.replace('-', '_')}-{version}-py3-none-any.whl",
        Version(version) if version else None,
        None,
    )
