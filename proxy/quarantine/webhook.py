"""Webhook messages about new quarantine entries, batched and rate-limited, from a thread.

An entry is a held version (with all its files) or project, so a release with 172
wheels is one entry and one line of a message, not 172.

At most one message per ``interval``: the first new entry after a quiet
interval is announced within ``GATHER`` seconds (with the entries that came
along with it), the ones that follow within the interval are gathered into
the next message (``count`` of them, the first ``MAX_LISTED``
listed). So a flood of entries costs the reviewers' chat one message per
interval, and memory stays bounded whatever the number of entries.

The body has a ``text`` field (what Slack and Mattermost incoming webhooks
show) plus the entries themselves (as the admin API shows them). Failures (connection errors, 429, 5xx) are
retried ``retries`` times with exponential backoff, then given up: a dead
endpoint never holds memory or requests hostage.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import httpx

from pipgate.policies.decision import Action
from pipgate.proxy.quarantine.records import Entry
from pipgate.proxy.quarantine.serialize import to_json

log = logging.getLogger("pipgate.webhook")

#: Entries a message lists; the rest are counted.
MAX_LISTED = 20
#: How long the first entry after a quiet interval waits for company, in seconds.
GATHER = 0.5


def _escape(text: object) -> str:
    """Slack/Mattermost control characters: ``<!channel>``, ``<url|label>`` and ``&``.

    Client addresses may come from X-Forwarded-For, so they are the requester's words.
    """
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _line(entry: Entry) -> str:
    if entry.version:
        count = len(entry.files)
        what = f"{entry.project} {entry.version} ({count} file{'' if count == 1 else 's'})"
    elif entry.files:  # files whose version is unknown
        what = ", ".join(f.file for f in entry.files[:3]) + (" …" if len(entry.files) > 3 else "")
    else:
        what = f"project {entry.project}"
    where = "" if entry.index == "default" else f" on index {_escape(entry.index)}"
    try:
        action = Action[entry.action.upper()].past
    except KeyError:
        action = _escape(entry.action)
    return f"{action} {_escape(what)}{where} ({_escape(entry.policy)}): {_escape(entry.reason)}"


def message(entries: list[Entry], count: int | None = None) -> dict[str, Any]:
    """One message about ``count`` new entries (default: ``len(entries)``), listing ``entries``."""
    count = len(entries) if count is None else count
    if count == 1 and entries:
        entry = entries[0]
        clients = _escape(", ".join(entry.top_clients) or "-")
        text = (
            f":lock: pipgate {_line(entry)}. Requested by {clients}. "
            f"Review it with `pipgate quarantine show {entry.id}`."
        )
    else:
        lines = [f"• {_line(e)} (entry {e.id})" for e in entries]
        more = count - len(entries)
        if more > 0:
            lines.append(f"… and {more} more")
        text = (
            f":lock: pipgate: {count} new quarantine entries\n"
            + "\n".join(lines)
            + "\nReview them with `pipgate quarantine list`."
        )
    return {
        "text": text,
        "event": "quarantine.created",
        "count": count,
        "entries": to_json(entries),
    }


class Webhook:
    def __init__(
        self,
        url: str,
        *,
        retries: int = 3,
        backoff: float = 1.0,
        timeout: float = 10.0,
        interval: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url
        self._retries = retries
        self._backoff = backoff
        self._interval = interval
        self._client = httpx.Client(timeout=timeout, transport=transport)
        self._changed = threading.Condition()
        self._listed: list[Entry] = []
        self._count = 0
        self._first_at = 0.0
        self._closing = False
        #: Messages sent (delivered or given up on).
        self.sent = 0
        self._thread = threading.Thread(target=self._run, name="pipgate-webhook", daemon=True)
        self._thread.start()

    def notify(self, entry: Entry) -> None:
        """Announce a new entry with the next message; never blocks."""
        with self._changed:
            if not self._count:
                self._first_at = time.monotonic()
            self._count += 1
            if len(self._listed) < MAX_LISTED:
                self._listed.append(entry)
            self._changed.notify()

    def close(self, timeout: float = 5.0) -> None:
        """Send what is waiting (one message), then stop."""
        with self._changed:
            self._closing = True
            self._changed.notify()
        self._thread.join(timeout)
        self._client.close()

    def _run(self) -> None:
        last_sent = float("-inf")
        while True:
            with self._changed:
                while not self._count and not self._closing:
                    self._changed.wait()
                if not self._count:
                    return
                due = max(last_sent + self._interval, self._first_at + min(GATHER, self._interval))
                wait = due - time.monotonic()
                if wait > 0 and not self._closing:
                    self._changed.wait(wait)  # gather more; closing cuts it short
                    continue
                listed, count = self._listed, self._count
                self._listed, self._count = [], 0
            last_sent = time.monotonic()
            self._send(message(listed, count))
            self.sent += 1

    def _send(self, body: dict[str, Any]) -> bool:
        for attempt in range(self._retries + 1):
            try:
                response = self._client.post(self.url, json=body)
                if response.status_code < 300:
                    return True
                outcome = f"status {response.status_code}"
                if response.status_code < 500 and response.status_code != 429:
                    break
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__
            if attempt < self._retries:
                time.sleep(self._backoff * 2**attempt)
        # Only the host: chat webhook URLs carry their secret in the path.
        log.warning(
            "webhook to %s failed (%s); gave up on a message about %d entries",
            httpx.URL(self.url).host,
            outcome,
            body["count"],
        )
        return False
