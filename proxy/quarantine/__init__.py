"""Quarantine review: the persistent queue of holds, reviewer overrides, the admin API,
the console and the CLI's two ways in.

    records.py     the typed values: Entry (a held version, its files inside), Rule, ...
    migrations.py  the SQLite schema, built by numbered steps (PostgreSQL: storage/schema.py)
    store.py       the review tables as repositories, one write transaction across them:
      entries.py   the queue        rules.py    releases, rejects, runtime lists
      audit.py     the audit log    traffic.py  hourly counts and aggregated holds
    sessions.py    console sessions, server-side in the same database
    actions.py     reviewer actions: checked, then rule + entry states + audit at once
    overrides.py   rules -> the gate's ``Overrides`` (release, reject, runtime allow/deny)
    intake.py      the recorder listener: holds queued, written in batches off the event loop
    webhook.py     batched, rate-limited chat messages about new entries
    review.py      ``Review``: store + actions + overrides + intake + webhook, the facade
    serialize.py   the records as JSON and back (API, webhook, CLI)
    client.py      ``ReviewClient``: ``Review`` in-process, or the admin API over HTTP
    auth.py        tokens, console sessions, CSRF, optional auth on package routes
    api.py         JSON under /-/admin/        console.py  HTML under /-/ui/
"""
