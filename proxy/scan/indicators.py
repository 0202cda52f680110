"""String indicators: what a literal in a package says about where data goes or comes from.

Each table maps a category to one compiled pattern, matched against string literals (and
literals decoded statically). Categories are what findings name, so a reason reads
``exfil-sink (discord webhook)``.
"""

from __future__ import annotations

import re

_I = re.IGNORECASE

#: Where stolen data is sent: chat webhooks, paste and file drops, out-of-band test domains.
SINKS: dict[str, re.Pattern[str]] = {
    "discord webhook": re.compile(r"discord(?:app)?\.com/api/webhooks/\d", _I),
    "telegram bot": re.compile(r"api\.telegram\.org/bot", _I),
    "slack webhook": re.compile(r"hooks\.slack\.com/services/", _I),
    "paste site": re.compile(
        r"\b(?:pastebin\.com/raw|paste\.ee/r|hastebin\.com|termbin\.com|0x0\.st|transfer\.sh|"
        r"file\.io|gofile\.io|anonfiles\.com|paste\.c-net\.org|rentry\.co)",
        _I,
    ),
    "request catcher": re.compile(
        r"\b(?:webhook\.site|requestbin|pipedream\.net|ngrok\.io|ngrok-free\.app|"
        r"burpcollaborator\.net|oastify\.com|interact\.sh|interactsh|"
        r"oast\.(?:fun|pro|live|site|online|me)|dnslog\.cn|ceye\.io|canarytokens\.com|"
        r"trycloudflare\.com|serveo\.net|localtunnel\.me|beeceptor\.com|requestcatcher\.com)",
        _I,
    ),
}
RAW_IP_URL = re.compile(r"\b(?:https?|ftp|tcp)://(\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?", _I)
_LOCAL_IP = re.compile(r"^(?:127\.|0\.|10\.|192\.168\.|169\.254\.|172\.(?:1[6-9]|2\d|3[01])\.)")

#: Credential stores, with the weight a read of each carries.
CREDENTIALS: dict[str, tuple[float, re.Pattern[str]]] = {
    "browser profile": (
        6,
        re.compile(
            r"(?:Login Data|Web Data|Local State|\\Cookies\b|/Cookies\b|User Data\\\\?Default|"
            r"BraveSoftware|Opera Software|Yandex\\\\?YandexBrowser|Mozilla\\\\?Firefox\\\\?Profiles|"
            r"logins\.json|key4\.db|cookies\.sqlite|CryptUnprotectData|browser_cookie3)",
            _I,
        ),
    ),
    "discord token": (
        6,
        re.compile(
            r"(?:discord(?:canary|ptb)?[\\/]+Local Storage|Local Storage[\\/]+leveldb|"
            r"dQw4w9WgXcQ|\[\\w-\]\{24\}|mfa\\\.\[)",
            _I,
        ),
    ),
    "telegram session": (5, re.compile(r"Telegram Desktop[\\/]+tdata|[\\/]tdata\b", _I)),
    "crypto wallet": (
        5,
        re.compile(
            r"(?:wallet\.dat|Exodus[\\/]+exodus\.wallet|Electrum[\\/]+wallets|Ethereum[\\/]+keystore|"
            r"nkbihfbeogaeaoehlefnkodbefgpgknn|atomic[\\/]+Local Storage|Coinomi|Guarda[\\/]|"
            r"com\.liberty\.jaxx|Armory[\\/])",
            _I,
        ),
    ),
    "game account": (
        4,
        re.compile(r"(?:ROBLOSECURITY|loginusers\.vdf|\bssfn|launcher_accounts\.json)", _I),
    ),
    "ssh or cloud key": (
        3,
        re.compile(
            r"(?:\.ssh[\\/]+id_(?:rsa|ed25519|ecdsa|dsa)|\.aws[\\/]+credentials|\.git-credentials|"
            r"\.docker[\\/]+config\.json|\.kube[\\/]+config|\.pypirc|\.npmrc|gcloud[\\/]+credentials)",
            _I,
        ),
    ),
    "ftp client": (4, re.compile(r"FileZilla[\\/]+(?:recentservers|sitemanager)\.xml", _I)),
}

#: Shell commands that fetch and run something.
DOWNLOAD_RUN = re.compile(
    r"(?:powershell[^\n]{0,80}?(?:-e(?:nc(?:odedcommand)?)?\s+[A-Za-z0-9+/=]{16}|"
    r"-w(?:indowstyle)?\s+hidden|iex\b|invoke-expression|invoke-webrequest|\biwr\b|"
    r"downloadstring|downloadfile|start-process)|"
    r"(?:curl|wget)\s[^\n|;]{0,300}\|\s*(?:sudo\s+)?(?:ba|z|da)?sh\b|"
    r"(?:curl|wget)\s[^\n;]{0,300}(?:&&|;)\s*chmod\s\+x|"
    r"certutil(?:\.exe)?\s+-urlcache|bitsadmin(?:\.exe)?\s+/transfer|mshta(?:\.exe)?\s+https?:|"
    r"Invoke-WebRequest[^\n]{0,200}-OutFile|New-Object\s+Net\.WebClient)",
    _I,
)
EXECUTABLE_URL = re.compile(r"https?://[^\s'\"]+\.(?:exe|scr|msi|bat|vbs|ps1|dll|jar)\b", _I)

PERSISTENCE = re.compile(
    r"(?:Start Menu[\\/]+Programs[\\/]+Startup|CurrentVersion[\\/]+Run(?:Once)?\b|"
    r"\bschtasks(?:\.exe)?\s+/create|\breg(?:\.exe)?\s+add\s|crontab\s+-|/etc/cron|"
    r"/etc/rc\.local|Library/LaunchAgents|\.config/autostart|systemd/user|"
    r"\.bashrc|\.zshrc|\.bash_profile)",
    _I,
)

CRYPTO_ADDRESS = re.compile(
    r"(?:\b(?:bc1|[13])[a-km-zA-HJ-NP-Z1-9]{25,39}\b|\b0x[a-fA-F0-9]{40}\b|\bT[1-9A-HJ-NP-Za-km-z]{33}\b|"
    r"\^?\(?bc1\|\[13\]|0x\[a-fA-F0-9\]\{40\})"
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


def raw_ip(text: str) -> str | None:
    """The first public raw IP address in a URL in ``text``, if any."""
    for match in RAW_IP_URL.finditer(text):
        address = match.group(1)
        if not _LOCAL_IP.match(address) and all(int(p) <= 255 for p in address.split(".")):
            return address
    return None
