"""Counts for the charts and for holds that are counted rather than queued.

``traffic``: per hour, index and kind (``served``, ``quarantine``, ``block``),
how many requests were served or met a hold. ``aggregates``: per hour, index,
policy and action, holds decided by name alone that do not enter the queue one
by one (see ``intake``), with a few sample names. Hours are POSIX seconds // 3600.

Writes take the caller's transaction (``Tx``); reads open their own. Blocking.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import orjson

from pipgate.proxy.quarantine.records import AggregateRow, HourCounts, from_timestamp
from pipgate.proxy.storage.sql import Database, Tx

#: Sample names kept per aggregate row.
AGGREGATE_SAMPLES = 10
#: Traffic kinds as the charts name them.
_KINDS = {"served": "served", "quarantine": "quarantined", "block": "blocked"}


class TrafficRepository:
    def __init__(self, database: Database) -> None:
        self._database = database

    def add_traffic(self, tx: Tx, counts: Mapping[tuple[int, str, str], int]) -> None:
        """Add ``{(hour, index, kind): n}``."""
        tx.executemany(
            "INSERT INTO traffic (hour, idx, kind, count) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (hour, idx, kind) DO UPDATE SET count = traffic.count + excluded.count",
            [(h, i, k, n) for (h, i, k), n in counts.items()],
        )

    def add_aggregates(
        self, tx: Tx, rows: Mapping[tuple[int, str, str, str], tuple[int, list[str], str]]
    ) -> None:
        """Add ``{(hour, index, policy, action): (count, sample names, latest reason)}``."""
        for key, (count, samples, reason) in rows.items():
            row = tx.execute(
                "SELECT samples FROM aggregates WHERE hour = ? AND idx = ? AND policy = ? "
                "AND action = ?",
                key,
            ).fetchone()
            kept = orjson.loads(row["samples"]) if row else []
            kept += [name for name in samples if name not in kept]
            tx.execute(
                "INSERT INTO aggregates (hour, idx, policy, action, requests, samples, reason) "
                "VALUES (?,?,?,?,?,?,?) ON CONFLICT (hour, idx, policy, action) DO UPDATE "
                "SET requests = aggregates.requests + excluded.requests, "
                "samples = excluded.samples, reason = excluded.reason",
                (*key, count, orjson.dumps(kept[:AGGREGATE_SAMPLES]).decode(), reason),
            )

    def aggregates(self, now: datetime, *, hours: int = 24) -> list[AggregateRow]:
        """Aggregate rows of the last ``hours`` hours, newest first, most requests first."""
        first = int(now.timestamp()) // 3600 - hours + 1
        with self._database.read() as db:
            rows = db.execute(
                "SELECT * FROM aggregates WHERE hour >= ? ORDER BY hour DESC, requests DESC",
                (first,),
            ).fetchall()
        return [
            AggregateRow(
                hour=from_timestamp(r["hour"] * 3600),  # type: ignore[arg-type]
                index=r["idx"],
                policy=r["policy"],
                action=r["action"],
                requests=int(r["requests"]),
                samples=tuple(orjson.loads(r["samples"])),
                reason=r["reason"],
            )
            for r in rows
        ]

    def hourly(self, db: Tx, now: datetime, hours: int) -> tuple[HourCounts, ...]:
        """The last ``hours`` hours up to ``now``'s, oldest first, hours without traffic too."""
        last = int(now.timestamp()) // 3600
        first = last - hours + 1
        series = {h: dict.fromkeys(_KINDS.values(), 0) for h in range(first, last + 1)}
        for row in db.execute(
            "SELECT hour, kind, CAST(sum(count) AS BIGINT) AS n FROM traffic WHERE hour >= ? "
            "GROUP BY hour, kind",
            (first,),
        ):
            if row["hour"] in series and row["kind"] in _KINDS:
                series[row["hour"]][_KINDS[row["kind"]]] = int(row["n"])
        return tuple(
            HourCounts(hour=from_timestamp(h * 3600), **counts)  # type: ignore[arg-type]
            for h, counts in series.items()
        )
