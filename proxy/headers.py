"""Reading weighted list headers (``Accept``, ``Accept-Encoding``)."""

from __future__ import annotations

from collections.abc import Iterator


def weighted(header: str) -> Iterator[tuple[str, float]]:
    """Each lower-cased token of a comma-separated header with its ``q`` weight.

    A missing weight is 1; an unreadable one counts as 0 (not acceptable).
    """
    for item in header.split(","):
        token, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if token.strip():
            yield token.strip().lower(), quality
