"""A synthetic stress set of typosquats, made from the popular names alone.

It mimics the published description of later campaigns (one or two
substitutions, insertions or doubled letters in the most popular names; digits
or words glued on) without looking at any real later name. Names that exist on
PyPI (``existing``) or in the corpus are dropped: a squatter can only register a
free name. Deterministic for a given seed.

    generate(corpus, existing, count=2000, seed=12) -> [(name, target, technique)]
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Collection, Sequence

ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
LETTERS = string.ascii_lowercase
# Words glued onto names by squats and plugins alike.
WORDS = (
    "utils", "tools", "helper", "helpers", "lib", "sdk", "api", "dev", "pro", "plus", "new",
    "core", "ext", "toolkit", "client", "py", "python", "x", "lite", "fast", "async", "cli",
    "wrapper", "kit", "module", "official", "update", "beta",
)  # fmt: skip
TOP = 500  # "the most popular names"
TECHNIQUES = (
    ("substitution", 0.22),
    ("insertion", 0.14),
    ("doubled", 0.14),
    ("two-edits", 0.18),
    ("digits", 0.12),
    ("word", 0.20),
)


def _neighbours(ch: str) -> str:
    for r, row in enumerate(ROWS):
        if ch in row:
            c = row.index(ch)
            near = row[max(0, c - 1) : c] + row[c + 1 : c + 2]
            for other in (r - 1, r + 1):
                if 0 <= other < len(ROWS):
                    near += ROWS[other][max(0, c - 1) : c + 1]
            return near.replace(ch, "") or LETTERS
    return LETTERS


def _letter(rng: random.Random, near: str) -> str:
    return rng.choice(_neighbours(near)) if rng.random() < 0.5 else rng.choice(LETTERS)


def _positions(name: str) -> list[int]:
    return [i for i, ch in enumerate(name) if ch.isalpha()]


def substitute(name: str, rng: random.Random) -> str:
    i = rng.choice(_positions(name))
    return name[:i] + _letter(rng, name[i]) + name[i + 1 :]


def insert(name: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(name) + 1)
    return name[:i] + _letter(rng, name[i - 1]) + name[i:]


def double(name: str, rng: random.Random) -> str:
    i = rng.choice(_positions(name))
    return name[: i + 1] + name[i] + name[i + 1 :]


def two_edits(name: str, rng: random.Random) -> str:
    first, second = rng.choice((substitute, insert, double)), rng.choice((substitute, insert))
    return second(first(name, rng), rng)


def digits(name: str, rng: random.Random) -> str:
    number = rng.choice(("2", "3", "1", "4", "5", "0", "12", "2024", "2025", "01"))
    return name + rng.choice(("", "", "-")) + number


def word(name: str, rng: random.Random) -> str:
    glue = rng.choice(("-", "-", ""))
    w = rng.choice(WORDS)
    return f"{w}{glue}{name}" if rng.random() < 0.25 else f"{name}{glue}{w}"


MAKERS: dict[str, Callable[[str, random.Random], str]] = {
    "substitution": substitute,
    "insertion": insert,
    "doubled": double,
    "two-edits": two_edits,
    "digits": digits,
    "word": word,
}


def generate(
    corpus: Sequence[str],
    existing: Collection[str],
    *,
    count: int = 2000,
    seed: int = 12,
) -> list[tuple[str, str, str]]:
    """``count`` new names ``(name, target, technique)`` aimed at the top of ``corpus``."""
    rng = random.Random(seed)
    targets = [name for name in corpus[:TOP] if len(name) >= 4]
    protected = set(corpus)
    kinds = [kind for kind, _ in TECHNIQUES]
    weights = [weight for _, weight in TECHNIQUES]
    out: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    while len(out) < count:
        target = rng.choice(targets)
        kind = rng.choices(kinds, weights)[0]
        name = MAKERS[kind](target, rng).strip("-")
        if name in seen or name in protected or name in existing or name == target:
            continue
        seen.add(name)
        out.append((name, target, kind))
    return out
