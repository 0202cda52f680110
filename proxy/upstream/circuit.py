"""A circuit breaker per upstream origin: stop asking a host that keeps failing.

    closed ──(``failures`` failed requests in a row)──> open
    open ──(back-off elapsed)──> half-open: one probe request is let through
    half-open ──(probe answered)──> closed
    half-open ──(probe failed)──> open, with the back-off doubled (up to ``max_backoff``)

A request fails when it raises (connection error, timeout) or is answered 429 or
5xx; any other answer, 404 included, is a success. While a breaker is open every
request to its origin is refused at once with ``CircuitOpen`` (no network), so a
host that hangs costs one timeout per back-off instead of one per request: cached
pages are then served stale at once, and the rest fails fast with a reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

import httpx

from pipgate.proxy.errors import CircuitOpen


class State(IntEnum):
    """The value of the ``pipgate_upstream_circuit_state`` gauge."""

    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


@dataclass(frozen=True)
class BreakerConfig:
    failures: int = 5
    backoff: float = 10.0
    max_backoff: float = 300.0


Transition = Callable[[str, State], None]
"""Called with (origin, new state) on every change, for metrics and logs."""


class Breaker:
    """The circuit of one origin. Not thread-safe: use it from the event loop."""

    def __init__(
        self,
        origin: str,
        config: BreakerConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_transition: Transition | None = None,
    ) -> None:
        self.origin = origin
        self.config = config
        self.state = State.CLOSED
        self.consecutive_failures = 0
        self.backoff = config.backoff
        self.opened_at: float | None = None
        self._probing = False
        self._clock = clock
        self._on_transition = on_transition or (lambda origin, state: None)

    def admit(self, what: str) -> bool:
        """Let one request for ``what`` through, or raise ``CircuitOpen``.

        True when the request is the half-open probe; pass that on to
        ``succeeded``, ``failed`` or ``abandoned`` when it ends."""
        if self.state is State.CLOSED:
            return False
        if self.state is State.OPEN and self._clock() >= self.retry_at:
            self._move(State.HALF_OPEN)
        if self.state is State.HALF_OPEN and not self._probing:
            self._probing = True
            return True
        wait = max(1, round(self.retry_at - self._clock()))
        raise CircuitOpen(
            f"upstream {self.origin} is not asked for {what}: it failed "
            f"{self.consecutive_failures} times in a row (circuit open; next try in {wait} s)",
            retry_after=wait,
        )

    @property
    def retry_at(self) -> float:
        return (self.opened_at or 0.0) + self.backoff

    def succeeded(self, probe: bool = False) -> None:
        if probe:
            self._probing = False
        self.consecutive_failures = 0
        if self.state is not State.CLOSED:
            self.backoff = self.config.backoff
            self.opened_at = None
            self._move(State.CLOSED)

    def failed(self, probe: bool = False) -> None:
        self.consecutive_failures += 1
        if probe:
            self._probing = False
            self.backoff = min(self.backoff * 2, self.config.max_backoff)
            self._open()
        elif self.state is State.CLOSED and self.consecutive_failures >= self.config.failures:
            self._open()

    def abandoned(self, probe: bool = False) -> None:
        """The admitted request ended with no answer either way (cancelled)."""
        if probe:
            self._probing = False

    def describe(self) -> str:
        if self.state is State.CLOSED:
            return f"upstream {self.origin}: circuit closed"
        wait = max(0, round(self.retry_at - self._clock()))
        when = "probing now" if self.state is State.HALF_OPEN else f"next try in {wait} s"
        return (
            f"upstream {self.origin}: circuit {self.state.label} after "
            f"{self.consecutive_failures} failures in a row ({when}); "
            "cached pages are served stale"
        )

    def _open(self) -> None:
        self.opened_at = self._clock()
        self._move(State.OPEN)

    def _move(self, state: State) -> None:
        if state is not self.state:
            self.state = state
            self._on_transition(self.origin, state)


class Breakers:
    """One ``Breaker`` per origin (scheme, host and port), made on first use."""

    def __init__(
        self,
        config: BreakerConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_transition: Transition | None = None,
    ) -> None:
        self.config = config
        self._clock = clock
        self._on_transition = on_transition
        self._breakers: dict[str, Breaker] = {}

    def for_url(self, url: str) -> Breaker:
        origin = origin_of(url)
        breaker = self._breakers.get(origin)
        if breaker is None:
            breaker = Breaker(
                origin, self.config, clock=self._clock, on_transition=self._on_transition
            )
            self._breakers[origin] = breaker
        return breaker

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(list(self._breakers.values()))


def origin_of(url: str) -> str:
    """``scheme://host:port`` of ``url`` (never its credentials)."""
    parsed = httpx.URL(url)
    port = parsed.port or {"http": 80, "https": 443}.get(parsed.scheme, 0)
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    return f"{parsed.scheme}://{host}:{port}"
