"""What the review queue costs when a release has many wheels (issue 11, item 4).

A Linux install that meets a fresh release with 174 wheels (charset-normalizer's
shape) writes that page view's holds to the store; later views and downloads follow.
Measured on the embedded SQLite store in a temporary directory (``--postgres URL``:
on PostgreSQL, migrated first), in one process, no server:

    .venv/bin/python benchmarks/review_queue.py [--views 50] [--postgres URL]

Prints milliseconds per operation (median of ``--views`` runs) and the queue's size.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipgate.proxy.quarantine.records import EntryQuery, Hold
from pipgate.proxy.quarantine.store import QuarantineStore

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WHEELS = [
    f"charset_normalizer-3.4.0-cp3{py}-cp3{py}-platform{n}.whl"
    for py in range(8, 14)
    for n in range(29)
]


def hold(file: str, client: str, *, page: bool) -> Hold:
    return Hold(
        "default",
        "charset-normalizer",
        file,
        "release-age",
        "quarantine",
        "uploaded 1 h ago; minimum age is 7 d",
        NOW + timedelta(days=7),
        client,
        NOW,
        page=page,
    )


def median_ms(runs: int, action: Callable[[int], object]) -> float:
    times = []
    for n in range(runs):
        started = time.perf_counter()
        action(n)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--views", type=int, default=50)
    parser.add_argument("--postgres", help="a PostgreSQL URL with an empty schema")
    args = parser.parse_args()
    if args.postgres:
        from pipgate.proxy.storage.postgres import PostgresDatabase
        from pipgate.proxy.storage.schema import migrate

        migrate(args.postgres)
        store = QuarantineStore(PostgresDatabase(args.postgres))
    else:
        store = QuarantineStore(Path(tempfile.mkdtemp()) / "quarantine.sqlite3")

    def view(n: int) -> object:
        return store.record([[hold(w, f"10.0.{n // 250}.{n % 250}", page=True) for w in WHEELS]])

    first = median_ms(1, view)
    later = median_ms(args.views, view)
    download = median_ms(
        args.views * 4, lambda n: store.record([[hold(WHEELS[n % 3], "c", page=False)]])
    )
    listing = median_ms(args.views, lambda n: store.entries.page(EntryQuery()))
    expire = median_ms(args.views, lambda n: store.expire(NOW))
    page = store.entries.page(EntryQuery())
    (entry,) = page.entries
    print(
        f"{len(WHEELS)} wheels in one release; {page.total} queue entry, {len(entry.files)} files"
    )
    print(
        f"views {entry.views}, downloads {entry.requests} (on {sum(1 for f in entry.files if f.requests)} files)"
    )
    print(f"first page view written: {first:.1f} ms; later ones: {later:.1f} ms (median)")
    print(
        f"a download: {download:.2f} ms; the queue page: {listing:.2f} ms; expire: {expire:.2f} ms"
    )
    store.close()


if __name__ == "__main__":
    main()
