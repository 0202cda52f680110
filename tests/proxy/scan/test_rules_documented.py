"""Every scan rule is documented in the README's rules table, and the table names no rule
the scanner lacks."""

from __future__ import annotations

import re
from pathlib import Path

from pipgate.proxy.scan.rules import RULES

README = Path(__file__).resolve().parents[3] / "README.md"


def _documented() -> set[str]:
    text = README.read_text(encoding="utf-8")
    table = text[text.index("**Rules**") :]
    table = table[: table.index("\n\n", table.index("| rule |"))]
    names: set[str] = set()
    for row in table.splitlines():
        if row.startswith("| `"):
            first = row.split("|")[1]
            names |= set(re.findall(r"`([a-z-]+)`", first))
    return names


def test_the_readme_rules_table_lists_exactly_the_scanners_rules() -> None:
    assert _documented() == set(RULES)
