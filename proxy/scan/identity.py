"""Whether an archive's metadata borrows a popular project's identity.

A look-alike often wears the real project's clothes: its one-line summary word for word
(``Summary: Cross-platform colored terminal text.`` on a project that is not colorama), or
a home page at the real project's repository, whose stars and history then show on the
look-alike's page (starjacking). A project describes itself and links its own repository;
one that says it is another project is lying about what it is. That alone proves nothing (a
fork keeps its parent's words, a plug-in links the repository it lives in), so the rule
weighs half of what flags a file, like a look-alike name.

The summaries are those of the popular projects pipgate ships (``proxy/data/
popular-summaries.tsv``, built by ``benchmarks/build_summary_data.py``), kept only where
they say something of their own: a template's words (``Add your description here``) or a
phrase that many projects share is nobody's identity. Like ``names``, the judgement
depends on the file alone, so a verdict kept by sha256 never changes with the day.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from functools import cache
from urllib.parse import urlsplit

from packaging.utils import canonicalize_name

from pipgate.policies.scan import Finding
from pipgate.policies.typosquat import TyposquatIndex
from pipgate.proxy.config.corpus import read_bundled_bytes

from .rules import finding

BUNDLED_SUMMARIES = "popular-summaries.tsv"
#: Code forges whose URLs name a repository as ``host/owner/repository``.
_FORGES = frozenset({"github.com", "gitlab.com", "bitbucket.org", "codeberg.org"})
#: Popular projects that are templates: their repository is where a new project's
#: generated metadata points until someone edits it, not an identity anyone claims.
_TEMPLATES = frozenset({"sampleproject", "pyscaffold", "cookiecutter"})
#: A repository named with fewer letters than this says little about whose it is.
_MIN_REPOSITORY = 5
#: The ``Project-URL`` labels that name the project's own home or code.
_OWN_URL_LABELS = re.compile(r"home|source|repo|code|github|gitlab", re.I)
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def normalized_summary(text: str) -> str:
    """``text`` folded for comparison: compatibility forms, case, and every run of
    punctuation and spaces (``Python HTTP for Humans.`` -> ``python http for humans``)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _NOT_ALNUM.sub(" ", folded).strip()


def parse_summaries(text: str) -> dict[str, str]:
    """``name<TAB>normalized summary`` lines (a header first) -> summary -> name (the first
    line of a summary wins: the file lists the most popular project first)."""
    summaries: dict[str, str] = {}
    for line in text.splitlines()[1:]:
        name, _, summary = line.partition("\t")
        if name and summary:
            summaries.setdefault(summary, name)
    return summaries


class Identities:
    """Finds where an archive's metadata claims a popular project it is not (see the module
    docstring). ``summaries`` maps a normalized summary to the popular project it belongs
    to; ``index`` is the names corpus, which tells popular names and dictionary words."""

    def __init__(self, summaries: Mapping[str, str], index: TyposquatIndex) -> None:
        self.summaries = summaries
        self.index = index

    def claimed(self, name: str, metadata: Mapping[str, list[str]]) -> str | None:
        """Why ``metadata`` of project ``name`` claims another popular project's identity,
        or ``None``. A popular project's own metadata never does."""
        own = canonicalize_name(name) if name else ""
        if not own or own in self.index:
            return None
        summary = normalized_summary((metadata.get("summary") or [""])[0])
        owner = self.summaries.get(summary)
        if owner is not None and canonicalize_name(owner) != own:
            return f"its summary is word for word that of {owner!r} ({summary!r})"
        for url in _own_urls(metadata):
            repository = _repository(url)
            if (
                repository is not None
                and repository != own
                and repository in self.index
                and repository not in _TEMPLATES
                and len(repository.replace("-", "")) >= _MIN_REPOSITORY
                and not self.index.is_dictionary_name(repository)
            ):
                return f"its home page is the repository of {repository!r} ({url})"
        return None

    def check(self, name: str, metadata: Mapping[str, list[str]], where: str) -> Iterator[Finding]:
        """``copied-identity`` when the metadata claims a popular project's identity."""
        reason = self.claimed(name, metadata)
        if reason is not None:
            yield finding("copied-identity", where, 0, reason)


def _own_urls(metadata: Mapping[str, list[str]]) -> Iterator[str]:
    """The URLs the metadata gives as the project's home or code."""
    yield from (value.strip() for value in metadata.get("home-page", []))
    for value in metadata.get("project-url", []):
        label, _, url = value.partition(",")
        if _OWN_URL_LABELS.search(label):
            yield url.strip()


def _repository(url: str) -> str | None:
    """The normalized repository name of a forge URL (``https://github.com/psf/requests``
    -> ``requests``), or ``None`` for any other URL."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = (parts.hostname or "").removeprefix("www.")
    segments = [s for s in parts.path.split("/") if s]
    if host not in _FORGES or len(segments) < 2:
        return None
    return canonicalize_name(segments[1].removesuffix(".git"))


#: Domains reserved for examples (RFC 2606), their subdomains too.
_EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net")
_EXAMPLE_SUBDOMAINS = tuple(f".{domain}" for domain in _EXAMPLE_DOMAINS)
#: Hosts a generated or hand-filled form puts where the project's address belongs.
_PLACEHOLDER_HOSTS = frozenset({*_EXAMPLE_DOMAINS, "google.com", "pypi.org"})
#: Forge accounts a template's instructions say to replace (``github.com/yourusername/x``).
_PLACEHOLDER_OWNERS = frozenset(
    {"user", "username", "yourusername", "your-username", "your_username", "yourname", "you"}
)


def names_a_home(url: str) -> bool:
    """Whether ``url`` says where a project lives: an ``http(s)`` address of a named host
    that is not a placeholder (``localhost``, a forge's front page, ``example.com`` and its
    subdomains, ``google.com``, PyPI's front page, a template's repository, a forge account
    a template says to replace)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    host = (parts.hostname or "").removeprefix("www.")
    if parts.scheme.lower() not in ("http", "https") or "." not in host:
        return False
    segments = [s.lower() for s in parts.path.split("/") if s]
    if host in _PLACEHOLDER_HOSTS or host.endswith(_EXAMPLE_SUBDOMAINS):
        return host == "pypi.org" and bool(segments)  # a project's page there is its own
    if host in _FORGES:
        if not segments or segments[0] in _PLACEHOLDER_OWNERS:
            return False
        if len(segments) > 1 and canonicalize_name(segments[1].removesuffix(".git")) in _TEMPLATES:
            return False
    return True


@cache
def bundled_summaries() -> Mapping[str, str]:
    """The popular projects' summaries shipped with pipgate, read once per process."""
    return parse_summaries(read_bundled_bytes(BUNDLED_SUMMARIES).decode("utf-8"))
