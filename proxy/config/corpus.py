"""Where the typosquat policy's protected names come from: the I/O side.

A corpus is a list of project names, most popular first. Three text formats are
understood, told apart by their first character:

- the hugovk "top-pypi-packages" JSON: ``{"rows": [{"project": "boto3", ...}]}``
  (rows are taken in file order, which is download order);
- TSV with a header line ``rank<TAB>name`` (the bundled format), sorted by rank;
- one name per line; blank lines and ``#`` comments are ignored.

Names are normalized and de-duplicated (first occurrence wins). Every failure
raises ``CorpusError`` naming the source (a URL is shown without credentials).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from packaging.utils import NormalizedName

from pipgate.policies import typosquat
from pipgate.policies.names import BadProjectName, project_name
from pipgate.policies.typosquat_snapshot import Snapshot, SnapshotError
from pipgate.proxy.urls import redact

BUNDLED = "popular-pypi.tsv"
# Built from the two files above by benchmarks/build_typosquat_data.py: the
# typosquat index of the bundled corpus, ready to load (building it takes most
# of a second), and the snapshot of PyPI around the protected names.
BUNDLED_INDEX = "typosquat-index.bin"
BUNDLED_SNAPSHOT = "pypi-snapshot.bin"
# An English word list (SCOWL via Debian's wamerican; licence in its header):
# lets the typosquat check tell names made of real words from misspellings.
BUNDLED_WORDS = "english-words.txt"
_WORD_LINE = re.compile(r"^[^#\n][^\n]*", re.MULTILINE)


class CorpusError(Exception):
    """A corpus could not be read or understood; the message names its source."""


def load_bundled_names() -> list[NormalizedName]:
    """The corpus shipped with pipgate (``proxy/data/popular-pypi.tsv``)."""
    source = f"bundled corpus {BUNDLED}"
    try:
        text = resources.files("pipgate.proxy.data").joinpath(BUNDLED).read_text(encoding="utf-8")
    except OSError as exc:
        raise CorpusError(f"cannot read {source}: {exc}") from exc
    return parse_corpus(text, source)


def load_bundled_words() -> Iterator[str]:
    """The English word list shipped with pipgate (``proxy/data/english-words.txt``).

    One lower-case word a line; ``#`` lines (the source and licence) are
    skipped. The words are yielded one at a time: the index keeps only their
    hashes, so 60,000 strings never sit in memory at once.
    """
    source = f"bundled word list {BUNDLED_WORDS}"
    try:
        text = (
            resources.files("pipgate.proxy.data")
            .joinpath(BUNDLED_WORDS)
            .read_text(encoding="utf-8")
        )
    except OSError as exc:
        raise CorpusError(f"cannot read {source}: {exc}") from exc
    return (m.group() for m in _WORD_LINE.finditer(text))


def read_bundled_bytes(filename: str) -> bytes:
    """The bytes of ``filename`` shipped in ``proxy/data``."""
    return resources.files("pipgate.proxy.data").joinpath(filename).read_bytes()


ReadBundled = Callable[[str], bytes]


def load_bundled_index(read: ReadBundled = read_bundled_bytes) -> typosquat.TyposquatIndex:
    """The prebuilt typosquat index of the bundled corpus and word list.

    Raises ``CorpusError`` if it is missing or was built for another version
    of the matcher; the caller then builds the index itself. ``read`` reads a
    shipped file by name.
    """
    source = f"bundled typosquat index {BUNDLED_INDEX}"
    try:
        return typosquat.TyposquatIndex.from_bytes(read(BUNDLED_INDEX))
    except (OSError, typosquat.IndexFormatError) as exc:
        raise CorpusError(f"cannot read {source}: {exc}") from exc


def load_bundled_snapshot(read: ReadBundled = read_bundled_bytes) -> Snapshot:
    """The bundled snapshot of PyPI around the protected names (``policies/typosquat_snapshot.py``);
    ``read`` reads a shipped file by name."""
    source = f"bundled snapshot {BUNDLED_SNAPSHOT}"
    try:
        return Snapshot.from_bytes(read(BUNDLED_SNAPSHOT))
    except (OSError, SnapshotError) as exc:
        raise CorpusError(f"cannot read {source}: {exc}") from exc


def read_corpus_file(path: str | Path) -> list[NormalizedName]:
    """Read a corpus from a local file. Blocking: call it off the event loop."""
    source = f"corpus file {str(path)!r}"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"cannot read {source}: {exc}") from exc
    return parse_corpus(text, source)


async def fetch_corpus(url: str, client: httpx.AsyncClient) -> list[NormalizedName]:
    """Download a corpus with ``client`` (which owns timeouts and transport)."""
    source = f"corpus URL {redact(url)}"
    try:
        response = await client.get(url, follow_redirects=True)
        response.raise_for_status()
    except httpx.HTTPStatusError as exc:
        raise CorpusError(f"cannot fetch {source}: HTTP {exc.response.status_code}") from exc
    except httpx.HTTPError as exc:
        raise CorpusError(f"cannot fetch {source}: {type(exc).__name__}: {exc}") from exc
    return parse_corpus(response.text, source)


async def load_corpus(source: str, client: httpx.AsyncClient | None = None) -> list[NormalizedName]:
    """Load an operator-supplied corpus: an ``http(s)`` URL or a file path.

    Without ``client``, a short-lived one is created for a URL. The file is
    read in a worker thread so the event loop is never blocked.
    """
    if urlsplit(source).scheme in ("http", "https"):
        if client is not None:
            return await fetch_corpus(source, client)
        async with httpx.AsyncClient(timeout=30.0) as own:
            return await fetch_corpus(source, own)
    import anyio.to_thread

    return await anyio.to_thread.run_sync(read_corpus_file, source)


def parse_corpus(text: str, source: str) -> list[NormalizedName]:
    """Names in ``text``, most popular first; ``source`` appears in errors."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped:
        raise CorpusError(f"{source} is empty")
    if stripped[0] in "{[":
        names = _parse_json(stripped, source)
    elif "\t" in stripped.splitlines()[0]:
        names = _parse_tsv(stripped, source)
    else:
        names = (
            line.strip()
            for line in stripped.splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        )
    result = _normalized(names, source)
    if not result:
        raise CorpusError(f"{source} lists no project names")
    return result


