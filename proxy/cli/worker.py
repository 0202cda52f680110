"""``pipgate serve --workers N``: N processes on one port, sharing the stores.

uvicorn spawns fresh interpreters (never ``fork``: obstore cannot be used after a
fork), each builds its app here from the same configuration: the file and the
command line's overrides travel in ``PIPGATE_WORKER_SETTINGS``. The processes
are replicas like any others (same leases, same change feed), sharing one data
directory as their L1.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from pipgate.proxy.config.settings import Settings, load_settings

_ENV = "PIPGATE_WORKER_SETTINGS"


def run_workers(settings: Settings, config: str | None, overrides: dict[str, Any], n: int) -> None:
    import uvicorn

    os.environ[_ENV] = json.dumps(
        {"config": config, "overrides": overrides},
        default=lambda v: str(v) if isinstance(v, Path) else v,
    )
    uvicorn.run(
        "pipgate.proxy.cli.worker:app",
        factory=True,
        workers=n,
        host=settings.server.host,
        port=settings.server.port,
        log_level=settings.server.log_level,
        log_config=None,
        access_log=False,
        proxy_headers=settings.server.trust_forwarded,
        server_header=False,
    )


def app() -> Starlette:
    """The app of one worker (uvicorn's factory)."""
    from pipgate.proxy.app import create_app
    from pipgate.proxy.cli.main import SWITCH_INTERVAL
    from pipgate.proxy.observe.log_format import configure_logging

    sys.setswitchinterval(SWITCH_INTERVAL)
    given = json.loads(os.environ[_ENV])
    settings = load_settings(given["config"], overrides=given["overrides"])
    configure_logging(settings.server.log_level, settings.server.log_format)
    return create_app(settings, freeze_gc=True)
