"""Rules 59: where a pair of network use and a process is one everyday behaviour.

- One call that is both (`subprocess.run(["wget", URL, "-O", path])` on import, a model
  fetched for the user): one behaviour, not two; the pair needs two calls.
- A build helper (a module at an sdist's root that setup.py imports and the archive does not
  install, lxml's ``buildlibxml.py``) that downloads a library and compiles it: what a build
  does, as ``install-network`` with ``install-process`` in a setup script is no pair either.

The sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

from tests.support.archives import pkg_info, sdist, wheel
from tests.support.scan import SETUP_CALL, judge

WHEEL = "demo-1.0-py3-none-any.whl"


def test_one_download_command_run_on_import_is_not_a_pair() -> None:
    init = (
        "import subprocess\n"
        "subprocess.run(['wget', 'https://models.example.org/m.pt', '-O', 'models/m.pt'])\n"
    )
    rules, held = judge(wheel({"demo/__init__.py": init}), WHEEL)
    assert "import-network" in rules and "import-process" in rules
    assert "paired" not in rules
    assert not held


def test_a_download_and_a_separate_process_on_import_still_are() -> None:
    init = (
        "import subprocess, urllib.request\n"
        "urllib.request.urlopen('https://cdn.example.net/v.json')\n"
        "subprocess.Popen(['demo-agent', '--quiet'])\n"
    )
    rules, held = judge(wheel({"demo/__init__.py": init}), WHEEL)
    assert "paired" in rules
    assert held


BUILD_HELPER = (
    "import ftplib, subprocess\n"
    "def fetch():\n"
    "    ftp = ftplib.FTP('ftp.example.org')\n"
    "    ftp.retrbinary('RETR lib.tar.gz', open('lib.tar.gz', 'wb').write)\n"
    "def build():\n"
    "    fetch()\n"
    "    subprocess.call(['make', '-C', 'lib'])\n"
)


def _sdist(helper_name: str, top_level: str) -> tuple[dict[str, float], bool]:
    setup = f"import {helper_name}\n{helper_name}.build()\n" + SETUP_CALL
    files = {
        "setup.py": setup,
        f"{helper_name}.py": BUILD_HELPER,
        "PKG-INFO": pkg_info("demo"),
        "demo/__init__.py": "X = 1\n",
        "demo.egg-info/top_level.txt": top_level,
    }
    return judge(sdist(files, root="demo-1.0"), "demo-1.0.tar.gz")


def test_a_build_helper_that_downloads_and_compiles_is_not_a_pair() -> None:
    rules, held = _sdist("buildlib", "demo\n")
    assert "import-network" in rules and "import-process" in rules
    assert "paired" not in rules
    assert not held


def test_the_same_module_installed_as_a_top_level_module_is() -> None:
    rules, held = _sdist("buildlib", "demo\nbuildlib\n")
    assert "paired" in rules
    assert held
