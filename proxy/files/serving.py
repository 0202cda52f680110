"""Serving a stored file: ETag/If-None-Match (304), single byte ranges (206), HEAD.

Reads come from a handle opened before the response starts, so a file that
the cache evicts meanwhile is still served whole.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import BinaryIO

from starlette.requests import Request
from starlette.responses import Response

from pipgate.proxy.files.response import PacedResponse, read_chunks
from pipgate.proxy.files.store import FileStore
from pipgate.proxy.observe.metrics import Metrics

FILE_CACHE_CONTROL = "public, max-age=31536000, immutable"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def content_type_of(filename: str) -> str:
    if filename.endswith((".whl", ".zip", ".egg")):
        return "application/zip"
    if filename.endswith((".tar.gz", ".tgz")):
        return "application/gzip"
    return "application/octet-stream"


def parse_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """The inclusive (start, end) of a single satisfiable range; ``None`` to send it all;
    ``"unsatisfiable"`` for a range past the end. Multiple ranges are answered whole."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        length = int(last)
        if length == 0:
            return "unsatisfiable"
        return max(size - length, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        return "unsatisfiable"
    return start, end


async def serve_stored(
    request: Request,
    store: FileStore,
    sha256: str,
    filename: str,
    metrics: Metrics,
    *,
    on_close: Callable[[], None] | None = None,
) -> Response | None:
    """The stored file as a response, or ``None`` if the store does not have it.

    ``on_close`` runs when a body response ends (see ``PacedResponse``); answers
    without a body (HEAD, 304, 416) leave it to the caller."""
    handle = await store.threads.run(store.open, sha256)
    if handle is None:
        return None
    return serve_handle(request, handle, sha256, filename, metrics, on_close=on_close)


def serve_handle(
    request: Request,
    handle: BinaryIO,
    sha256: str,
    filename: str,
    metrics: Metrics,
    *,
    on_close: Callable[[], None] | None = None,
) -> Response:
    """The verified file open in ``handle`` as a response (which closes it)."""
    size = os.fstat(handle.fileno()).st_size
    etag = f'"{sha256}"'
    headers = {
        "ETag": etag,
        "Cache-Control": FILE_CACHE_CONTROL,
        "Accept-Ranges": "bytes",
        "Content-Type": content_type_of(filename),
        "X-Pipgate-Cache": "hit",
    }
    inm = request.headers.get("if-none-match")
    if inm and (
        inm.strip() == "*" or etag in [t.strip().removeprefix("W/") for t in inm.split(",")]
    ):
        handle.close()
        return Response(status_code=304, headers=headers)
    wanted = parse_range(request.headers.get("range"), size)
    if_range = request.headers.get("if-range")
    if if_range is not None and if_range.strip() != etag:
        wanted = None
    if wanted == "unsatisfiable":
        handle.close()
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    status, start, end = 200, 0, size - 1
    if isinstance(wanted, tuple):
        status, (start, end) = 206, wanted
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(end - start + 1)
    if request.method == "HEAD":
        handle.close()
        return Response(status_code=status, headers=headers)
    return PacedResponse(
        read_chunks(handle, start, end - start + 1, metrics.bytes.labels("served").inc),
        status_code=status,
        headers=headers,
        on_close=on_close,
    )
