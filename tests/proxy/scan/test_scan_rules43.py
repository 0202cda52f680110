"""Rules 43: a module that import-time code only imports is skimmed for its imports, unless
it shows hidden code or calls something at its own top level; when early code calls one of
its functions or classes by name (``from .client import connect; connect()``), that body
runs on import too, and the module is read as import-time code.

From ``benchmarks/scan_probes.py`` (``chmod_run_shipped_elf``): a shipped program started
detached from a function that ``__init__`` calls was held at the module's top level and
passed over one call away.

The sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import pytest

from tests.support.archives import wheel
from tests.support.scan import judge

#: Starts the program the wheel ships, detached from the user's session.
_START = (
    "import os, subprocess\n"
    "{head}\n"
    "    helper = os.path.join(os.path.dirname(__file__), 'bin', 'helper')\n"
    "    subprocess.Popen([helper], start_new_session=True, stdout=subprocess.DEVNULL)\n"
)
_PROGRAM = b"\x7fELF\x02\x01\x01" + bytes(121)


def _package(init: str, head: str) -> dict[str, float]:
    files = {
        "demo/__init__.py": init,
        "demo/client.py": _START.format(head=head),
        "demo/bin/helper": _PROGRAM,
    }
    rules, _held = judge(wheel(files), "demo-1.0-py3-none-any.whl")
    return rules


@pytest.mark.parametrize(
    ("init", "head"),
    [
        ("from .client import connect\nconnect()\n", "def connect():"),
        (
            "from .client import Client\n_default = Client()\n",
            "class Client:\n  def __init__(self):",
        ),
    ],
)
def test_a_shipped_program_started_from_what_init_calls_is_held(init: str, head: str) -> None:
    rules = _package(init, head)
    assert rules.get("install-run-bundled") == 8
    assert rules.get("import-process") == 4


def test_a_function_init_only_imports_is_not_import_time() -> None:
    rules = _package("from .client import connect\n", "def connect():")
    assert "install-run-bundled" not in rules
    assert "import-process" not in rules


def test_a_call_of_another_modules_function_of_that_name_does_not_count() -> None:
    init = "from .client import connect\nfrom .other import start\nstart()\n"
    rules = _package(init, "def connect():")
    assert "install-run-bundled" not in rules
