"""Changes made on other replicas, as they happen: PostgreSQL ``LISTEN``/``NOTIFY``.

A write that changes what the gate decides (a rule, an entry's state, the runtime
lists) bumps the rules revision and sends ``{"kind": "rules", "revision": N}``
on channel ``pipgate_changes`` in the same transaction, delivered on COMMIT
(``quarantine.rules.RuleRepository.bump``). Each replica listens on a connection of its own and
reloads its overrides, which rebuilds every cached rendered page on its next
request.

Notifications sent while the listener is disconnected are lost (a server
restart drops every LISTEN): after each (re)connect the listener resynchronises
(``on_resync``: reload the rules whatever they are). The intake thread's tick
(every 0.25 s) compares the rules revision too, so the 1 s bound holds even
while the listener is down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import orjson
from anyio import to_thread

log = logging.getLogger("pipgate.storage")

CHANNEL = "pipgate_changes"


class ChangeListener:
    def __init__(
        self,
        url: str,
        *,
        on_change: Callable[[dict[str, Any]], None],
        on_resync: Callable[[], None],
    ) -> None:
        """``on_change`` and ``on_resync`` block (they read the store): run in a thread."""
        self._url = url
        self._on_change = on_change
        self._on_resync = on_resync
        #: Whether the listener is connected now.
        self.connected = False
        self.reconnects = 0

    async def run(self) -> None:
        """Listen until cancelled, reconnecting with back-off (0.2 s doubling to 5 s)."""
        import psycopg

        backoff = 0.2
        while True:
            try:
                connection = await psycopg.AsyncConnection.connect(
                    self._url, autocommit=True, connect_timeout=2, application_name="pipgate-listen"
                )
                async with connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    self.connected = True
                    backoff = 0.2
                    await to_thread.run_sync(self._on_resync)
                    async for notify in connection.notifies():
                        try:
                            change = orjson.loads(notify.payload)
                        except orjson.JSONDecodeError:
                            continue
                        await to_thread.run_sync(self._on_change, change)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.connected:
                    log.warning("change listener disconnected: %s; reconnecting", exc)
                self.connected = False
                self.reconnects += 1
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)
