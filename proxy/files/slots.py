"""Caps on concurrent file downloads: in total and per client.

Every file body in progress holds a slot from the moment it is admitted until
its response ends (sent, abandoned or failed). Past either cap a request is
refused with ``TooManyDownloads`` (503 with ``Retry-After``), so a crowd of
slow or idle sockets can never hold more than ``total`` small buffers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from pipgate.proxy.errors import TooManyDownloads

#: Seconds a refused client is asked to wait (pip and uv honour ``Retry-After``).
RETRY_AFTER = 2


class Slot:
    """One admitted download; ``release`` is idempotent."""

    def __init__(self, slots: DownloadSlots, client: str) -> None:
        self._slots: DownloadSlots | None = slots
        self.client = client

    def release(self) -> None:
        if self._slots is not None:
            self._slots._release(self.client)
            self._slots = None


class DownloadSlots:
    def __init__(
        self,
        *,
        total: int,
        per_client: int,
        on_change: Callable[[int], None] | None = None,
        on_refused: Callable[[str], None] | None = None,
    ) -> None:
        self.total = total
        self.per_client = per_client
        self.open = 0
        self._by_client: Counter[str] = Counter()
        self._on_change = on_change or (lambda open_now: None)
        self._on_refused = on_refused or (lambda limit: None)

    def acquire(self, client: str) -> Slot:
        """A slot for ``client``; raises ``TooManyDownloads`` when a cap is reached."""
        if self._by_client[client] >= self.per_client:
            self._on_refused("client")
            raise TooManyDownloads(
                f"{self._by_client[client]} downloads from {client} are in progress "
                f"(max_downloads_per_client is {self.per_client}); retry in {RETRY_AFTER} s",
                retry_after=RETRY_AFTER,
            )
        if self.open >= self.total:
            self._on_refused("total")
            raise TooManyDownloads(
                f"{self.open} downloads are in progress (max_downloads is {self.total}); "
                f"retry in {RETRY_AFTER} s",
                retry_after=RETRY_AFTER,
            )
        self._by_client[client] += 1
        self.open += 1
        self._on_change(self.open)
        return Slot(self, client)

    def _release(self, client: str) -> None:
        self._by_client[client] -= 1
        if self._by_client[client] <= 0:
            del self._by_client[client]
        self.open -= 1
        self._on_change(self.open)
