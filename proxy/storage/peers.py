"""Replica to replica: a follower streams a cold file from the replica fetching it.

The replica holding a file's lease (``leases.py``) records its own address with
it (``advertise_url``, else ``http://<host>:<port>`` it listens on). Another
replica asked for that file does not wait for the object store: it asks the
holder for the bytes it has so far, from the offset it reached, at
``GET {holder}/-/internal/downloads/{sha256}?offset=N`` (``files/peer_serving.py``
answers it from the download in progress). The follower writes them to a
download of its own, hashing them, so its clients follow as usual and the file
is verified whole on arrival, like any other source.

The route serves files without judging them (the follower's own request was
judged): only replicas may use it. They prove it with the cluster's secret, made
once by the migration that created the table and read from PostgreSQL at
start-up (``cluster_secrets``, name ``peer``), never sent as it is: the request
carries ``TOKEN_HEADER``, an HMAC of the holder's own address and the file's
sha256 under the secret. The holder checks it against its *own* address, so a
token seen on the wire opens that one file on that one replica, nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING
from urllib.parse import quote

import httpx

from pipgate.proxy.errors import UpstreamUnavailable
from pipgate.proxy.urls import redact

if TYPE_CHECKING:
    from pipgate.proxy.config.settings import Settings
    from pipgate.proxy.storage.postgres import PostgresDatabase

#: The internal route (``files/peer_serving.py``).
PEER_ROUTE = "/-/internal/downloads/{sha256}"
#: Proves the request comes from a replica (``token``).
TOKEN_HEADER = "X-Pipgate-Peer-Token"
#: The whole file's size (the body is what follows the offset asked for).
SIZE_HEADER = "X-Pipgate-File-Size"
#: Bytes read from a peer at a time.
CHUNK = 256 * 1024

_WILDCARDS = {"", "0.0.0.0", "::", "[::]"}


class PeerUnavailable(UpstreamUnavailable):
    """The replica holding a file's lease could not be streamed from (gone, or it no
    longer has the file): look in the stores and claim the lease again."""


def own_url(settings: Settings) -> str:
    """This replica's address for others: ``[storage] advertise_url``, else the address
    it listens on (for a wildcard, the address its host name resolves to: the pod's or
    container's IP in Kubernetes and Compose)."""
    if settings.storage.advertise_url:
        return settings.storage.advertise_url.rstrip("/")
    host = settings.server.host
    if host in _WILDCARDS:
        try:
            host = socket.gethostbyname(socket.gethostname())
        except OSError:
            return ""  # nobody can stream from this replica; followers wait for the store
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{settings.server.port}"


def token(secret: str, holder_url: str, sha256: str) -> str:
    """What a follower sends ``holder_url`` to stream the file ``sha256`` from it."""
    message = f"{holder_url.rstrip('/')}\n{sha256}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def read_secret(database: PostgresDatabase) -> str | None:
    """The cluster's peer secret (``None`` before the schema has it). Blocking."""
    with database.read() as tx:
        row = tx.execute("SELECT value FROM cluster_secrets WHERE name = 'peer'").fetchone()
    return None if row is None else str(row[0])


class Peers:
    """The follower's side: streams from other replicas (one HTTP client, made on first use
    on the event loop)."""

    def __init__(self, own: str, *, read_timeout: float) -> None:
        #: This replica's address, recorded with the leases it holds.
        self.own_url = own
        #: The cluster's secret; ``None`` until read (then nobody streams from peers).
        self.secret: str | None = None
        self._timeout = httpx.Timeout(read_timeout, connect=2.0)
        self._client: httpx.AsyncClient | None = None

    @asynccontextmanager
    async def stream(
        self, holder_url: str, sha256: str, offset: int, what: str
    ) -> AsyncIterator[tuple[int | None, AsyncIterator[bytes]]]:
        """``(size of the whole file or None, chunks from offset on)`` from the holder;
        raises ``PeerUnavailable`` when it does not answer with them."""
        if self.secret is None:
            raise PeerUnavailable(f"{what}: the cluster's peer secret is not known yet")
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout, trust_env=False)
        url = holder_url.rstrip("/") + PEER_ROUTE.format(sha256=quote(sha256))
        request = self._client.build_request(
            "GET",
            url,
            params={"offset": str(offset)},
            headers={
                TOKEN_HEADER: token(self.secret, holder_url, sha256),
                "Accept-Encoding": "identity",
            },
        )
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise PeerUnavailable(f"cannot stream {what} from {redact(url)}: {exc!r}") from exc
        try:
            if response.status_code != 200:
                raise PeerUnavailable(f"{redact(url)} answered {response.status_code} for {what}")
            size = response.headers.get(SIZE_HEADER)

            async def chunks() -> AsyncIterator[bytes]:
                try:
                    async for chunk in response.aiter_raw(CHUNK):
                        yield chunk
                except httpx.HTTPError as exc:
                    raise PeerUnavailable(
                        f"streaming {what} from {redact(url)} broke off: {exc!r}"
                    ) from exc

            yield (int(size) if size and size.isdigit() else None), chunks()
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