def _parse_json(text: str, source: str) -> list[str]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CorpusError(f"{source} is not valid JSON: {exc}") from exc
    rows = data.get("rows") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise CorpusError(f'{source}: expected a JSON object with a "rows" list')
    names = []
    for number, row in enumerate(rows, 1):
        project = row.get("project") if isinstance(row, dict) else None
        if not isinstance(project, str):
            raise CorpusError(f'{source}: row {number} has no "project" string')
        names.append(project)
    return names


def _parse_tsv(text: str, source: str) -> list[str]:
    lines = text.splitlines()
    header = [cell.strip().lower() for cell in lines[0].split("\t")]
    if "name" not in header or "rank" not in header:
        raise CorpusError(f"{source}: TSV header must name the columns 'rank' and 'name'")
    rank_at, name_at = header.index("rank"), header.index("name")
    ranked = []
    for number, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        cells = line.split("\t")
        try:
            ranked.append((int(cells[rank_at]), cells[name_at].strip()))
        except (IndexError, ValueError):
            raise CorpusError(f"{source}: line {number} is not 'rank<TAB>name'") from None
    return [name for _, name in sorted(ranked, key=lambda pair: pair[0])]


def _normalized(names: Iterable[str], source: str) -> list[NormalizedName]:
    seen: dict[NormalizedName, None] = {}
    for name in names:
        try:
            seen.setdefault(project_name(name), None)
        except BadProjectName:
            raise CorpusError(f"{source}: {name[:80]!r} is not a project name") from None
    return list(seen)
