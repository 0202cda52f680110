"""The ``lookalike-name`` rule: a project named like a popular one, judged by the names alone."""

from __future__ import annotations

import hashlib

import pytest

from pipgate.policies.scan import ScanPolicy
from pipgate.policies.typosquat import TyposquatIndex
from pipgate.proxy.config.corpus import BUNDLED_INDEX, read_bundled_bytes
from pipgate.proxy.scan import rules, scan_archive
from pipgate.proxy.scan.names import Lookalikes, bundled_lookalikes
from tests.support.archives import pkg_info, sdist

POLICY = ScanPolicy()
#: A corpus of its own, most popular first, so the tests do not move with the bundled one.
INDEX = TyposquatIndex.build(["requests", "numpy", "colorama", "flask", "boto3"])
#: ``setup.py`` of a package that fetches something while it installs: weighs 6, short of
#: the threshold of 10 by itself.
FETCHING_SETUP = """\
import urllib.request
from setuptools import setup
urllib.request.urlopen("https://example.com/build-info")
setup(name="{name}", packages=["{module}"])
"""


def _sdist(name: str) -> bytes:
    module = name.replace("-", "_")
    return sdist(
        {
            "PKG-INFO": pkg_info(name),
            "setup.py": FETCHING_SETUP.format(name=name, module=module),
            f"{module}/__init__.py": "def greet():\n    return 'hello'\n",
        },
        root=f"{name}-1.0",
    )


@pytest.mark.parametrize(
    ("name", "target"),
    [("flsak", "flask"), ("reqeusts", "requests"), ("colorana", "colorama")],
)
def test_a_typo_of_a_popular_name_is_a_lookalike(name: str, target: str) -> None:
    imitated = Lookalikes(INDEX).imitated(name)
    assert imitated is not None and imitated.match.target == target


@pytest.mark.parametrize("name", ["flask", "Requests", "my-own-tool", "flask-login-helper"])
def test_popular_names_themselves_and_other_names_are_not(name: str) -> None:
    assert Lookalikes(INDEX).imitated(name) is None


def test_the_threshold_is_the_name_score() -> None:
    """A weak resemblance (a new first letter) stays under the threshold; lowering the
    threshold lets it through, so the threshold is what decides."""
    assert Lookalikes(INDEX).imitated("glask") is None
    assert Lookalikes(INDEX, threshold=-10).imitated("glask") is not None


def test_a_lookalike_with_weak_behaviour_is_held_and_the_name_is_the_reason() -> None:
    report = scan_archive(_sdist("flsak"), "flsak-1.0.tar.gz", lookalikes=Lookalikes(INDEX))
    rules = {f.rule for f in report.findings}
    assert {"lookalike-name", "install-network"} <= rules
    assert not POLICY.decide(report).allowed
    named = next(f for f in report.findings if f.rule == "lookalike-name")
    assert "'flsak' looks like 'flask'" in named.detail
    assert named.file == "PKG-INFO"


def test_the_same_behaviour_under_a_name_of_its_own_is_not_held() -> None:
    report = scan_archive(_sdist("buildinfo"), "buildinfo-1.0.tar.gz", lookalikes=Lookalikes(INDEX))
    assert "install-network" in {f.rule for f in report.findings}
    assert "lookalike-name" not in {f.rule for f in report.findings}
    assert POLICY.decide(report).allowed


def test_a_lookalike_name_alone_is_not_held() -> None:
    """The typosquat policy judges names; the scan only adds the name to what code does."""
    quiet = sdist(
        {"PKG-INFO": pkg_info("flsak"), "flsak/__init__.py": "def app():\n    return 1\n"},
        root="flsak-1.0",
    )
    report = scan_archive(quiet, "flsak-1.0.tar.gz", lookalikes=Lookalikes(INDEX))
    assert [f.rule for f in report.findings] == ["lookalike-name"]
    assert POLICY.decide(report).allowed


