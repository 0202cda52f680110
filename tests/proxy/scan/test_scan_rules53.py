"""Rules 53: a start-up entry written on install or import by the very lines that name the
place (a write, a registry call or a process within two lines of it) is held by itself
(10; 8 before, short of the threshold): an import that copies itself into the Startup
folder, sets a Run key, writes a LaunchAgent, appends to ``~/.bashrc`` or an autostart
entry. A place named in one line and a write elsewhere in the file stays 8. A PowerShell
profile and a WMI event subscription are places too.

The sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import pytest

from tests.support.archives import wheel
from tests.support.scan import judge

WHEEL = "demo-1.0-py3-none-any.whl"
AGENT = "os.path.join(os.path.dirname(__file__), 'agent.py')"
PLACED = {
    "launch agent": (
        "import os, pathlib\n"
        "pathlib.Path('~/Library/LaunchAgents/com.upd.plist').expanduser()"
        f".write_text('<plist><string>' + {AGENT} + '</string></plist>')\n"
    ),
    "bashrc": (
        "import os\n"
        "with open(os.path.expanduser('~/.bashrc'), 'a') as f:\n"
        f"    f.write('\\npython3 ' + {AGENT} + ' &\\n')\n"
    ),
    "powershell profile": (
        "import os\n"
        "open(os.path.join(os.path.expanduser('~'), 'Documents', 'WindowsPowerShell',"
        f" 'Microsoft.PowerShell_profile.ps1'), 'a').write('python ' + {AGENT})\n"
    ),
    "wmi subscription": (
        "import subprocess\n"
        "subprocess.run(['powershell', '-c', 'Register-WmiEvent -Query \"SELECT * FROM"
        " __InstanceCreationEvent\" -Action {python agent.py}'])\n"
    ),
}


@pytest.mark.parametrize("case", sorted(PLACED))
def test_a_start_up_entry_written_on_import_is_held(case: str) -> None:
    rules, held = judge(
        wheel({"demo/__init__.py": PLACED[case], "demo/agent.py": "X = 1\n"}), WHEEL
    )
    assert rules.get("persistence") == 10
    assert held


def test_a_place_named_apart_from_any_write_weighs_less() -> None:
    init = (
        "import os, json\n"
        "HELP = 'add `eval \"$(demo completion)\"` to your ~/.bashrc'\n"
        "\n\n\n"
        "json.dump({'seen': True}, open(os.path.expanduser('~/.demo.json'), 'w'))\n"
    )
    rules, held = judge(wheel({"demo/__init__.py": init}), WHEEL)
    assert rules.get("persistence") == 8
    assert not held
