"""Webhook messages: one line per new entry (a held version, whatever its number of files)."""

from __future__ import annotations

import dataclasses

from pipgate.proxy.quarantine.records import HeldFile
from pipgate.proxy.quarantine.webhook import message
from tests.support.review_records import NOW, entry_of


def test_a_release_with_many_files_is_one_line() -> None:
    wheel = HeldFile("w.whl", "uploaded 1 h ago", None, 0, NOW, None, "quarantined")
    many = entry_of(files=tuple(dataclasses.replace(wheel, file=f"{n}.whl") for n in range(172)))
    sent = message([many])
    assert sent["count"] == 1 and len(sent["entries"][0]["files"]) == 172
    assert sent["text"] == (
        ":lock: pipgate quarantined demo 1.0 (172 files) (release-age): uploaded 1 h ago. "
        "Requested by 10.0.0.1. Review it with `pipgate quarantine show 1`."
    )


def test_several_entries_are_listed_one_line_each() -> None:
    project = entry_of(
        id=2,
        project="evil",
        version=None,
        files=(),
        action="block",
        policy="typosquat",
        index="strict",
    )
    text = message([entry_of(), project])["text"]
    assert text.splitlines() == [
        ":lock: pipgate: 2 new quarantine entries",
        "• quarantined demo 1.0 (1 file) (release-age): uploaded 1 h ago (entry 1)",
        "• blocked project evil on index strict (typosquat): uploaded 1 h ago (entry 2)",
        "Review them with `pipgate quarantine list`.",
    ]


def test_webhook_text_escapes_untrusted_fields() -> None:
    # The client address can come from X-Forwarded-For: a requester must not be able to
    # ping @channel or plant a disguised link in the reviewers' chat.
    entry = entry_of(
        project="demo-pkg",
        reason="too <new>",
        top_clients=("<!channel> <https://evil.example|approve here>",),
    )
    text = message([entry])["text"]
    assert "<!channel>" not in text and "<https://evil" not in text
    assert "&lt;!channel&gt;" in text
    assert message([entry])["entries"][0]["top_clients"] == list(entry.top_clients)  # unchanged


def test_webhook_text_says_blocked() -> None:
    entry = entry_of(
        id=7,
        project="evil",
        version=None,
        files=(),
        action="block",
        policy="allowlist",
        reason="on the denylist",
    )
    assert "pipgate blocked project evil" in message([entry])["text"]
