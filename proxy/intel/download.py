"""The last good copy of a URL feed under the data directory, refreshed with a conditional GET.

``<data_dir>/intel/<host>-<hash>/feed.zip`` is the copy and ``meta.json`` its
validators (``ETag``, ``Last-Modified``). ``fetch`` downloads a changed feed
to a temporary file beside the copy (size-capped, never touching the copy);
the caller reads it and either ``commit`` s it (an atomic rename over the copy)
or ``discard`` s it, so the copy is always the last feed that could be read.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from pipgate.proxy.intel.sources import FeedError
from pipgate.proxy.urls import redact

#: A feed download larger than this is refused (OSV's PyPI/all.zip is a few tens of MB).
MAX_DOWNLOAD = 1 << 30
CHUNK = 1 << 20


def copy_directory(data_dir: Path, url: str) -> Path:
    """Where the copy of ``url`` lives: a readable name, and a hash that keeps URLs
    (and any credentials in them) apart without writing them to disk."""
    host = "".join(
        c if c.isalnum() or c in ".-" else "-" for c in (urlsplit(url).hostname or "feed")
    )
    return data_dir / "intel" / f"{host}-{hashlib.sha256(url.encode()).hexdigest()[:16]}"


class FeedDownload:
    """The copy of one URL feed (see the module docstring)."""

    def __init__(
        self,
        url: str,
        directory: Path,
        *,
        max_bytes: int = MAX_DOWNLOAD,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.url = url
        self._clock = clock
        self.label = f"feed {redact(url)}"
        self.directory = directory
        self.copy = directory / "feed.zip"
        self._meta = directory / "meta.json"
        self.max_bytes = max_bytes

    def validators(self) -> dict[str, str]:
        """The ``ETag`` / ``Last-Modified`` of the copy, if both copy and record exist."""
        if not self.copy.exists():
            return {}
        try:
            meta = json.loads(self._meta.read_text())
        except (OSError, ValueError):
            return {}
        if not isinstance(meta, dict):
            return {}
        return {
            k: v for k, v in meta.items() if k in ("etag", "last_modified") and isinstance(v, str)
        }

    def fetched_at(self) -> datetime | None:
        """When the copy was last confirmed current (downloaded, or a 304), if known."""
        try:
            stamp = json.loads(self._meta.read_text()).get("fetched_at")
            return datetime.fromisoformat(stamp) if self.copy.exists() else None
        except (OSError, ValueError, AttributeError, TypeError):
            return None

    async def fetch(
        self, client: httpx.AsyncClient, *, conditional: bool = True
    ) -> tuple[Path, dict[str, str]] | None:
        """Download the feed if it changed: the temporary file and its validators,
        or ``None`` for 304 Not Modified. Without ``conditional`` (the copy could not be
        read) it is downloaded whatever the validators say. Raises ``FeedError``."""
        known = self.validators() if conditional else {}
        headers = {}
        if "etag" in known:
            headers["If-None-Match"] = known["etag"]
        if "last_modified" in known:
            headers["If-Modified-Since"] = known["last_modified"]
        self.directory.mkdir(parents=True, exist_ok=True)
        temp = self.directory / f"{uuid.uuid4().hex}.part"
        try:
            async with client.stream("GET", self.url, headers=headers) as response:
                if response.status_code == 304 and known:
                    self._write_meta(known)
                    return None
                if response.status_code != 200:
                    raise FeedError(f"cannot fetch {self.label}: HTTP {response.status_code}")
                announced = response.headers.get("content-length", "")
                if announced.isdigit() and int(announced) > self.max_bytes:
                    raise FeedError(
                        f"{self.label} is {announced} bytes, more than the {self.max_bytes} allowed"
                    )
                written = 0
                with temp.open("wb") as out:
                    async for chunk in response.aiter_bytes(CHUNK):
                        written += len(chunk)
                        if written > self.max_bytes:
                            raise FeedError(
                                f"{self.label} sent more than the {self.max_bytes} bytes allowed"
                            )
                        out.write(chunk)
                validators = {
                    key: value
                    for key, header in (("etag", "etag"), ("last_modified", "last-modified"))
                    if (value := response.headers.get(header))
                }
        except httpx.HTTPError as exc:
            temp.unlink(missing_ok=True)
            raise FeedError(f"cannot fetch {self.label}: {type(exc).__name__}: {exc}") from exc
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return temp, validators

    def commit(self, temp: Path, validators: dict[str, str]) -> None:
        """Make the downloaded ``temp`` file the copy (atomically), with its validators."""
        os.replace(temp, self.copy)
        self._write_meta(validators)

    def discard(self, temp: Path) -> None:
        temp.unlink(missing_ok=True)

    def remove_partial(self) -> None:
        """Delete downloads a crash left behind. Blocking."""
        for temp in self.directory.glob("*.part"):
            temp.unlink(missing_ok=True)

    def _write_meta(self, validators: dict[str, str]) -> None:
        meta = {**validators, "fetched_at": self._clock().isoformat()}
        temp = self._meta.with_suffix(".tmp")
        temp.write_text(json.dumps(meta))
        os.replace(temp, self._meta)
