"""``create_app(settings)``: the Starlette application and the lifespan that builds its parts.

Nothing happens at import time; ``create_app(load_settings())`` appears only
at the entry point (``cli.py``) and in tests.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx
from anyio import to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from pipgate.proxy import holds, reason_phrase, views
from pipgate.proxy.access import ProjectAccess
from pipgate.proxy.config.corpus import CorpusError, load_bundled_names, load_corpus
from pipgate.proxy.config.policies import Intel, build_policy_set, build_scan_policy
from pipgate.proxy.config.settings import (
    PUBLIC_UPSTREAM,
    Settings,
    UpstreamSettings,
    validate_policies,
)
from pipgate.proxy.errors import PipgateError
from pipgate.proxy.fast_path import PageFastPath
from pipgate.proxy.files.downloads import Downloads
from pipgate.proxy.files.memory import Trimmer
from pipgate.proxy.files.peer_serving import peer_download
from pipgate.proxy.files.scan import FileScan, scans_directory
from pipgate.proxy.files.scan_verdicts import ScanVerdicts
from pipgate.proxy.files.scan_workers import ScanWorkers
from pipgate.proxy.files.slots import DownloadSlots
from pipgate.proxy.files.store import FileStore
from pipgate.proxy.gate import Gate
from pipgate.proxy.hosted.store import HostedStore, LocalHostedStore
from pipgate.proxy.hosted.upload import upload
from pipgate.proxy.index.cache import IndexCache
from pipgate.proxy.index.pages import PageRenderer
from pipgate.proxy.intel import wiring as intel
from pipgate.proxy.observe.access_log import AccessLog
from pipgate.proxy.observe.decision_log import DecisionLog, DecisionSink
from pipgate.proxy.observe.metrics import Metrics
from pipgate.proxy.observe.recorder import Recorder
from pipgate.proxy.quarantine import wiring as quarantine
from pipgate.proxy.rate_limit import ClientBuckets
from pipgate.proxy.routing import HostedSource, Router, UpstreamSource
from pipgate.proxy.security_headers import SecurityHeaders
from pipgate.proxy.state import KEY, AppState
from pipgate.proxy.storage.peers import PEER_ROUTE, own_url
from pipgate.proxy.upstream.circuit import BreakerConfig, Breakers, State
from pipgate.proxy.upstream.client import UpstreamClient, UpstreamConfig
from pipgate.proxy.urls import redact

if TYPE_CHECKING:
    from pipgate.proxy.storage.cluster import Cluster

log = logging.getLogger("pipgate")
#: ``gc.set_threshold`` of ``pipgate serve`` (see ``create_app``'s ``freeze_gc``).
GC_THRESHOLDS = (10_000, 10, 10)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def routes() -> list[BaseRoute]:
    methods = ["GET", "HEAD"]
    page_routes: list[BaseRoute] = []
    for prefix in ("", "/{index}"):
        page_routes += [
            Route(f"{prefix}/simple/", views.simple_index, methods=methods),
            Route(f"{prefix}/simple/{{project}}/", views.project_page, methods=methods),
            Route(f"{prefix}/simple/{{project}}", views.project_page, methods=methods),
            Route(f"{prefix}/files/{{project}}/{{filename}}", views.project_file, methods=methods),
            Route(f"{prefix}/holds/{{project}}", holds.project_holds, methods=["GET"]),
        ]
    return [
        Route("/", views.root, methods=methods),
        Route("/", upload, methods=["POST"]),
        Route("/{index}/", upload, methods=["POST"]),
        Route("/healthz", views.healthz, methods=methods),
        Route("/readyz", views.readyz, methods=methods),
        Route("/metrics", views.metrics, methods=["GET"]),
        Route(PEER_ROUTE, peer_download, methods=["GET"]),
        *page_routes,
        *quarantine.routes(),
    ]


def corpus_source(settings: Settings) -> tuple[str | None, float]:
    """The operator's corpus (file or URL) and its refresh interval in seconds."""
    typosquat = validate_policies(settings, "default").typosquat
    return typosquat.corpus, typosquat.corpus_refresh.total_seconds()


async def load_corpus_names(settings: Settings) -> list[str]:
    """The ranked corpus of protected names: the operator's if configured and
    readable, else the bundled snapshot (a broken source is logged, not fatal)."""
    source, _ = corpus_source(settings)
    if source:
        try:
            return list(await load_corpus(source))
        except CorpusError as exc:
            log.error("%s; using the bundled corpus instead", exc)
    return list(await to_thread.run_sync(load_bundled_names))


