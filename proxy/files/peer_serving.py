"""The holder's side of streaming a cold file to another replica (``storage/peers.py``).

``GET /-/internal/downloads/{sha256}?offset=N`` answers the bytes of the file from
``N`` on: from the download in progress as they arrive (``Download.follow``: the
last byte only once the file is verified and scanned, as for any client), or
from this replica's store once it is kept. Only replicas may ask: the request
carries a token made with the cluster's secret for this replica's own address and
this file, else 403 (this route serves files without judging them: the
follower's own request was judged). 404 when this replica has neither the
download nor the file (the follower then looks in the shared store).
"""

from __future__ import annotations

import hmac
import os
import re

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from pipgate.proxy.errors import PipgateError
from pipgate.proxy.files.response import CHUNK, PacedResponse, read_chunks
from pipgate.proxy.state import state_of
from pipgate.proxy.storage.peers import SIZE_HEADER, TOKEN_HEADER, token

_SHA256 = re.compile(r"[0-9a-f]{64}")


async def peer_download(request: Request) -> Response:
    state = state_of(request)
    cluster = state.cluster
    peers = cluster.peers if cluster is not None else None
    if peers is None or peers.secret is None:
        return PlainTextResponse("pipgate: not a replica of a cluster\n", status_code=404)
    sha256 = request.path_params["sha256"]
    offset_text = request.query_params.get("offset", "0")
    if not _SHA256.fullmatch(sha256) or not offset_text.isdigit():
        return PlainTextResponse("pipgate: want a sha256 and an offset\n", status_code=400)
    expected = token(peers.secret, peers.own_url, sha256)
    if not hmac.compare_digest(request.headers.get(TOKEN_HEADER, "").encode(), expected.encode()):
        return PlainTextResponse("pipgate: replicas only\n", status_code=403)
    offset = int(offset_text)
    sources = state.router.upstream_sources() if state.router is not None else []
    downloads = {id(d): d for d in (state.downloads, *(s.downloads for s in sources))}
    download = next((d for d in (ds.for_peer(sha256) for ds in downloads.values()) if d), None)
    if download is not None:
        try:
            await download.wait_for_headers()
        except PipgateError as exc:
            return PlainTextResponse(f"pipgate: {exc}\n", status_code=502)
        headers = {}
        if download.size is not None:
            headers[SIZE_HEADER] = str(download.size)
            headers["Content-Length"] = str(max(download.size - offset, 0))
        return PacedResponse(download.follow(CHUNK, start=offset), headers=headers)
    handle = await state.store.threads.run(state.store.open, sha256)
    if handle is None:
        return PlainTextResponse(f"pipgate: no file {sha256} here\n", status_code=404)
    size = os.fstat(handle.fileno()).st_size
    start = min(offset, size)
    return PacedResponse(
        read_chunks(handle, start, size - start, lambda n: None),
        headers={SIZE_HEADER: str(size), "Content-Length": str(size - start)},
    )
