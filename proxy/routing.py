"""Where an index takes a project from: its ordered sources, the first that has it.

Each index has an ordered list of sources (``[indexes.<name>] sources``): hosted
indexes (projects uploaded to pipgate), the public upstream (``[upstream]``,
named ``pypi``) and private upstreams (``[upstreams.<name>]``). The first source
that has a project serves it, alone: a project found in a hosted index or a
private upstream is never merged with the same name from another source (no
"highest version wins" across sources, the mistake dependency confusion lives on).

Internal names (dependency confusion) are looked up only in hosted and private
sources: the public upstream is never asked for them. A private source that
fails (5xx, timeout) fails the request rather than falling through to the next
source: falling through would hand an internal name's lookup to whoever comes next.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from anyio import to_thread
from packaging.utils import NormalizedName

from pipgate.policies.subjects import Origin
from pipgate.proxy.errors import UpstreamNotFound
from pipgate.proxy.files.downloads import Downloads
from pipgate.proxy.hosted.store import HostedStore
from pipgate.proxy.index.cache import CachedPage, IndexCache, PageResult
from pipgate.proxy.models import Project
from pipgate.proxy.upstream.client import UpstreamClient


@dataclass(frozen=True, eq=False)
class UpstreamSource:
    """An upstream index with its own page cache and downloads (files share one store)."""

    name: str
    origin: Origin  # "public" or "private"
    upstream: UpstreamClient
    index_cache: IndexCache
    downloads: Downloads


@dataclass(frozen=True)
class HostedSource:
    """The projects uploaded to the hosted index ``name``."""

    name: str
    origin: Origin = "hosted"


Source = UpstreamSource | HostedSource


@dataclass(frozen=True)
class Found:
    """A project as the source that has it gives it. ``result`` (an upstream page,
    maybe stale) is ``None`` for a hosted project."""

    source: Source
    project: Project
    revision: int
    result: PageResult | None = None

    @property
    def origin(self) -> Origin:
        return self.source.origin

    def page_result(self, now: datetime) -> PageResult:
        """The project as a page result (a hosted project is always fresh)."""
        if self.result is not None:
            return self.result
        return PageResult(CachedPage(self.project, now.timestamp(), None, None, self.revision))


class Router:
    """The sources of every index, and the search through them."""

    def __init__(
        self, sources: Mapping[str, tuple[Source, ...]], hosted: HostedStore | None
    ) -> None:
        self._sources = dict(sources)
        self.hosted = hosted

    def sources(self, index: str) -> tuple[Source, ...]:
        return self._sources[index]

    def has_private(self, index: str) -> bool:
        """Whether ``index`` has a source internal names may come from."""
        return any(s.origin != "public" for s in self._sources[index])

    async def find(self, index: str, name: NormalizedName, *, public: bool = True) -> Found:
        """The first source of ``index`` that has ``name`` (the public one only if
        ``public``). Raises ``UpstreamNotFound`` when none has it, and any other
        ``UpstreamError`` of a source that failed (never skipped: see module doc)."""
        missing: list[UpstreamNotFound] = []
        asked: list[str] = []
        for source in self._sources[index]:
            if isinstance(source, HostedSource):
                assert self.hosted is not None
                asked.append(f"hosted index {source.name!r}")
                hosted = await to_thread.run_sync(self.hosted.project, source.name, name)
                if hosted is not None:
                    return Found(source, hosted.project, hosted.revision)
                continue
            if source.origin == "public" and not public:
                continue
            asked.append(f"upstream {source.name!r}")
            try:
                result = await source.index_cache.get(name)
            except UpstreamNotFound as exc:
                missing.append(exc)
                continue
            return Found(source, result.page.project, result.page.revision, result)
        if len(asked) == 1 and missing:
            raise missing[0]  # one source: its own words
        raise UpstreamNotFound(
            f"project {name!r} is not on index {index!r} (asked: {', '.join(asked) or 'nothing'})"
        )

    def upstream_sources(self) -> list[UpstreamSource]:
        """Every upstream source of every index, once."""
        seen: dict[int, UpstreamSource] = {}
        for sources in self._sources.values():
            for s in sources:
                if isinstance(s, UpstreamSource):
                    seen.setdefault(id(s), s)
        return list(seen.values())
