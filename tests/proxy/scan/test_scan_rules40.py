"""Rules 40: text decoded from a literal where it stands (``b64decode("...").decode()``, hex,
base32) is read as the literal it decodes to: a word of a command, a piece of a path.

From ``benchmarks/scan_mutations.py`` (``base64``, ``hex``): a path or a command word spelled
that way was decoded for what it hides but never read where it is used.

The sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import base64

import pytest

from tests.support.scan import SETUP_CALL, judge_setup_script


def _judge(code: str) -> dict[str, float]:
    """The rules found for install-time ``code`` followed by the ``setup()`` call."""
    rules, _held = judge_setup_script(code + SETUP_CALL)
    return rules


@pytest.mark.parametrize(
    "spelled",
    [
        f"base64.b64decode({base64.b64encode(b'python3').decode()!r}).decode()",
        f"bytes.fromhex({b'python3'.hex()!r}).decode()",
        f"base64.b32decode({base64.b32encode(b'python3').decode()!r}).decode('utf-8')",
    ],
)
def test_a_decoded_command_word_is_read_as_the_word(spelled: str) -> None:
    rules = _judge(
        f"import base64, subprocess\nsubprocess.Popen([{spelled}, '-c', 'import helper'])\n"
    )
    assert rules.get("install-python") == 8


def test_a_text_that_does_not_decode_is_no_word() -> None:
    rules = _judge(
        "import base64, subprocess\n"
        "subprocess.Popen([base64.b64decode('!!!').decode(), '-c', 'import helper'])\n"
    )
    assert "install-python" not in rules