async def refresh_corpus(settings: Settings, state: AppState, clock: Clock) -> None:
    """Reload a corpus URL or file every ``corpus_refresh`` and swap the policies in."""
    source, interval = corpus_source(settings)
    if not source or interval <= 0:
        return
    while True:
        await asyncio.sleep(interval)
        try:
            names = list(await load_corpus(source))
        except CorpusError as exc:
            log.error("corpus refresh failed: %s; keeping the current corpus", exc)
            continue
        overrides = next(iter(state.gates.values())).overrides
        fresh = await to_thread.run_sync(
            functools.partial(build_gates, settings, names, clock, overrides=overrides)
        )
        for index, gate in fresh.items():
            live = state.gates[index]
            live.policies = intel.keep_intel(gate.policies, live.policies)
        log.info("typosquat corpus refreshed from %s (%d names)", redact(source), len(names))


def build_gates(
    settings: Settings,
    corpus: list[str],
    clock: Clock,
    overrides: object | None = None,
    *,
    intel: Intel | None = None,
) -> dict[str, Gate]:
    """A gate per index; ``intel`` holds the advisory indexes loaded from the feeds."""
    gates = {}
    for index in settings.index_names:
        policy_set = build_policy_set(
            validate_policies(settings, index), typosquat_names=corpus, intel=intel
        )
        gates[index] = Gate(index, policy_set, clock=clock, overrides=overrides)  # type: ignore[arg-type]
    return gates


def build_file_scan(settings: Settings, store: FileStore) -> FileScan:
    """The content scan: one report per file (caps and worker processes from the default
    index's ``[policies.scan]``), judged by each index's scan policy."""
    tables = {index: validate_policies(settings, index).scan for index in settings.index_names}
    default = tables["default"]
    verdicts = ScanVerdicts(
        scans_directory(settings.cache.data_dir),
        default.limits(),
        workers=ScanWorkers(default.workers) if default.workers else None,
        temp_path=store.new_temp_path,
    )
    return FileScan(verdicts, {index: build_scan_policy(t) for index, t in tables.items()}, store)


