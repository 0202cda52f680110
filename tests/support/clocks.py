"""Clocks that stand still until a test moves them, for code that takes ``clock=``."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar

Time = TypeVar("Time", float, datetime)


class Clock(Generic[Time]):
    """``clock()`` is ``clock.now``; set it, or ``advance`` it by seconds or a timedelta.

    ``Clock(1000.0)`` stands in for ``time.monotonic``/``time.time``, ``Clock(NOW)`` for a
    ``() -> datetime`` clock.
    """

    def __init__(self, now: Time) -> None:
        self.now: Time = now

    def __call__(self) -> Time:
        return self.now

    def advance(self, by: object) -> Time:
        self.now = self.now + by  # type: ignore[operator]
        return self.now
