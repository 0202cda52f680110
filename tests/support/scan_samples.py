"""Inert text the content scan flags, packed as a real sdist. Nothing ever runs it: the
scanner reads it, and pip is refused before it holds the archive."""

from __future__ import annotations

from tests.support.archives import pkg_info, sdist
from tests.support.fake_upstream import DEFAULT_UPLOAD_TIME, FakeFile, FakeProject

#: A setup.py that decodes a payload and runs it (rule ``decode-exec``, line 3).
EVIL_SETUP = """\
import base64
from setuptools import setup
exec(base64.b64decode("cHJpbnQoJ3B3bmVkJyk="))
setup(name="glimmer-tools", version="1.0.0")
"""
#: The sdist of ``glimmer_tools()``.
GLIMMER_SDIST = "glimmer_tools-1.0.0.tar.gz"


def glimmer_tools() -> FakeProject:
    """Project ``glimmer-tools`` 1.0.0 (old enough for the release age): one sdist
    whose setup.py is ``EVIL_SETUP``."""
    data = sdist(
        {
            "PKG-INFO": pkg_info("glimmer-tools", "1.0.0", "Tools"),
            "setup.py": EVIL_SETUP,
            "glimmer_tools/__init__.py": "def shine():\n    return 1\n",
        },
        root="glimmer_tools-1.0.0",
    )
    return FakeProject(
        "glimmer-tools",
        [FakeFile.from_bytes(GLIMMER_SDIST, data, upload_time=DEFAULT_UPLOAD_TIME)],
    )
