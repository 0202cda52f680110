"""Triage: which Python files are worth parsing at all.

Parsing is the dear part of a scan (a large sdist carries tens of MB of Python), and a
module can only raise a finding if its text shows what a rule looks for. So every file that
install time does not run is first looked at as bytes: one Aho-Corasick pass finds which of
some 300 lower-case substrings occur (most files: none, and that is the whole cost),
then, only where one does, the substring tests of each check and the rules' own patterns
on the raw text. What passes both is parsed and judged properly; comments and
docstrings that merely mention a webhook or ``exec`` cost a parse, never a finding.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator

import ahocorasick_rs

from . import indicators

_SINK_CALL = indicators.Indicator(
    # The builtins take an argument; `model.eval()` and `app.exec()` are methods.
    re.compile(r"\b(?:exec|eval)\s*\(\s*[^\s)]|__import__\s*\(\s*[^'\"\s)]"),
    ("exec", "eval", "__import__"),
)
_DECODING = (
    b"b64decode",
    b"b32decode",
    b"b16decode",
    b"a85decode",
    b"b85decode",
    b"unhexlify",
    b"fromhex",
    b"decompress",
    b"marshal",
    b"decrypt",
    b"codecs",
    b"chr(",
    b"urlopen",
    b"requests.",
    b".content",
    b".text",
    b"[::-1]",
    b"bytes([",
    b"bytearray(",
    b"urllib3",
    b".data",
    b".reveal(",
    b"stepic",
)
#: What follows ``exec(`` or ``eval(`` on its line when it runs a data file by name
#: (`exec(open(join(here, "notes.txt")).read())`).
_DATA_FILE_RUN = re.compile(
    rf"[^\n]{{0,200}}?(?:\.{indicators.DATA_EXTENSIONS}|\b{indicators.PROSE_FILES})['\"]", re.I
)


def _runs_data_file(text: str, low: str, lower: bytes) -> bool:
    """``exec(open(join(here, "notes.txt")).read())``: looked for after each ``exec(`` and
    ``eval(`` (at most a few hundred), not by a pattern run over the whole file."""
    for call in ("exec(", "eval("):
        at = low.find(call)
        for _ in range(256):
            if at < 0:
                break
            if _DATA_FILE_RUN.match(text, at + len(call)):
                return True
            at = low.find(call, at + 1)
    return False


_DATA_NAME = re.compile(
    r"\.(?:txt|dat|bin|dic|png|jpe?g|gif|ico|bmp|log|wav|mp3|ttf|woff2?)['\"]", re.I
)
_BUILTINS = re.compile(r"getattr\s*\(\s*(?:__builtins__|builtins|globals\s*\(\s*\))")
_RAW_IP = re.compile(rb"://[1-9]")
#: A CI token, a private key or a recovery phrase named in a request's arguments. Anchored
#: at the request (crypto libraries name private keys everywhere, and send nothing).
_KEY_WORDS = (
    r"private_?key|mnemonic|seed_?phrase|twine_password|(?:github|gh|npm|pypi(?:_api)?)_token|"
    rf"\bsecret\b|api_?secret|{indicators.MODEL_KEY_VARIABLE}"
)
_KEY_SENT = indicators.Indicator(
    re.compile(
        rf"\b(?:post|put|urlopen|Request|send|sendall)\([^)]{{0,300}}?(?:{_KEY_WORDS})", re.I
    ),
    ("post(", "put(", "urlopen(", "request(", "send("),
)
_SECRET_SENT = indicators.Indicator(
    re.compile(
        r"(?:secret_?(?:access_?)?key|access_?key_?secret)[\s\S]{0,300}?"
        r"\b(?:post|get|put|urlopen|Request)\(\s*(?:url\s*=\s*)?(?:[rbuf]?['\"]https?://|base64\.|b64decode)",
        re.I,
    ),
    ("secret_key", "secretkey", "key_secret", "secret_access_key"),
)
#: ``run = exec``, ``a, b = exec, str``: the builtin bound to another name.
_RENAMED_EXEC = re.compile(r"=\s*(?:[\w.]+\s*,\s*)*(?:exec|eval)\s*(?:,|;|\)|$)", re.M)
#: ``''.join(map(chr, [104, ...]))``, ``chr(c) for c in [104, ...]``: text spelled as codes.
_CHAR_CODES = re.compile(r"chr\b[^\n]{0,40}?[\[(]\s*\d+\s*,\s*\d+\s*,\s*\d+")
_WINDOWS_PROGRAM = re.compile(r"\.exe\b", re.I)


def _exec_chain(text: str, low: str, lower: bytes) -> bool:
    return any(token in lower for token in _DECODING) and bool(_SINK_CALL.search(text, low))


def _any(*found: indicators.Indicator):  # type: ignore[no-untyped-def]
    return lambda text, low, lower: any(i.search(text, low) for i in found)


_NETWORK = (b"requests.", b"urlopen", b"urllib", b"http.client", b"socket", b"httpx", b"dns.")
_SPAWN = (b"subprocess", b"os.system", b"startfile", b"popen")


_DOWNLOADS = (b"urlretrieve", b"urlopen", b"requests.get", b".content", b"wget", b"curl")


def _phones(text: str, low: str, lower: bytes) -> bool:
    return any(token in lower for token in _NETWORK)


def _drops(text: str, low: str, lower: bytes) -> bool:
    fetch = any(token in lower for token in (*_NETWORK, b"curl", b"wget", b"invoke-webrequest"))
    return fetch and any(token in lower for token in _SPAWN)


def _drops_program(text: str, low: str, lower: bytes) -> bool:
    # `.exe` as a file name, not the start of `.execute(`.
    return _drops(text, low, lower) and bool(_WINDOWS_PROGRAM.search(text))


_KEY_FOLDER = re.compile(r"""[~/\\'"]\.(?:ssh|aws)(?:['"/\\]|$)""", re.M)


def _key_folder(text: str, low: str, lower: bytes) -> bool:
    return _phones(text, low, lower) and bool(_KEY_FOLDER.search(text))


#: What a download piped into a shell pipes into (``indicators.DOWNLOAD_RUN`` says the rest).
_PIPED = re.compile(
    r"\|\s*(?:sudo\s+)?(?:(?:ba|z|da)?sh|perl|ruby|php|node|python[23]?(?:\.\d+)?)\b"
)


def _piped_download(text: str, low: str, lower: bytes) -> bool:
    return bool(_PIPED.search(text)) and bool(indicators.DOWNLOAD_RUN.search(text, low))


def _always(text: str, low: str, lower: bytes) -> bool:
    return True


def _stores_and_phones(text: str, low: str, lower: bytes) -> bool:
    return _phones(text, low, lower) and _stores(text, low, lower)


#: A process call whose command is literals joined by `+`.
_SPLIT_COMMAND = re.compile(
    r"(?:system|popen|Popen|run|call|check_output|getoutput)\(\s*\[?\s*"
    r"(?:[rbuf]?(?:\"[^\"\n]{0,60}\"|'[^'\n]{0,60}')\s*\+\s*){2,}"
)
#: `Account.create = create`, `Keypair.from_bytes = staticmethod(hook)`, `setattr(A, "b", c)`.
_PATCH = re.compile(
    r"^[ \t]*(?!self\.|cls\.)[A-Za-z_]\w*(?:\.\w+)+[ \t]*=[ \t]*"
    r"(?:(?:staticmethod|classmethod)\()?([A-Za-z_]\w*)\)?[ \t]*$|"
    r"^[ \t]*setattr\([^,\n]+,[^,\n]+,\s*(?:(?:staticmethod|classmethod)\()?([A-Za-z_]\w*)",
    re.M,
)


_DEFINED = re.compile(r"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+(\w+)", re.M)


def patches_and_phones(data: bytes) -> bool:
    """Whether a module sets an attribute of some object to a function or class it defines
    (``Account.create = create``) and requests an address written in: a patch that may
    send what the patched function handles. Asked only of modules imported at install or
    import time (the patch runs then); a regular expression over every module costs too
    much for what it finds."""
    lower = data.lower()
    if b"://" not in lower or not any(token in lower for token in _NETWORK):
        return False
    text = data.decode("utf-8", "replace")
    assigned = {m.group(1) or m.group(2) for m in _PATCH.finditer(text)}
    return bool(assigned) and not assigned.isdisjoint(_DEFINED.findall(text))


_HOME = (b"expanduser", b"path.home", b"userprofile", b"desktop", b"documents")


def _sweeps_and_phones(text: str, low: str, lower: bytes) -> bool:
    return any(token in lower for token in _HOME) and _phones(text, low, lower)


def _downloads(text: str, low: str, lower: bytes) -> bool:
    return any(token in lower for token in _DOWNLOADS)


#: `dict(os.environ)`, `json.dumps(os.environ)`, `os.environ.items()`: all of it, as data.
_WHOLE_ENVIRONMENT = re.compile(
    r"(?:dict|str|repr|dumps|urlencode)\(\s*os\.environ\s*\)|os\.environ\.items\(\)"
)
_REQUEST = re.compile(
    r"\b(?:post|put|urlopen|Request|sendall|send|sendmail|storbinary|storlines|put_object|"
    r"upload_file|upload_fileobj)\("
)


def _environment_sent(text: str, low: str, lower: bytes) -> bool:
    return bool(_WHOLE_ENVIRONMENT.search(text)) and bool(_REQUEST.search(text))


#: A code-running loader handed a download on the same line.
_LOADS_DOWNLOAD = re.compile(
    r"(?:(?:pickle|dill|joblib|torch)\.loads?|read_pickle)\([^\n]*"
    r"(?:urlopen|requests\.|httpx\.|\.content\b|https?://)",
    re.I,
)
#: A native library's file name in a literal.
_LIBRARY_NAME = re.compile(r"""['"][\w./\\-]*\.(?:dll|so|dylib)['"]""", re.I)
#: Chat bots' and local servers' modules (``source._REMOTE_MODULES``), and chat clients'.
_SERVES = (
    *(b"http.server", b"basehttp", b"socketserver", b"discord", b"telebot", b"telegram"),
    *(b"zulip", b"slack_sdk"),
)


def _serves_and_spawns(text: str, low: str, lower: bytes) -> bool:
    return any(token in lower for token in _SERVES) and any(token in lower for token in _SPAWN)


def dfa(patterns: Iterable[bytes]) -> ahocorasick_rs.BytesAhoCorasick:
    """An Aho-Corasick automaton of ``patterns``, built as a DFA (the fastest to search)."""
    return ahocorasick_rs.BytesAhoCorasick(
        list(patterns),
        matchkind=ahocorasick_rs.MATCHKIND_STANDARD,
        implementation=ahocorasick_rs.Implementation.DFA,
    )


class Anchored:
    """Indicators, and which of them a file's bytes can match: one Aho-Corasick pass over
    the lower-case bytes finds the anchors that occur, and only the indicators holding one
    are searched (each search would otherwise look for every anchor of every indicator).
    An anchor's NUL (``\\x00history``: a path given in pieces, joined by ``_stores``) is
    left out of the pass, which then asks for what the joining cannot add."""

    def __init__(self, found: tuple[indicators.Indicator, ...]) -> None:
        self.indicators = found

    @functools.cached_property
    def _automaton(
        self,
    ) -> tuple[ahocorasick_rs.BytesAhoCorasick, tuple[frozenset[int], ...], int]:
        tokens = sorted({_token(a) for i in self.indicators for a in i.anchors})
        index = {token: n for n, token in enumerate(tokens)}
        owned = tuple(frozenset(index[_token(a)] for a in i.anchors) for i in self.indicators)
        return dfa(tokens), owned, max(map(len, tokens))

    def candidates(self, lower: bytes) -> list[indicators.Indicator]:
        """The indicators one of whose anchors occurs in ``lower`` (lower-case bytes)."""
        automaton, owned, longest = self._automaton
        found = _matches(automaton, lower, longest)
        return [i for i, mine in zip(self.indicators, owned, strict=True) if found & mine]

    def search(self, text: str, low: str, lower: bytes) -> bool:
        return any(i.search(text, low) for i in self.candidates(lower))


def _token(anchor: str) -> bytes:
    return anchor.replace("\x00", "").encode()


_CREDENTIALS = Anchored(tuple(indicator for _, indicator in indicators.CREDENTIALS.values()))
#: Literals written as separate arguments (``join(appdata, "Exodus", "exodus.wallet")``):
#: the parsed file's strings join them with NUL, which the credential patterns read as a
#: path separator.
_ARGUMENT_GAP = re.compile(r"""['"]\s*,\s*[rRuUbBfF]?['"]""")


def _stores(text: str, low: str, lower: bytes) -> bool:
    """A credential store named, also as a path given in pieces."""
    candidates = _CREDENTIALS.candidates(lower)
    if not candidates:
        return False
    joined = _ARGUMENT_GAP.sub("\x00", text)
    joined_low = joined.lower()
    return any(i.search(joined, joined_low) for i in candidates)


_SINK_INDICATORS = (*indicators.SINKS.values(), indicators.IP_LOGGER)
_SINKS = Anchored(_SINK_INDICATORS).search
#: The sink patterns' own anchors (lower-case by ``Indicator``'s contract), so that triage
#: lets through every file in which one of them can match, and no list is kept twice.
_SINK_ANCHORS = tuple(sorted({anchor.encode() for i in _SINK_INDICATORS for anchor in i.anchors}))
_DYNAMIC_PROCESS_IMPORT = re.compile(
    r"""(?:import_module|__import__)\(\s*[bru]?['"](?:os|subprocess|pty|posix|nt)['"]"""
)

#: A transaction's or a memo's field the chain publishes (``{"data": ...}``, ``memo=``).
_PUBLISHED_FIELD = re.compile(
    rb"""['"](?:data|input|memo)['"]\s*:|\b(?:data|input|memo|message)\s*="""
)

#: (lower-case byte substrings, the check to run where one occurs). Only files where a
#: check passes are parsed.
_TRIAGE = (
    ((b"exec(", b"eval(", b"__import__("), _exec_chain),
    ((b"runsource(", b".push(", b"timeit.timeit(", b"timeit.timer(", b"profile.run("), _exec_chain),
    # `exec` handed to `map`; a function made of a code object.
    (
        (b"map(exec", b"map(eval", b"functiontype("),
        lambda text, low, lower: any(token in lower for token in _DECODING),
    ),
    ((b"exec(", b"eval("), _runs_data_file),
    # A data file's name beside code run (`exec`, a module loaded from a path).
    (
        (b"exec(", b"eval(", b"spec_from_file_location", b"fileloader", b"load_source"),
        lambda text, low, lower: bool(_DATA_NAME.search(text)),
    ),
    ((b"load_compiled", b"run_path"), lambda text, low, lower: bool(_DATA_NAME.search(text))),
    ((b"pyarmor", b"pty.spawn", b"/dev/tcp", b"httpimport"), _always),
    # Text spelled in ROT13 hides from these substrings what the parse reads whole.
    ((b"rot13", b"rot_13", b"rot-13"), _always),
    # `os` or `subprocess` imported by a call (`import_module("os").system(...)`): the
    # process calls hidden from a reader, and from the substrings above.
    (
        (b"import_module(", b"__import__("),
        lambda text, low, lower: bool(_DYNAMIC_PROCESS_IMPORT.search(text)),
    ),
    ((b"dup2",), lambda text, low, lower: b"socket" in lower),
    # What the sink patterns look for: every match of one holds one of its anchors.
    (_SINK_ANCHORS, _SINKS),
    ((b"getuser", b"gethostname", b"getlogin", b"platform.node", b"os.uname"), _phones),
    # A command handed to a process in pieces (`os.system("cu" + "rl ...")`).
    (
        (b"os.system(", b"os.popen(", b"subprocess."),
        lambda text, low, lower: bool(_SPLIT_COMMAND.search(text)),
    ),
    ((b".exe",), _drops_program),
    ((b".recv(", b"b64decode", b".write(", b"urlretrieve"), _drops),
    ((b".exec_module", b"runpy.run_path", b".sourcefileloader"), _downloads),
    # A download saved to a file, and a path put on the import path.
    (
        (b"sys.path.insert", b"sys.path.append", b"zipimporter"),
        lambda text, low, lower: b"urlretrieve" in lower or b"wget.download" in lower,
    ),
    ((b"virtualalloc",), _always),
    ((b"/etc/passwd", b"/etc/shadow", b"serviceaccount/token", b"runner.worker"), _phones),
    (
        (b"__builtins__", b"getattr(builtins", b"getattr( builtins"),
        lambda text, low, lower: bool(_BUILTINS.search(text)),
    ),
    (
        (b"=exec", b"= exec", b",exec", b", exec", b"=eval", b"= eval", b",eval", b", eval"),
        lambda text, low, lower: bool(_RENAMED_EXEC.search(text)),
    ),
    ((b"chr(", b"chr,"), lambda text, low, lower: bool(_CHAR_CODES.search(text))),
    ((b"login data", b"leveldb", b"roblosecurity"), _stores),
    ((b"password_value", b"encrypted_value", b"card_number_encrypted"), _stores),
    # The user's key folders named as paths (``"~/.ssh"``, ``home / ".aws"``) beside network
    # use; the file names in them (``id_rsa``) are the credential patterns' own.
    ((b".ssh", b".aws"), _key_folder),
    ((b"launcher_accounts", b"loginusers.vdf"), _stores),
    # "http" in base64 ("aHR0c") or hex: a URL the file spells only encoded.
    ((b"ahr0c", b"68747470"), _phones),
    # Telegram's session folder is named beside "Telegram Desktop", or as a path part.
    ((b"cookies", b"/tdata", b"\\tdata", b"telegram", b"wallet", b"id.json"), _stores),
    # Browser wallet extensions by their store id (``indicators.CREDENTIALS``).
    (
        (
            *(b"nkbihfbeogaeaoehlefnkodbefgpgknn", b"bfnaelmomeimhlpmgjnjophhpkkoljpa"),
            *(b"hnfanknocfeofbddgcijnmhnfnkdnaad", b"egjidjbpglichdcondbcbdnbeeppgdph"),
            *(b"fhbohimaelbohpjbbldcngcnapndodjp", b"ibnejdfjmmkpcnlpebklmnkoeoihofec"),
            *(b"dmkamcknogkgcdfhhbddcghachkejeap", b"bhhhlbepdkbapadjdnnojkbgioiodbic"),
            *(b"acmacodkjbdgmoleebolmdjonilkdbch", b"mcohilncbfahbmgdjkbpemcciiolgcge"),
        ),
        _stores,
    ),
    # A blockchain client's transaction or memo fields, which might carry a wallet's key.
    (
        (b"web3", b"eth_account", b"solana", b"solders", b"tronpy", b"bitcoinlib"),
        lambda text, low, lower: bool(_PUBLISHED_FIELD.search(lower)),
    ),
    # Libraries that read every browser's cookies, beside network use.
    ((b"browser_cookie3", b"rookiepy", b"pycookiecheat"), _phones),
    ((b"powershell", b"chmod +x", b"base64 -d"), _any(indicators.DOWNLOAD_RUN)),
    (
        (b"mshta http", b"bitsadmin /", b"certutil", b"msiexec", b"regsvr32"),
        _any(indicators.DOWNLOAD_RUN),
    ),
    # A walk of the user's home, documents or a drive, beside network use.
    ((b"os.walk", b".rglob(", b"glob.glob", b"glob.iglob"), _sweeps_and_phones),
    # The whole environment, taken whole, and a request.
    ((b"os.environ)", b"os.environ.items()"), _environment_sent),
    ((b"| sh", b"|sh", b"| bash", b"|bash", b"| sudo", b"|sudo"), _piped_download),
    # A download handed to a shell as its script, or saved and then run by one.
    (
        (
            *(b"$(curl", b"$(wget", b"`curl", b"`wget", b"&& ./", b"; ./", b"&& nohup"),
            *(b"&& bash", b"&& sh ", b"; bash ", b"; sh ", b"&& python", b"&& perl", b"&& node"),
        ),
        _any(indicators.DOWNLOAD_RUN),
    ),
    # A Windows service (`sc create NAME binPath= ...`, `New-Service -...`).
    ((b"binpath=", b"new-service"), _any(indicators.PERSISTENCE)),
    # An index written into an installer's configuration; a key into `authorized_keys`.
    (
        (b"pip.conf", b"pip.ini", b".pydistutils.cfg", b"uv.toml", b".condarc"),
        _any(indicators.INDEX_SETTING),
    ),
    ((b"pip config set", b"pip3 config set"), _any(indicators.INDEX_SETTING)),
    (
        (b"authorized_keys",),
        lambda text, low, lower: bool(indicators.SSH_PUBLIC_KEY.search(text)),
    ),
    # A program run from an in-memory file.
    ((b"memfd_create",), _phones),
    ((b"currentversion", b"start menu", b"crontab", b"bashrc"), _any(indicators.PERSISTENCE)),
    (
        (b".config/autostart", b"library/launchagents", b"/etc/cron", b"/etc/rc.local"),
        _any(indicators.PERSISTENCE),
    ),
    # `curl -F file=@path`: a command that uploads a file.
    ((b"=@", b"-d @", b"--data-binary @"), _any(indicators.UPLOAD_COMMAND)),
    # The secret half of a signing key, then a request to an address written in the code.
    ((b"secret_key", b"secretkey", b"key_secret", b"secret_access_key"), _any(_SECRET_SENT)),
    # Credential files and stores named as paths, beside network use.
    (
        (
            *(b".git-credentials", b".pypirc", b".npmrc", b".netrc", b".pgpass"),
            *(b"sh_history", b"psql_history", b"mysql_history", b"python_history"),
        ),
        _stores_and_phones,
    ),
    ((b"/proc/self/environ",), _stores_and_phones),
    # Command-line tools' tokens (``source._CREDENTIAL_HINT``), beside network use.
    ((b"hosts.yml", b"github-copilot", b".vault-token", b"id.json"), _phones),
    # The machine's cloud credentials asked of the metadata service; a stored secret.
    ((b"/latest/meta-data", b"metadata.google.internal", b"/metadata/identity"), _phones),
    ((b"keyring.get_", b"credenumerate"), _phones),
    # A secrets file (`.env`) opened beside network use.
    ((b'".env"', b"'.env'"), _phones),
    # A CI or registry token, a wallet's private key or recovery phrase, next to a request.
    (
        (b"github_token", b"gh_token", b"npm_token", b"pypi_token", b"pypi_api_token"),
        _any(_KEY_SENT),
    ),
    (
        (b"twine_password", b"private_key", b"privatekey", b"mnemonic", b"seed_phrase"),
        _any(_KEY_SENT),
    ),
    ((b"secret", b"_api_key", b"hf_token", b"hugging_face_hub_token"), _any(_KEY_SENT)),
    # What a chat bot is told or a local server is sent, and a process: a remote command.
    (
        (b"message.content", b"message.text", b"basehttprequesthandler", b"message_handler"),
        _serves_and_spawns,
    ),
    ((b"telebot", b"zulip", b"slack_sdk"), _serves_and_spawns),
    # A native library loaded by its file name from beside the module (one the archive may
    # ship; the system's libraries are found by name, not beside ``__file__``).
    (
        (b".cdll", b".windll", b".pydll", b".loadlibrary", b".dlopen"),
        lambda text, low, lower: b"__file__" in lower and bool(_LIBRARY_NAME.search(text)),
    ),
    # A browser's history database, beside network use.
    ((b"/history", b"\\history", b'history"', b"history'", b"places.sqlite"), _stores_and_phones),
    # Network use and a shell command: perhaps a command fetched from a server.
    (
        (
            b"getoutput",
            b"os.system",
            b"os.popen",
            b"subprocess.run(",
            b"subprocess.popen(",
            b"subprocess.call(",
            b"check_output(",
        ),
        _drops,
    ),
    # A Discord bot signed in to with its token written in.
    ((b"discord.",), lambda text, low, lower: bool(indicators.DISCORD_BOT_TOKEN.search(text))),
    # Defences turned off.
    (
        (b"vssadmin", b"wevtutil", b"bcdedit", b"disablerealtimemonitoring", b"mppreference"),
        _any(indicators.DEFENSE_EVASION),
    ),
    ((b"ms-settings", b"mscfile"), _any(indicators.DEFENSE_EVASION)),
    # Slack and GitHub tokens written in, beside network use.
    ((b"xoxb-", b"xoxp-", b"ghp_", b"github_pat_"), _phones),
    # Sandboxes' user names and analysis tools' processes, listed to hide from them.
    (
        (b"wdagutilityaccount", b"httpdebuggerui", b"vboxservice"),
        lambda text, low, lower: (
            sum(name.encode() in lower for name in indicators.ANALYSIS_NAMES) >= 5
        ),
    ),
    # Key loggers and screen grabbers beside network use.
    ((b"pynput", b"getasynckeystate", b"setwindowshookex"), _phones),
    ((b"imagegrab", b"pyscreenshot", b"pyautogui.screenshot"), _phones),
    # A pickle (or a format like it, which runs code as it loads) of a download.
    (
        (b"pickle.load", b"dill.load", b"joblib.load", b"torch.load", b".read_pickle"),
        lambda text, low, lower: bool(_LOADS_DOWNLOAD.search(text)),
    ),
    ((b"yaml.unsafe_load", b"jsonpickle"), _phones),
    # A mail account signed in to with credentials written in.
    ((b"smtplib",), lambda text, low, lower: b".login(" in lower),
    (
        (b"clipboard", b"pyperclip"),
        lambda text, low, lower: bool(indicators.CRYPTO_ADDRESS.pattern.search(text)),
    ),
)


#: What code run at install or import time may do that a rule judges by where it runs.
_EARLY = (*_NETWORK, *_SPAWN)

#: A file is searched in windows of this many bytes (each overlapping the last by the
#: longest substring less one), so the matches listed at once stay few even in a file made
#: of nothing but substrings.
_WINDOW = 1 << 16


@functools.cache
def _automaton() -> tuple[ahocorasick_rs.BytesAhoCorasick, tuple[bytes, ...]]:
    """Every ``_TRIAGE`` substring in one Aho-Corasick automaton (a DFA): one pass over a
    file finds all that occur, at about a tenth of what a regular expression of them costs."""
    tokens = tuple(sorted({token for group, _ in _TRIAGE for token in group}))
    return dfa(tokens), tokens


def _windows(data: bytes, longest: int) -> Iterator[tuple[int, bytes]]:
    """``data`` in ``_WINDOW``-byte windows, each with its offset, each overlapping the next
    by ``longest`` less one: every occurrence of a substring that long or shorter lies
    whole in a window (one in an overlap, in two)."""
    overlap = longest - 1
    for offset in range(0, max(len(data) - overlap, 1), _WINDOW):
        yield offset, data[offset : offset + _WINDOW + overlap]


def _present(lower: bytes) -> set[bytes]:
    """The ``_TRIAGE`` substrings that occur in ``lower``, also where one holds another
    (``secret`` in ``secret_key``: matches are found overlapping)."""
    automaton, tokens = _automaton()
    return {tokens[index] for index in _matches(automaton, lower, max(map(len, tokens)))}


def _matches(automaton: ahocorasick_rs.BytesAhoCorasick, data: bytes, longest: int) -> set[int]:
    """The indexes of ``automaton``'s patterns (``longest`` bytes at most) that occur in
    ``data``, also where one holds another."""
    found: set[int] = set()
    for _, window in _windows(data, longest):
        found.update(
            index for index, _, _ in automaton.find_matches_as_indexes(window, overlapping=True)
        )
    return found


def worth_parsing(data: bytes, *, runs_early: bool = False) -> bool:
    """Whether a Python file's bytes show anything a rule could find in it; for a file run
    at install or import time (``runs_early``), also any network or process use."""
    lower = data.lower()
    if runs_early and any(token in lower for token in _EARLY):
        return True
    present = _present(lower)
    if present:
        text = data.decode("utf-8", "replace")
        low = text.lower()
        for tokens, check in _TRIAGE:
            if not present.isdisjoint(tokens) and check(text, low, lower):
                return True
    if _RAW_IP.search(data):
        text = data.decode("utf-8", "replace")
        return indicators.raw_ip(text) is not None
    return False


#: Words that show code hiding what it runs: dynamic imports and builtins, decoding.
_HIDING_WORDS = (
    b"__import__",
    b"globals()",
    b"from builtins import *",
    b"__builtins__",
    b"[::-1]",
    b"marshal",
    b"b64decode",
    b"decompress",
    b"fromhex",
    b"unhexlify",
)
#: Words that show it only in context: ``eval`` or ``exec`` called (after a word
#: boundary), ``bytes([`` of a number.
_HIDING_CALLS = (b"eval", b"exec")
_HIDING_BYTES = b"bytes(["
_HIDING = (*_HIDING_WORDS, *_HIDING_CALLS, _HIDING_BYTES)
_CALL_OPENS = re.compile(rb"\s*\(")
_WORD_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
#: A name made of nothing but look-alike characters (``IlI1lO0O_I``), as obfuscators write.
_JUNK_NAME = re.compile(rb"\b[Il1O0_]{10,}\b")
#: Look-alike characters to ``a``, everything else to a space: ten ``a`` in a row is what a
#: junk name needs, and most files show none (then the pattern is never run).
_JUNK_CHARACTERS = bytes(ord("a") if c in b"Il1O0_" else ord(" ") for c in range(256))


@functools.cache
def _hiding_automaton() -> ahocorasick_rs.BytesAhoCorasick:
    return dfa(_HIDING)


def hides_code(data: bytes) -> bool:
    """Whether a module's bytes show code that hides what it runs: ``__import__``,
    ``eval(`` or ``exec(`` after a word boundary, ``globals()``, ``from builtins import *``,
    ``__builtins__``, ``[::-1]``, ``bytes([`` and a digit, a junk name (``_JUNK_NAME``), or
    a decoder's name (``marshal``, ``b64decode``, ``decompress``, ``fromhex``,
    ``unhexlify``). One Aho-Corasick pass finds the words (a regular expression of them
    tries every one at every byte: fifteen times slower on the Python of a virtual
    environment)."""
    automaton = _hiding_automaton()
    words = len(_HIDING_WORDS)
    for offset, window in _windows(data, max(map(len, _HIDING))):
        for index, start, end in automaton.find_matches_as_indexes(window, overlapping=True):
            if index < words:
                return True
            start, end = offset + start, offset + end
            if _HIDING[index] == _HIDING_BYTES:
                if data[end : end + 1].isdigit():
                    return True
            elif (start == 0 or data[start - 1] not in _WORD_BYTES) and _CALL_OPENS.match(
                data, end
            ):
                return True
    return b"a" * 10 in data.translate(_JUNK_CHARACTERS) and bool(_JUNK_NAME.search(data))
