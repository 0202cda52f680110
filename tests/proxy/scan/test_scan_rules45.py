"""Rules 45: the commands an archive installs are those of its own ``entry_points.txt`` (in
its ``.dist-info`` or ``.egg-info`` directory at the root, or under ``src/``), not those of a
project it vendors: pex ships pip's ``pip-20.3.4.dist-info/entry_points.txt`` inside its
package, and installing pex installs no ``pip`` command.

Rules 45 also hold a URL requested and spelled only encoded (``hidden-url`` 6 -> 10):
``test_scan_rules6.test_a_url_hidden_in_base64_is_held_whether_a_bare_address_or_a_name``.

The sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import pytest

from tests.support.archives import pkg_info, sdist, wheel
from tests.support.scan import judge

_PIP_COMMANDS = "[console_scripts]\npip = pip._internal.cli.main:main\n"


def test_a_vendored_projects_commands_are_not_the_archives() -> None:
    files = {
        "PKG-INFO": pkg_info("demo"),
        "setup.py": "from setuptools import setup\nsetup(name='demo', version='1.0')\n",
        "demo/__init__.py": "X = 1\n",
        "demo/vendor/_vendored/pip/pip-20.3.4.dist-info/entry_points.txt": _PIP_COMMANDS,
    }
    rules, held = judge(sdist(files, root="demo-1.0"), "demo-1.0.tar.gz")
    assert "command-hijack" not in rules
    assert not held


@pytest.mark.parametrize(
    "metadata", ["demo.egg-info/entry_points.txt", "src/demo.egg-info/entry_points.txt"]
)
def test_an_sdists_own_commands_are_still_read(metadata: str) -> None:
    files = {
        "PKG-INFO": pkg_info("demo"),
        "setup.py": "from setuptools import setup\nsetup(name='demo', version='1.0')\n",
        "demo/__init__.py": "X = 1\n",
        metadata: "[console_scripts]\npip = demo:main\n",
    }
    rules, held = judge(sdist(files, root="demo-1.0"), "demo-1.0.tar.gz")
    assert rules.get("command-hijack") == 10
    assert held


def test_a_wheels_own_commands_are_still_read() -> None:
    files = {
        "demo/__init__.py": "def main():\n    pass\n",
        "demo-1.0.dist-info/entry_points.txt": "[console_scripts]\npip = demo:main\n",
    }
    rules, held = judge(wheel(files), "demo-1.0-py3-none-any.whl")
    assert rules.get("command-hijack") == 10
    assert held
