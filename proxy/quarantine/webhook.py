"""A webhook per new quarantine entry, sent from a thread of its own.

The body has a ``text`` field (what Slack and Mattermost incoming webhooks
show) plus the entry itself. Failures (connection errors, 429, 5xx) are
retried ``retries`` times with exponential backoff; the queue is bounded,
so a dead endpoint never holds memory or requests hostage.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

import httpx

from pipgate.policies.decision import Action

log = logging.getLogger("pipgate.webhook")


def _escape(text: object) -> str:
    """Slack/Mattermost control characters: ``<!channel>``, ``<url|label>`` and ``&``.

    Client addresses may come from X-Forwarded-For, so they are the requester's words.
    """
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def message(entry: dict[str, Any]) -> dict[str, Any]:
    what = _escape(entry["file"] or f"project {entry['project']}")
    where = "" if entry["index"] == "default" else f" on index {_escape(entry['index'])}"
    clients = _escape(", ".join(entry.get("top_clients") or []) or "-")
    text = (
        f":lock: pipgate {Action[str(entry['action']).upper()].past} {what}{where} ({_escape(entry['policy'])}): "
        f"{_escape(entry['reason'])}. "
        f"Requested by {clients}. Review it with `pipgate quarantine show {entry['id']}`."
    )
    return {"text": text, "event": "quarantine.created", "entry": entry}


class Webhook:
    def __init__(
        self,
        url: str,
        *,
        retries: int = 3,
        backoff: float = 1.0,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        capacity: int = 1000,
    ) -> None:
        self.url = url
        self._retries = retries
        self._backoff = backoff
        self._client = httpx.Client(timeout=timeout, transport=transport)
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize=capacity)
        self._thread = threading.Thread(target=self._run, name="pipgate-webhook", daemon=True)
        self._thread.start()

    def notify(self, entry: dict[str, Any]) -> None:
        try:
            self._queue.put_nowait(message(entry))
        except queue.Full:
            log.warning("webhook queue full; dropping the notice for entry %s", entry["id"])

    def close(self, timeout: float = 5.0) -> None:
        try:
            self._queue.put_nowait(None)
        except queue.Full:
            pass
        self._thread.join(timeout)
        self._client.close()

    def _run(self) -> None:
        while (body := self._queue.get()) is not None:
            self._send(body)

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
            "webhook to %s failed (%s); gave up on entry %s",
            httpx.URL(self.url).host,
            outcome,
            body["entry"]["id"],
        )
        return False
