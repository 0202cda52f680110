"""Build ``proxy/data/popular-summaries.tsv``: the popular projects' one-line summaries that
the scan's ``copied-identity`` rule compares an archive's summary with.

    .venv/bin/python benchmarks/build_summary_data.py [--pypi TSV] [--corpus TSV] [--out FILE]

Inputs: a listing of PyPI projects with their summaries (``name, ..., summary``; by default
the environment's package list) and the ranked corpus of popular names (by default the
bundled one). A popular project's summary is kept when it says something of its own:

- at least ``MIN_WORDS`` words and ``MIN_LETTERS`` letters and digits once normalized
  (``identity.normalized_summary``): ``Python SDK`` describes a thousand projects;
- carried by at most ``MAX_SHARED`` projects in the whole listing: a template's words
  (``Add your description here``, ``A sample Python project``) are nobody's identity.

Output: a header, then ``name<TAB>normalized summary`` in the corpus's order (most popular
first). Deterministic: the same inputs give the same bytes. Rebuild it with the corpus and
update ``rules.SUMMARIES_CORPUS`` (a test checks the shipped file's sha256). Never run by
the proxy or the tests.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from packaging.utils import canonicalize_name  # noqa: E402

from benchmarks.build_typosquat_data import listing_rows  # noqa: E402
from pipgate.proxy.config.corpus import read_corpus_file  # noqa: E402
from pipgate.proxy.scan.identity import normalized_summary  # noqa: E402

PYPI = Path("/work/.library/env/packages/pypi.tsv")
CORPUS = ROOT / "proxy" / "data" / "popular-pypi.tsv"
OUT = ROOT / "proxy" / "data" / "popular-summaries.tsv"
MIN_WORDS = 3
MIN_LETTERS = 14
MAX_SHARED = 32


def read_summaries(path: Path) -> dict[str, str]:
    """Normalized project name -> normalized summary, from the listing's ``summary`` column."""
    return {
        canonicalize_name(name): normalized_summary(summary)
        for name, summary in listing_rows(path, "name", "summary")
    }


def distinctive(summary: str, shared: int) -> bool:
    words = summary.split()
    return (
        len(words) >= MIN_WORDS
        and sum(len(w) for w in words) >= MIN_LETTERS
        and shared <= MAX_SHARED
    )


def build(summaries: dict[str, str], corpus: list[str]) -> list[tuple[str, str]]:
    shared = Counter(summaries.values())
    return [
        (name, summary)
        for name in corpus
        if (summary := summaries.get(name, "")) and distinctive(summary, shared[summary])
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pypi", type=Path, default=PYPI)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    corpus = read_corpus_file(args.corpus)
    rows = build(read_summaries(args.pypi), corpus)
    text = "name\tsummary\n" + "".join(f"{name}\t{summary}\n" for name, summary in rows)
    args.out.write_text(text, encoding="utf-8")
    print(f"{args.out.name}: {len(rows)} summaries of {len(corpus)} popular projects")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