def test_the_default_judges_against_the_corpus_shipped_with_pipgate() -> None:
    report = scan_archive(_sdist("reqeusts"), "reqeusts-1.0.tar.gz")
    assert "lookalike-name" in {f.rule for f in report.findings}
    assert bundled_lookalikes() is bundled_lookalikes()  # read once per process


def test_the_rules_version_names_the_shipped_corpus() -> None:
    """A verdict is kept by the rules' version: a new corpus of popular names must change
    it, so whoever rebuilds the corpus updates ``NAMES_CORPUS`` (and the version)."""
    shipped = read_bundled_bytes(BUNDLED_INDEX)
    assert hashlib.sha256(shipped).hexdigest() == rules.NAMES_CORPUS


def _requiring(requirement: str, where: str) -> bytes:
    """An sdist of `demo-tool` that declares ``requirement`` in one of the places an
    archive declares requirements (``where``)."""
    files = {
        "PKG-INFO": pkg_info("demo-tool"),
        "demo_tool/__init__.py": "def run():\n    return 1\n",
    }
    if where == "metadata":
        files["PKG-INFO"] += f"Requires-Dist: {requirement}\n"
    elif where == "setup.py":
        files["setup.py"] = (
            "from setuptools import setup\n"
            f"setup(name='demo-tool', install_requires=['six', {requirement!r}])\n"
        )
    elif where == "setup.cfg":
        files["setup.cfg"] = f"[options]\ninstall_requires =\n    six\n    {requirement}\n"
    elif where == "pyproject.toml":
        files["pyproject.toml"] = (
            f'[project]\nname = "demo-tool"\nversion = "1.0"\ndependencies = ["{requirement}"]\n'
        )
    elif where == "requires.txt":
        files["demo_tool.egg-info/requires.txt"] = f"six\n\n[extra]\n{requirement}\n"
    elif where == "build-system":
        files["pyproject.toml"] = (
            f'[build-system]\nrequires = ["setuptools", "{requirement}"]\n'
            'build-backend = "setuptools.build_meta"\n'
        )
    elif where == "setup_requires":
        files["setup.py"] = (
            f"from setuptools import setup\nsetup(name='demo-tool', setup_requires=[{requirement!r}])\n"
        )
    return sdist(files, root="demo-tool-1.0")


@pytest.mark.parametrize(
    "where",
    [
        "metadata",
        "setup.py",
        "setup.cfg",
        "pyproject.toml",
        "requires.txt",
        "build-system",
        "setup_requires",
    ],
)
def test_a_requirement_named_like_a_popular_project_is_a_lookalike_dependency(
    where: str,
) -> None:
    report = scan_archive(
        _requiring("reqeusts>=2", where), "demo-tool-1.0.tar.gz", lookalikes=Lookalikes(INDEX)
    )
    found = [f for f in report.findings if f.rule == "lookalike-dependency"]
    assert len(found) == 1, report.findings
    assert "requires 'reqeusts', which looks like 'requests'" in found[0].detail


@pytest.mark.parametrize("requirement", ["requests>=2", "my-own-helper", "flask-login-helper"])
def test_popular_and_unlike_requirements_are_not(requirement: str) -> None:
    report = scan_archive(
        _requiring(requirement, "metadata"), "demo-tool-1.0.tar.gz", lookalikes=Lookalikes(INDEX)
    )
    assert "lookalike-dependency" not in {f.rule for f in report.findings}


def test_a_lookalike_requiring_a_lookalike_is_held() -> None:
    """Two look-alike names, the project's and its requirement's: a campaign's chain."""
    files = {
        "PKG-INFO": pkg_info("flsak") + "Requires-Dist: reqeusts\n",
        "flsak/__init__.py": "def app():\n    return 1\n",
    }
    report = scan_archive(
        sdist(files, root="flsak-1.0"), "flsak-1.0.tar.gz", lookalikes=Lookalikes(INDEX)
    )
    assert {f.rule for f in report.findings} == {"lookalike-name", "lookalike-dependency"}
    assert not POLICY.decide(report).allowed
