"""The legitimate side of the content-scan evaluation: PyPI files fetched into a cache dir.

    .venv/bin/python benchmarks/scan_corpus.py [--cache /work/scan-corpus] [--top 1000]
        [--tail 300] [--seed 14] [--workers 8]

For each of the ``top`` most downloaded projects (``popular-pypi.tsv``, rank order) and
a seeded random sample of ``tail`` long-tail projects (names from the registry list, outside
the 15,000 most downloaded), the newest release's sdist is downloaded, else one of its wheels
(pure Python first, then manylinux x86_64, then the smallest). Files come straight from PyPI's
JSON API (``https://pypi.org/pypi/<name>/json``) and its file host, not through the machine's
pip configuration, are checked against the sha256 PyPI lists, and are kept under ``cache``
(outside the repository) so a second run downloads nothing. ``manifest.tsv`` in the cache
lists what each project resolved to (or why it was skipped).

The list of names is fixed by the inputs and ``seed``; the tune/report split of the legitimate
set is ``split_of(name)``: a fixed hash of the normalized name, half each.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import random
import ssl
import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx
from packaging.utils import canonicalize_name

POPULAR = Path("/work/shared/data/popular-pypi.tsv")
REGISTRY = Path("/work/.library/env/packages/pypi.tsv")
CACHE = Path("/work/scan-corpus")
MAX_DOWNLOAD = 300 * 1024 * 1024  # larger files are skipped and counted as such
MANIFEST_FIELDS = ("group", "rank", "name", "version", "filename", "size", "sha256", "status")


@dataclass(frozen=True)
class Wanted:
    group: str  # "popular" | "tail"
    rank: int
    name: str


def split_of(name: str) -> str:
    """``tune`` or ``report``: a fixed hash of the normalized name, so the halves never move."""
    digest = hashlib.sha256(canonicalize_name(name).encode()).digest()
    return "tune" if digest[0] % 2 == 0 else "report"


def wanted(top: int, tail: int, seed: int) -> list[Wanted]:
    with POPULAR.open(newline="", encoding="utf-8") as handle:
        popular = [row["name"] for row in csv.DictReader(handle, delimiter="\t")]
    chosen = [Wanted("popular", i + 1, n) for i, n in enumerate(popular[:top])]
    known = {canonicalize_name(n) for n in popular}
    with REGISTRY.open(newline="", encoding="utf-8") as handle:
        names = sorted(
            {
                row["name"]
                for row in csv.DictReader(handle, delimiter="\t")
                if not row.get("rank_among_15000_most_downloaded")
                and canonicalize_name(row["name"]) not in known
            }
        )
    sample = random.Random(seed).sample(names, tail)
    return chosen + [Wanted("tail", 0, n) for n in sample]


def pick_file(urls: Iterable[dict]) -> dict | None:
    """The sdist of a release, else its most portable wheel; ``None`` when it has neither."""
    files = [u for u in urls if not u.get("yanked")]
    sdists = [u for u in files if u.get("packagetype") == "sdist"]
    if sdists:
        return sdists[0]
    wheels = [u for u in files if u["filename"].endswith(".whl")]
    if not wheels:
        return None

    def preference(u: dict) -> tuple[int, int]:
        tag = u["filename"].rsplit("-", 3)[-1]
        portable = 0 if "none-any" in u["filename"] else 1 if "x86_64" in tag else 2
        return portable, u.get("size", 0)

    return min(wheels, key=preference)


def fetch_one(
    client: httpx.Client, item: Wanted, cache: Path, max_download: int = MAX_DOWNLOAD
) -> dict[str, str]:
    """Resolve ``item`` to its file and download it into ``cache/files`` unless it is there
    already or larger than ``max_download`` bytes; the manifest row says which."""
    row = {"group": item.group, "rank": str(item.rank), "name": item.name}
    try:
        response = client.get(f"https://pypi.org/pypi/{item.name}/json")
        if response.status_code != 200:
            return row | {"status": f"json {response.status_code}"}
        data = response.json()
        chosen = pick_file(data.get("urls", []))
        if chosen is None:
            return row | {"status": "no files"}
        row |= {
            "version": data["info"]["version"],
            "filename": chosen["filename"],
            "size": str(chosen["size"]),
            "sha256": chosen["digests"]["sha256"],
        }
        target = cache / "files" / chosen["filename"]
        if target.exists() and _sha256(target) == row["sha256"]:
            return row | {"status": "ok"}
        if chosen["size"] > max_download:
            return row | {"status": "too large"}
        digest = hashlib.sha256()
        partial = target.with_suffix(target.suffix + ".part")
        with (
            client.stream("GET", urljoin(str(response.url), chosen["url"])) as stream,
            partial.open("wb") as out,
        ):
            stream.raise_for_status()
            for chunk in stream.iter_bytes(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != row["sha256"]:
            partial.unlink()
            return row | {"status": "hash mismatch"}
        partial.rename(target)
        return row | {"status": "ok"}
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        return row | {"status": f"error {type(exc).__name__}"}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def tls() -> ssl.SSLContext:
    # The system store (``SSL_CERT_FILE`` or Debian's bundle), which includes any CA a
    # TLS-inspecting proxy on this network adds; certifi's bundle would not.
    cafile = os.environ.get("SSL_CERT_FILE") or "/etc/ssl/certs/ca-certificates.crt"
    return ssl.create_default_context(cafile=cafile if Path(cafile).exists() else None)


def fetch(cache: Path, top: int, tail: int, seed: int, workers: int) -> list[dict[str, str]]:
    """Download what is missing; return the manifest rows (also written to the cache)."""
    (cache / "files").mkdir(parents=True, exist_ok=True)
    items = wanted(top, tail, seed)
    with (
        httpx.Client(timeout=120, follow_redirects=True, trust_env=False, verify=tls()) as client,
        ThreadPoolExecutor(workers) as pool,
    ):
        rows = list(pool.map(lambda item: fetch_one(client, item, cache), items))
    with (cache / "manifest.tsv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, MANIFEST_FIELDS, delimiter="\t", restval="")
        writer.writeheader()
        writer.writerows(rows)
    return rows


def read_manifest(cache: Path) -> list[dict[str, str]]:
    with (cache / "manifest.tsv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--top", type=int, default=1000)
    parser.add_argument("--tail", type=int, default=300)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args(argv)
    rows = fetch(args.cache, args.top, args.tail, args.seed, args.workers)
    statuses: dict[str, int] = {}
    for row in rows:
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    print(f"{len(rows)} projects: {statuses}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
