"""A byte range of a large file that is not stored yet, without downloading it whole.

uv reads a wheel's METADATA with range requests (the zip's tail, then one member)
when an index advertises no PEP 658 metadata; answering those with the whole file
made one ``uv pip compile`` pull a gigabyte through pipgate. A single satisfiable
range of a file larger than ``WHOLE_BEFORE_SENDING`` that is not in the store is
answered 206: from the download in progress when it has those bytes already, else
from upstream with a range request of its own. Nothing of it is stored; the file is
downloaded whole, verified and kept when a client asks for all of it. (A smaller
file is downloaded whole at once and its range served from the verified copy.)

A part cannot be checked against the file's sha256, which is of the whole file:
like the bytes a download in progress streams, it is never the whole file (a range
covering all of it is served as the file), and an upstream answer that is not
exactly the part asked for is not passed on (the whole file is served instead).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping

import httpx

from pipgate.proxy.errors import IntegrityError
from pipgate.proxy.files.serving import parse_range
from pipgate.proxy.upstream.client import UpstreamClient, translate

#: Files up to this size are downloaded and verified whole before a byte goes out.
WHOLE_BEFORE_SENDING = 4 << 20
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


def wanted_part(
    headers: Mapping[str, str], size: int | None, etag: str | None
) -> tuple[int, int] | str | None:
    """The inclusive ``(first, last)`` a request asks for of an unstored file of ``size``
    bytes, ``"unsatisfiable"``, or ``None`` to serve it as usual (no range, an
    ``If-Range`` that does not match ``etag``, a small or unknown size, or a range
    covering the whole file)."""
    header = headers.get("range")
    if not header or size is None or size <= WHOLE_BEFORE_SENDING:
        return None
    if_range = headers.get("if-range")
    if if_range is not None and (etag is None or if_range.strip() != etag):
        return None
    wanted = parse_range(header, size)
    if isinstance(wanted, tuple) and wanted[1] - wanted[0] + 1 >= size:
        return None
    return wanted


async def upstream_part(
    upstream: UpstreamClient,
    url: str,
    what: str,
    part: tuple[int, int],
    size: int,
    chunk_size: int,
) -> AsyncIterator[bytes] | None:
    """The bytes ``part`` of the file at ``url`` from upstream, or ``None`` when upstream
    did not answer with exactly that part of a file of ``size`` bytes. The iterator
    yields at most the part's length and raises ``IntegrityError`` if it falls short;
    closing it (``aclose``) closes the upstream response."""
    stream = _part(upstream, url, what, part, size, chunk_size)
    usable = await anext(stream)
    if not usable:
        await stream.aclose()
        return None
    return stream  # type: ignore[return-value]


async def _part(
    upstream: UpstreamClient,
    url: str,
    what: str,
    part: tuple[int, int],
    size: int,
    chunk_size: int,
) -> AsyncIterator[bytes | bool]:
    first, last = part
    async with upstream.stream(url, what, part=part) as response:
        answered = _CONTENT_RANGE.fullmatch(response.headers.get("content-range", "").strip())
        if (
            response.status_code != 206
            or answered is None
            or tuple(map(int, answered.groups())) != (first, last, size)
        ):
            yield False
            return
        yield True
        left = last - first + 1
        try:
            async for chunk in response.aiter_raw(chunk_size):
                if len(chunk) > left:
                    chunk = chunk[:left]
                left -= len(chunk)
                if chunk:
                    yield chunk
                if left == 0:
                    return
        except httpx.HTTPError as exc:
            raise translate(exc, what, url) from exc
        raise IntegrityError(
            f"upstream sent {last - first + 1 - left} of {last - first + 1} "
            f"bytes of a part of {what}"
        )