def create_app(
    settings: Settings,
    *,
    clock: Clock = utc_now,
    transport: httpx.AsyncBaseTransport | None = None,
    corpus: list[str] | None = None,
    freeze_gc: bool = False,
    fast_path: bool = True,
) -> Starlette:
    """The proxy as an ASGI app. ``clock``, ``transport`` and ``corpus`` are for tests;
    ``freeze_gc`` (for ``pipgate serve``) moves what start-up built out of the
    garbage collector's reach (``gc.freeze``) and collects less often (``GC_THRESHOLDS``); ``fast_path`` answers cached pages without
    the framework (``fast_path.py``; off only to compare the two in tests)."""
    reason_phrase.install()
    metrics = Metrics()
    tokens = quarantine.token_book(settings)
    templates = quarantine.templates()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, AppState]]:
        data_dir = settings.cache.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        storage_error = metrics.storage_errors.labels  # (store) -> counter
        # Shared stores ([storage] database): data_dir becomes this replica's L1 cache.
        cluster = None
        if settings.storage.shared:
            from pipgate.proxy.storage.cluster import open_cluster  # psycopg only when used

            cluster = await to_thread.run_sync(
                functools.partial(
                    open_cluster,
                    settings.storage,
                    metrics,
                    own_url=own_url(settings),
                    peer_timeout=settings.upstream.timeout.total_seconds(),
                )
            )
        upstream = UpstreamClient(
            UpstreamConfig.from_settings(settings.upstream),
            transport=transport,
            observe=metrics.observe_upstream,
            refused=lambda reason: metrics.upstream_refused.labels(reason).inc(),
            breakers=breakers(settings, metrics),
        )
        index_cache = IndexCache(
            data_dir / "index",
            upstream,
            ttl=settings.cache.index_ttl.total_seconds(),
            negative_ttl=settings.cache.negative_ttl.total_seconds(),
            memory_pages=settings.cache.memory_pages,
            revalidate_wait=settings.cache.revalidate_wait.total_seconds(),
            refresh_backoff=settings.cache.refresh_backoff.total_seconds(),
            on_result=metrics.page_result,
            on_storage_error=lambda store: storage_error(store).inc(),
            shared=cluster.pages if cluster else None,
            leases=cluster.leases if cluster else None,
        )
        store = (cluster.file_store if cluster else FileStore)(
            data_dir,
            size_limit=settings.cache.max_size,
            keep_free=settings.cache.min_free_bytes,
            on_error=lambda store: storage_error(store).inc(),
        )
        pages = PageRenderer(store)
        file_scan = build_file_scan(settings, store)

        def committed(project: str, filename: str, sha256: str, has_metadata: bool) -> None:
            if has_metadata:
                pages.metadata_changed(project, sha256)
            if file_scan.is_flagged(sha256):
                access.forget(project)  # judged again: the file is now held

        downloads = Downloads(
            store,
            upstream,
            on_committed=committed,
            on_bytes=lambda direction, n: metrics.bytes.labels(direction).inc(n),
            verify=file_scan.verify if file_scan.active else None,
            cluster=cluster.shared_files if cluster else None,
        )
        decision_log: DecisionSink
        if cluster is not None:  # every replica's decisions in one table
            from pipgate.proxy.storage.decisions import SharedDecisionLog

            decision_log = SharedDecisionLog(
                cluster.database, on_error=lambda store: storage_error(store).inc()
            )
        else:
            decision_log = DecisionLog(
                data_dir / "decisions.jsonl", on_error=lambda store: storage_error(store).inc()
            )
        trimmer = Trimmer()

        def downloads_changed(open_now: int) -> None:
            metrics.downloads_open.set(open_now)
            trimmer.update(open_now)

        slots = DownloadSlots(
            total=settings.server.max_downloads,
            per_client=settings.server.max_downloads_per_client,
            on_change=downloads_changed,
            on_refused=lambda limit: metrics.downloads_refused.labels(limit).inc(),
        )
        default_source = UpstreamSource(
            PUBLIC_UPSTREAM,
            "private" if settings.upstream.private else "public",
            upstream,
            index_cache,
            downloads,
        )
        extra_sources = {
            name: _upstream_source(
                name, own, settings, metrics, transport, store, committed, file_scan, cluster
            )
            for name, own in settings.upstreams.items()
        }
        hosted: HostedStore | None = None
        if settings.hosted_indexes():
            if cluster is not None and cluster.blobs is not None:
                from pipgate.proxy.storage.hosted import SharedHostedStore

                hosted = shared_hosted = SharedHostedStore(cluster.database, cluster.blobs, store)
                cluster.watch("hosted", shared_hosted.refresh)
            else:
                hosted = LocalHostedStore(data_dir / "hosted")
        router = Router(
            {
                index: tuple(
                    default_source
                    if source == PUBLIC_UPSTREAM
                    else extra_sources.get(source) or HostedSource(source)
                    for source in settings.sources_of(index)
                )
                for index in settings.index_names
            },
            hosted,
        )
        names = corpus if corpus is not None else await load_corpus_names(settings)
        review = quarantine.open_review(
            settings, clock, database=cluster.database if cluster else None
        )
        feeds = await intel.open_feeds(settings, clock=clock, metrics=metrics)
        gates = await to_thread.run_sync(
            lambda: build_gates(
                settings, names, clock, overrides=review.overrides, intel=feeds.snapshot()
            )
        )
        if file_scan.active:
            for gate in gates.values():
                gate.scan_check = file_scan.check
        recorder = Recorder(decision_log, metrics, clock=clock)
        admin = settings.admin
        access = ProjectAccess(
            gates,
            index_cache.get,
            scan=file_scan if file_scan.active else None,
            router=router,
            recorder=recorder,
            limiter=ClientBuckets(admin.hold_limit / 60, admin.hold_burst)
            if admin.hold_limit > 0
            else None,
            on_limited=lambda index: metrics.holds_limited.labels(index).inc(),
        )
        state = AppState(
            settings=settings,
            upstream=upstream,
            index_cache=index_cache,
            store=store,
            downloads=downloads,
            pages=pages,
            gates=gates,
            access=access,
            metrics=metrics,
            recorder=recorder,
            decision_log=decision_log,
            slots=slots,
            review=review,
            tokens=tokens,
            intel=feeds,
            scan=file_scan,
            templates=templates,
            cluster=cluster,
            router=router,
            hosted=hosted,
            clock=clock,
        )
        app.state.pipgate = state
        quarantine.attach(state)
        log.info(
            "pipgate serving %s from upstream %s with data in %s",
            ", ".join("/simple/" if i == "default" else f"/{i}/simple/" for i in gates),
            redact(upstream.base_url),
            data_dir,
        )
        refresher = asyncio.create_task(refresh_corpus(settings, state, clock))
        intel_task = await intel.start(state)
        if cluster is not None:
            cluster.start(review.refresh_if_changed)
        if freeze_gc:
            # What start-up built (the typosquat index, the corpus, modules) lives as long
            # as the process: kept out of every later full collection, which otherwise
            # walks all of it and holds the GIL meanwhile (50-100 ms per cold page).
            gc.collect()
            gc.freeze()
            # A cold 10,000-file page allocates ~200,000 objects: at the default
            # thresholds (700, 10, 10) that is ~300 young collections and a full one
            # walking every cached page almost each time (~35 ms of GIL per cold page,
            # stalls of 30-50 ms for everyone else). Fewer, larger young collections
            # halve that (benchmarks/results/cold_pages.md).
            gc.set_threshold(*GC_THRESHOLDS)
        try:
            yield {KEY: state}
        finally:
            refresher.cancel()
            intel_task.cancel()
            await feeds.aclose()
            trimmer.close()
            for source in router.upstream_sources():
                await source.downloads.wait_idle()
                await source.index_cache.flush()
                source.downloads.close()
                await source.upstream.aclose()
            await file_scan.verdicts.aclose()
            review.close()
            state.close()
            if cluster is not None:
                await cluster.aclose()

    app = Starlette(
        routes=routes(),
        lifespan=lifespan,
        exception_handlers={PipgateError: views.error_response, 500: _internal_error},
    )
    if fast_path:
        app.add_middleware(PageFastPath)  # innermost: behind authentication, logs and headers
    quarantine.install(app, settings, tokens)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(AccessLog, metrics=metrics, enabled=settings.server.access_log)
    return app


