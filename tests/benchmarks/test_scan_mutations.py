"""The rewrites of ``benchmarks/scan_mutations.py`` keep what code does: each one, applied to
a small module of our own, computes the same values as the original (the benchmark's
"still held" counts mean something only if the rewritten sample does what it did)."""

from __future__ import annotations

import io
import tarfile

import pytest

from benchmarks.scan_mutations import ALL, MUTATIONS, mutate_archive, mutate_module

#: Strings, a closure, imports and calls of their functions, a value another module would
#: import: what the rewrites touch.
MODULE = '''"""A module."""
import base64
import os.path
GREETING = "hello, world"
def shout(text):
    return text.upper() + "!!!!!!"
def make():
    prefix = "prefix-value"
    def inner():
        return prefix + os.path.join("folder", "file.txt")
    return inner()
RESULT = [shout(GREETING), make(), base64.b64encode(b"payload").decode()]
'''


def _run(code: str) -> dict[str, object]:
    namespace: dict[str, object] = {"__name__": "probe"}
    exec(compile(code, "probe.py", "exec"), namespace)  # our own module, not a sample
    return namespace


@pytest.mark.parametrize("mutation", [*MUTATIONS, "pad", "exec"])
def test_a_rewrite_keeps_what_the_module_computes(mutation: str) -> None:
    rewritten = mutate_module(MODULE, mutation)
    if mutation == "thread":
        assert rewritten is not None and "Thread(target=_pg_main).start()" in rewritten
        rewritten = rewritten.replace(".start()", ".run()")  # the same, on this thread
    if mutation == "atexit":
        assert rewritten is not None and "_pg_atexit.register(_pg_main)" in rewritten
        rewritten = rewritten.replace("_pg_atexit.register(_pg_main)", "_pg_main()")  # now
    assert rewritten is not None and rewritten != MODULE
    assert _run(rewritten)["RESULT"] == _run(MODULE)["RESULT"]


def test_code_that_does_not_parse_is_left_alone() -> None:
    assert mutate_module("print 'python 2'\n", "split") is None


def _sdist(files: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _files(data: bytes) -> dict[str, str]:
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        return {m.name: archive.extractfile(m).read().decode() for m in archive if m.isfile()}  # type: ignore[union-attr]


def test_relocate_moves_setup_and_init_code_into_modules_they_import() -> None:
    original = {
        "demo-1.0/setup.py": "from setuptools import setup\nsetup(name='demo')\n",
        "demo-1.0/demo/__init__.py": MODULE,
        "demo-1.0/PKG-INFO": "Name: demo\n",
    }
    files = _files(mutate_archive(_sdist(original), "demo-1.0.tar.gz", "relocate") or b"")
    assert files["demo-1.0/_pg_setup_impl.py"] == original["demo-1.0/setup.py"]
    assert "import _pg_setup_impl" in files["demo-1.0/setup.py"]
    assert files["demo-1.0/demo/_pg_impl.py"] == MODULE
    assert files["demo-1.0/demo/__init__.py"] == "from ._pg_impl import *\n"
    assert files["demo-1.0/PKG-INFO"] == original["demo-1.0/PKG-INFO"]
    assert "relocate" in ALL
