"""``.pth`` files: which lines only add paths, and which run code at every interpreter start.

``site`` executes a ``.pth`` line that starts with ``import`` (followed by a space or tab);
every other non-comment line is a directory added to ``sys.path``. An import line that does
no more than import (``import _virtualenv``, setuptools' ``_distutils_hack`` shim, an
editable install's finder) is common; one that decodes, downloads, spawns or ``exec``s is not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pipgate.policies.scan import Finding

from .rules import finding
from .source import read_source

_DANGEROUS = re.compile(
    r"\b(?:b64decode|decompress|unhexlify|fromhex|marshal|urlopen|urlretrieve|requests|"
    r"socket|subprocess|system|popen|Popen|startfile|codecs|getattr|chr)\b"
)


def check_pth(path: str, text: str) -> Iterator[Finding]:
    """At most one finding: ``pth-exec`` for a line that runs more than imports, else
    ``pth-import`` for the first import line."""
    first_import = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.startswith(("import ", "import\t")):
            continue
        facts = read_source(line)
        # exec of a literal is how a .pth runs more than one statement (coloredlogs does);
        # what the literal says is judged like the rest of the line.
        if _DANGEROUS.search(line) or any(s.feed != "literal" for s in facts.sinks):
            yield finding("pth-exec", path, number, _clip(line))
            return
        if first_import is None:
            first_import = (number, line)
    if first_import is not None:
        yield finding("pth-import", path, first_import[0], _clip(first_import[1]))


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
