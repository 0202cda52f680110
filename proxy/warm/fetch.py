"""Asking a running pipgate for pages, holds and files, as an installer would.

Every byte is requested from pipgate (never from its upstream), so what is
fetched ends up in its cache exactly as a later ``pip install`` will ask for it.
A file is read to the end and its sha256 compared with what the page or lock
promised; the bytes are then dropped.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

import httpx
from packaging.utils import NormalizedName
from packaging.version import InvalidVersion, Version

from pipgate.proxy.models import version_of

JSON_V1 = "application/vnd.pypi.simple.v1+json"
#: How often a file answered 503/429 (pipgate's download caps) is asked again.
RETRIES = 5


@dataclass(frozen=True)
class Wanted:
    """A file to warm; ``sha256``/``size`` as the page or the lock promised them."""

    project: NormalizedName
    version: str | None
    filename: str
    sha256: str | None
    size: int | None


@dataclass(frozen=True)
class Hold:
    """Something pipgate withholds. ``needed``: a file or project that was asked for
    (a lock's file, a pinned release), rather than a newer release passed over."""

    project: NormalizedName
    version: str | None
    filename: str | None
    action: str
    policy: str
    reason: str
    available_at: str | None
    needed: bool


Status = Literal["cached", "fetched", "unstored", "held", "failed"]


@dataclass(frozen=True)
class Outcome:
    """What became of one wanted file. ``cached``: it was already in pipgate's store;
    ``fetched``: pipgate downloaded it now; ``unstored``: served but not kept (full disk)."""

    file: Wanted
    status: Status
    size: int = 0
    message: str = ""
    hold: Hold | None = None


class Pipgate:
    """One index of a running pipgate, over HTTP."""

    def __init__(self, client: httpx.AsyncClient, url: str, index: str) -> None:
        self.client = client
        self.base = url.rstrip("/")
        self.prefix = "" if index == "default" else f"/{index}"

    @property
    def index_url(self) -> str:
        return f"{self.base}{self.prefix}/simple/"

    def file_url(self, project: str, filename: str) -> str:
        return f"{self.base}{self.prefix}/files/{project}/{quote(filename)}"

    async def release_files(self, project: NormalizedName, version: str) -> list[Wanted] | Hold:
        """The files the page lists for ``project`` ``version``, or the project's hold."""
        response = await self.client.get(f"{self.index_url}{project}/", headers={"Accept": JSON_V1})
        if response.status_code == 403:
            return _hold_from_headers(response, project, version, None, needed=True)
        _raise_for(response, f"project page of {project!r}")
        wanted = _parse_version(version)
        return [
            Wanted(
                project, version, f["filename"], f.get("hashes", {}).get("sha256"), f.get("size")
            )
            for f in response.json().get("files", [])
            if wanted is not None and version_of(f["filename"]) == wanted
        ]

    async def holds(self, project: NormalizedName) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """pipgate's verdict on ``project`` and the files it holds (``GET .../holds/NAME``)."""
        response = await self.client.get(f"{self.base}{self.prefix}/holds/{project}")
        _raise_for(response, f"holds of {project!r}")
        body = response.json()
        return body, body.get("held", [])

    async def fetch(self, file: Wanted, on_bytes: Callable[[int], None]) -> Outcome:
        """Download ``file`` through pipgate, hash it and drop the bytes."""
        url = self.file_url(file.project, file.filename)
        for attempt in range(RETRIES + 1):
            digest, size = hashlib.sha256(), 0
            try:
                async with self.client.stream("GET", url) as response:
                    if response.status_code in (429, 503) and attempt < RETRIES:
                        wait = float(response.headers.get("retry-after", "1") or 1)
                        await response.aclose()
                        await asyncio.sleep(min(wait, 10.0))
                        continue
                    if response.status_code == 403:
                        hold = _hold_from_headers(
                            response, file.project, file.version, file.filename, needed=True
                        )
                        return Outcome(file, "held", hold=hold)
                    if response.status_code != 200:
                        text = (await response.aread()).decode("utf-8", "replace").strip()
                        return Outcome(file, "failed", message=f"{response.status_code}: {text}")
                    cache = response.headers.get("x-pipgate-cache", "miss")
                    async for chunk in response.aiter_raw():
                        digest.update(chunk)
                        size += len(chunk)
                        on_bytes(len(chunk))
            except httpx.HTTPError as exc:
                return Outcome(file, "failed", size, f"{type(exc).__name__}: {exc}")
            if file.sha256 and digest.hexdigest() != file.sha256:
                return Outcome(
                    file, "failed", size, f"sha256 {digest.hexdigest()} is not {file.sha256}"
                )
            status: Status = {"hit": "cached", "unstored": "unstored"}.get(cache, "fetched")  # type: ignore[assignment]
            return Outcome(file, status, size)
        return Outcome(file, "failed", message="pipgate stayed busy (503/429)")


def _hold_from_headers(
    response: httpx.Response,
    project: NormalizedName,
    version: str | None,
    filename: str | None,
    *,
    needed: bool,
) -> Hold:
    headers = response.headers
    return Hold(
        project,
        version,
        filename,
        headers.get("x-pipgate-action", "refused"),
        headers.get("x-pipgate-policy", "-"),
        headers.get("x-pipgate-reason", response.reason_phrase),
        headers.get("x-pipgate-available-at"),
        needed,
    )


def held_newer(project: NormalizedName, pinned: str, held: list[dict[str, Any]]) -> list[Hold]:
    """The held releases of ``project`` newer than ``pinned`` (one per version), and the
    held files of ``pinned`` itself (needed: the resolution chose that release)."""
    chosen = _parse_version(pinned)
    found: dict[tuple[str | None, str | None], Hold] = {}
    for item in held:
        version = _parse_version(item.get("version"))
        if chosen is None or version is None:
            continue
        if version == chosen:
            key: tuple[str | None, str | None] = (str(version), item["filename"])
        elif version > chosen:
            key = (str(version), None)
        else:
            continue
        found.setdefault(
            key,
            Hold(
                project,
                str(version),
                key[1],
                item["action"],
                item["policy"],
                item["reason"],
                item.get("available_at"),
                needed=version == chosen,
            ),
        )
    return list(found.values())


def _parse_version(text: str | None) -> Version | None:
    try:
        return Version(text) if text else None
    except InvalidVersion:
        return None


class PipgateUnavailable(Exception):
    """pipgate answered with something other than what was asked for."""


def _raise_for(response: httpx.Response, what: str) -> None:
    if response.status_code != 200:
        text = response.text.strip().splitlines()[0] if response.text.strip() else ""
        raise PipgateUnavailable(f"{what}: {response.status_code} from {response.url}: {text}")
