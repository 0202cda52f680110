"""A feed's OSV records read from a directory or a zip file into advisory indexes.

Blocking (file I/O and parsing): call from a worker thread. Lenient per record
(a record that cannot be read is skipped and counted), strict per source: a
source that cannot be read, or holds no OSV records, or none that can be read,
raises ``FeedError`` naming it, so a broken feed never replaces a good one.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from pipgate.policies.advisories import AdvisoryIndex
from pipgate.policies.osv import ECOSYSTEM, FeedReader

#: A record larger than this is not an advisory (skipped and counted as bad).
MAX_RECORD = 8 << 20
#: A zip whose records inflate to more than this in total is refused (a zip bomb).
MAX_INFLATED = 4 << 30
#: Cheap test before parsing: a record about PyPI names the ecosystem like this.
_PYPI = f'"{ECOSYSTEM}"'.encode()


class FeedError(Exception):
    """A feed that cannot be used; the message names it (a URL without credentials)."""


@dataclass
class FeedContents:
    """What one read of a feed found: an index per kind and the counts of records."""

    indexes: dict[str, AdvisoryIndex]
    loaded: int
    bad: int
    ignored: int
    problems: list[str] = field(default_factory=list)

    @property
    def digest(self) -> str:
        return "/".join(f"{kind}:{index.digest}" for kind, index in sorted(self.indexes.items()))


def read_feed(path: Path, kinds: Iterable[str], *, label: str | None = None) -> FeedContents:
    """The records of the directory or zip file at ``path`` (see the module docstring).

    ``label`` names the feed in errors (default: the path).
    """
    label = label or f"feed {str(path)!r}"
    reader = FeedReader(kinds)
    try:
        if path.is_dir():
            _read_records(reader, _directory_records(path))
        elif path.is_file():
            _read_records(reader, _zip_records(path, label))
        else:
            raise FeedError(f"{label} does not exist")
    except OSError as exc:
        raise FeedError(f"cannot read {label}: {exc}") from exc
    found = reader.loaded + reader.bad + reader.ignored
    if found == 0:
        raise FeedError(f"{label} holds no OSV records (*.json)")
    if reader.loaded == 0 and reader.bad > 0:
        raise FeedError(
            f"none of the {reader.bad} records of {label} could be read; "
            f"the first: {reader.problems[0]}"
        )
    return FeedContents(
        reader.indexes(), reader.loaded, reader.bad, reader.ignored, reader.problems
    )


def _read_records(reader: FeedReader, records: Iterator[tuple[str, bytes | None]]) -> None:
    for where, raw in records:
        if raw is None:
            reader.skip(f"{where}: larger than {MAX_RECORD} bytes")
            continue
        if _PYPI not in raw:
            reader.ignored += 1  # another ecosystem's record: not worth parsing
            continue
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            reader.skip(f"{where}: not JSON ({exc})")
            continue
        reader.add(data, where=where, fingerprint=raw)


def _directory_records(root: Path) -> Iterator[tuple[str, bytes | None]]:
    for path in sorted(root.rglob("*.json")):
        if not path.is_file():
            continue
        where = str(path.relative_to(root))
        if path.stat().st_size > MAX_RECORD:
            yield where, None
            continue
        yield where, path.read_bytes()


def _zip_records(path: Path, label: str) -> Iterator[tuple[str, bytes | None]]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise FeedError(f"{label} is neither a directory nor a readable zip file: {exc}") from exc
    inflated = 0
    with archive:
        for info in archive.infolist():
            if info.is_dir() or not info.filename.endswith(".json"):
                continue
            if info.file_size > MAX_RECORD:
                yield info.filename, None
                continue
            try:
                with archive.open(info) as member:  # file_size is only what the zip claims
                    raw = member.read(MAX_RECORD + 1)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
                raise FeedError(f"{label} is a damaged zip file ({info.filename}: {exc})") from exc
            if len(raw) > MAX_RECORD:
                yield info.filename, None
                continue
            inflated += len(raw)
            if inflated > MAX_INFLATED:
                raise FeedError(f"{label} inflates to more than {MAX_INFLATED} bytes")
            yield info.filename, raw


def fingerprint(path: Path) -> str | None:
    """A token that changes when the file or the tree of records at ``path`` does
    (names, sizes, modification times); ``None`` when it cannot be read (the feed
    is then read, and fails there)."""
    digest = hashlib.blake2b(digest_size=16)
    try:
        if path.is_dir():
            for record in sorted(path.rglob("*.json")):
                stat = record.stat()
                digest.update(f"{record}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        else:
            stat = os.stat(path)
            digest.update(f"{stat.st_ino}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    except OSError:
        return None
    return digest.hexdigest()