def _upstream_source(
    name: str,
    own: UpstreamSettings,
    settings: Settings,
    metrics: Metrics,
    transport: httpx.AsyncBaseTransport | None,
    store: FileStore,
    committed: Callable[[str, str, str, bool], None],
    file_scan: FileScan,
    cluster: Cluster | None,
) -> UpstreamSource:
    """An ``[upstreams.<name>]`` source: its client, its page cache, its downloads
    (into the one file store: files are stored by hash, whoever served them). In a
    cluster, its pages and files are shared like the public upstream's: one fetch per
    page (within ``index_ttl``) and per file across the replicas."""
    storage_error = metrics.storage_errors.labels
    client = UpstreamClient(
        UpstreamConfig.from_settings(own),
        transport=transport,
        observe=metrics.observe_upstream,
        refused=lambda reason: metrics.upstream_refused.labels(reason).inc(),
        breakers=breakers(settings, metrics),
    )
    cache = settings.cache
    index_cache = IndexCache(
        cache.data_dir / f"index-{name}",
        client,
        ttl=cache.index_ttl.total_seconds(),
        negative_ttl=cache.negative_ttl.total_seconds(),
        memory_pages=cache.memory_pages,
        revalidate_wait=cache.revalidate_wait.total_seconds(),
        refresh_backoff=cache.refresh_backoff.total_seconds(),
        on_result=metrics.page_result,
        on_storage_error=lambda store: storage_error(store).inc(),
        shared=cluster.pages.scoped(name) if cluster else None,
        leases=cluster.leases.scoped(name) if cluster else None,
    )
    downloads = Downloads(
        store,
        client,
        on_committed=committed,
        on_bytes=lambda direction, n: metrics.bytes.labels(direction).inc(n),
        # Scanned before any client has it whole, as the public upstream's files are.
        verify=file_scan.verify if file_scan.active else None,
        cluster=cluster.shared_files if cluster else None,
    )
    origin = "private" if own.private else "public"
    return UpstreamSource(name, origin, client, index_cache, downloads)


def breakers(settings: Settings, metrics: Metrics) -> Breakers:
    """The upstream circuit breakers, reporting to the metrics and the log."""
    upstream = settings.upstream

    def changed(origin: str, state: State) -> None:
        metrics.circuit_state.labels(origin).set(int(state))
        metrics.circuit_transitions.labels(origin, state.label).inc()
        level = logging.INFO if state is State.CLOSED else logging.WARNING
        log.log(level, "upstream %s: circuit %s", origin, state.label)

    return Breakers(
        BreakerConfig(
            failures=upstream.breaker_failures,
            backoff=upstream.breaker_backoff.total_seconds(),
            max_backoff=upstream.breaker_max_backoff.total_seconds(),
        ),
        on_transition=changed,
    )


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error for %s", request.url.path, exc_info=exc)
    return PlainTextResponse("pipgate: internal error; see the server log\n", status_code=500)
