"""A file body sent one small chunk at a time, each only once the client took the last.

uvicorn's ``send`` waits while the connection's write buffer is above its high-water
mark (64 KiB) and otherwise buffers whatever it is given, so the memory a download holds
is bounded by the size of the pieces it is handed: one chunk waiting here and at most
the high-water mark plus one chunk in the transport. With ``CHUNK`` at 64 KiB that is
under 256 KiB per open download, however slowly (or not at all) the client reads.

Chunks are read with ``reads.read_at``, which takes them from the page cache
without a thread hop when it can.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import BinaryIO

from starlette.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from pipgate.proxy.errors import PipgateError
from pipgate.proxy.files.reads import read_at

log = logging.getLogger("pipgate.files")

#: Bytes read and handed to the server at a time (see the module doc).
CHUNK = 64 * 1024


class PacedResponse(StreamingResponse):
    """Streams ``chunks`` with backpressure; stops reading when the client hangs up.

    A ``PipgateError`` from ``chunks`` once the headers are out (upstream sent bad
    or too few bytes) ends the response short: the server closes the connection
    and the client sees an incomplete body, never a whole one. ``on_close`` runs
    exactly once when the response ends, whether it was sent whole, the client
    left, or the body failed (it releases the download slot).
    """

    def __init__(
        self,
        chunks: AsyncIterator[bytes | bytearray],
        *,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(chunks, status_code=status_code, headers=headers)
        self._chunks = chunks
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gone = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        watcher = asyncio.create_task(watch())
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": self.status_code,
                    "headers": self.raw_headers,
                }
            )
            try:
                async for chunk in self._chunks:
                    if gone.is_set():
                        return
                    await send(_body(chunk, more=True))
            except PipgateError as exc:
                log.warning("%s cut short: %s", scope.get("path", "?"), exc)
                return
            if not gone.is_set():
                await send(_body(b"", more=False))
        finally:
            watcher.cancel()
            aclose = getattr(self._chunks, "aclose", None)
            try:
                if aclose is not None:
                    await aclose()
            finally:
                if self._on_close is not None:
                    self._on_close()
                    self._on_close = None


def _body(chunk: bytes, *, more: bool) -> Message:
    return {"type": "http.response.body", "body": chunk, "more_body": more}


async def read_chunks(
    handle: BinaryIO, start: int, length: int, on_sent: Callable[[int], None]
) -> AsyncIterator[bytes | bytearray]:
    """``length`` bytes of ``handle`` from ``start``, ``CHUNK`` at a time; closes ``handle``."""
    try:
        fd, offset, end = handle.fileno(), start, start + length
        while offset < end:
            chunk = await read_at(fd, offset, min(CHUNK, end - offset))
            if not chunk:
                break
            offset += len(chunk)
            on_sent(len(chunk))
            yield chunk
    finally:
        handle.close()
