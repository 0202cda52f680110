"""Rules 38: a literal built of pieces is read whole in two more places.

From ``benchmarks/scan_mutations.py`` (``split``): a base64 text assigned in two pieces was
folded for the flows that read it but never decoded for what it hides (a URL), and a
command list's words in pieces (``["pyt" + "hon3", "-c", ...]``) were read piece by piece.

The sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import base64

from tests.support.scan import SETUP_CALL, judge_setup_script

HIDDEN = base64.b64encode(b"https://collect.example.net/api/upload/1234567890").decode()


def _judge(code: str) -> dict[str, float]:
    """The rules found for install-time ``code`` followed by the ``setup()`` call."""
    rules, _held = judge_setup_script(code + SETUP_CALL)
    return rules


def test_an_encoded_url_assigned_in_pieces_is_decoded() -> None:
    half = len(HIDDEN) // 2
    rules = _judge(
        "import base64, requests\n"
        f"where = {HIDDEN[:half]!r} + {HIDDEN[half:]!r}\n"
        "requests.get(base64.b64decode(where).decode())\n"
    )
    assert "hidden-url" in rules


def test_a_command_lists_words_in_pieces_are_read_whole() -> None:
    rules = _judge(
        "import subprocess\n"
        "subprocess.Popen(['pyt' + 'hon3', '-c', 'import' + ' helper'], close_fds=True)\n"
    )
    assert rules.get("install-python") == 8
