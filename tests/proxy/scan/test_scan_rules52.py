"""Rules 52: compiled code that carries a private exfiltration channel.

A stealer compiled to an extension module (Cython, Nuitka) or packed into a program
(PyInstaller) hides its code from a reader of Python, not its strings: the webhook, the bot
token or the request catcher it sends to sits in the binary as text. The binaries below are
a few magic bytes around a string, built by the tests; nothing runs them.
"""

from __future__ import annotations

import pytest

from tests.support.archives import pkg_info, sdist, wheel
from tests.support.scan import judge

ELF = b"\x7fELF\x02\x01\x01" + bytes(200)
WEBHOOK = b"https://discord.com/api/webhooks/123456789012345678/" + b"a" * 68
BOT = b"https://api.telegram.org/bot" + b"123456789:AA" + b"b" * 33 + b"/sendDocument"


@pytest.mark.parametrize(
    ("member", "sink"),
    [
        ("demo/_core.cpython-311-x86_64-linux-gnu.so", WEBHOOK),
        ("demo/_core.cp311-win_amd64.pyd", BOT),
        ("demo/bin/updater.exe", b"https://webhook.site/0f1e2d3c-aaaa-bbbb-cccc-123456789abc"),
    ],
    ids=["extension module", "windows extension", "program"],
)
def test_compiled_code_that_names_a_private_channel_is_held(member: str, sink: bytes) -> None:
    binary = ELF + b"\x00" * 4096 + sink + b"\x00" * 4096
    rules, held = judge(
        wheel({"demo/__init__.py": "from ._core import *\n", member: binary}),
        "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
    )
    assert rules.get("compiled-sink") == 10
    assert held


def test_compiled_code_that_names_public_hosts_is_not_held() -> None:
    binary = ELF + b"https://api.github.com/repos https://discord.com/developers/docs" + bytes(64)
    rules, held = judge(
        wheel(
            {
                "demo/__init__.py": "from ._core import *\n",
                "demo/_core.cpython-311-x86_64-linux-gnu.so": binary,
            }
        ),
        "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
    )
    assert "compiled-sink" not in rules
    assert not held


def test_a_test_fixture_binary_is_not_judged() -> None:
    files = {
        "PKG-INFO": pkg_info(),
        "setup.py": "from setuptools import setup\nsetup(name='demo', version='1.0')\n",
        "demo/__init__.py": "X = 1\n",
        "tests/data/sample.dll": ELF + WEBHOOK,
    }
    rules, _ = judge(sdist(files), "demo-1.0.tar.gz")
    assert "compiled-sink" not in rules


@pytest.mark.parametrize("start", [300, (1 << 16) - 5, (1 << 16) - 1, 1 << 16, 3 << 16])
def test_a_sink_is_found_wherever_it_lies_in_a_large_binary(start: int) -> None:
    # The binary is searched for the sinks' anchors (`/api/webhooks/`) in 64 KiB windows;
    # one across a window's edge is found too. `start`: where the anchor begins.
    before = start - len(ELF) - WEBHOOK.index(b"/api/webhooks/")
    binary = ELF + b"\x00" * before + WEBHOOK + b"\x00" * 4096
    assert binary.index(b"/api/webhooks/") == start
    rules, held = judge(
        wheel({"demo/__init__.py": "from ._core import *\n", "demo/_core.abi3.so": binary}),
        "demo-1.0-cp311-abi3-manylinux_2_17_x86_64.whl",
    )
    assert rules.get("compiled-sink") == 10, start
    assert held
