"""A flame graph as a table: where the samples of a ``py-spy record --format raw`` went.

    .venv/bin/python benchmarks/flame_summary.py STACKS [--top 25] [--under FUNCTION]

``STACKS`` holds collapsed stacks (``frame;frame;... count`` per line, as py-spy's
``raw`` format writes them). Prints, as Markdown, the functions by inclusive share
(samples with the function anywhere on the stack) and by self share (samples with it on
top), each as a percentage of all samples (or, with ``--under``, of the samples that
pass through that function). Idle samples (the event loop waiting in ``select``/``epoll``)
are counted apart, so the shares are of the time pipgate was busy.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")
#: Top frames where a thread waits rather than works.
IDLE = ("select (selectors.py", "run_forever", "_worker (concurrent", "wait (threading.py")


def frames(stack: str) -> list[str]:
    """The frames of one collapsed stack, each as ``function (file)``, outermost first;
    the ``process ...`` / ``thread ...`` prefixes py-spy adds are dropped."""
    out = []
    for raw in stack.split(";"):
        if raw.startswith(("process ", "thread ", "Process ", "Thread ")):
            continue
        match = _FRAME.match(raw)
        out.append(f"{match['func']} ({match['file']})" if match else raw)
    return out


def read(lines: Iterable[str]) -> list[tuple[list[str], int]]:
    stacks = []
    for line in lines:
        line = line.rstrip("\n")
        if not line:
            continue
        stack, _, count = line.rpartition(" ")
        if count.isdigit():
            stacks.append((frames(stack), int(count)))
    return stacks


def is_idle(stack: list[str]) -> bool:
    return not stack or any(stack[-1].startswith(marker) for marker in IDLE)


def summarize(
    stacks: list[tuple[list[str], int]], *, top: int = 25, under: str | None = None
) -> str:
    busy = [(s, n) for s, n in stacks if not is_idle(s)]
    idle = sum(n for s, n in stacks if is_idle(s))
    if under:
        busy = [(s[_index(s, under) :], n) for s, n in busy if _index(s, under) >= 0]
    total = sum(n for _, n in busy) or 1
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for stack, count in busy:
        for frame in set(stack):
            inclusive[frame] += count
        own[stack[-1]] += count
    scope = f"samples under `{under}`" if under else "busy samples"
    lines = [
        f"{total:,} {scope}" + ("" if under else f" ({idle:,} idle samples left out)"),
        "",
        "| inclusive | self | function (file) |",
        "|---:|---:|---|",
    ]
    for frame, count in inclusive.most_common(top):
        lines.append(
            f"| {100 * count / total:.1f}% | {100 * own[frame] / total:.1f}% | `{frame}` |"
        )
    lines += ["", "Top of the stack (self time):", "", "| self | function (file) |", "|---:|---|"]
    for frame, count in own.most_common(top):
        lines.append(f"| {100 * count / total:.1f}% | `{frame}` |")
    return "\n".join(lines) + "\n"


def _index(stack: list[str], function: str) -> int:
    for i, frame in enumerate(stack):
        if frame.startswith(function + " ") or frame == function:
            return i
    return -1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("stacks", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--under", help="only samples through this function, e.g. Gate.view")
    args = parser.parse_args(argv)
    with args.stacks.open() as handle:
        sys.stdout.write(summarize(read(handle), top=args.top, under=args.under))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
