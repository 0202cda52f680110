"""What the content scan and the default scan policy make of a synthetic archive."""

from __future__ import annotations

from pipgate.policies.scan import ScanPolicy
from pipgate.proxy.scan import scan_archive

from .archives import pkg_info, sdist, wheel

POLICY = ScanPolicy()


def judge(archive: bytes, filename: str) -> tuple[dict[str, float], bool]:
    """The rules found (the heaviest weight of each) and whether the default policy holds
    the archive. Fails if the scan could not finish."""
    report = scan_archive(archive, filename)
    assert report.incomplete is None
    rules: dict[str, float] = {}
    for item in report.findings:
        rules[item.rule] = max(rules.get(item.rule, 0.0), item.weight)
    return rules, not POLICY.decide(report).allowed


def judge_in_function(client: str) -> tuple[dict[str, float], bool]:
    """``judge`` of a wheel whose ``__init__`` imports the module ``client`` (code inside
    functions nothing calls on import)."""
    archive = wheel({"demo/__init__.py": "from .client import connect\n", "demo/client.py": client})
    return judge(archive, "demo-1.0-py3-none-any.whl")


def judge_setup_script(setup: str) -> tuple[dict[str, float], bool]:
    """``judge`` of an sdist of ``demo`` 1.0 whose ``setup.py`` is ``setup`` (a whole
    script, ``setup()`` call included) beside a package with a line of code of its own."""
    files = {"setup.py": setup, "PKG-INFO": pkg_info("demo"), "demo/__init__.py": "X = 1\n"}
    return judge(sdist(files, root="demo-1.0"), "demo-1.0.tar.gz")


#: The ``setup()`` call that ends a setup script of ``demo`` 1.0.
SETUP_CALL = "from setuptools import setup\nsetup(name='demo', version='1.0')\n"
