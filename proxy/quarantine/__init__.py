"""Quarantine review: the persistent queue of holds, reviewer overrides, the admin API,
the console and the CLI's local mode.

    store.py      SQLite (WAL) under the data directory: entries, rules, audit, traffic,
                  aggregates; schema migrations
    sessions.py   console sessions, server-side in the same database
    overrides.py  rules -> the gate's ``Overrides`` (release, reject, runtime allow/deny)
    intake.py     the recorder listener: holds queued, written in batches off the event loop
    webhook.py    batched, rate-limited chat messages about new entries
    review.py     ``Review``: store + overrides + intake + webhook, what routes and CLI use
    auth.py       tokens, console sessions, CSRF, optional auth on package routes
    api.py        JSON under /-/admin/        console.py  HTML under /-/ui/
"""
