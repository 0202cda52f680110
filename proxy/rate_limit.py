"""A token bucket per client address: who may start how many of something, how fast.

Each client may do ``burst`` at once and then ``rate`` per second; ``take``
answers how long to wait when the bucket is empty. At most ``max_clients``
buckets are kept (the least recently used are forgotten, so a forgotten
client starts again with a full bucket): memory stays bounded whatever the
number of addresses.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class ClientBuckets:
    def __init__(
        self,
        rate: float,
        burst: float,
        *,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"a rate limit needs rate > 0 and burst >= 1, got {rate}, {burst}")
        self.rate = rate
        self.burst = float(burst)
        self._max_clients = max_clients
        self._clock = clock
        #: client -> (tokens, when they were counted)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str) -> float:
        """Take one token for ``client``: 0.0 if it had one, else the seconds until it will."""
        now = self._clock()
        tokens, then = self._buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - then) * self.rate)
        if tokens >= 1:
            tokens -= 1
            wait = 0.0
        else:
            wait = (1 - tokens) / self.rate
        self._buckets[client] = (tokens, now)
        while len(self._buckets) > self._max_clients:
            self._buckets.popitem(last=False)
        return wait

    def __len__(self) -> int:
        return len(self._buckets)
