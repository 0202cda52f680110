"""Rules 67: ``known-payload``, install- and import-time code that is a copy or near-copy of
a known malware payload (``proxy/scan/known.py``), whatever its strings, comments, layout
and local names say.

The "payload" here is inert, everyday code (it reads a settings file, formats a report and
runs one command): what is tested is the comparison, with an index the test builds itself,
so the other rules see little in it (a process started, too weak alone). Only a file with a
finding of its own is compared. The sources are text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import hashlib

import pytest

from pipgate.proxy.config.corpus import read_bundled_bytes
from pipgate.proxy.scan import rules, scan_archive
from pipgate.proxy.scan.known import (
    BUNDLED_PAYLOADS,
    MAX_TEXT,
    MIN_WORDS,
    NEAR,
    KnownPayloads,
    bundled_payloads,
    code_words,
    print_of,
    renamed,
)
from tests.support.archives import pkg_info, sdist, wheel

PAYLOAD = """\
import json
import os
import platform
import subprocess

from setuptools import setup

# collect a few settings for the report
SETTINGS = os.path.join(os.path.expanduser("~"), ".demo", "settings.json")


def load(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def describe(values):
    lines = []
    for key in sorted(values):
        lines.append("%s = %r" % (key, values[key]))
    lines.append("machine: " + platform.node())
    return "\\n".join(lines)


if os.path.exists(SETTINGS):
    REPORT = describe(load(SETTINGS))
else:
    REPORT = describe({"missing": True, "tries": 3})
subprocess.run(["uname", "-a"], check=False)
setup(name="demo", version="1.0", packages=["demo"])
"""

#: The same code as a campaign re-uploads it: other strings and numbers, other local
#: names, other comments and layout, one line more.
COPY = """\
import json
import os
import platform
import subprocess
from setuptools import setup
CONF = os.path.join(os.path.expanduser('~'), '.other-tool', 'conf.json')   # where
def load(p):
    with open(p, encoding='latin-1') as fh:
        return json.load(fh)
def describe(vals):
    out = []
    for k in sorted(vals):
        out.append('%s: %r' % (k, vals[k]))
    out.append('host ' + platform.node())
    return '\\n'.join(out)
if os.path.exists(CONF):
    REPORT = describe(load(CONF))
else:
    REPORT = describe({'absent': True, 'tries': 7})
VERSION = '2.0'
subprocess.run(['hostname'], check=False)
setup(name='other-tool', version='2.0', packages=['other_tool'])
"""

OTHER = """\
import argparse
import sys


def parse(argv):
    parser = argparse.ArgumentParser(prog="demo")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--name", default="world")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse(argv if argv is not None else sys.argv[1:])
    for _ in range(args.count):
        print("hello, " + args.name)
    return 0
"""


def _known(*texts: str) -> KnownPayloads:
    prints = [print_of(text) for text in texts]
    assert all(p is not None for p in prints)
    return KnownPayloads(p for p in prints if p is not None)


def test_strings_numbers_comments_and_layout_are_not_part_of_the_words() -> None:
    words = code_words("x = 'a' + \"b\"  # note\ny = 3.5 * f'{x}'\n")
    assert words == ["x", "=", "S", "+", "S", ";", "y", "=", "0", "*", "S", ";"]
    assert code_words('s = """one\ntwo"""\n') == ["s", "=", "S", ";"]


def test_local_names_are_renamed_but_imported_names_and_attributes_kept() -> None:
    words = code_words("import os\nfrom json import loads as ld\nvalue = os.path.join(ld(v))\n")
    assert renamed(words) == [
        *("import", "os", ";", "from", "json", "import", "loads", "as", "v0", ";"),
        *("v1", "=", "os", ".", "path", ".", "join", "(", "v0", "(", "v2", ")", ")", ";"),
    ]


def test_a_copy_with_other_strings_names_and_layout_is_near_the_payload() -> None:
    known = _known(PAYLOAD)
    copy, other = print_of(COPY), print_of(OTHER)
    assert copy is not None and other is not None
    assert known.match(copy) >= NEAR
    assert known.match(other) < NEAR


def test_a_renamed_copy_is_the_same_code() -> None:
    renamed_copy = PAYLOAD.replace("values", "qq").replace("lines", "zz").replace("key", "kk")
    item = print_of(renamed_copy)
    assert item is not None and item.exact == _known(PAYLOAD).prints[0].exact
    assert _known(PAYLOAD).match(item) == 1.0


def test_too_little_code_has_no_print() -> None:
    assert print_of("from setuptools import setup\nsetup(name='x', version='1')\n") is None
    assert len(code_words(PAYLOAD)) >= MIN_WORDS


def test_the_prints_survive_a_round_trip_and_bad_files_are_refused() -> None:
    known = _known(PAYLOAD, OTHER)
    again = KnownPayloads.from_bytes(known.to_bytes())
    assert again.prints == known.prints
    copy = print_of(COPY)
    assert copy is not None and again.match(copy) == known.match(copy)
    with pytest.raises(ValueError, match="magic"):
        KnownPayloads.from_bytes(b"something else\n")
    with pytest.raises(ValueError, match="truncated"):
        KnownPayloads.from_bytes(known.to_bytes()[:-3])


def _setup_sdist(setup: str) -> bytes:
    return sdist(
        {"setup.py": setup, "PKG-INFO": pkg_info("demo"), "demo/__init__.py": "X = 1\n"},
        root="demo-1.0",
    )


def test_a_setup_script_copying_a_known_payload_is_held_and_named() -> None:
    archive = _setup_sdist(COPY)
    report = scan_archive(archive, "demo-1.0.tar.gz", payloads=_known(PAYLOAD))
    found = [f for f in report.findings if f.rule == "known-payload"]
    assert [(f.file, f.weight) for f in found] == [("setup.py", 10.0)]
    assert "near-copy" in found[0].detail
    assert report.score >= 10
    plain = scan_archive(archive, "demo-1.0.tar.gz", payloads=KnownPayloads())
    assert plain.score < 10 and not any(f.rule == "known-payload" for f in plain.findings)
    assert any(f.rule == "install-process" for f in plain.findings)


def test_a_copy_that_does_nothing_a_rule_sees_is_not_compared() -> None:
    """A payload in a copy of a popular project's setup script is mostly that script: the
    script itself, with nothing the rules see, is not held for resembling the copy."""
    quiet = COPY.replace("subprocess.run(['hostname'], check=False)\n", "")
    assert quiet != COPY
    archive = _setup_sdist(quiet)
    report = scan_archive(archive, "demo-1.0.tar.gz", payloads=_known(PAYLOAD))
    assert not any(f.rule == "known-payload" for f in report.findings)
    assert report.score < 10


def test_import_time_code_is_compared_and_a_large_librarys_other_modules_are_not() -> None:
    padding = {f"demo/part{i}.py": f"VALUE_{i} = {i}\n" * 1200 for i in range(3)}
    imported = wheel({"demo/__init__.py": COPY, **padding})
    report = scan_archive(imported, "demo-1.0-py3-none-any.whl", payloads=_known(PAYLOAD))
    assert "known-payload" in {f.rule for f in report.findings}
    # The same code in a module nothing runs early, in a package too large to read whole.
    unreached = wheel({"demo/__init__.py": "X = 1\n", "demo/report.py": COPY, **padding})
    report = scan_archive(unreached, "demo-1.0-py3-none-any.whl", payloads=_known(PAYLOAD))
    assert "known-payload" not in {f.rule for f in report.findings}


def test_a_file_larger_than_read_for_prints_is_left_out() -> None:
    large = COPY + "#" * MAX_TEXT + "\n"
    report = scan_archive(
        wheel({"demo/__init__.py": large}), "demo-1.0-py3-none-any.whl", payloads=_known(PAYLOAD)
    )
    assert "known-payload" not in {f.rule for f in report.findings}


def test_the_shipped_prints_load_and_the_rules_version_names_them() -> None:
    """A verdict is kept by the rules' version: new prints must change it, so whoever
    rebuilds them updates ``PAYLOADS_CORPUS`` (and the version)."""
    shipped = read_bundled_bytes(BUNDLED_PAYLOADS)
    assert hashlib.sha256(shipped).hexdigest() == rules.PAYLOADS_CORPUS
    assert len(bundled_payloads().prints) > 100
    assert bundled_payloads() is bundled_payloads()  # read once per process
    other = print_of(OTHER)
    assert other is not None and bundled_payloads().match(other) < NEAR
