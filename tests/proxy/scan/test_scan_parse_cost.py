"""Rules 70: a file too large to analyse within bounds is not parsed
(``source.MAX_PARSE_COST``); one that runs at install or import time is held, as a file read
only in part is.

Before, 14 MB of ``x = 1`` lines in a ``setup.py`` that starts a process (30 KB gzipped) made
one scan take 6 GB of memory and 55 s, past its 30 s deadline. The sources are inert text.
"""

from __future__ import annotations

import pytest

from pipgate.proxy.scan import scan_archive
from pipgate.proxy.scan.source import MAX_PARSE_COST, parse_cost, read_source
from tests.support.archives import pkg_info, sdist, wheel

#: A payload's first lines, then more statements than the scan analyses.
PADDED = "import subprocess\nsubprocess.run(['id'])\n" + "x = 1\n" * MAX_PARSE_COST


def test_the_cost_counts_what_makes_syntax_tree_nodes() -> None:
    assert parse_cost("f(a, b)\nx = [1] + y;\n") == 2 + 1 + 1 + 1 + 1 + 1
    assert parse_cost(PADDED) > MAX_PARSE_COST


def test_a_file_past_the_cost_is_not_parsed() -> None:
    facts = read_source(PADDED)
    assert facts.too_large and not facts.parsed
    assert not facts.calls
    assert not read_source("import subprocess\nsubprocess.run(['id'])\n").too_large


@pytest.mark.parametrize("where", ["setup.py", "demo/__init__.py"])
def test_install_or_import_time_code_past_the_cost_is_held(where: str) -> None:
    files = {where: PADDED, "PKG-INFO": pkg_info("demo")}
    files.setdefault("demo/__init__.py", "X = 1\n")
    report = scan_archive(sdist(files, root="demo-1.0"), "demo-1.0.tar.gz")
    assert report.incomplete is not None
    assert f"{where} runs at install or import time and is too large to analyse" in (
        report.incomplete
    )


def test_a_module_nothing_runs_early_past_the_cost_is_not_held() -> None:
    archive = wheel({"demo/__init__.py": "X = 1\n", "demo/tables.py": PADDED})
    report = scan_archive(archive, "demo-1.0-py3-none-any.whl")
    assert report.incomplete is None
