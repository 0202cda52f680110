"""What one Python source says, read statically: calls, strings, imports, exec sinks.

``read_source(text)`` parses with ``ast`` (never compiles to bytecode, never imports or runs
anything) and collects ``Facts``: every call with its dotted name resolved through the
module's imports (``from base64 import b64decode as d; d(x)`` is ``base64.b64decode``), every
string literal (plus what constant ``base64``/``hex``/``zlib`` decodes of literals give, found
statically), and every ``exec``/``eval``/``compile``/``__import__`` with what feeds it. A file
``ast`` cannot parse whole (Python 2, newer syntax, a statement broken on purpose) is read
through ``recovery``; one that still yields no tree falls back to ``tokenize``, and one that
cannot even be tokenized to a line-based reading; the facts are then coarser (``parsed`` is
false) but strings and names are still seen.
"""

from __future__ import annotations

import ast
import base64
import binascii
import io
import re
import tokenize
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from . import indicators
from .constants import ScopedWalk, propagate_constants
from .executables import embedded_executable
from .facts import (
    FOREIGN,
    Call,
    Drop,
    ExecSink,
    Export,
    Facts,
    Link,
    Send,
    foreign_kinds,
    own_kinds,
)
from .folding import (
    LITERAL_DECODERS,
    MAX_FOLD,
    byte_codes,
    fold,
    is_chr_of_code,
    reverses,
    rot13_text,
)
from .inlining import inline_literal_exec, may_run_literals, runs_built_text
from .loading import runs_on_load
from .recovery import parse_recovered
from .spelled_imports import may_spell_imports, respell_imports

#: Calls that turn an opaque literal into bytes or text.
DECODERS = frozenset(
    {
        "base64.b64decode",
        "base64.b32decode",
        "base64.b16decode",
        "base64.a85decode",
        "base64.b85decode",
        "base64.decodebytes",
        "base64.decodestring",
        "base64.urlsafe_b64decode",
        "base64.standard_b64decode",
        "binascii.unhexlify",
        "binascii.a2b_base64",
        "binascii.a2b_hex",
        "bytes.fromhex",
        ".fromhex",
        "zlib.decompress",
        "gzip.decompress",
        "bz2.decompress",
        "lzma.decompress",
        "marshal.loads",
        "pickle.loads",
        "codecs.decode",
        ".decrypt",
        "cryptography.fernet.Fernet().decrypt",
        # What an image hides in its pixels or its EXIF header (steganography).
        "stegano.lsb.reveal",
        "stegano.exifHeader.reveal",
        "stegano.red.reveal",
        "stepic.decode",
    }
)
#: Calls whose result is data from the network.
NETWORK_READS = frozenset(
    {
        "requests.get",
        "requests.post",
        "requests.request",
        "urllib.request.urlopen",
        "urllib.urlopen",
        "urllib2.urlopen",
        "httpx.get",
        "httpx.post",
        # A DNS answer (a TXT record) carries whatever its zone's owner wrote there.
        "dns.resolver.resolve",
        "dns.resolver.query",
    }
)
EXEC_SINKS = frozenset(
    {
        *("exec", "eval", "compile", "execfile", "builtins.exec", "builtins.eval"),
        # The standard library's other ways to run a string as Python.
        *("code.InteractiveInterpreter().runsource", "code.InteractiveConsole().runsource"),
        *("code.InteractiveConsole().push", "timeit.timeit", "timeit.repeat", "timeit.Timer"),
        *("cProfile.run", "profile.run", "pdb.run"),
        # The interpreter's own C API, reached through ctypes.
        *("ctypes.pythonapi.PyRun_SimpleString", "ctypes.pythonapi.PyRun_String"),
    }
)
#: Calls that call the function they are handed on the data they are handed.
_APPLIERS = frozenset({"map", "filter", "functools.reduce", "itertools.starmap"})
#: Calls that call the function they are handed later, elsewhere, on the arguments that
#: follow it or on ``args=``: a timer, a thread, an executor.
_SCHEDULERS = frozenset(
    {"threading.Timer", "threading.Thread", "asyncio.to_thread", "_thread.start_new_thread"}
    | {".run_in_executor", ".submit", ".call_soon", ".call_later", ".apply_async"}
)
#: Calls that make a function of a code object (calling it runs the code).
_CODE_FUNCTIONS = frozenset({"types.FunctionType", "types.LambdaType"})
#: Loaders of formats that run code while they load (a pickle calls whatever it names):
#: handed a download or a payload, each runs it as surely as ``exec``.
_CODE_LOADERS = frozenset(
    {
        *("pickle.loads", "pickle.load", "_pickle.loads", "cPickle.loads", "cPickle.load"),
        *("dill.loads", "dill.load", "cloudpickle.loads", "cloudpickle.load", "joblib.load"),
        *("torch.load", "pandas.read_pickle", "yaml.unsafe_load", "jsonpickle.decode"),
    }
)
#: Calls that run, or make a function of, code they are handed as data.
_RUNS_HANDED = _CODE_FUNCTIONS | _CODE_LOADERS
#: Calls that start a process: decoded data handed to one is run as surely as by ``exec``.
PROCESS_SINKS = frozenset(
    {
        "subprocess.Popen",
        "subprocess.call",
        "subprocess.run",
        "subprocess.check_call",
        "subprocess.check_output",
        "os.system",
        "os.popen",
        "os.startfile",
        "subprocess.getoutput",
        "subprocess.getstatusoutput",
        "asyncio.create_subprocess_shell",
    }
)
#: Mathematical alphanumeric letters (U+1D400-U+1D7FF), which identifiers fold to ASCII.
_MATH_LETTER = re.compile("[\U0001d400-\U0001d7ff]")
#: Such a letter in a name used as code (before `=`, `(`, `.`, or after a `.`), not in text.
_MATH_NAME = re.compile(
    "[\\w\U0001d400-\U0001d7ff]*[\U0001d400-\U0001d7ff][\\w\U0001d400-\U0001d7ff]*"
    "(?=\\s*[=(.\\[])|(?<=\\.)[\U0001d400-\U0001d7ff]"
)
_ESCAPED_IMPORT = re.compile(r"""__import__\(\s*[bru]?(['"])(?:\\x[0-9a-fA-F]{2})+\1""")
_ESCAPE = re.compile(r"\\(?:x[0-9a-fA-F]{2}|[0-7]{3})")
#: Escapes in one file from which ``rules`` reads text spelled out of a reader's sight.
ESCAPE_SOUP = 200
_FSTRING_START = getattr(tokenize, "FSTRING_START", -1)  # Python 3.12 and later
_FSTRING_MIDDLE = getattr(tokenize, "FSTRING_MIDDLE", -1)
_FSTRING_END = getattr(tokenize, "FSTRING_END", -1)


#: Python in a string: a raw string of code (written out and run) keeps its escapes for
#: the interpreter that runs it.
_CODE_TEXT = re.compile(r"\b(?:import|lambda|exec|eval|globals|compile)\b")


def _cooked_escapes(text: str) -> int:
    """``_ESCAPE`` matches in the string literals Python decodes: not in comments, nor in
    raw strings (a regular expression's own escapes, ``r"[\\000-\\040]"``, read as written)
    unless the raw string is code itself (an obfuscated script kept raw, to be saved and
    run). Counted from the tokens; a file that does not tokenize keeps the plain count."""
    count = 0
    raw: list[bool] = []  # enclosing f-strings (3.12+ tokenizes their parts): raw or not
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            kind, string = token.type, token.string
            if kind == tokenize.STRING:
                prefix = string[: len(string) - len(string.lstrip("rRbBuUfF"))]
                if "r" not in prefix.lower() or _CODE_TEXT.search(string):
                    count += len(_ESCAPE.findall(string))
            elif kind == _FSTRING_START:
                raw.append("r" in string.lower())
            elif kind == _FSTRING_END and raw:
                raw.pop()
            elif kind == _FSTRING_MIDDLE and not (raw and raw[-1]):
                count += len(_ESCAPE.findall(string))
    except (tokenize.TokenError, SyntaxError):
        return len(_ESCAPE.findall(text))
    return count


_MAX_DECODE = 256 * 1024
_ESCAPES = re.compile(r"\\x[0-9a-fA-F]{2}")


#: What a file may cost to analyse, in ``parse_cost`` units (about its tokens): its syntax
#: tree and the facts drawn from it take 0.4-0.9 KB per token, so one file cannot make a
#: scan take gigabytes (rules 70: 14 MB of ``x = 1`` lines took 6 GB and 55 s; rules 71:
#: 1 MB of attribute chains, ``a.b.c.d...``, which the count before did not see, 4.8 GB
#: and 98 s). The largest file run at install or import time among the legitimate
#: archives of both corpora costs about 470,000 (telethon's generated types).
MAX_PARSE_COST = 600_000

#: Each byte as the kind of token it may begin: ``a`` a name or number (any byte of a
#: non-ASCII character too), ``.`` an operator, a bracket or a quote, `` `` white space.
_TOKEN_KINDS = bytes(
    ord("a")
    if chr(b).isalnum() or b == ord("_") or b >= 0x80
    else ord(" ")
    if chr(b) in " \t\n\r\f\v\\#"
    else ord(".")
    for b in range(256)
)


#: A string literal (its prefix the first group) or a comment.
_LITERAL_OR_COMMENT = re.compile(
    r"([rRbBuUfFtT]{0,2})(?:"
    r"'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''|"
    r'"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""|'
    r"'[^'\\\n]*(?:\\.[^'\\\n]*)*'|"
    r'"[^"\\\n]*(?:\\.[^"\\\n]*)*")|#[^\n]*',
    re.S,
)


def parse_cost(text: str) -> int:
    """About how many tokens ``text`` holds, counted in C (a few passes over its bytes):
    each run of name or number characters, and each operator, bracket or quote
    character. Syntax-tree nodes come from tokens, whatever joins them (``.``, ``-``,
    ``not``, line breaks), so this bounds the tree and what is drawn from it. Past
    ``MAX_PARSE_COST``, counted again with each string literal and comment as one token
    (a module that embeds a font or a base64 payload is one node of text), but not an
    f- or t-string, whose braces hold code."""
    cost = _tokens(text)
    if cost > MAX_PARSE_COST:
        cost = _tokens(_LITERAL_OR_COMMENT.sub(_one_token, text))
    return cost


def _one_token(match: re.Match[str]) -> str:
    prefix = match.group(1)
    return match.group(0) if prefix and prefix.strip("rRbBuU") else "''"


def _tokens(text: str) -> int:
    kinds = text.encode("utf-8", "surrogatepass").translate(_TOKEN_KINDS)
    names = kinds.count(b" a") + kinds.count(b".a") + kinds.startswith(b"a")
    return names + kinds.count(b".")


def read_source(text: str, *, nested: int = 2, links: bool = False) -> Facts:
    """The facts of ``text``; never raises for bad input (falls back as described above).
    A file that would cost more than ``MAX_PARSE_COST`` to analyse is not read: its facts
    say ``too_large`` (the engine holds such a file when it runs early).

    ``links``: also note what the file's functions and values hand the project's other
    modules and where their data reaches this file (``Export``, ``Link``; ``linking``
    joins them), which costs a flow check of most files that define functions.

    Python source hidden in a string literal (a payload written to a file and run, a
    ``python -c`` argument, a literal decoded statically) is read too, ``nested`` levels
    deep, and its facts are merged in at the line of the literal.
    """
    if parse_cost(text) > MAX_PARSE_COST:
        return Facts(parsed=False, too_large=True, max_line=text.count("\n") + 1)
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        recovered = parse_recovered(text)
        if recovered is None:
            return _lexical(text)
        tree, left_out = recovered
    else:
        left_out = ""
    if may_spell_imports(text):
        respell_imports(tree)
    if may_run_literals(text):
        if runs_built_text(tree):
            propagate_constants(tree)  # (`exec(T[0])`, `exec("".join([...]))`: to inline)
        inline_literal_exec(tree)
    try:
        facts = _Collector(links).collect(tree, text)
    except RecursionError:
        return _lexical(text)
    if left_out:
        _merge_lexical(facts, _lexical(left_out))
    if nested > 0:
        _merge_nested(facts, nested)
    return facts


_IMPORT_LINE = re.compile(
    rb"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(?:\(([\w, \t*\r\n]+)|([\w, \t*]+))|"
    rb"import[ \t]+([\w., \t]+))",
    re.M,
)


def decode_source(data: bytes) -> str:
    """Python source bytes as Python reads them: in the encoding its first two lines declare
    (PEP 263), else UTF-8. A file declaring ``utf-7`` or ``unicode_escape`` reads to a UTF-8
    reader as noise and to Python as code."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding, "replace")
    except (SyntaxError, LookupError, UnicodeError, ValueError):
        return data.decode("utf-8", "replace")


#: Source encodings nobody writes code in but to keep it from readers and scanners: UTF-7,
#: escape codecs, EBCDIC code pages.
DISGUISES = re.compile(
    rb"^[ \t\f]*#.*?coding[:=][ \t]*[-_.a-zA-Z0-9]*?"
    rb"(utf[-_]?7|(?:raw[-_])?unicode[-_]escape|idna|cp0?37|cp500|cp1140|cp273|cp424|cp875|"
    rb"cp1026|cp1047|ebcdic)\b",
    re.I | re.M,
)


def disguise(data: bytes) -> str:
    """The disguising encoding the source's first two lines declare (``DISGUISES``), or ""."""
    first = data.find(b"\n")
    second = data.find(b"\n", first + 1) if first >= 0 else -1
    head = data if second < 0 else data[:second]  # (not a copy of the whole file)
    found = DISGUISES.search(head)
    return found.group(1).decode("ascii").lower() if found else ""


#: Functions Python itself calls when a module is used (PEP 562), not code of the module.
_CALLED_BY_PYTHON = frozenset({"__getattr__", "__dir__"})


def local_imports(data: bytes) -> set[str]:
    """What ``Facts.local_imports`` would hold, read from the import lines alone (a module
    not worth parsing, whose imports are still followed)."""
    found: set[str] = set()
    for match in _IMPORT_LINE.finditer(data):
        module, grouped, names, plain = (g.decode("latin-1") if g else "" for g in match.groups())
        names = grouped or names
        if plain:
            found.update(n.split(" as ")[0].strip() for n in plain.split(",") if n.strip())
            continue
        found.add(module)
        joiner = "." if module and not module.endswith(".") else ""
        for name in names.split(","):
            name = name.strip().split(" ")[0]
            if name and name != "*":
                found.add(module + joiner + name)
    return found


_BASE64_LITERAL = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}|[A-Za-z0-9_-]{16,}={0,2}")
_HEX_LITERAL = re.compile(r"(?:[0-9a-fA-F]{2}){10,}")


def _decode_literal(text: str) -> str | None:
    """What a base64 or hex literal says, when it decodes to readable text (a command, a
    URL, code hidden from a reader); ``None`` for anything else."""
    if len(text) > _MAX_DECODE:
        return None
    try:
        if _HEX_LITERAL.fullmatch(text):
            raw = binascii.unhexlify(text)
        elif len(text) % 4 == 0 and _BASE64_LITERAL.fullmatch(text):
            raw = base64.b64decode(text.replace("-", "+").replace("_", "/"))
        else:
            return None
    except (binascii.Error, ValueError):
        return None
    if len(raw) < 8:
        return None
    printable = sum(1 for b in raw[:4096] if 32 <= b < 127 or b in (9, 10, 13))
    if printable < 0.95 * min(len(raw), 4096):
        return None
    return raw.decode("latin-1")


_CODE_HINT = re.compile(r"(?:^|[;\n])\s*(?:import |from \S+ import |exec\(|eval\()")
#: Only hidden code that does something worth hiding is read (each read costs a parse).
_DANGER_HINT = re.compile(
    r"exec|eval|socket|subprocess|urlopen|requests|system|b64decode|dup2|Popen|decrypt|marshal"
)
_MAX_NESTED = 128 * 1024


def _merge_nested(facts: Facts, nested: int) -> None:
    budget = _MAX_NESTED
    for text, line in [*facts.code_literals, *facts.decoded, *_written_piecewise(facts)]:
        if (
            len(text) < 24
            or len(text) > budget
            or not _CODE_HINT.search(text)
            or not _DANGER_HINT.search(text)
        ):
            continue
        try:
            ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        budget -= len(text)
        inner = read_source(text, nested=nested - 1)
        for call in inner.calls:
            facts.calls.append(Call(call.name, line, call.args, False))
        facts.sinks += [ExecSink(s.sink, s.feed, line) for s in inner.sinks]
        facts.strings += [(value, line) for value, _ in inner.strings]
        facts.decoded += [(value, line) for value, _ in inner.decoded]
        facts.refs |= inner.refs
        facts.drops += [Drop(line, d.kinds, d.runner) for d in inner.drops]
        facts.builtins_getattr += inner.builtins_getattr
        facts.char_codes += inner.char_codes
        facts.exec_aliases += inner.exec_aliases


def _written_piecewise(facts: Facts) -> list[tuple[str, int]]:
    """A program written into a file a line at a time (``f.write("import os\\n")`` ...):
    the literals of the file's ``write`` calls joined, to be read like one literal."""
    writes = [c for c in facts.calls if c.name.endswith(".write") and len(c.args) == 1]
    if len(writes) < 3:
        return []
    return [("".join(c.args[0] for c in writes)[:_MAX_NESTED], writes[0].line)]


# -- ast -----------------------------------------------------------------------------------


class _Collector:
    """One walk over the tree; the costlier data-flow tracking only where a sink exists.

    Data flow is followed by name within each function (a name a function does not assign
    is the module's), and through the return values of the file's functions, backwards
    from the sinks' arguments: cheap, and enough for code that hides from scanners, not
    from readers.
    """

    def __init__(self, links: bool = False) -> None:
        self.facts = Facts()
        self._links = links
        self.alias: dict[str, str] = {}
        self._absolute: set[str] = set()  # names bound by absolute imports (other packages)
        self._methods: dict[str, tuple[str, ...]] = {}
        self.tainted: dict[tuple[int, str], frozenset[str]] = {}  # (scope, name) -> kinds
        self.literals: dict[tuple[int, str], str] = {}  # names bound to a str/bytes literal
        self.assigned: set[tuple[int, str]] = set()
        self.functions: dict[str, ast.AST] = {}
        self._assigns: list[tuple[list[str], ast.AST, int]] = []  # (targets, value, scope)
        # Ids of the values of `_assigns` that go into a container (`loot[k] = v`,
        # `loot.append(v)`): a container carries the secrets put in it, not code (a table
        # of module names decoded for a lookup is no payload run).
        self._fills: set[int] = set()
        self._call_nodes: list[ast.Call] = []
        self._sends: list[tuple[str, ast.Call, int]] = []
        self._name_calls: list[tuple[str, ast.Call, int]] = []  # `f(...)`: perhaps a wrapper
        # Names `from x import y` binds -> the import's reference (`.send.ship`), and the
        # calls of them: perhaps functions of the project's other modules (``Link``).
        self._local_names: dict[str, str] = {}
        self._foreign: list[tuple[str, ast.Call, int]] = []
        self._connected: dict[str, ast.AST] = {}  # socket name -> host of its `.connect((h, p))`
        self._writes: list[tuple[ast.AST, list[ast.AST], int, int]] = []  # path, data, line, scope
        self._runs: list[tuple[str, ast.Call, int]] = []
        # A file object's name -> the paths it was opened on (a name reused for several).
        self._handles: dict[tuple[int, str], list[ast.AST]] = {}
        self._sources = False  # host facts, the environment, credentials: worth a flow check
        self._persist = False
        self._programs = False  # a Windows program's file name: a download may be saved as one
        self._sockets = False
        self._remote: dict[str, frozenset[str]] = {}
        self._clients: set[str] = set()
        self._client_calls: list[tuple[str, ast.Call, int]] = []  # `s.post(...)`, `c.request(...)`
        self._folds: dict[int, str | None] = {}
        self._parts: set[int] = set()  # expressions read as part of a string folded whole
        self._decode_budget = _MAX_DECODE
        self._function_names: dict[int, str] = {}
        self._digests = False
        self._discarded: set[int] = set()  # calls that are statements of their own
        # Names bound to a path or command built from literals (``os.path.join(here,
        # "post.sh")``): the literals, for what a process call runs.
        self._built: dict[tuple[int, str], ast.AST] = {}
        # Lexical scopes: a function's enclosing function (0: the module), and the names a
        # function declares `global` (bound in the module's scope wherever assigned).
        self._enclosing: dict[int, int] = {}
        self._globals: set[tuple[int, str]] = set()

    def collect(self, tree: ast.Module, text: str) -> Facts:
        facts = self.facts
        source = text  # (`text` is reused for each literal below)
        facts.max_line = text.count("\n") + 1
        if "coding" in text[:400]:
            facts.disguise = disguise(text[:400].encode("utf-8", "replace"))
        if "\\" in text:
            facts.escapes = len(_ESCAPE.findall(text))
            if facts.escapes >= ESCAPE_SOUP:
                facts.escapes = _cooked_escapes(text)
            if "__import__" in text:
                # `__import__('\x7a\x6c\x69\x62')`: a module named out of a reader's sight,
                # to load what runs the hidden code (the decompressor, the builtins).
                facts.exec_aliases += len(_ESCAPED_IMPORT.findall(text))
        if not text.isascii() and _MATH_LETTER.search(text):
            # Python folds these letters to ASCII (NFKC), so the names below read normally;
            # only the text shows code spelled to slip past a reader or a scanner.
            facts.lookalike_names = len(_MATH_NAME.findall(text))
        walk = ScopedWalk(tree)
        walk.propagate()  # literals where they are used (`constants`)
        nodes, scopes = walk.nodes, walk.scopes
        # A class's __init__ runs when the class is called: it is named for the class, so
        # code elsewhere that makes one (`from .agent import Agent; Agent()`) reaches it.
        constructors = {
            id(item): node.name
            for node in tree.body
            if type(node) is ast.ClassDef
            for item in node.body
            if type(item) is ast.FunctionDef and item.name == "__init__"
        }
        rebinds = []
        imported: list[ast.Assign] = []
        eager: set[str] = set()
        lazy: set[str] = set()
        in_functions: list[tuple[ast.AST, int, set[str]]] = []
        for node, scope in zip(nodes, scopes, strict=True):
            kind = type(node)
            if kind is ast.Import or kind is ast.ImportFrom:
                # What this import adds, noted as eager (module level) or lazy (in a
                # function: it runs when the function is called, not on import).
                known, facts.local_imports = facts.local_imports, set()
                self._import(node)  # type: ignore[arg-type]
                (lazy if scope else eager).update(facts.local_imports)
                if scope and facts.local_imports:
                    in_functions.append((node, scope, facts.local_imports))
                known.update(facts.local_imports)
                facts.local_imports = known
            elif kind is ast.Assign and (
                (
                    type(node.value) in (ast.Name, ast.Attribute)  # type: ignore[attr-defined]
                    and all(type(t) is ast.Name for t in node.targets)  # type: ignore[attr-defined]
                )
                or (
                    type(node.value) is ast.Tuple  # type: ignore[attr-defined]
                    and len(node.targets) == 1  # type: ignore[attr-defined]
                    and type(node.targets[0]) is ast.Tuple  # type: ignore[attr-defined]
                )
                or (
                    # `cc = getattr(builtins, "ev" + "al")`, `__builtins__.getattr(...)`: a
                    # builtin fetched by name; `_ = eval("\145\166\141\154")`: by its name.
                    type(node.value) is ast.Call  # type: ignore[attr-defined]
                    and _fetches_by_name(node.value.func)  # type: ignore[attr-defined]
                    and all(type(t) is ast.Name for t in node.targets)  # type: ignore[attr-defined]
                )
            ):
                rebinds.append(node)
            elif (
                kind is ast.Assign
                and type(node.value) is ast.Call  # type: ignore[attr-defined]
                and len(node.targets) == 1  # type: ignore[attr-defined]
                and type(node.targets[0]) is ast.Name  # type: ignore[attr-defined]
            ):
                imported.append(node)
            elif kind is ast.Global:
                self._globals.update((scope, name) for name in node.names)  # type: ignore[attr-defined]
            elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
                self._enclosing[id(node)] = scope
                self.functions.setdefault(node.name, node)  # type: ignore[attr-defined]
                self._function_names[id(node)] = constructors.get(id(node), node.name)  # type: ignore[attr-defined]
                arguments = node.args  # type: ignore[attr-defined]
                for arg in (
                    *arguments.posonlyargs,
                    *arguments.args,
                    *arguments.kwonlyargs,
                    arguments.vararg,
                    arguments.kwarg,
                ):
                    if arg is not None:
                        self.assigned.add((id(node), arg.arg))
        for node in imported:
            # `req = __import__("urllib.request")`: an import by another spelling.
            module = _imported_by_call(node.value, self)  # type: ignore[arg-type]
            if module is not None:
                self.alias[node.targets[0].id] = module  # type: ignore[attr-defined]
                facts.imports.setdefault(module, node.lineno)
        facts.lazy_imports = lazy - eager
        modules = {name.split(".", 1)[0] for name in (*facts.imports, *self.alias.values())}
        self._sockets = not modules.isdisjoint(_SOCKET_MODULES)
        if not modules.isdisjoint(_WALLET_MODULES):
            facts.wallet_key_published = _wallet_key_in_transaction(nodes)
        # What a chat bot is told, or a request a local server is sent: data from the network.
        self._remote = _REMOTE_ATTRIBUTES if not modules.isdisjoint(_REMOTE_MODULES) else {}
        # The environment reached by another name (`from os import environ`, `getattr(os,
        # "environ")`, `self.env = os.environ`) is worth a flow check as much as `os.environ`.
        self._sources = "environ" in text
        for node in rebinds:
            # `run = exec; run(payload)`, `a, b = exec, str`: the new name is the builtin it
            # is bound to (also `g = globals`, `j = "".join`: the pieces obfuscators rename).
            for name, value in _rebound(node):  # type: ignore[arg-type]
                target = self.qual(value)
                if (
                    type(value) is ast.Attribute
                    and value.attr == "join"
                    and type(value.value) is ast.Constant
                ):
                    target = "str.join"
                if target in EXEC_SINKS or target in PROCESS_SINKS or target in _RENAMED:
                    self.alias[name] = target
                    if target in _HIDES_CODE:
                        facts.exec_aliases += 1
        for node in tree.body:
            if not _is_inert(node):
                facts.statements += 1
        pending: list[tuple[str, ast.Call, int]] = []
        self._discarded = {
            id(n.value.value if type(n.value) is ast.Await else n.value)  # type: ignore[attr-defined]
            for n in nodes
            if type(n) is ast.Expr
        }
        # Docstrings are prose, a regular expression's pattern matches text: neither acts.
        unread = _docstrings(nodes) | (_patterns(nodes) if "re" in self._absolute else set())
        # A literal copied where a name or a table entry stands for it is read where it is
        # written; read again at each use, a module's constants would cost once per use.
        unread |= walk.copies
        development = self._development_only(nodes) if "argv" in text else set()
        strings, code_literals, names = facts.strings, facts.code_literals, facts.names
        path_parts: set[int] = set()  # `a / "b"` inside a longer `a / "b" / "c"`, read whole
        for node, scope in zip(nodes, scopes, strict=True):
            kind = type(node)
            if kind is ast.Name:
                if node.id not in names:  # type: ignore[attr-defined]
                    names[node.id] = node.lineno  # type: ignore[attr-defined]
            elif kind is ast.Constant:
                value = node.value  # type: ignore[attr-defined]
                if type(value) in (str, bytes) and id(node) not in unread:
                    # A path or URL a docstring mentions is documentation, one a pattern
                    # names is what a scanner or a parser looks for.
                    text = value if type(value) is str else value.decode("latin-1")
                    if len(text) > _MAX_LITERAL:
                        # A megabyte blob is judged by its ends (an embedded program, an
                        # opaque payload); indicators need not search all of it.
                        executable = embedded_executable(text)
                        if executable:
                            facts.embedded.append((executable, node.lineno))  # type: ignore[attr-defined]
                        text = text[: _MAX_LITERAL // 2] + "\n" + text[-_MAX_LITERAL // 4 :]
                    strings.append((text, node.lineno))  # type: ignore[attr-defined]
                    if len(text) >= 24:
                        code_literals.append((text, node.lineno))  # type: ignore[attr-defined]
                        if len(text) >= 64:
                            executable = embedded_executable(text)
                            if executable:
                                facts.embedded.append((executable, node.lineno))  # type: ignore[attr-defined]
                    if not self._sources and _CREDENTIAL_HINT.search(text[:512]):
                        self._sources = True
                    if len(text) >= 20 and self._decode_budget > 0:
                        hidden = _decode_literal(text)
                        if hidden is not None:
                            self._decode_budget -= len(text)
                            facts.decoded.append((hidden, node.lineno))  # type: ignore[attr-defined]
            elif kind is ast.Call:
                if development and id(node) in development:
                    continue
                name = self._call(node, scope)  # type: ignore[arg-type]
                if (
                    name in EXEC_SINKS
                    or name in PROCESS_SINKS
                    or (
                        name in ("__import__", "importlib.import_module")
                        and node.args  # type: ignore[attr-defined]
                        and type(node.args[0]) is not ast.Constant  # type: ignore[attr-defined]
                    )
                ):
                    pending.append((name, node, scope))  # type: ignore[arg-type]
                else:
                    handed = self._handed_to_exec(name, node, scope)  # type: ignore[arg-type]
                    if handed is not None:
                        pending.append(handed)
                self._classify(name, node, scope)  # type: ignore[arg-type]
                if id(node) not in self._parts and _spelled_call(node):  # type: ignore[arg-type]
                    self._folded(node, scope, node.lineno)  # type: ignore[attr-defined]
                if self._local_names:
                    ref = self._foreign_ref(node.func)  # type: ignore[attr-defined]
                    if ref is not None:
                        self._foreign.append((ref, node, scope))  # type: ignore[arg-type]
            elif kind is ast.Attribute:
                if node.attr in _HOST_ATTRS:  # type: ignore[attr-defined]
                    name = self.qual(node)
                    if name and not name.startswith("."):
                        facts.refs.add(name)
                elif node.attr == "environ":  # type: ignore[attr-defined]
                    self._sources = True
            elif kind in _DEFINITIONS:
                facts.definitions += 1
                names.setdefault(node.name, node.lineno)  # type: ignore[attr-defined]
            elif kind in _ASSIGNMENTS:
                targets, value = _assignment(node)  # type: ignore[arg-type]
                self._assigns.append((targets, value, scope))
                if kind is ast.Assign:
                    # `loot[path] = open(path).read()`: what goes into a container is in
                    # it when it is sent (`json=loot`).
                    held = _containers(node.targets)  # type: ignore[attr-defined]
                    if held:
                        self._assigns.append((held, value, scope))
                        self._fills.add(id(value))
                for target in targets:
                    self.assigned.add((self._binding(scope, target), target))
                if (
                    (kind is ast.Assign or kind is ast.AnnAssign)
                    and type(value) is ast.Constant
                    and type(value.value) in (str, bytes)
                ):  # type: ignore[attr-defined]
                    literal = value.value  # type: ignore[attr-defined]
                    text = literal if type(literal) is str else literal.decode("latin-1")
                    for target in targets:
                        self.literals.setdefault((self._binding(scope, target), target), text)
                elif type(value) is ast.Call and self._opens_for_writing(value):  # type: ignore[arg-type]
                    for target in targets:
                        self._note_handle(value, target, scope)  # type: ignore[arg-type]
                elif (
                    type(value) in (ast.Call, ast.BinOp, ast.JoinedStr)
                    or (kind in (ast.For, ast.AsyncFor) and type(value) in _COLLECTIONS)
                ) and len(targets) == 1:
                    # (`for path in ("~/.pypirc", "~/.npmrc")`: each of its literals in turn.)
                    bound = (self._binding(scope, targets[0]), targets[0])
                    self._built[bound] = value
                    folded = self._folded(value, scope, getattr(value, "lineno", 0))
                    if folded is not None:
                        self.literals.setdefault(bound, folded)
            elif kind is ast.BinOp and id(node) not in self._parts and _spelled_in_codes(node):  # type: ignore[arg-type]
                # Text spelled as character codes (`chr(101) + chr(120) + ...`) is text its
                # author hid from readers: read what it says like any literal.
                folded = self._folded(node, scope, node.lineno)  # type: ignore[attr-defined]
                if folded is not None:
                    facts.decoded.append((folded, node.lineno))  # type: ignore[attr-defined]
                    facts.char_codes += 1
                    if folded in _HIDES_CODE:
                        facts.exec_aliases += 1
            elif (
                (kind is ast.BinOp and _spells_text(node))  # type: ignore[arg-type]
                or (kind is ast.Subscript and reverses(node.slice))  # type: ignore[attr-defined]
            ) and id(node) not in self._parts:
                # A string spelled in pieces or backwards (`"disc" + "ord.com/api/..."`,
                # `"...moc.drocsid"[::-1]`) is read as the literal Python builds of it.
                folded = self._folded(node, scope, node.lineno)  # type: ignore[attr-defined]
                if folded is not None and len(folded) >= 20 and self._decode_budget > 0:
                    hidden = _decode_literal(folded)
                    if hidden is not None:
                        self._decode_budget -= len(folded)
                        facts.decoded.append((hidden, node.lineno))  # type: ignore[attr-defined]
            elif kind is ast.BinOp and type(node.op) is ast.Div and id(node) not in path_parts:  # type: ignore[attr-defined]
                # `Path.home() / ".config" / "systemd" / "user"`: read as the one path it
                # names (its literals alone come out of the tree last piece first).
                joined = _path_pieces(node, path_parts)  # type: ignore[arg-type]
                if joined is not None:
                    strings.append((joined, node.lineno))  # type: ignore[attr-defined]
            elif kind is ast.With or kind is ast.AsyncWith:
                for item in node.items:  # type: ignore[attr-defined]
                    call = item.context_expr
                    if type(item.optional_vars) is not ast.Name:
                        continue
                    self.assigned.add(
                        (self._binding(scope, item.optional_vars.id), item.optional_vars.id)
                    )
                    self._assigns.append(([item.optional_vars.id], call, scope))
                    if type(call) is ast.Call and self._opens_for_writing(call):
                        self._note_handle(call, item.optional_vars.id, scope)
        if self._sends and not self._sources and _SECRET_HINT.search(source):
            self._sources = True  # a signing secret, sent: worth a flow check
        if self._writes:
            # A place the system runs files from (a startup folder, a shell rc file, cron),
            # or a program's name: what is written there is worth a flow check even if
            # nothing runs it now.
            self._persist = bool(_PERSIST_HINT.search(source))
            self._programs = bool(_PROGRAM_NAME.search(source) or _CODE_NAME.search(source))
        if self._digests:
            digests = {
                target
                for targets, value, _ in self._assigns
                if _has_digest(value, self)
                for target in targets
            }
            facts.verifies_digest = any(
                type(node) is ast.Compare and _compares_digest(node, self, digests)
                for node in nodes
            )
        # Names bound to an HTTP client (`s = requests.Session()`, `with httpx.Client() as
        # c`): what their `get`, `post` or `request` return comes from the network.
        self._clients = {
            target
            for targets, value, _ in self._assigns
            if type(value) is ast.Call and self.qual(value.func) in _CLIENT_TYPES  # type: ignore[attr-defined]
            for target in targets
        }
        self._sends += [c for c in self._client_calls if c[0].rpartition(".")[0] in self._clients]
        if self._foreign:
            self._sources = True  # what another module hands over may be worth a flow check
        # Functions of the file whose parameters reach a sink (``def run(code): exec(code)``)
        # and the calls of them; what the file exports to its project's other modules.
        runners = self._exec_wrappers(pending)
        facts.process_runners = {f for f, sink in runners.items() if sink in PROCESS_SINKS}
        wrapped = [c for c in self._name_calls[:_MAX_FLOWS] if c[0] in runners]
        # (Module-level functions alone: another module imports those, not methods.)
        # (and the methods of module-level classes, by their own names: `Grabber().collect()`)
        exported = [
            item.name
            for node in tree.body
            for item in (node.body if type(node) is ast.ClassDef else (node,))
            if type(item) in (ast.FunctionDef, ast.AsyncFunctionDef)
            and self.functions.get(item.name) is item
        ]
        exporting = (
            self._links
            and bool(exported or self._assigns)
            and bool(
                pending
                or self._sends
                or self._sources
                or any(
                    _matches(c.name, DECODERS) or _matches(c.name, NETWORK_READS)
                    for c in facts.calls
                )
                or _CREDENTIAL_HINT.search(source)
            )
        )
        if (
            pending
            or (self._sends and self._sources)
            or (self._writes and (self._runs or self._persist or self._programs))
            or exporting
        ):
            self._taint(
                [*pending, *wrapped, *self._foreign[:_MAX_FLOWS]],
                functions=exported if exporting else (),
            )
        for called, node, scope in wrapped:
            feed = self._feed(runners[called], node, scope)
            if feed in ("network", "decoded", "payload"):
                facts.sinks.append(ExecSink(f"{called} ({runners[called]})", feed, node.lineno))
        for name, node, scope in pending:
            commanded: set[str] = set()
            kinds: set[str] = set()
            for arg in node.args if name in PROCESS_SINKS else node.args[:1]:
                kinds |= self._kinds(arg, scope)
            if name in PROCESS_SINKS:
                # A process fed decoded *runtime* data is everyday code; one fed a payload
                # written into the file (decoded from a literal), or data from the
                # network (a remote command), is not. Network data counts as the command
                # (a command line, the program, code after `-c`), not as an argument (a
                # URL `git clone` is given).
                for part in _command_parts(node):
                    commanded |= self._kinds(part, scope)
                feed = (
                    "network"
                    if "network" in commanded
                    else "decoded"
                    if "payload" in kinds
                    else "other"
                )
            elif name in _RUNS_HANDED:
                # Serializers rebuild functions from code they were handed at run time; a
                # code object or a pickle decoded from the file's own literal, or
                # downloaded, is a payload.
                feed = (
                    "network"
                    if "network" in kinds
                    else "decoded"
                    if "payload" in kinds
                    else "other"
                )
            else:
                feed = _priority(kinds) or (
                    "literal" if node.args and type(node.args[0]) is ast.Constant else "other"
                )
            facts.sinks.append(ExecSink(name, feed, node.lineno))
            if name in PROCESS_SINKS:
                # What another module hands over counts as the command alone, as above.
                if foreign_kinds(commanded):
                    facts.links.append(Link("process", name, node.lineno, frozenset(commanded)))
            elif foreign_kinds(kinds):
                facts.links.append(Link("exec", name, node.lineno, frozenset(kinds)))
        top = runs_on_load(tree, hooks=self._install_hooks(tree))
        for call, node in zip(facts.calls, self._call_nodes, strict=True):
            call.top = id(node) in top
        if in_functions:
            facts.on_call_imports = self._on_call_imports(in_functions, top, eager)
        if self._sends and self._sources:
            for name, node, scope in self._sends[:_MAX_FLOWS]:
                kinds = set()
                for arg in (*node.args, *(k.value for k in node.keywords)):
                    kinds |= self._kinds(arg, scope)
                if kinds & _SIGN_INS:
                    # A key or a stored secret in the headers or auth of a request is how a
                    # client signs in to its own service; one in the body is sent away.
                    sent: set[str] = set()
                    for arg in (
                        *node.args,
                        *(k.value for k in node.keywords if k.arg not in _AUTH_KEYWORDS),
                    ):
                        sent |= self._kinds(arg, scope) & _SIGN_INS
                    kinds -= _SIGN_INS - sent
                if kinds & _SENSITIVE or foreign_kinds(kinds):
                    url = self._connected.get(_receiver(node)) or _url_of(node)
                    # A key named in the code goes in a body to a literal address; one read
                    # from the environment (AWS_SECRET_ACCESS_KEY) anywhere after a literal
                    # host (a path or a query the code builds).
                    fixed = url is not None and self._constant(url, scope)
                    host = url is not None and (fixed or _fixed_address(url))
                    fixed = fixed or ("envkey" in kinds and host)
                    if name in DNS_LOOKUPS and url is not None and _under_domain(url):
                        # `hexlify(user) + ".x.example.com"`: data spelled into a name
                        # looked up under a domain the code carries (a DNS tunnel).
                        fixed = host = True
                    if "envkey" in kinds:
                        kinds.add("key")
                    if foreign_kinds(kinds):
                        line, top_level = node.lineno, id(node) in top
                        link = Link("send", name, line, frozenset(kinds), top_level, fixed, host)
                        facts.links.append(link)
                    if kinds & _SENSITIVE:
                        kinds = own_kinds(kinds)
                        facts.sends.append(
                            Send(name, kinds, node.lineno, id(node) in top, fixed, host)
                        )
            if self._name_calls:
                facts.sends.extend(self._wrapped_sends(top))
        if self._writes and (self._runs or self._persist or self._programs):
            self._drops()
        if exporting:
            self._export(exported, runners)
        for ref, node, scope in self._foreign[:_MAX_FLOWS]:
            kinds = set()
            for arg in (*node.args, *(k.value for k in node.keywords)):
                kinds |= self._kinds(arg, scope)
            if kinds:
                literal = frozenset(
                    [str(i) for i, a in enumerate(node.args) if self._constant(a, scope)]
                    + [k.arg for k in node.keywords if k.arg and self._constant(k.value, scope)]
                )
                line, top_level = node.lineno, id(node) in top
                link = Link("call", ref, line, frozenset(kinds), top_level, literal=literal)
                facts.links.append(link)
        if self._absolute:
            # What each class's methods are called in `Call.within` (its __init__: the class).
            self._methods = {
                node.name: tuple(
                    constructors.get(id(item), item.name)
                    for item in node.body
                    if type(item) in (ast.FunctionDef, ast.AsyncFunctionDef)
                )
                for node in tree.body
                if type(node) is ast.ClassDef
            }
            facts.patches = [p for node in nodes if (p := self._patch(node)) is not None]
        return facts

    def _wrapped_sends(self, top: set[int]) -> Iterator[Send]:
        """Calls of the file's own functions that send what they are handed (``def
        send(data): requests.post(URL, json=data)``, then ``send(dict(os.environ))``): a
        send at the call, of what the call hands the parameters the function sends (not in
        headers or auth), to the function's address or to the one the call hands it."""
        wrappers = self._send_wrappers()
        for called, node, scope in self._name_calls[:_MAX_FLOWS]:
            wrapper = wrappers.get(called)
            if wrapper is None:
                continue
            handed = dict(zip(wrapper.params, node.args, strict=False))
            handed.update((k.arg, k.value) for k in node.keywords if k.arg)
            kinds: set[str] = set()
            for param in wrapper.sent & handed.keys():
                kinds |= self._kinds(handed[param], scope)
            fixed, host = wrapper.fixed, wrapper.host
            url = handed.get(wrapper.url_param) if wrapper.url_param else None
            if url is not None:
                fixed = self._constant(url, scope)
                host = fixed or _fixed_address(url)
            if "envkey" in kinds:
                kinds.add("key")
            line, top_level = node.lineno, id(node) in top
            if foreign_kinds(kinds):
                link = Link("send", wrapper.send, line, frozenset(kinds), top_level, fixed, host)
                self.facts.links.append(link)
            if kinds & _SENSITIVE:
                yield Send(wrapper.send, own_kinds(kinds), line, top_level, fixed, host)

    def _send_wrappers(self) -> dict[str, _Wrapper]:
        """The file's functions that send (some of) their parameters, by name."""
        scopes = {id(node): node for node in self.functions.values()}
        wrappers: dict[str, _Wrapper] = {}
        for name, node, scope in self._sends[:_MAX_FLOWS]:
            function = scopes.get(scope)
            if function is None or function.name in wrappers:  # type: ignore[attr-defined]
                continue
            arguments = function.args  # type: ignore[attr-defined]
            params = [a.arg for a in (*arguments.posonlyargs, *arguments.args)]
            named = set(params) | {a.arg for a in arguments.kwonlyargs}
            url = _url_of(node)
            url_param = url.id if type(url) is ast.Name and url.id in named else None  # type: ignore[attr-defined]
            sent = {
                sub.id  # type: ignore[attr-defined]
                for value in (
                    *node.args,
                    *(k.value for k in node.keywords if k.arg not in _AUTH_KEYWORDS),
                )
                if value is not url
                for sub in ast.walk(value)
                if type(sub) is ast.Name and sub.id in named  # type: ignore[attr-defined]
            }
            if not sent:
                continue
            fixed = url is not None and url_param is None and self._constant(url, scope)
            host = fixed or (url is not None and url_param is None and _fixed_address(url))
            wrappers[function.name] = _Wrapper(name, params, sent, url_param, fixed, host)  # type: ignore[attr-defined]
        return wrappers

    def _handed_to_exec(
        self, name: str, call: ast.Call, scope: int
    ) -> tuple[str, ast.Call, int] | None:
        """A sink reached without calling it by name, as ``(sink, a call of it with the
        data it is handed, scope)``: ``exec`` handed to ``map``, a lambda that runs its
        parameter called on the spot (``(lambda c: exec(c))(data)``), a function made
        from a code object (``types.FunctionType(marshal.loads(...), globals())``)."""
        if name in _APPLIERS and len(call.args) >= 2:
            sink = self.qual(call.args[0])
            if sink in EXEC_SINKS:
                return sink, ast.Call(call.args[0], call.args[1:2], [], lineno=call.lineno), scope
        elif _scheduler(name):
            # `threading.Timer(5, exec, args=(code,))`, `asyncio.to_thread(exec, code)`,
            # `loop.run_in_executor(None, exec, code)`: the sink runs on what follows it.
            handed = [*call.args, *(k.value for k in call.keywords if k.arg == "target")]
            for index, arg in enumerate(handed):
                sink = self.qual(arg)
                if sink not in EXEC_SINKS:
                    continue
                data = list(call.args[index + 1 : index + 2])
                data += [k.value for k in call.keywords if k.arg == "args"]
                if data:
                    given = data[0]
                    if type(given) in (ast.Tuple, ast.List) and given.elts:  # type: ignore[attr-defined]
                        given = given.elts[0]  # type: ignore[attr-defined]
                    return sink, ast.Call(arg, [given], [], lineno=call.lineno), scope
        elif name in _RUNS_HANDED and call.args and not _weights_only(name, call):
            return name, call, scope
        elif type(call.func) is ast.Lambda and call.args:
            lam = call.func
            params = {a.arg for a in lam.args.args}
            body = lam.body
            if (
                type(body) is ast.Call
                and self.qual(body.func) in EXEC_SINKS
                and body.args
                and type(body.args[0]) is ast.Name
                and body.args[0].id in params
            ):
                sink = self.qual(body.func)
                return sink, ast.Call(body.func, call.args[:1], [], lineno=call.lineno), scope
        return None

    def _exec_wrappers(self, sinks: list[tuple[str, ast.Call, int]]) -> dict[str, str]:
        """The file's functions whose parameters reach an ``exec``-like or process sink
        (``def run(code): exec(code)``): function name -> the sink. Not a loader's
        (``def load(blob): return pickle.loads(blob)`` is every cache's code)."""
        scopes = {id(node): node for node in self.functions.values()}
        found: dict[str, str] = {}
        for name, node, scope in sinks[:_MAX_FLOWS]:
            if name in _CODE_LOADERS:
                continue
            function = scopes.get(scope)
            if function is None or function.name in found:  # type: ignore[attr-defined]
                continue
            arguments = function.args  # type: ignore[attr-defined]
            params = {a.arg for a in (*arguments.posonlyargs, *arguments.args)}
            fed = node.args if name in PROCESS_SINKS else node.args[:1]
            if any(type(sub) is ast.Name and sub.id in params for a in fed for sub in ast.walk(a)):  # type: ignore[attr-defined]
                found[function.name] = name  # type: ignore[attr-defined]
        return found

    def _feed(self, sink: str, call: ast.Call, scope: int) -> str | None:
        """What a call of a function that hands its arguments to ``sink`` feeds it."""
        kinds: set[str] = set()
        for arg in (*call.args, *(k.value for k in call.keywords)):
            kinds |= self._kinds(arg, scope)
        return sink_feed(sink, kinds)

    def _export(self, exported: list[str], runners: dict[str, str]) -> None:
        """What the file's functions and module-level values hand the project's other
        modules (``Export``, ``Facts.values``)."""
        facts = self.facts
        senders = self._send_wrappers()
        for name in exported:
            returns = self.tainted.get((0, name), frozenset())
            wrapper = senders.get(name)
            if returns or name in runners or wrapper is not None:
                facts.exports[name] = Export(
                    returns,
                    runners.get(name, ""),
                    wrapper.send if wrapper else "",
                    wrapper.fixed if wrapper else False,
                    wrapper.host if wrapper else False,
                    (wrapper.url_param or "") if wrapper else "",
                    tuple(wrapper.params) if wrapper else (),
                )
        for targets, value, scope in self._assigns[:_MAX_ASSIGNS]:
            if scope == 0 and type(value) is ast.Call:
                kinds = self._kinds(value, 0)
                if kinds:
                    for target in targets:
                        facts.values.setdefault(target, kinds)

    def _foreign_ref(self, node: ast.AST) -> str | None:
        """The import reference of what ``node`` names when ``from x import y`` bound it
        (``ship``: ``.send.ship``; ``send.ship`` after ``from . import send``; a method of
        its class, ``Grabber().collect``: ``.grab.Grabber.collect``)."""
        parts = []
        while type(node) is ast.Attribute:
            parts.append(node.attr)  # type: ignore[attr-defined]
            node = node.value  # type: ignore[attr-defined]
            if type(node) is ast.Call and parts:
                node = node.func  # `Grabber().collect`: a method of another module's class
        if type(node) is not ast.Name:
            return None
        ref = self._local_names.get(node.id)  # type: ignore[attr-defined]
        if ref is None or (0, node.id) in self.assigned:  # type: ignore[attr-defined]
            return None
        return ".".join([ref, *reversed(parts)])

    def _patch(self, node: ast.AST) -> tuple[str, tuple[str, ...], int] | None:
        """``(attribute, functions, line)`` when ``node`` replaces an attribute of an
        imported package with a function or class this file defines: ``Account.create =
        create``, ``Keypair.from_bytes = staticmethod(hooked)``, ``setattr(ccxt.mexc, "sign",
        sign)``, ``ccxt.mexc = mexc`` (the class's methods)."""
        if type(node) is ast.Assign and len(node.targets) == 1:  # type: ignore[attr-defined]
            target, value = node.targets[0], node.value  # type: ignore[attr-defined]
            if type(target) is not ast.Attribute:
                return None
            owner, attribute = target.value, target.attr
        elif (
            type(node) is ast.Call
            and type(node.func) is ast.Name  # type: ignore[attr-defined]
            and node.func.id == "setattr"  # type: ignore[attr-defined]
            and len(node.args) == 3  # type: ignore[attr-defined]
            and type(node.args[1]) is ast.Constant  # type: ignore[attr-defined]
            and type(node.args[1].value) is str  # type: ignore[attr-defined]
        ):
            owner, value = node.args[0], node.args[2]  # type: ignore[attr-defined]
            attribute = node.args[1].value  # type: ignore[attr-defined]
        else:
            return None
        while (
            type(value) is ast.Call
            and len(value.args) == 1  # type: ignore[attr-defined]
            and self.qual(value.func) in _WRAPPERS  # type: ignore[attr-defined]
        ):
            value = value.args[0]  # type: ignore[attr-defined]
        if type(value) is not ast.Name:
            return None
        name = value.id  # type: ignore[attr-defined]
        functions = self._methods.get(name) or ((name,) if name in self.functions else ())
        if not functions:
            return None
        root = owner
        while type(root) is ast.Attribute:
            root = root.value  # type: ignore[attr-defined]
        if type(root) is not ast.Name or root.id not in self._absolute:  # type: ignore[attr-defined]
            return None
        return f"{self.qual(owner)}.{attribute}", functions, node.lineno  # type: ignore[attr-defined]

    def _development_only(self, nodes: list[ast.AST]) -> set[int]:
        """Ids of the nodes that run only for a development command of ``setup.py``
        (``if sys.argv[-1] == "publish":``), and of the functions only they call."""
        argv = {
            target
            for node in nodes
            if type(node) is ast.Assign and self._is_argv(node.value)  # type: ignore[attr-defined]
            for target in _assignment(node)[0]
        }
        found: set[int] = set()
        for node in nodes:
            if type(node) is ast.If and _development_test(node.test, self, argv):  # type: ignore[attr-defined]
                for statement in node.body:  # type: ignore[attr-defined]
                    found.update(id(sub) for sub in ast.walk(statement))
        if not found:
            return found
        sites: dict[str, list[int]] = {}
        for node in nodes:
            if type(node) is ast.Call and type(node.func) is ast.Name:  # type: ignore[attr-defined]
                sites.setdefault(node.func.id, []).append(id(node))  # type: ignore[attr-defined]
        for _ in range(2):
            for name, function in self.functions.items():
                calls = sites.get(name)
                if calls and all(c in found for c in calls) and id(function) not in found:
                    found.update(id(sub) for sub in ast.walk(function))
        return found

    def _on_call_imports(
        self, in_functions: list[tuple[ast.AST, int, set[str]]], top: set[int], eager: set[str]
    ) -> dict[str, set[str]]:
        """``Facts.on_call_imports``: of the project's modules imported in functions
        (``in_functions``: the import, the function it is in, what it imports), those no
        import run on load (``top``, ids from ``runs_on_load``) or at module level
        (``eager``) also brings, under the name of each function the import lies in. An
        import in ``__getattr__`` or ``__dir__`` counts as run on load: Python calls those
        itself, at the first use of the module (``pkg.anything``), as a lazy loader's
        ``def __getattr__(name): from . import _impl`` does."""
        reached = set(eager)
        waiting: list[tuple[list[str], set[str]]] = []
        for node, scope, names in in_functions:
            functions = []
            while scope:
                name = self._function_names.get(scope)
                if name:
                    functions.append(name)
                scope = self._enclosing.get(scope, 0)
            if id(node) in top or not _CALLED_BY_PYTHON.isdisjoint(functions):
                reached |= names
            else:
                waiting.append((functions, names))
        found: dict[str, set[str]] = {}
        for functions, names in waiting:
            names = names - reached
            if names:
                for name in functions:
                    found.setdefault(name, set()).update(names)
        return found

    def _install_hooks(self, tree: ast.Module) -> tuple[ast.AST, ...]:
        """The methods of this module's subclasses of setuptools' or distutils' commands
        (``class PostInstall(install)``): the installer runs them."""
        hooks = []
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and any(
                self.qual(base).startswith(("setuptools.", "distutils.")) for base in node.bases
            ):
                hooks += [
                    item
                    for item in node.body
                    if isinstance(item, ast.FunctionDef) and item.name in _HOOK_METHODS
                ]
        return tuple(hooks)

    def _is_argv(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Subscript):
            node = node.value
        return self.qual(node) == "sys.argv"

    # -- what each call is -----------------------------------------------------------------

    def _classify(self, name: str, node: ast.Call, scope: int) -> None:
        """Note the calls data flows are judged at: sends, writes and what runs a file."""
        func = node.func
        if (
            type(func) is ast.Attribute
            and func.attr in _FILLS
            and type(func.value) is ast.Name
            and node.args
        ):
            # `loot.append(open(path).read())`: what goes into a container is in it.
            self._assigns.append(([func.value.id], node.args[-1], scope))  # type: ignore[attr-defined]
            self._fills.add(id(node.args[-1]))
        if (
            name in _HOST_CALLS
            or name in _COMMAND_OUTPUT
            or name in _ENV_READS
            or name == "win32cred.CredEnumerate"  # every stored credential: no sign-in's
            or name.startswith(_COOKIE_READERS)  # every site's cookies
            or name in _SECRET_READS  # a stored secret, a browser key unsealed, the clipboard
            or _reads_vault(name)
        ):
            self._sources = True
        if _is_send(name, self._sockets) or (
            (name in PROCESS_SINKS or name in _COMMAND_OUTPUT)
            and _FETCH_WORD.match(" ".join(self._words(node.args[:1], scope)).lstrip("[ '\""))
        ):
            # A process running `curl URL` sends what its command line carries.
            self._sends.append((name, node, scope))
        elif _client_method(name):
            # `s.post(...)`: a send when `s` turns out to be an HTTP client (`_clients`).
            self._client_calls.append((name, node, scope))
        elif type(node.func) is ast.Name:
            self._name_calls.append((node.func.id, node, scope))
        base = name.rsplit(".", 1)[-1]
        if (
            base == "connect"
            and node.args
            and type(node.args[0]) is ast.Tuple
            and node.args[0].elts
        ):
            receiver = _receiver(node)
            if receiver:
                self._connected.setdefault(receiver, node.args[0].elts[0])
        if base == "write" and isinstance(node.func, ast.Attribute) and node.args:
            receiver = node.func.value
            paths: list[ast.AST] = []
            if isinstance(receiver, ast.Name):
                paths = self._handles.get((scope, receiver.id)) or self._handles.get(
                    (0, receiver.id), []
                )
            elif (
                isinstance(receiver, ast.Call)
                and self._opens_for_writing(receiver)
                and self.qual(receiver.func) not in _TEMPORARY_FILES
            ):
                # (`NamedTemporaryFile().write(...)`: a file nothing can name, to run it.)
                paths = [receiver.args[0]]
            for path in paths[:4]:
                self._writes.append((path, list(node.args[:1]), node.lineno, scope))
        elif base in ("write_bytes", "write_text") and isinstance(node.func, ast.Attribute):
            self._writes.append((node.func.value, list(node.args[:1]), node.lineno, scope))
        elif name in FETCH_TO_PATH and len(node.args) >= 2:
            self._writes.append((node.args[1], [ast.Constant(_NETWORK_MARK)], node.lineno, scope))
        elif name == "shutil.copyfileobj" and len(node.args) >= 2:
            target = node.args[1]
            if isinstance(target, ast.Name):
                for path in self._handles.get((scope, target.id), [])[:4]:
                    self._writes.append((path, [node.args[0]], node.lineno, scope))
        if name in PROCESS_SINKS or name in _RUNNERS or name in EXEC_SINKS:
            self._runs.append((name, node, scope))

    def _note_handle(self, call: ast.Call, handle: str, scope: int) -> None:
        """``handle`` names a file ``call`` opened for writing: remember its path (for a
        temporary file, ``handle.name``, which a run of it names)."""
        if self.qual(call.func) in _TEMPORARY_FILES:
            path: ast.AST = ast.Attribute(ast.Name(handle, ast.Load()), "name", ast.Load())
        else:
            path = call.args[0]
        self._handles.setdefault((scope, handle), []).append(path)

    def _opens_for_writing(self, call: ast.Call) -> bool:
        name = self.qual(call.func)
        if name in _TEMPORARY_FILES:
            return True  # opened for writing unless told otherwise; its path is `handle.name`
        if name not in ("open", "io.open", "codecs.open") or not call.args:
            return False
        mode = call.args[1] if len(call.args) > 1 else None
        for keyword in call.keywords:
            if keyword.arg == "mode":
                mode = keyword.value
        return (
            isinstance(mode, ast.Constant)
            and isinstance(mode.value, str)
            and any(c in mode.value for c in "wax")
        )

    def _drops(self) -> None:
        """Files written with downloaded, decoded or embedded bytes, then run (``Drop``)."""
        facts = self.facts
        for path, data, line, scope in self._writes:
            kinds: set[str] = set()
            for item in data:
                kinds |= self._kinds(item, scope)
            kinds &= _DROPPED
            if not kinds:
                continue
            if self._persist or self._programs:
                words = [
                    word
                    for sub in ast.walk(path)
                    for word in (
                        (sub.value,)
                        if isinstance(sub, ast.Constant) and isinstance(sub.value, str)
                        else self._bound_words(sub.id, scope)
                        if isinstance(sub, ast.Name)
                        else ()
                    )
                ]
                joined = "/".join(words)
                place = indicators.PERSISTENCE.pattern.search(joined) or _PLANTED.search(joined)
                if place is not None:
                    # Written where the system runs it at the next login or shell: run
                    # as surely as by a process call, only later.
                    facts.drops.append(Drop(line, frozenset(kinds), f"left in {place.group(0)}"))
                    return
                if "network" in kinds and words and _PROGRAM_NAME.search(words[-1]):
                    # A download saved as a Windows program: staged to run (judged by the
                    # rules only where it happens as installing or importing runs).
                    facts.drops.append(Drop(line, frozenset(kinds), SAVED_AS_PROGRAM))
                elif "network" in kinds and words and _CODE_NAME.search(words[-1]):
                    # A download saved as a Python module or .pth file: code staged to
                    # run later (judged by the rules only at install time).
                    facts.drops.append(Drop(line, frozenset(kinds), SAVED_AS_CODE))
            keys = self._path_keys(path, scope)
            if not keys:
                continue
            for name, call, run_scope in self._runs:
                mentioned: set[str] = set()
                for arg in (*call.args, *(k.value for k in call.keywords)):
                    mentioned |= self._path_keys(arg, run_scope, partial=True)
                if keys & mentioned or any(
                    k.startswith("'") and any(k[1:] in m for m in mentioned) for k in keys
                ):
                    facts.drops.append(Drop(line, frozenset(kinds), name))
                    return

    def _bound_words(self, name: str, scope: int, depth: int = 2) -> tuple[str, ...]:
        """The literals a name is bound to (a literal, or a path or command built of them
        and of other such names, ``depth`` names deep)."""
        key = (self._owner(scope, name), name)
        literal = self.literals.get(key)
        if literal is not None:
            return (literal,)
        built = self._built.get(key)
        if built is None:
            return ()
        words = list(_constants(built))
        if depth > 0:
            for sub in ast.walk(built):
                if isinstance(sub, ast.Name) and sub.id != name:
                    words += self._bound_words(sub.id, scope, depth - 1)
        return tuple(words)

    def _path_keys(self, node: ast.AST, scope: int, partial: bool = False) -> set[str]:
        """What identifies a path expression: its names (scoped: ``scope:name``) and its
        literal file names (``'name``); ``partial`` keeps whole literals (a command)."""
        keys = set()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id not in _PATH_NOISE and sub.id not in self.alias:
                owner = self._owner(scope, sub.id)
                if (owner, sub.id) not in self.assigned:
                    continue  # a builtin or an import: says nothing about which file
                keys.add(f"{owner}:{sub.id}")
                literal = self.literals.get((owner, sub.id))
                if literal is None:
                    # A path built of pieces (`PATH + "/path.sh"`): its file name.
                    pieces = _constants(self._built.get((owner, sub.id)))
                    literal = pieces[-1] if pieces and "." in pieces[-1] else None
                if literal is not None and len(literal) >= 4:
                    keys.add("'" + literal.replace("\\", "/").rsplit("/", 1)[-1])
            elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                value = sub.value.replace("\\", "/")
                if partial:
                    keys.add(value)
                else:
                    base = value.rsplit("/", 1)[-1]
                    if len(base) >= 4 and "." in base:
                        keys.add("'" + base)
                    if "/" in value.strip("/"):
                        keys.add(value)  # a whole path, met again whole where it is run
        return keys

    # -- data flow -------------------------------------------------------------------------

    def _owner(self, scope: int, name: str) -> int:
        """The scope a name read in ``scope`` belongs to: the nearest function, from
        ``scope`` outwards, that assigns it (a closure reads its enclosing function's
        names), else the module's."""
        while scope:
            if (scope, name) in self.assigned:
                return scope
            scope = self._enclosing.get(scope, 0)
        return 0

    def _binding(self, scope: int, target: str) -> int:
        """The scope an assignment in ``scope`` binds ``target`` in: the module's for an
        attribute (``self.env = ...`` is read in the class's other methods) or a name the
        function declares ``global``, else ``scope``."""
        return 0 if "." in target or (scope, target) in self._globals else scope

    def _taint(self, sinks: list[tuple[str, ast.Call, int]], functions: Iterable[str] = ()) -> None:
        """Mark the names that carry source data (``SOURCE_KINDS``) into the sinks, the
        sends and the writes. Only names their arguments use are followed (back through
        assignments and the return values of the file's functions), to a fixed point."""
        roots: list[tuple[ast.AST, int]] = [(arg, s) for _, call, s in sinks for arg in call.args]
        if self._sources:
            roots += [
                (a, s)
                for _, call, s in self._sends[:_MAX_FLOWS]
                for a in (*call.args, *call.keywords)
            ]
        if self._runs or self._persist or self._programs:
            roots += [(d, s) for _, data, _, s in self._writes for d in data]
        frontier = {(self._owner(s, n.id), n.id) for root, s in roots for n in _names(root)}
        frontier |= {(0, name) for name in functions}  # what they return, for other modules
        function_scopes = {name: id(node) for name, node in self.functions.items()}
        by_target: dict[tuple[int, str], list[tuple[ast.AST, int]]] = {}
        for targets, value, scope in self._assigns:
            for target in targets:
                key = (self._binding(scope, target), target)
                by_target.setdefault(key, []).append((value, scope))
        relevant: list[tuple[tuple[int, str], ast.AST, int]] = []
        seen: set[tuple[int, str]] = set()
        for _ in range(8):
            new = frontier - seen
            if not new or len(relevant) > _MAX_ASSIGNS:
                break
            seen |= new
            grown: set[tuple[int, str]] = set()
            for key in new:
                values = list(by_target.get(key, ()))
                if key[0] == 0 and key[1] in self.functions:
                    inner = function_scopes[key[1]]
                    values += [
                        (sub.value, inner)
                        for sub in ast.walk(self.functions[key[1]])
                        if isinstance(sub, ast.Return) and sub.value is not None
                    ]
                for value, scope in values:
                    relevant.append((key, value, scope))
                    grown |= {(self._owner(scope, n.id), n.id) for n in _names(value)}
            frontier = grown
        for _ in range(6):
            changed = False
            for key, value, scope in relevant:
                kinds = self._kinds(value, scope)
                if id(value) in self._fills:
                    kinds &= _FILLED
                old = self.tainted.get(key, frozenset())
                if not kinds <= old:
                    self.tainted[key] = old | kinds
                    changed = True
            if not changed:
                break

    def _kinds(self, node: ast.AST, scope: int) -> frozenset[str]:
        """The kinds of source data that flow into ``node`` (``SOURCE_KINDS``)."""
        kinds: set[str] = set()
        # Keys handed to a call that is not a mere encoding (``sign(tx, private_key)``,
        # ``hmac.new(secret, ...)``) come out as what they made, not as the key.
        derived: set[str] = set()
        named: list[ast.AST] = []  # inside path constructors
        signing: list[ast.AST] = []  # in headers or auth
        stack: list[tuple[ast.AST, bool]] = [(node, False)]
        budget = 400
        while stack and budget:
            budget -= 1
            sub, deriving = stack.pop()
            into = derived if deriving else kinds
            kind = type(sub)
            if kind is ast.Call:
                if self._local_names:
                    ref = self._foreign_ref(sub.func)  # type: ignore[attr-defined]
                    if ref is not None:
                        into.add(f"{FOREIGN}{ref}()")
                name = self.qual(sub.func)  # type: ignore[attr-defined]
                found = self._call_kinds(name, sub, scope)  # type: ignore[arg-type]
                if found is not None:
                    into |= found
                    continue
                if name == "getattr" and self.qual(sub) == "os.environ":
                    into.add("env")
                    continue
                if name in _PATH_CALLS:
                    # A path named after downloaded text names a file; it is not the text.
                    named.extend(ast.iter_child_nodes(sub))
                    continue
                if sub.keywords and not _AUTH_KEYWORDS.isdisjoint(k.arg for k in sub.keywords):  # type: ignore[attr-defined]
                    # `Request(url, headers={"Authorization": token})`: a sign-in.
                    signing.extend(k.value for k in sub.keywords if k.arg in _AUTH_KEYWORDS)  # type: ignore[attr-defined]
                    stack.extend(
                        (child, deriving)
                        for child in (
                            *sub.args,
                            sub.func,
                            *(k.value for k in sub.keywords if k.arg not in _AUTH_KEYWORDS),
                        )  # type: ignore[attr-defined]
                    )
                    continue
                if not deriving and not _carries_keys(name):
                    stack.extend((child, True) for child in ast.iter_child_nodes(sub))
                    continue
            elif kind is ast.Name:
                if self.alias.get(sub.id) == "os.environ":  # type: ignore[attr-defined]
                    into.add("env")
                    continue
                if sub.id in self._local_names:  # type: ignore[attr-defined]
                    ref = self._foreign_ref(sub)
                    if ref is not None:
                        into.add(FOREIGN + ref)
                key = (self._owner(scope, sub.id), sub.id)  # type: ignore[attr-defined]
                into |= self.tainted.get(key, frozenset())
                if _SECRET_NAME.match(sub.id):  # type: ignore[attr-defined]
                    into.add("key")
                literal = self.literals.get(key)
                if literal is not None and len(literal) >= 64 and embedded_executable(literal):
                    into.add("embedded")
                continue
            elif kind is ast.Attribute:
                qual = self.qual(sub)
                if qual == "os.environ":
                    into.add("env")
                    continue
                if self._remote and _remote_attribute(qual, self._remote):
                    into.add("network")
                    continue
                if _SECRET_NAME.match(sub.attr):  # type: ignore[attr-defined]
                    into.add("key")  # and what it holds (`self.secret = getenv(...)`), below
                attribute = _attribute_name(sub)
                if attribute is not None:
                    into |= self.tainted.get((0, attribute), frozenset())
            elif kind is ast.Subscript:
                if self.qual(sub.value) == "os.environ":  # type: ignore[attr-defined]
                    if _host_variable([sub.slice]):  # type: ignore[attr-defined]
                        into.add("host")
                    elif _secret_variable([sub.slice]):  # type: ignore[attr-defined]
                        into.add("envkey")
                    continue  # one named variable: not the whole environment
                index = sub.slice  # type: ignore[attr-defined]
                if (
                    type(index) is ast.Constant
                    and type(index.value) is str
                    and _SECRET_NAME.match(index.value)
                ):
                    into.add("key")  # creds["SecretAccessKey"]
                    continue
                step = getattr(sub.slice, "step", None)  # type: ignore[attr-defined]
                if step is not None and self._opaque_source(sub.value, scope):  # type: ignore[attr-defined]
                    into.add("payload")  # a reversed literal
            elif kind is ast.BinOp and _spelled_in_codes(sub):
                into.add("payload")  # `chr(105) + chr(109) + ...`: text hidden from readers
                continue
            elif kind in _COMPREHENSIONS:
                if any(self._opaque_source(g.iter, scope) for g in sub.generators):  # type: ignore[attr-defined]
                    into.add("payload")  # a literal transformed character by character
            elif kind is ast.Constant and type(sub.value) in (str, bytes):  # type: ignore[attr-defined]
                value = sub.value  # type: ignore[attr-defined]
                text = value if type(value) is str else value.decode("latin-1")
                if text == _NETWORK_MARK:
                    into.add("network")
                elif len(text) >= 64 and embedded_executable(text):
                    into.add("embedded")
                continue
            stack.extend((child, deriving) for child in ast.iter_child_nodes(sub))
        for part in named[:8]:
            kinds |= self._kinds(part, scope) - {"network"}
        for part in signing[:8]:
            kinds |= self._kinds(part, scope) - _SIGN_INS
        return frozenset(kinds | (derived - _KEYS))

    def _call_kinds(self, name: str, call: ast.Call, scope: int) -> frozenset[str] | None:
        """What a call's result is, when the call itself is a source (``None``: look into
        its arguments and receiver instead)."""
        if _obscure_codec(call) is not None:
            # Bytes decoded with a code page nobody writes in: hidden text (a payload when
            # the bytes are the file's own).
            receiver = call.func.value  # type: ignore[attr-defined]
            if self._constant(receiver, scope):
                return frozenset({"payload"})
            return frozenset({"decoded"}) | (self._kinds(receiver, scope) & {"network", "payload"})
        if (
            type(call.func) is ast.Attribute
            and call.func.attr == "translate"
            and call.args
            and self._constant(call.func.value, scope)
        ):
            # `"vzcbeg bf".translate(str.maketrans(...))`: a substitution cipher undone on
            # text the file carries (runtime text translated is everyday normalising:
            # RestrictedPython turns an expression's newlines into spaces before `eval`).
            return frozenset({"payload"})
        if _matches(name, DECODERS):
            if call.args and self._constant(call.args[0], scope):
                return frozenset({"payload"})
            inner = self._kinds(call.args[0], scope) if call.args else frozenset()
            if "embedded" in inner:
                return frozenset({"embedded"})
            return frozenset({"decoded"}) | (inner & {"network", "payload"})
        if _is_char_join(call, self):
            return frozenset({"payload"})
        if name in ("bytes", "bytearray") and len(call.args) == 1:
            # `bytes([105, 109, 112, ...])`: text spelled as byte codes; 16 or more of them
            # (a magic number or a short header is everyday) are a payload the file carries.
            codes = byte_codes(call)
            if codes is not None and len(codes) >= 16:
                return frozenset({"payload"})
        if name in ("chr", "bytes", "bytearray") and call.args and _xors(call.args[0]):
            # `chr(ord(c) ^ ord(k))`, `bytes(b ^ k for b in data)`: a cipher undone by hand;
            # of a literal in the file (`for b in COMMAND`), a payload the file carries.
            carried = any(
                self._constant(sub.iter, scope)
                for sub in ast.walk(call.args[0])
                if isinstance(sub, ast.comprehension)
            )
            return frozenset({"payload" if carried else "decoded"})
        codec = _codec_decode(call)
        if codec is not None:
            # Python 2's ``"...".decode("base64")``: a decoder spelled as a method.
            receiver = call.func.value  # type: ignore[attr-defined]
            if self._constant(receiver, scope):
                return frozenset({"payload"})
            return frozenset({"decoded"}) | (self._kinds(receiver, scope) & {"network", "payload"})
        if _matches(name, NETWORK_READS) or (
            self._sockets and name.endswith((".recv", ".recvfrom"))
        ):
            words = self._words(call.args[:1], scope)
            if any(_METADATA_URL.search(word) for word in words):
                return frozenset({"network", "credential"})  # the machine's cloud credentials
            if words and all(_SETUPTOOLS_BOOTSTRAP.match(word) for word in words):
                return frozenset()  # the packaging tools' own installer, run as it says
            return frozenset({"network"})
        if self._remote and name.endswith((".rfile.read", ".rfile.readline")):
            return frozenset({"network"})
        if self._clients:
            client, _, method = name.rpartition(".")
            if client in self._clients and method in _CLIENT_READS:
                return frozenset({"network"})
        if name in _HOST_CALLS:
            return frozenset({"host"})
        if name in ("os.getenv", "os.environ.get", "os.getenvb"):
            # One named variable: not the whole environment, but the user's or the
            # machine's name is a host fact, and a signing secret is a key.
            if _host_variable(call.args[:1]):
                return frozenset({"host"})
            return frozenset({"envkey"}) if _secret_variable(call.args[:1]) else frozenset()
        if name in ("os.environ.copy", "os.environ.items", "os.environ.keys", "os.environ.values"):
            return frozenset({"env"})
        if name in _COMMAND_OUTPUT:
            command = " ".join(self._words(call.args[:1], scope))
            if _ENV_COMMAND.search(command):
                return frozenset({"env"})
            if _HOST_COMMAND.search(command):
                return frozenset({"host"})
            if _SECRET_COMMAND.search(command) or _TOKEN_COMMAND.search(command, command.lower()):
                return frozenset({"credential"})
        if name in _SECRET_READS or name.startswith(_COOKIE_READERS):
            return frozenset({"credential"})
        if _reads_vault(name):
            return frozenset({"credential"})
        if name in _FILE_READS or name.endswith((".read_text", ".read_bytes")):
            target = call.args[:1] if call.args else []
            if isinstance(call.func, ast.Attribute) and not call.args:
                target = [call.func.value]
            words = self._words(target, scope)
            if target and isinstance(target[0], ast.Name) and not words:
                words = list(self._bound_words(target[0].id, scope))  # a path built of pieces
            # Path("/", "proc", "self", "environ") names the file its pieces spell.
            if any(_CREDENTIAL_HINT.search(w) for w in (*words, "/".join(words))) and not any(
                _NOT_SECRET.search(w) for w in words
            ):
                return frozenset({"credential"})
            if target and "swept" in self._kinds(target[0], scope):
                # A file found by walking the user's home or a drive: their documents.
                return frozenset({"credential", "swept"})
            return frozenset({"file"})
        if (name in _WALKS or name.endswith(_WALK_METHODS)) and self._sweeps_home(call, scope):
            return frozenset({"swept"})
        if name in self.functions:
            kinds = self.tainted.get((0, name))
            if (
                call.args
                and all(self._constant(a, scope) for a in call.args)
                and any(self._long_literal(a, scope) for a in call.args)
            ):
                # A local helper handed a long blob written in (bits spelled as tabs and
                # spaces, a private alphabet): whatever it makes of it is that blob.
                return (kinds or frozenset()) | {"payload"}
            if kinds is None:
                return None
            if (
                "decoded" in kinds
                and call.args
                and all(self._constant(a, scope) for a in call.args)
            ):
                return kinds | {"payload"}  # a local decoding helper called on a literal
            inner: set[str] = set(kinds)
            for arg in call.args:
                inner |= self._kinds(arg, scope)
            return frozenset(inner)
        return None

    def _folded(self, node: ast.AST, scope: int, line: int) -> str | None:
        """A string the code builds from literals (``"cu" + "rl ..."``, ``" ".join([...])``,
        ``"{} {}".format(...)``, an f-string of names bound to literals): read like a
        literal, so a command split to hide it is seen whole. Each is noted once."""
        if type(node) not in _FOLDABLE:
            return None
        key = id(node)
        if key in self._folds:
            return self._folds[key]
        text = fold(node, lambda name: self.literals.get((self._owner(scope, name), name)))
        if text is not None and len(text) < 4:
            text = None
        self._folds[key] = text
        if text is not None:
            # Its pieces (`"disc" + "ord"` of `"disc" + "ord" + ".com"`) are not read again.
            self._parts.update(id(part) for part in ast.walk(node) if part is not node)
        if text is not None and len(text) >= 8:
            self.facts.strings.append((text, line))
            if len(text) >= 24:
                self.facts.code_literals.append((text, line))
        return text

    def _sweeps_home(self, call: ast.Call, scope: int) -> bool:
        """Whether a directory walk starts at the user's home, their documents or a drive."""
        roots = [*call.args[:1]]
        if isinstance(call.func, ast.Attribute):
            roots.append(call.func.value)  # Path.home().rglob("*")
        if any(_HOME_WORD.search(word) for word in self._words(roots, scope)):
            return True
        return any(
            isinstance(sub, ast.Call) and self.qual(sub.func) in _HOME_CALLS
            for root in roots
            for sub in ast.walk(root)
        )

    def _words(self, nodes: list[ast.AST], scope: int) -> list[str]:
        """The string literals in ``nodes``, and those the names there are bound to, in the
        order the source spells them."""
        words = []
        queue = deque(nodes)
        while queue:
            sub = queue.popleft()
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                words.append(sub.value)
            elif isinstance(sub, ast.Name):
                key = (self._owner(scope, sub.id), sub.id)
                literal = self.literals.get(key)
                if literal is not None:
                    words.append(literal)
                elif type(built := self._built.get(key)) in _COLLECTIONS:
                    words.extend(_constants(built))  # a loop's name: each literal it takes
            else:
                spelled = (
                    self._folded(sub, scope, getattr(sub, "lineno", 0))
                    if (isinstance(sub, ast.BinOp) and _spells_text(sub))
                    or (isinstance(sub, ast.Subscript) and reverses(sub.slice))
                    or (isinstance(sub, ast.Call) and _spelled_call(sub))
                    else None
                )
                if spelled is not None:
                    words.append(spelled)  # one word in pieces: "pyt" + "hon3"
                else:
                    # (Its pieces before what follows it: words in the order written.)
                    queue.extendleft(reversed(list(ast.iter_child_nodes(sub))))
        return words

    def _opaque_source(self, node: ast.AST, scope: int) -> bool:
        """A long literal (or a name bound to one) that does not read as code or prose."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
            value = node.value
            text = value if isinstance(value, str) else value.decode("latin-1")
        elif isinstance(node, ast.Name):
            text = self.literals.get((self._owner(scope, node.id), node.id), "")
        else:
            return False
        return len(text) >= 32 and not _READABLE.search(text)

    def _long_literal(self, node: ast.AST, scope: int) -> bool:
        """Whether ``node`` is a literal of at least ``_BLOB`` characters, or a name bound
        to one."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
            return len(node.value) >= _BLOB
        if isinstance(node, ast.Name):
            value = self.literals.get((self._owner(scope, node.id), node.id))
            return value is not None and len(value) >= _BLOB
        return False

    def _constant(self, node: ast.AST, scope: int) -> bool:
        """Whether ``node`` is data written into the file: a literal, a name bound to one,
        or such data reversed, encoded or decoded again (``b64decode(PAYLOAD[::-1])``).
        An empty literal is none: a placeholder the code fills at run time (torch's
        precompile driver binds ``_FRAMES = ""`` for type checkers, then decodes the
        artifact's own)."""
        for _ in range(8):
            if isinstance(node, ast.Constant):
                return node.value not in ("", b"")
            if isinstance(node, ast.JoinedStr):
                return True
            if isinstance(node, ast.Name):
                return self.literals.get((self._owner(scope, node.id), node.id), "") != ""
            if isinstance(node, ast.Subscript):
                node = node.value
            elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
                # Literals in pieces ("Y3Vy" + "bCBo..."): both halves written in.
                return self._constant(node.left, scope) and self._constant(node.right, scope)
            elif (
                isinstance(node, ast.Call)
                and node.args
                and _matches(self.qual(node.func), DECODERS)
            ):
                node = node.args[0]
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("encode", "decode", "strip", "replace")
            ):
                node = node.func.value
            else:
                return False
        return False

    def _hidden_name(self, node: ast.AST, scope: int) -> bool:
        """Whether a ``getattr`` name is spelled out in the file (a literal, built from
        pieces, or a name bound to one): ``getattr(builtins, "ex" + "ec")`` hides a call;
        ``getattr(builtins, name)`` with a runtime ``name`` is a lookup table, and so is a
        method of a runtime value (``getattr(builtins, kind.removeprefix("builtins."))``, a
        deserializer's); a method of a literal or a module's function (``"".join(...)``,
        ``codecs.decode(...)``) spells the name out."""
        if isinstance(node, ast.Name):
            return (self._owner(scope, node.id), node.id) in self.literals
        receiver = node
        while (isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Attribute)) or (
            isinstance(receiver, ast.Subscript)
        ):
            # `name.strip().lower()`, `"cexe"[::-1]`: what the pieces are made of.
            receiver = receiver.func.value if isinstance(receiver, ast.Call) else receiver.value
        if receiver is not node and isinstance(receiver, ast.Name):
            owner = self._owner(scope, receiver.id)
            if (owner, receiver.id) in self.assigned:  # a variable: a literal, or data
                return (owner, receiver.id) in self.literals
            return True  # a module or a builtin type: `bytes.fromhex(...).decode()`
        return not isinstance(receiver, ast.Attribute | ast.Subscript)

    # -- names -----------------------------------------------------------------------------

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        facts = self.facts
        if isinstance(node, ast.Import):
            for alias in node.names:
                facts.imports.setdefault(alias.name, node.lineno)
                facts.local_imports.add(alias.name)
                self._absolute.add(alias.asname or alias.name.split(".")[0])
                if alias.asname:
                    self.alias[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    self.alias.setdefault(top, top)
            return
        module = node.module or ""
        prefix = "." * node.level + module
        if node.level == 0:
            facts.imports.setdefault(module, node.lineno)
        facts.local_imports.add(prefix)
        for alias in node.names:
            full = f"{module}.{alias.name}" if module else alias.name
            joiner = "." if prefix and not prefix.endswith(".") else ""
            facts.local_imports.add(prefix + joiner + alias.name)
            if alias.name != "*":
                self.alias[alias.asname or alias.name] = full
                if self._links:
                    self._local_names[alias.asname or alias.name] = prefix + joiner + alias.name
                if node.level == 0:
                    self._absolute.add(alias.asname or alias.name)

    def _call(self, node: ast.Call, scope: int = 0) -> str:
        facts = self.facts
        name = self.qual(node.func)
        # The string literals among its arguments, and the strings built from literals.
        literals = tuple(
            text
            for text in (
                a.value if isinstance(a, ast.Constant) else self._folded(a, scope, node.lineno)
                for a in node.args
            )
            if isinstance(text, str)
        )
        keywords: tuple[str, ...] = ()
        if name == "socket.socket" and _local_socket(node, self):
            keywords = ("family=AF_UNIX",)  # a local socket: it reaches no other host
        if name.startswith(("subprocess.", "os.")) and node.args:
            # A command is often a list: ["sh", "-c", "curl ... | sh"]; the running
            # interpreter (`sys.executable`) is a "python" there.
            literals = tuple(
                word
                for arg in node.args
                if (word := self._command_word(arg, scope, node.lineno)) is not None
            )
            # A command built from literals, here or in a name bound to one, is run whole.
            literals += tuple(
                text
                for arg in node.args[:1]
                for text in (
                    self.literals.get((self._owner(scope, arg.id), arg.id))
                    if isinstance(arg, ast.Name)
                    else self._folded(arg, scope, node.lineno),
                )
                if text is not None
            )
            literals += tuple(
                word
                for arg in node.args
                if isinstance(arg, ast.List | ast.Tuple)
                for sub in arg.elts
                if (word := self._command_word(sub, scope, node.lineno)) is not None
            )
            keywords = tuple(k.arg for k in node.keywords if k.arg)
            # A process whose standard streams are a connection's (`stdin=s.fileno()`).
            keywords += tuple(
                f"{k.arg}=fileno"
                for k in node.keywords
                if k.arg in ("stdin", "stdout", "stderr")
                and isinstance(k.value, ast.Call)
                and isinstance(k.value.func, ast.Attribute)
                and k.value.func.attr == "fileno"
            )
            # What it runs may be a path built from pieces: its literals count as words.
            nested = [
                word
                for arg in node.args
                for sub in _in_order(arg)
                for word in (
                    (sub.value,)
                    if isinstance(sub, ast.Constant) and isinstance(sub.value, str)
                    else _constants(self._built.get((self._owner(scope, sub.id), sub.id)))
                    if isinstance(sub, ast.Name)
                    else ()
                )
            ]
            literals += tuple(w for w in dict.fromkeys(nested[:32]) if w not in literals)
        within = self._function_names.get(scope, "") if scope else ""
        # A download saved to a file is kept, whatever the call returns.
        discarded = id(node) in self._discarded and not _saves_to_file(name, node)
        facts.calls.append(
            Call(name, node.lineno, literals, within=within, keywords=keywords, discarded=discarded)
        )
        self._call_nodes.append(node)
        if name.endswith((".Thread", ".Process", ".Timer")) and node.keywords:
            # `Thread(target=os.system, args=("...",))` calls its target with its args.
            passed = {k.arg: k.value for k in node.keywords if k.arg in ("target", "args")}
            target = self.qual(passed["target"]) if "target" in passed else ""
            if target in PROCESS_SINKS or target in EXEC_SINKS:
                words = tuple(dict.fromkeys(self._words([passed.get("args", node)], scope)))
                facts.calls.append(Call(target, node.lineno, words[:32], within=within))
                self._call_nodes.append(node)
                self._runs.append((target, node, scope))
            elif "." in target:
                # `Thread(target=worker.start)`, the function another module defines: it
                # is called, for what runs it in that module.
                facts.calls.append(Call(target, node.lineno, (), within=within))
                self._call_nodes.append(node)
        if name.endswith((".hexdigest", ".digest", ".compare_digest")):
            self._digests = True
        if (
            name == "getattr"
            and len(node.args) >= 2
            and self._hidden_name(node.args[1], scope)
            and not _plain_builtin(node.args[1])
        ):
            target = node.args[0]
            if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Call):
                target = target.value  # globals()["__builtins__"]
            if self.qual(target) in ("__builtins__", "builtins") or (
                isinstance(target, ast.Call) and self.qual(target.func) in ("globals", "vars")
            ):
                facts.builtins_getattr += 1
                spelled = node.args[1]
                if isinstance(spelled, ast.Constant):
                    hidden = spelled.value
                elif isinstance(spelled, ast.Call) and _is_char_join(spelled, self):
                    hidden = _char_codes(spelled)
                else:
                    hidden = None
                if hidden in _HIDES_CODE:
                    facts.exec_aliases += 1  # exec fetched by a name spelled out of sight
        if node.args and _matches(name, DECODERS):
            decoded = _decode_constant(name, node.args[0], self)
            if decoded:
                facts.decoded.append((decoded, node.lineno))
        elif _is_char_join(node, self):
            spelled = _char_codes(node)
            if spelled:
                # A string spelled as character codes is one the author hid from readers:
                # read what it says (a URL, a module, a builtin) like any literal.
                facts.decoded.append((spelled, node.lineno))
                facts.char_codes += 1
                if spelled in _HIDES_CODE:
                    facts.exec_aliases += 1  # `exec` or `__import__` spelled out of sight
        return name

    def _command_word(self, node: ast.AST, scope: int, line: int) -> str | None:
        """One word of a command: a literal, one built of literals (`"pyt" + "hon3"`), or
        ``python`` for the running interpreter (``sys.executable``); ``None`` otherwise."""
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, str) else None
        if self.qual(node) == "sys.executable":
            return "python"
        if isinstance(node, ast.BinOp | ast.Subscript) or (
            isinstance(node, ast.Call) and _spelled_call(node)
        ):
            return self._folded(node, scope, line)
        return None

    def qual(self, node: ast.AST) -> str:
        """The dotted name of an expression, resolved through imports ('' when unknown)."""
        if isinstance(node, ast.Name):
            return self.alias.get(node.id, node.id)
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, str)
            and self.qual(node.value) == "sys.modules"
        ):
            return node.slice.value  # `sys.modules["builtins"]`: that module
        if isinstance(node, ast.Attribute):
            base = self.qual(node.value)
            if base == "__builtins__":
                return node.attr  # `__builtins__.getattr(...)`: the builtin itself
            if base == "os" and node.attr == "environb":
                return "os.environ"  # the same variables, as bytes
            return f"{base}.{node.attr}" if base else f".{node.attr}"
        if isinstance(node, ast.Call):
            func = self.qual(node.func)
            if func in ("eval", "builtins.eval") and len(node.args) == 1:
                # `eval("\145\166\141\154")`: a name spelled in a literal, evaluated, is
                # what it names (`_____ = eval("eval")` renames a builtin).
                spelled = _concatenated(node.args[0])
                if spelled is not None:
                    name = spelled.strip()
                    if _WORD.fullmatch(name):
                        return self.alias.get(name, name)
            if func in ("__import__", "importlib.import_module") and node.args:
                module = _concatenated(node.args[0])  # also in pieces: "buil" + "tins"
                if module is not None:
                    return module
            if func == "getattr" and len(node.args) >= 2:
                target, attr = node.args[0], node.args[1]
                spelled = _concatenated(attr)  # "ex" + "ec": a name written in pieces
                if spelled is not None:
                    base = self.qual(target)
                    if base in ("__builtins__", "builtins"):
                        return spelled
                    return f"{base}.{spelled}" if base else f".{spelled}"
            return f"{func}()" if func else ""
        if isinstance(node, ast.Subscript):
            key = _concatenated(node.slice)
            if key is not None and self._is_builtins_table(node.value):
                return key  # vars(__builtins__)["exec"], __builtins__.__dict__["ev" + "al"]
            return self.qual(node.value)
        return ""

    def _is_builtins_table(self, node: ast.AST) -> bool:
        """``__builtins__`` (a dict in imported modules), ``vars(builtins)``,
        ``builtins.__dict__``, ``globals()["__builtins__"].__dict__``."""
        if isinstance(node, ast.Call) and node.args and self.qual(node.func) == "vars":
            node = node.args[0]
        elif isinstance(node, ast.Attribute) and node.attr == "__dict__":
            node = node.value
        if isinstance(node, ast.Subscript):
            return _concatenated(node.slice) in ("__builtins__", "builtins")
        return self.qual(node) in ("__builtins__", "builtins")


#: Text encodings nobody writes Python source or data in: a literal decoded with one
#: (``b'\x85\xa5\x81\x93'.decode('cp1026')`` is ``"eval"``) is text hidden from readers.
_OBSCURE_CODECS = frozenset(
    {
        *("cp037", "cp273", "cp424", "cp500", "cp875", "cp1026", "cp1140", "ibm037", "ibm039"),
        *("ibm273", "ibm424", "ibm500", "ibm875", "ibm1026", "ibm1140", "ebcdic_cp_us"),
        *("ebcdic_cp_be", "ebcdic_cp_ch", "ebcdic_cp_he", "csibm037", "csibm500", "csibm1026"),
        *("utf_7", "utf7", "u7"),
    }
)


def _obscure_codec(call: ast.AST) -> str | None:
    """The codec of ``x.decode("cp1026")`` (also ``encoding=``) when it is an obscure one."""
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
        return None
    if call.func.attr != "decode":
        return None
    named = (
        call.args[0]
        if call.args
        else next((k.value for k in call.keywords if k.arg == "encoding"), None)
    )
    if isinstance(named, ast.Constant) and isinstance(named.value, str):
        codec = named.value.lower().replace("-", "_")
        return codec if codec in _OBSCURE_CODECS else None
    return None


def _concatenated(node: ast.AST) -> str | None:
    """The text an expression of literals spells (``"ex" + "ec"``: ``fold`` with no names
    bound), or a bytes literal decoded with an obscure codec; ``None`` otherwise."""
    codec = _obscure_codec(node)
    if codec is None:
        return fold(node, lambda name: None)
    raw = node.func.value  # type: ignore[attr-defined]
    if isinstance(raw, ast.Constant) and isinstance(raw.value, bytes) and len(raw.value) < 256:
        try:
            return raw.value.decode(codec)
        except (UnicodeDecodeError, LookupError):
            return None
    return None


#: What data can be, where it comes from: ``network`` (a response, a socket), ``payload``
#: (decoded or transformed from a literal in the file), ``decoded`` (decoded at run time),
#: ``embedded`` (an executable written into a literal), ``file`` (read from disk),
#: ``credential`` (read from a credential store), ``host`` (user, host and directory names),
#: ``env`` (the whole environment), ``swept`` (paths found walking the user's files).
#: Calls that return a file's content (also a package's own data file).
_FILE_READS = frozenset(
    {"open", "io.open", "codecs.open", "sqlite3.connect", "pkgutil.get_data"}
    | {"importlib.resources.read_binary", "importlib_resources.read_binary"}
)
SOURCE_KINDS = frozenset(
    {"network", "payload", "decoded", "embedded", "file", "credential", "host", "env", "key"}
    | {"envkey", "swept"}
)
_SENSITIVE = frozenset({"host", "env", "credential", "key", "envkey"})
#: What no code sends to an address written into it but to take it (``Send.kinds``).
SENSITIVE = _SENSITIVE
_DROPPED = frozenset({"network", "payload", "decoded", "embedded"})
#: What a container carries of what is put in it (``_Collector._fills``): stores read, the
#: environment, host facts; not signing keys and tokens, which code puts into the headers it
#: builds (`headers["Authorization"] = f"token {GITHUB_TOKEN}"`, then `**kwargs`).
_FILLED = frozenset({"credential", "env", "host", "file", "swept"})
_MAX_FLOWS = 64
_MAX_LITERAL = 64 * 1024
_MAX_ASSIGNS = 512
_NETWORK_MARK = "\x00network\x00"
_HOST_CALLS = frozenset(
    {
        "getpass.getuser",
        "socket.gethostname",
        "socket.getfqdn",
        "platform.node",
        "platform.uname",
        "os.uname",
        "os.getlogin",
        "uuid.getnode",
        "os.getcwd",
        "os.listdir",
        "pwd.getpwuid",
        "os.getuid",
    }
)
_COMMAND_OUTPUT = frozenset(
    {
        "os.popen",
        "subprocess.check_output",
        "subprocess.getoutput",
        "subprocess.getstatusoutput",
        "subprocess.run",
        "subprocess.Popen",
        "commands.getoutput",
    }
)
_FETCH_WORD = re.compile(r"(?:curl|wget|nslookup|dig|Invoke-WebRequest|iwr)(?:\.exe)?\b", re.I)
_ENV_READS = frozenset({"os.getenv", "os.environ.get", "os.getenvb"})
#: Environment variables that hold the user's or the machine's name.
_HOST_VARIABLES = frozenset(
    {"USER", "USERNAME", "LOGNAME", "COMPUTERNAME", "HOSTNAME", "USERDOMAIN", "USERPROFILE"}
)
#: Codecs ``str.decode`` knew in Python 2 that turn a literal into hidden bytes.
_DECODE_CODECS = frozenset(
    {"base64", "base64_codec", "hex", "hex_codec", "zlib", "zlib_codec", "rot13", "rot_13", "bz2"}
)


def _host_variable(args: list[ast.AST]) -> bool:
    return bool(
        args
        and isinstance(args[0], ast.Constant)
        and isinstance(args[0].value, str)
        and args[0].value.upper() in _HOST_VARIABLES
    )


def _secret_variable(args: list[ast.AST]) -> bool:
    return bool(
        args
        and isinstance(args[0], ast.Constant)
        and isinstance(args[0].value, str)
        and (_SECRET_NAME.match(args[0].value) or _CI_TOKEN.match(args[0].value))
    )


#: Calls that pass a key through as it is (encode, join, serialise, copy).
_KEY_CARRIERS = frozenset(
    {"str", "repr", "bytes", "bytearray", "dict", "list", "tuple", "format", "json.dumps"}
)
_KEY_CARRYING_METHODS = (
    ".encode",
    ".decode",
    ".hex",
    ".format",
    ".join",
    ".strip",
    ".upper",
    ".lower",
    ".copy",
    "encode",
    "b64encode",
    "b32encode",
    "b16encode",
    "hexlify",
    ".dumps",
    ".get",
)


def _carries_keys(name: str) -> bool:
    return name in _KEY_CARRIERS or name.endswith(_KEY_CARRYING_METHODS)


_DOMAIN_SUFFIX = re.compile(r"^\.?(?:[a-z0-9-]+\.)+[a-z]{2,}\.?$", re.I)


def _under_domain(node: ast.AST) -> bool:
    """A name built as ``data + ".some.domain"`` (or an f-string ending so)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        tail = node.right
    elif isinstance(node, ast.JoinedStr) and len(node.values) > 1:
        tail = node.values[-1]
    else:
        return False
    return (
        isinstance(tail, ast.Constant)
        and isinstance(tail.value, str)
        and bool(_DOMAIN_SUFFIX.match(tail.value))
    )


_FOLDABLE = (ast.BinOp, ast.JoinedStr, ast.Call, ast.Subscript)


def _spelled_call(call: ast.Call) -> bool:
    """Whether ``call`` spells text out of sight: ROT13, or ``b64decode(...).decode()``
    (hex, base32) of what may be a literal (``fold`` says whether it is)."""
    func = call.func
    return rot13_text(call) is not None or (
        type(func) is ast.Attribute
        and func.attr == "decode"
        and type(func.value) is ast.Call
        and type(func.value.func) in (ast.Attribute, ast.Name)
        and getattr(func.value.func, "attr", getattr(func.value.func, "id", "")) in LITERAL_DECODERS
    )


def _spells_text(node: ast.BinOp) -> bool:
    """Whether ``node`` is a sum with a string literal among its terms (``"disc" + x``)."""
    while type(node) is ast.BinOp and type(node.op) is ast.Add:
        right = node.right
        if type(right) is ast.Constant and type(right.value) is str:
            return True
        node = node.left  # type: ignore[assignment]
    return type(node) is ast.Constant and type(node.value) is str  # type: ignore[attr-defined]


#: ``chr`` calls in a chain of pieces that make it text spelled as character codes.
_SPELLED_PIECES = 4


def _spelled_in_codes(node: ast.BinOp) -> bool:
    """Whether ``node`` is a chain of pieces (``+``) of which at least ``_SPELLED_PIECES``
    are characters spelled as codes (``chr(105)``)."""
    count = 0
    seen = 0
    while type(node) is ast.BinOp and type(node.op) is ast.Add and seen < MAX_FOLD:
        seen += 1
        right = node.right
        if type(right) is ast.Call and is_chr_of_code(right):
            count += 1
            if count >= _SPELLED_PIECES:
                return True
        node = node.left  # type: ignore[assignment]
    return type(node) is ast.Call and is_chr_of_code(node) and count + 1 >= _SPELLED_PIECES


def _path_pieces(node: ast.BinOp, inner: set[int]) -> str | None:
    """The literal pieces of a ``pathlib`` chain (``home / ".config" / "systemd"``) joined
    with ``/`` in their order, when there are two or more; the chain's inner divisions are
    added to ``inner`` (read with this one)."""
    pieces: list[str] = []
    current: ast.AST = node
    while type(current) is ast.BinOp and type(current.op) is ast.Div:  # type: ignore[attr-defined]
        inner.add(id(current))
        right = current.right  # type: ignore[attr-defined]
        if type(right) is ast.Constant and type(right.value) is str:
            pieces.append(right.value)
        current = current.left  # type: ignore[attr-defined]
    if type(current) is ast.Constant and type(current.value) is str:  # type: ignore[attr-defined]
        pieces.append(current.value)  # type: ignore[attr-defined]
    return "/".join(reversed(pieces)) if len(pieces) >= 2 else None


#: Directory walks (``.rglob`` and the like by their last name, on any path object).
_WALKS = frozenset({"os.walk", "os.scandir", "os.listdir", "glob.glob", "glob.iglob"})
_WALK_METHODS = (".rglob", ".glob", ".iterdir", ".walk")
#: Where a walk of the user's files starts: home (`~`, `%USERPROFILE%`), the documents and
#: desktop folders, a drive's root.
_HOME_WORD = re.compile(
    r"^(?:~[\\/]?|[A-Z]:[\\/]*|/|/home/?|/Users/?)$|Desktop|Documents|Downloads|USERPROFILE|^HOME$"
)
_HOME_CALLS = frozenset({"pathlib.Path.home", "Path.home", "os.path.expanduser"})
_TEMPORARY_FILES = frozenset({"tempfile.NamedTemporaryFile"})


#: Options after which a program's next argument is code it runs.
_CODE_FLAGS = frozenset({"-c", "/c", "/k", "-e", "-command", "-encodedcommand", "-enc"})


def _command_parts(call: ast.Call) -> list[ast.AST]:
    """What a process call runs: a command line whole, else the program and any argument
    after a code option (``["sh", "-c", code]``) of a list; not the other arguments."""
    if not call.args:
        return []
    first = call.args[0]
    if not isinstance(first, ast.List | ast.Tuple):
        return [first]
    parts: list[ast.AST] = first.elts[:1]
    for before, item in zip(first.elts, first.elts[1:], strict=False):
        if (
            isinstance(before, ast.Constant)
            and isinstance(before.value, str)
            and before.value.lower() in _CODE_FLAGS
        ):
            parts.append(item)
    return parts


class _Wrapper(NamedTuple):
    """A function of the file that sends some of its parameters (``_wrapped_sends``)."""

    send: str  # the call that sends (`requests.post`)
    params: list[str]  # its positional parameters, in order
    sent: set[str]  # the parameters that reach what it sends
    url_param: str | None  # the parameter it sends to, if the address is one
    fixed: bool  # it sends to an address written in
    host: bool  # to a URL that starts with a literal host


def _receiver(call: ast.Call) -> str:
    """The name a method is called on (``s`` of ``s.send(data)``), or ``""``."""
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.value.id
    return ""


def _url_of(call: ast.Call) -> ast.AST | None:
    """The address a request call sends to: its ``url`` or first argument, or that of the
    ``Request(...)`` it is handed (``urlopen(Request("https://h/", data=body))``), or the
    URL a command line spells (``run(["curl", "-d", body, "https://h/"])``)."""
    url = next((k.value for k in call.keywords if k.arg == "url"), None)
    if url is None and call.args:
        url = call.args[0]
    if isinstance(url, ast.List | ast.Tuple):
        url = next((e for e in url.elts if _fixed_address(e)), url)
    if (
        isinstance(url, ast.Call)
        and isinstance(url.func, ast.Attribute | ast.Name)
        and (url.func.attr if isinstance(url.func, ast.Attribute) else url.func.id) == "Request"
    ):
        return _url_of(url)
    return url


def _fixed_address(node: ast.AST) -> bool:
    """A URL that starts with a literal address: ``"https://host/x/" + name``."""
    while isinstance(node, ast.BinOp):
        node = node.left
    if isinstance(node, ast.JoinedStr) and node.values:
        node = node.values[0]
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and bool(re.match(r"https?://[\w.-]+", node.value))
    )


def _codec_decode(call: ast.Call) -> str | None:
    """The codec of ``x.decode("base64")`` (and ``"hex"``, ``"zlib"``, ``"rot13"``), or None."""
    if not (isinstance(call.func, ast.Attribute) and call.func.attr == "decode" and call.args):
        return None
    codec = call.args[0]
    if isinstance(codec, ast.Constant) and isinstance(codec.value, str):
        value = codec.value.lower().replace("-", "_")
        if value in _DECODE_CODECS:
            return value
    return None


_ENV_COMMAND = re.compile(r"^\s*(?:env|printenv|set)\s*$")
_HOST_COMMAND = re.compile(
    r"^\s*(?:whoami|hostname|id|uname(?:\s+-a)?|ipconfig|ifconfig|systeminfo|pwd|ls|dir|"
    r"ip\s+a(?:ddr)?|net\s+user|cat\s+/etc/(?:passwd|hosts))\b"
)
#: Commands that print stored secrets: Wi-Fi keys in clear, macOS's keychain.
_SECRET_COMMAND = re.compile(
    r"netsh\s+wlan\s+show\s+profiles?\b[^\n]*\bkey\s*=\s*clear|security\s+find-\w+-password|"
    # Password managers' command lines asked for what they keep (1Password, Bitwarden).
    r"\bop\s+(?:item\s+get\b[^\n]*--reveal|read\s+['\"]?op://)|\bbw\s+(?:list\s+items|get\s+password)\b",
    re.I,
)
#: A cloud's or a forge's command line printing its token (`gh auth token`).
_TOKEN_COMMAND = indicators.CREDENTIALS["token command"][1]
#: Paths of credential stores and secrets files (a cheap test; ``indicators.CREDENTIALS``
#: judges them properly).
_CREDENTIAL_HINT = re.compile(
    r"\.ssh\b|\.aws\b|\.kube\b|\.docker[\\/]config|git-credentials|\.netrc|\.pypirc|\.npmrc|"
    r"_history\b|\.gnupg|\bid_(?:rsa|ed25519|ecdsa)\b|/etc/(?:passwd|shadow)|Login Data|"
    r"Local Storage|leveldb|Local State|\bCookies\b|\bwallet|keychain|\btdata\b|"
    r"\.env\b|credentials(?:\.json)?\b|proc/+(?:self|\*|\d+)/+environ|serviceaccount/token|"
    r"Default[\\/]+History\b|metadata\.google\.internal|169\.254\.169\.254|"
    # The Solana command line's keypair (the key itself, in JSON); GitHub's command line's
    # and Copilot's tokens; Vault's token; Maven's and Azure's stored credentials.
    r"solana[\\/]+id\.json|\bgh[\\/]+hosts\.yml|github-copilot[\\/]|\.vault-token|"
    r"\.m2[\\/]+settings\.xml|(?:^|[\\/])\.azure(?:$|[\\/])|"
    # Servers' TLS private keys; the JFrog and RubyGems command lines' and AI coding tools'
    # stored sign-ins (Gemini's, Codex's, Claude Code's).
    r"/etc/ssl/private\b|\bprivkey\.pem\b|\.jfrog[\\/]|\.gem[\\/]+credentials|"
    r"\.gemini[\\/]+oauth_creds|\.codex[\\/]+auth\.json|\.claude[\\/]+\.credentials|"
    # Password managers' vaults; FTP clients' saved servers; Steam's and Minecraft's sign-ins;
    # VS Code's stored secrets; Microsoft's sign-in token cache.
    r"Bitwarden|1Password|\.kdbx\b|recentservers\.xml|sitemanager\.xml|loginusers\.vdf|"
    r"\bssfn|launcher_accounts|state\.vscdb|msal_token_cache",
    re.I,
)
#: The installers of setuptools and distribute that buildout's and many projects' old
#: bootstrap scripts fetched and ran (``exec urlopen(".../ez_setup.py").read() in ez``):
#: a developer's tool, published at these addresses for that very use.
_SETUPTOOLS_BOOTSTRAP = re.compile(
    r"https?://(?:peak\.telecommunity\.com/dist/ez_setup\.py|"
    r"python-distribute\.org/distribute_setup\.py|bootstrap\.pypa\.io/ez_setup\.py|"
    r"downloads\.buildout\.org/\d+/bootstrap\.py|"
    r"bitbucket\.org/pypa/setuptools/raw/[\w.-]+/ez_setup\.py)$"
)
#: Addresses that hand out the machine's cloud credentials (AWS, GCP, Azure, Alibaba).
_METADATA_URL = re.compile(
    r"/latest/meta-data/(?:iam|ram)/security-credentials|/latest/api/token|"
    # A container's task role on ECS (the path comes from AWS_CONTAINER_CREDENTIALS_RELATIVE_URI).
    r"^https?://169\.254\.170\.2(?:[/:]|$)|"
    r"/computeMetadata/v1/instance/service-accounts/[^'\"]*token|/metadata/identity/oauth2/token"
)
#: Libraries that read the browsers' cookie stores (what a function of theirs returns is
#: every site's sign-in; sent as a request's ``cookies`` it signs in, in a body it is stolen).
_COOKIE_READERS = ("browser_cookie3.", "rookiepy.", "pycookiecheat.")
#: Calls that return a stored secret.
_SECRET_READS = frozenset(
    {
        "keyring.get_password",
        "keyring.get_credential",
        "win32cred.CredRead",
        "win32cred.CredEnumerate",
        "win32crypt.CryptUnprotectData",
        # What the user copied last: passwords, keys, a wallet's address or phrase.
        *("pyperclip.paste", "clipboard.paste", "win32clipboard.GetClipboardData"),
    }
)
#: Methods of secret stores' clients that return stored secrets: AWS Secrets Manager's
#: (boto3), Vault's (hvac), Kubernetes' secrets, Google's Secret Manager, Azure Key Vault's.
_VAULT_READS = frozenset(
    {"get_secret_value", "batch_get_secret_value", "read_secret_version", "read_secret"}
    | {"list_secret_for_all_namespaces", "list_namespaced_secret", "read_namespaced_secret"}
    | {"access_secret_version"}
)


def _reads_vault(name: str) -> bool:
    """Whether a call asks a secret store's client for its secrets (``sm.get_secret_value``)."""
    owner, dot, method = name.rpartition(".")
    return bool(dot and owner) and method in _VAULT_READS


#: What lives beside keys and is no secret: a public key (``id_rsa.pub``), the hosts and
#: keys ``ssh`` trusts.
_NOT_SECRET = re.compile(r"\.pub$|known_hosts|authorized_keys", re.I)
#: A Windows program's file name (the end of a literal).
_PROGRAM_NAME = re.compile(r"\.(?:exe|scr|msi|bat|vbs|ps1|cmd)\b(?=['\"]?$|['\"])", re.I | re.M)
SAVED_AS_PROGRAM = "saved as a program"
_CODE_NAME = re.compile(r"\.(?:py|pyw|pyc|pth)\b(?=['\"]?$|['\"])", re.I | re.M)
SAVED_AS_CODE = "saved as Python code"
#: Where the interpreter picks up code by itself: a module or a .pth in site-packages.
_PLANTED = re.compile(r"site-packages[\\/]|\.pth$", re.I)
#: Where files run later by themselves (``indicators.PERSISTENCE`` judges it properly).
_PERSIST_HINT = re.compile(
    r"Startup|CurrentVersion|autostart|LaunchAgents|cron|rc\.local|systemd|bashrc|zshrc|"
    r"bash_profile|\.profile\b|site-packages|\.pth\b|discord_desktop_core|hooks|ipython",
    re.I,
)
#: Names of a secret that signs and is never sent anywhere: the secret half of a cloud
#: signing key (``aws_secret_access_key``, ``access_key_secret``, ``SecretKey``), a wallet's
#: private key or recovery phrase (``private_key``, ``privateKey``, ``mnemonic``).
_SECRET_NAME = re.compile(
    r"^(?:(?:\w*_)?(?:secret_?(?:access_?)?key|access_?key_?secret|private_?key|priv_?key|"
    r"mnemonic|seed_?phrase|recovery_?phrase)|(?:api_?)?secret)$",
    re.I,
)
#: Environment variables holding a CI or package registry's token: a build's publishing
#: rights. Their services take them in headers; nothing sends one in a body.
_CI_TOKEN = re.compile(
    r"^(?:GITHUB_TOKEN|GH_TOKEN|GITLAB_TOKEN|CI_JOB_TOKEN|NPM_TOKEN|NODE_AUTH_TOKEN|"
    r"PYPI_(?:API_)?TOKEN|TWINE_PASSWORD|AWS_SESSION_TOKEN|ACTIONS_RUNTIME_TOKEN|"
    r"ACTIONS_ID_TOKEN_REQUEST_TOKEN|CIRCLE_TOKEN|TRAVIS_TOKEN|BUILDKITE_AGENT_ACCESS_TOKEN|"
    rf"{indicators.MODEL_KEY_VARIABLE})$"
)
_AUTH_KEYWORDS = frozenset({"headers", "auth", "cookies"})
_KEYS = frozenset({"key", "envkey"})
#: Calls that make a path of their arguments.
_PATH_CALLS = frozenset({"pathlib.Path", "pathlib.PurePath", "os.path.join", "Path"})
_SIGN_INS = _KEYS | {"credential"}
_SECRET_HINT = re.compile(
    r"secret_?(?:access_?)?key|access_?key_?secret|private_?key|mnemonic|seed_?phrase|"
    r"\bsecret\b|api_?secret|"
    r"GITHUB_TOKEN|GH_TOKEN|NPM_TOKEN|PYPI_(?:API_)?TOKEN|TWINE_PASSWORD|"
    rf"{indicators.MODEL_KEY_VARIABLE}",
    re.I,
)
_COLLECTIONS = (ast.Tuple, ast.List, ast.Set)
#: Calls that wrap a function and return what stands in for it.
_WRAPPERS = frozenset({"staticmethod", "classmethod", "property", "functools.wraps", "wraps"})
#: Calls that save a download to the path they are given.
FETCH_TO_PATH = frozenset({"urllib.request.urlretrieve", "urllib.urlretrieve", "wget.download"})
_RUNNERS = frozenset(
    {
        "os.chmod",
        "os.startfile",
        "os.execv",
        "os.execve",
        "os.execl",
        "os.execlp",
        "os.execvp",
        "os.spawnl",
        "os.spawnv",
        "runpy.run_path",
        "importlib.util.spec_from_file_location",
        "importlib.machinery.SourceFileLoader",
        "subprocess.getoutput",
        "subprocess.getstatusoutput",
        "ctypes.CDLL",
        "ctypes.cdll.LoadLibrary",
        "ctypes.windll.shell32.ShellExecuteW",
    }
)
_PATH_NOISE = frozenset({"self", "cls", "__file__", "__name__"})
_COMPREHENSIONS = (ast.ListComp, ast.GeneratorExp, ast.SetComp)
_HOOK_METHODS = frozenset({"run", "__init__", "initialize_options", "finalize_options"})
#: Text with a keyword or a common word between spaces reads as code or prose; a long
#: literal without one, transformed and run, is a payload.
_READABLE = re.compile(
    r"(?:^|[\s(])(?:def|return|import|from|class|lambda|self|for|if|in|print|the|and|is|of|to|"
    r"None|True|False|try|except|with|as)[\s(:.]"
)
_SEND_MODULES = (
    "requests.",
    "httpx.",
    # Other HTTP libraries, used like requests: `curl_cffi.requests.post(...)`.
    *("curl_cffi.", "tls_client.", "cloudscraper.", "httplib2.", "niquests.", "grequests."),
    *("requests_html.", "treq.", "xmlrpc.client.", "tornado.httpclient."),
    "urllib.",
    "urllib2.",
    "urllib3.",
    "http.client.",
    "httplib.",
    "aiohttp.",
    "dns.",
    "smtplib.",
    "ftplib.",
    "pycurl.",
)
_SEND_METHODS = frozenset(
    {
        "get",
        "post",
        "put",
        "patch",
        "request",
        "urlopen",
        "Request",
        "head",
        "resolve",
        "query",
        "sendmail",
        "send_message",
        "storbinary",
        "open",
        "fetch",
    }
)
_SEND_UNRESOLVED = frozenset({"post", "put", "urlopen", "sendmail", "send_message"})
#: What chat-bot and file-drop clients send with, whatever the client is called.
_SEND_ANYWHERE = frozenset(
    {"send_message", "send_photo", "send_document", "sendMessage", "sendDocument", "files_upload"}
    | {"sendmail", "storbinary", "storlines", "upload_file", "upload_fileobj", "put_object"}
)
_SOCKET_SENDS = frozenset({"send", "sendall", "sendto", "connect"})
#: What an HTTP (Socket.IO, webhook) client object sends with (``_client_method``).
_CLIENT_SENDS = frozenset(
    {"post", "put", "patch", "request", "send", "emit", "execute", "setopt"}
    | {"send_file", "publish", "fetch"}
)
DNS_LOOKUPS = frozenset({"socket.gethostbyname", "socket.gethostbyname_ex", "socket.getaddrinfo"})


#: HTTP clients, and their calls that return a response.
_CLIENT_TYPES = frozenset(
    {
        "requests.Session",
        "requests.session",
        "httpx.Client",
        "httpx.AsyncClient",
        "aiohttp.ClientSession",
        "urllib3.PoolManager",
        "urllib.request.build_opener",
        # Clients of other HTTP libraries (browser-impersonating ones stealers favour too),
        # HTTP connections, Socket.IO and XML-RPC clients, Discord webhook objects.
        *("curl_cffi.requests.Session", "curl_cffi.requests.AsyncSession", "curl_cffi.Session"),
        *("tls_client.Session", "cloudscraper.create_scraper", "cloudscraper.CloudScraper"),
        *("httplib2.Http", "niquests.Session", "niquests.AsyncSession"),
        *("requests_html.HTMLSession", "requests_html.AsyncHTMLSession"),
        *("http.client.HTTPSConnection", "http.client.HTTPConnection"),
        *("httplib.HTTPSConnection", "httplib.HTTPConnection"),
        *("socketio.Client", "socketio.AsyncClient", "xmlrpc.client.ServerProxy"),
        *("dhooks.Webhook", "discord_webhook.DiscordWebhook", "pycurl.Curl"),
        # Chat clients: the messages they fetch are what someone else wrote.
        "zulip.Client",
        "slack_sdk.WebClient",
        "slack.WebClient",
        # Mail, Telegram-account, message-broker and other HTTP clients.
        *("yagmail.SMTP", "yagmail.SMTP_SSL", "telethon.TelegramClient"),
        *("telethon.sync.TelegramClient", "paho.mqtt.client.Client"),
        *("tornado.httpclient.HTTPClient", "tornado.httpclient.AsyncHTTPClient"),
        # Mailboxes: what their messages say, someone else wrote (mail as a command channel).
        *("imaplib.IMAP4_SSL", "imaplib.IMAP4", "poplib.POP3_SSL", "poplib.POP3"),
    }
)
_CLIENT_READS = frozenset(
    {
        *("get", "post", "request", "open", "urlopen"),
        *("get_messages", "get_events", "conversations_history", "conversations_replies"),
        *("fetch", "retr"),
    }
)
#: Modules whose connections' ``recv`` returns what the other end sent.
_SOCKET_MODULES = frozenset({"socket", "websocket", "websockets", "socketio"})
#: Blockchain clients: a file that uses one builds transactions.
_WALLET_MODULES = frozenset({"web3", "eth_account", "solana", "solders", "tronpy", "bitcoinlib"})
#: A transaction's (or a memo's) fields that the chain publishes for anyone to read.
_PUBLISHED_FIELDS = frozenset({"data", "input", "memo", "message"})
#: Calls that make a transaction, an instruction or a memo from keyword fields.
_TRANSACTION_MAKER = re.compile(r"transaction|instruction|memo|transfer", re.I)
#: A wallet's private key as an attribute of any object (`signer.private_key`) ...
_KEY_ATTRIBUTES = frozenset({"private_key", "privateKey", "_private_key", "secret_key"})
#: ... or as `.key`/`.secret()` of one named as an account (`acct.key`, `wallet.secret()`).
_ACCOUNT_NAME = re.compile(r"acc|wallet|keypair|signer|^kp$|^owner$|^payer$", re.I)
#: A name that holds a wallet's key or recovery phrase (not any `secret`: a commit-reveal
#: scheme's random secret goes on chain by design).
_WALLET_KEY_NAME = re.compile(
    r"^(?:\w*_)?(?:private_?key|priv_?key|secret_?key|mnemonic|seed_?phrase|recovery_?phrase)$",
    re.I,
)


def _wallet_key_in_transaction(nodes: list[ast.AST]) -> int:
    """The line of a transaction field the chain publishes (``{"data": acct.key.hex()}``,
    ``MemoParams(message=bytes(keypair.secret()))``) filled with a wallet's private key,
    directly or through a name it was assigned to; 0 when there is none. A transaction
    signed with the key is everyday; one that carries the key hands it to every reader of
    the chain, and to whoever wrote the code first."""
    keys: set[str] = set()
    for node in nodes:
        if type(node) is ast.Assign and _reads_wallet_key(node.value, keys):  # type: ignore[attr-defined]
            keys.update(name for target in node.targets for name in _target_names(target))  # type: ignore[attr-defined]
    for node in nodes:
        if type(node) is ast.Dict:
            for key, value in zip(node.keys, node.values, strict=True):  # type: ignore[attr-defined]
                if (
                    type(key) is ast.Constant
                    and key.value in _PUBLISHED_FIELDS
                    and _reads_wallet_key(value, keys)
                ):
                    return node.lineno  # type: ignore[attr-defined]
        elif type(node) is ast.Call and _TRANSACTION_MAKER.search(_callee(node.func)):  # type: ignore[attr-defined]
            for keyword in node.keywords:  # type: ignore[attr-defined]
                if keyword.arg in _PUBLISHED_FIELDS and _reads_wallet_key(keyword.value, keys):
                    return node.lineno  # type: ignore[attr-defined]
    return 0


def _reads_wallet_key(node: ast.AST, keys: set[str]) -> bool:
    """Whether ``node`` reads a wallet's private key (or a name in ``keys`` that holds one)."""
    for sub in ast.walk(node):
        kind = type(sub)
        if kind is ast.Name and (sub.id in keys or _WALLET_KEY_NAME.match(sub.id)):  # type: ignore[attr-defined]
            return True
        if kind is ast.Attribute:
            attribute = sub.attr  # type: ignore[attr-defined]
            if attribute in _KEY_ATTRIBUTES:
                return True
            if attribute in ("key", "secret") and _ACCOUNT_NAME.search(_callee(sub.value)):  # type: ignore[attr-defined]
                return True
    return False


def _callee(node: ast.AST) -> str:
    """The last name of a called or read expression (``w3.eth.Account`` -> ``Account``,
    ``Account.create()`` -> ``create``), or ``""``."""
    while type(node) is ast.Call:
        node = node.func  # type: ignore[attr-defined]
    if type(node) is ast.Attribute:
        return node.attr  # type: ignore[attr-defined]
    return node.id if type(node) is ast.Name else ""  # type: ignore[attr-defined]


#: Modules of chat bots and local servers: what they are told comes from the network.
_REMOTE_MODULES = frozenset(
    {
        *("discord", "nextcord", "disnake", "interactions", "telebot", "telegram", "aiogram"),
        *("pyrogram", "telethon", "http", "BaseHTTPServer", "socketserver", "SocketServer"),
        "paho",  # an MQTT client: what is published on its topics
    }
)
#: Attribute names (their last two parts) that carry what a bot or server was sent.
_REMOTE_ATTRIBUTES = {
    "content": frozenset({"message", "msg", "ctx", "m"}),
    "text": frozenset({"message", "msg", "m", "event", "e"}),
    "raw_text": frozenset({"message", "msg", "m", "event", "e"}),
    "payload": frozenset({"message", "msg", "m"}),
    "path": frozenset({"self"}),
}


def _remote_attribute(qual: str, remote: dict[str, frozenset[str]]) -> bool:
    """``message.content``, ``ctx.message.content``, a request handler's ``self.path``."""
    head, _, last = qual.rpartition(".")
    owners = remote.get(last)
    return owners is not None and head.rsplit(".", 1)[-1] in owners


def _scheduler(name: str) -> bool:
    """Whether ``name`` is one of ``_SCHEDULERS`` (a dotted entry by its method alone)."""
    return name in _SCHEDULERS or any(
        entry.startswith(".") and name.endswith(entry) for entry in _SCHEDULERS
    )


def _client_method(name: str) -> bool:
    """Whether ``name`` calls a sending method on a plain name or attribute (``s.post``,
    ``self.session.post``), a send if that name is bound to a client."""
    owner, dot, method = name.rpartition(".")
    return (
        bool(dot)
        and method in _CLIENT_SENDS
        and owner.count(".") <= 1
        and all(part.isidentifier() for part in owner.split("."))
    )


def _is_send(name: str, sockets: bool) -> bool:
    """Whether a call sends its arguments out (HTTP, sockets, DNS, mail)."""
    base = name.rsplit(".", 1)[-1]
    if name in DNS_LOOKUPS or ("." in name and base in _SEND_ANYWHERE):
        return True
    if name.startswith(_SEND_MODULES):
        return base in _SEND_METHODS
    if name.startswith("."):
        return base in _SEND_UNRESOLVED or (sockets and base in _SOCKET_SENDS)
    # `s = socket.socket(); s.send(...)`: a name of the file's own, in a file using sockets.
    return (
        sockets and (name.startswith("socket.") or name.count(".") == 1) and base in _SOCKET_SENDS
    )


def sink_feed(sink: str, kinds: set[str] | frozenset[str]) -> str | None:
    """What data of ``kinds`` handed to ``sink`` feeds it: a process is fed the network's
    commands or a payload (decoded runtime data is everyday); ``exec`` any of them."""
    if sink in PROCESS_SINKS or sink in _RUNS_HANDED:
        return "network" if "network" in kinds else "decoded" if "payload" in kinds else None
    return _priority(kinds)


def _priority(kinds: frozenset[str] | set[str]) -> str | None:
    for kind in ("network", "payload", "decoded", "file"):
        if kind in kinds:
            return kind
    return None


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_ASSIGNMENTS = (
    ast.Assign,
    ast.AnnAssign,
    ast.AugAssign,
    ast.NamedExpr,
    ast.For,
    ast.AsyncFor,
    ast.comprehension,
)
#: Attributes read as host facts when referred to, not only called (``try_call(os.uname)``).
_HOST_ATTRS = frozenset(
    {"uname", "getuser", "gethostname", "getfqdn", "node", "getlogin", "getnode"}
)


def _names(node: ast.AST) -> Iterator[ast.Name]:
    """The names ``node`` reads (``self.env`` as one name, see ``_attribute_name``)."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            yield sub
        elif isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name):
            yield sub.func
        elif isinstance(sub, ast.Attribute):
            attribute = _attribute_name(sub)
            if attribute is not None:
                yield ast.Name(id=attribute)


#: Characters of a literal that is a blob of data rather than a message or a setting.
_BLOB = 512


def _in_order(node: ast.AST) -> Iterator[ast.AST]:
    """``node`` and everything under it in the order the source spells them (``ast.walk``
    goes level by level: ``"nslookup " + name + ".x.example"`` would come out last piece
    first)."""
    stack = [node]
    while stack:
        sub = stack.pop()
        yield sub
        stack.extend(reversed(list(ast.iter_child_nodes(sub))))


def _constants(node: ast.AST | None, limit: int = 8) -> tuple[str, ...]:
    """The string literals in an expression (at most ``limit``), in source order."""
    if node is None:
        return ()
    found = []
    for sub in _in_order(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            found.append(sub.value)
            if len(found) == limit:
                break
    return tuple(found)


def _attribute_name(node: ast.Attribute) -> str | None:
    """``self.env`` (an attribute of a plain name) as the name data flows through."""
    value = node.value
    return f"{value.id}.{node.attr}" if isinstance(value, ast.Name) else None


def _docstrings(nodes: list[ast.AST]) -> set[int]:
    """Ids of the docstring constants (their examples are prose, not code)."""
    found = set()
    owners = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    for node in nodes:
        if type(node) in owners:
            body = node.body  # type: ignore[attr-defined]
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _saves_to_file(name: str, call: ast.Call) -> bool:
    """Whether a download call saves what it fetches to a file: ``urlretrieve(url, path)``
    (with no path it goes to a temporary file whose name is returned), ``wget.download``."""
    if name not in FETCH_TO_PATH:
        return False
    return (
        name == "wget.download"
        or len(call.args) > 1
        or any(k.arg == "filename" for k in call.keywords)
    )


#: ``re`` functions whose first argument is a pattern.
_PATTERN_TAKERS = frozenset(
    {"compile", "search", "match", "fullmatch", "findall", "finditer", "sub", "subn", "split"}
)


def _patterns(nodes: list[ast.AST]) -> set[int]:
    """Ids of the string constants handed to ``re`` as patterns (``re.compile(r"(curl\\s|
    /dev/tcp/)")``: what a scanner or a parser looks for, not text the code uses)."""
    found = set()
    for node in nodes:
        if type(node) is ast.Call and node.args:  # type: ignore[attr-defined]
            func = node.func  # type: ignore[attr-defined]
            first = node.args[0]  # type: ignore[attr-defined]
            if (
                type(func) is ast.Attribute
                and func.attr in _PATTERN_TAKERS
                and type(func.value) is ast.Name
                and func.value.id == "re"
                and type(first) is ast.Constant
            ):
                found.add(id(first))
    return found


#: ``setup.py`` commands an installer runs; any other (``publish``, ``coverage``, ``test``)
#: runs only when a developer types it.
_INSTALL_COMMANDS = frozenset(
    {
        "install",
        "build",
        "build_ext",
        "build_py",
        "build_clib",
        "build_scripts",
        "bdist",
        "bdist_wheel",
        "bdist_egg",
        "egg_info",
        "dist_info",
        "develop",
        "editable_wheel",
        "install_lib",
        "install_scripts",
        "install_data",
        "install_egg_info",
        "install_headers",
    }
)
_COMMAND_WORD = re.compile(r"[a-z][a-z_-]*")


def _has_digest(node: ast.AST, collector: _Collector) -> bool:
    return any(
        isinstance(sub, ast.Call) and collector.qual(sub.func).endswith((".hexdigest", ".digest"))
        for sub in ast.walk(node)
    )


def _compares_digest(node: ast.Compare, collector: _Collector, digests: set[str]) -> bool:
    """``hashlib.sha256(data).hexdigest() != expected`` and the like (also through a name
    the digest was assigned to)."""
    return any(
        _has_digest(operand, collector)
        or any(isinstance(sub, ast.Name) and sub.id in digests for sub in ast.walk(operand))
        for operand in (node.left, *node.comparators)
    )


def _development_test(test: ast.AST, collector: _Collector, argv: set[str]) -> bool:
    """``sys.argv[-1] == "publish"``, ``"coverage" in sys.argv``, ``cmd in ("release", ...)``
    (``cmd`` from ``sys.argv``): true only when no literal compared is an install command."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        return all(_development_test(v, collector, argv) for v in test.values)
    if not isinstance(test, ast.Compare) or not all(
        isinstance(op, ast.Eq | ast.In) for op in test.ops
    ):
        return False
    operands = [test.left, *test.comparators]
    if not any(
        collector._is_argv(o) or (isinstance(o, ast.Name) and o.id in argv) for o in operands
    ):
        return False
    words = [
        sub.value
        for o in operands
        for sub in ast.walk(o)
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str)
    ]
    return bool(words) and all(
        _COMMAND_WORD.fullmatch(w) and w not in _INSTALL_COMMANDS for w in words
    )


#: Builtins obfuscators bind to other names, followed as aliases (``g = globals``).
_RENAMED = frozenset({"globals", "vars", "getattr", "chr", "__import__", "str.join"})
#: Builtins that run or load code: one bound to another name hides what runs.
_HIDES_CODE = frozenset({"exec", "eval", "compile", "__import__"})
#: Builtins whose plain name fetched by ``getattr`` reaches code or the interpreter's state.
_REACHES_CODE = _HIDES_CODE | {"open", "globals", "vars", "getattr", "setattr", "locals"}


def _plain_builtin(spelled: ast.AST) -> bool:
    """Whether ``getattr(builtins, spelled)`` names, in one plain literal, a builtin that
    runs no code (``getattr(builtins, "print", None)``, ``"raw_input"``, ``"unicode"``): a
    check of what this Python has, which hides nothing from a reader."""
    return (
        isinstance(spelled, ast.Constant)
        and isinstance(spelled.value, str)
        and spelled.value.isidentifier()
        and spelled.value not in _REACHES_CODE
    )


def _weights_only(name: str, call: ast.Call) -> bool:
    """``torch.load(..., weights_only=True)``: tensors and plain containers only, no code
    run while loading (PyTorch's safe mode)."""
    return name == "torch.load" and any(
        k.arg == "weights_only" and isinstance(k.value, ast.Constant) and k.value.value is True
        for k in call.keywords
    )


def _local_socket(call: ast.Call, collector: _Collector) -> bool:
    """``socket.socket(socket.AF_UNIX, ...)`` (or ``family=AF_UNIX``): a socket to a path on
    this machine, never to another host."""
    family = (
        call.args[0]
        if call.args
        else next((k.value for k in call.keywords if k.arg == "family"), None)
    )
    return family is not None and collector.qual(family).rsplit(".", 1)[-1] == "AF_UNIX"


def _imported_by_call(call: ast.Call, collector: _Collector) -> str | None:
    """The module ``__import__("a.b")`` (``a``: what it returns) or ``import_module("a.b")``
    (``a.b``) binds, for a literal name; None otherwise."""
    if not call.args:
        return None
    name = _concatenated(call.args[0])  # a literal, or one in pieces ("buil" + "tins")
    if name is None or not re.fullmatch(r"[A-Za-z_][\w.]*", name):
        return None
    func = collector.qual(call.func)
    if func == "__import__":
        return name if len(call.args) > 3 or call.keywords else name.split(".")[0]
    if func == "importlib.import_module":
        return name
    return None


def _fetches_by_name(func: ast.expr) -> bool:
    """``getattr``, ``__builtins__.getattr`` or ``eval``: calls that may hand back a builtin
    named by a string."""
    if type(func) is ast.Name:
        return func.id in ("getattr", "eval")
    return (
        type(func) is ast.Attribute
        and func.attr == "getattr"
        and type(func.value) is ast.Name
        and func.value.id in ("__builtins__", "builtins")
    )


def _rebound(node: ast.Assign) -> list[tuple[str, ast.AST]]:
    """The (name, value) pairs of ``a = b`` and ``a, c = b, d``."""
    value = node.value
    if type(value) is ast.Tuple:
        (target,) = node.targets
        if type(target) is not ast.Tuple or len(target.elts) != len(value.elts):
            return []
        return [
            (t.id, v)
            for t, v in zip(target.elts, value.elts, strict=True)
            if type(t) is ast.Name and type(v) in (ast.Name, ast.Attribute)
        ]
    return [(t.id, value) for t in node.targets if type(t) is ast.Name]


def _assignment(node: ast.AST) -> tuple[list[str], ast.AST]:
    """The names an assignment-like node binds, and the expression they get data from
    (``for x in ITER`` binds ``x`` from ``ITER``)."""
    if isinstance(node, ast.Assign):
        return [n for t in node.targets for n in _target_names(t)], node.value
    if isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
        return _target_names(node.target), node.iter
    target = _target_names(node.target)  # type: ignore[attr-defined]
    value = node.value if node.value is not None else ast.Constant(None)  # type: ignore[attr-defined]
    return target, value


#: Methods that put a value into a list, set or dict (its last argument).
_FILLS = frozenset({"append", "extend", "update", "add", "insert", "setdefault"})


def _containers(targets: list[ast.expr]) -> list[str]:
    """The names of the containers an assignment puts its value in (``loot[path] = ...``,
    ``self.loot[path] = ...``)."""
    names = []
    for target in targets:
        if isinstance(target, ast.Subscript):
            names += _target_names(target.value)
    return names


def _target_names(target: ast.AST) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Attribute):
        attribute = _attribute_name(target)
        return [attribute] if attribute is not None else []
    if isinstance(target, ast.Tuple | ast.List):
        return [n for item in target.elts for n in _target_names(item)]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return []


def _matches(name: str, table: frozenset[str]) -> bool:
    if name in table:
        return True
    dot = name.rfind(".")
    return dot > 0 and name[dot:] in table


def _is_char_join(node: ast.Call, collector: _Collector) -> bool:
    """``''.join(chr(c) for c in [...])``, ``''.join(map(chr, [...]))``, ``bytes([...]).decode()``."""
    func = node.func
    joins = (isinstance(func, ast.Attribute) and func.attr == "join") or (
        isinstance(func, ast.Name) and collector.alias.get(func.id) == "str.join"
    )
    if joins and node.args:
        for sub in ast.walk(node.args[0]):
            if isinstance(sub, ast.Name) and collector.alias.get(sub.id, sub.id) == "chr":
                return True
        picked = node.args[0]
        if (
            isinstance(picked, ast.GeneratorExp | ast.ListComp)
            and isinstance(picked.elt, ast.Subscript)
            and isinstance(picked.generators[0].iter, ast.List | ast.Tuple)
            and len(picked.generators[0].iter.elts) >= 4
            and all(
                isinstance(e, ast.Constant) and type(e.value) is int
                for e in picked.generators[0].iter.elts
            )
        ):
            # `''.join(table[i] for i in [8, 12, 15, ...])`: characters picked by position.
            return True
    if isinstance(func, ast.Attribute) and func.attr == "decode":
        inner = func.value
        if isinstance(inner, ast.Call) and collector.qual(inner.func) in ("bytes", "bytearray"):
            return bool(inner.args) and isinstance(inner.args[0], ast.List | ast.Tuple)
    return False


def _xors(node: ast.AST) -> bool:
    """Whether an expression XORs (``a ^ b``) anywhere in it."""
    return any(
        isinstance(sub, ast.BinOp) and isinstance(sub.op, ast.BitXor) for sub in ast.walk(node)
    )


def _char_codes(node: ast.Call) -> str | None:
    """The text of ``''.join(map(chr, [104, 105]))`` or ``bytes([104, 105]).decode()``: the
    first list of integer literals in the call, each a character code; None otherwise."""
    for sub in ast.walk(node):
        if not isinstance(sub, ast.List | ast.Tuple) or len(sub.elts) < 2:
            continue
        codes = [e.value for e in sub.elts if isinstance(e, ast.Constant)]
        if len(codes) != len(sub.elts) or len(codes) > _MAX_DECODE:
            continue
        if all(type(c) is int and 0 < c < 0x110000 for c in codes):
            return "".join(map(chr, codes))
    return None


def _decode_constant(name: str, arg: ast.AST, collector: _Collector) -> str | None:
    """The text a decoder gives for a literal argument (nested decoders included), or None.

    Pure data transformations of bounded size; nothing decoded is ever executed.
    """
    raw = _constant_bytes(arg, collector)
    if raw is None or len(raw) > _MAX_DECODE:
        return None
    try:
        if name.endswith(("b64decode", "decodebytes", "decodestring", "a2b_base64")):
            out = base64.b64decode(raw + b"=" * (-len(raw) % 4))
        elif name.endswith("urlsafe_b64decode"):
            out = base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))
        elif name.endswith("b32decode"):
            out = base64.b32decode(raw)
        elif name.endswith(("unhexlify", "a2b_hex", "fromhex", "b16decode")):
            out = binascii.unhexlify(raw.replace(b" ", b""))
        elif name.endswith("zlib.decompress"):
            inflater = zlib.decompressobj()
            out = inflater.decompress(raw, _MAX_DECODE)
        else:
            return None
    except (binascii.Error, ValueError, zlib.error):
        return None
    return _as_text(out)


def _constant_bytes(node: ast.AST, collector: _Collector) -> bytes | None:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bytes):
            return node.value
        if isinstance(node.value, str):
            return node.value.encode("latin-1", "ignore")
    if isinstance(node, ast.Call) and node.args:
        name = collector.qual(node.func)
        if _matches(name, DECODERS):
            text = _decode_constant(name, node.args[0], collector)
            return text.encode("latin-1", "ignore") if text is not None else None
        if name.endswith(".encode") and isinstance(node.func, ast.Attribute):
            return _constant_bytes(node.func.value, collector)
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.slice, ast.Slice)
        and isinstance(node.slice.step, ast.UnaryOp)
    ):
        inner = _constant_bytes(node.value, collector)  # s[::-1], a reversed payload
        return inner[::-1] if inner is not None else None
    if isinstance(node, ast.BinOp | ast.JoinedStr):
        text = fold(node, lambda name: None)  # a payload in pieces: "eJw" + "rzs..."
        return text.encode("latin-1", "ignore") if text is not None else None
    return None


def _as_text(data: bytes) -> str:
    if data.count(b"\x00") > len(data) // 4 and len(data) > 8:
        # PowerShell's -EncodedCommand is UTF-16LE.
        try:
            return data.decode("utf-16-le")
        except UnicodeDecodeError:
            pass
    return data.decode("latin-1")


def _is_inert(node: ast.stmt) -> bool:
    """Statements that do nothing when a module runs: imports, docstrings, dunder metadata."""
    if isinstance(node, ast.Import | ast.ImportFrom | ast.Pass):
        return True
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return True
    if isinstance(node, ast.Assign):
        return all(
            isinstance(t, ast.Name) and t.id.startswith("__") and t.id.endswith("__")
            for t in node.targets
        )
    return False


# -- fallback ------------------------------------------------------------------------------

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_STRING = re.compile(r"""(?:[rbuRBU]{0,2})("[^"\n]*"|'[^'\n]*')""")


def _merge_lexical(facts: Facts, coarse: Facts) -> None:
    """Add what a line reading of the statements recovery left out finds (their lines are
    their own): their strings, calls, names, imports and ``exec`` sinks."""
    facts.strings += coarse.strings
    facts.calls += coarse.calls
    facts.sinks += coarse.sinks
    for name, line in coarse.names.items():
        facts.names.setdefault(name, line)
    for module, line in coarse.imports.items():
        facts.imports.setdefault(module, line)


def _lexical(text: str) -> Facts:
    """Coarse facts of source ``ast`` cannot read: names, dotted words and strings per line."""
    facts = Facts(parsed=False)
    facts.max_line = text.count("\n") + 1
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
        lines = _token_lines(tokens)
    except (tokenize.TokenError, IndentationError, SyntaxError, ValueError, RecursionError):
        lines = _regex_lines(text)
    for line, words, strings in lines:
        for word in words:
            facts.names.setdefault(word, line)
            if word.startswith(("import ", "from ")):
                continue
        for value in strings:
            facts.strings.append((value, line))
        joined = " ".join(words)
        for word in words:
            if word in ("exec", "eval", "compile"):
                feed = (
                    "decoded"
                    if any(
                        _matches(w, DECODERS) or w.split(".")[-1] in _LEX_DECODERS for w in words
                    )
                    else "other"
                )
                facts.sinks.append(ExecSink(word, feed, line))
        if joined.startswith(("import ", "from ")):
            parts = joined.split()
            if len(parts) > 1:
                facts.imports.setdefault(parts[1], line)
        for word in words:
            if "." in word or word in ("exec", "eval", "open", "getattr", "__import__"):
                facts.calls.append(Call(word, line))
    return facts


_LEX_DECODERS = frozenset({"b64decode", "decompress", "unhexlify", "fromhex", "loads", "decrypt"})


def _token_lines(tokens: list[tokenize.TokenInfo]) -> list[tuple[int, list[str], list[str]]]:
    out: dict[int, tuple[list[str], list[str]]] = {}
    dotted: list[str] = []
    previous = None
    for token in tokens:
        words, strings = out.setdefault(token.start[0], ([], []))
        if token.type == tokenize.NAME:
            if previous is not None and previous.string == "." and dotted:
                dotted[-1] += "." + token.string
                words[-1:] = [dotted[-1]]
            else:
                dotted.append(token.string)
                words.append(token.string)
        elif token.type == tokenize.STRING:
            strings.append(_unquote(token.string))
        previous = token
    return [(line, words, strings) for line, (words, strings) in sorted(out.items())]


def _regex_lines(text: str) -> list[tuple[int, list[str], list[str]]]:
    return [
        (number, _WORD.findall(line), [m.group(1)[1:-1] for m in _STRING.finditer(line)])
        for number, line in enumerate(text.splitlines(), start=1)
    ]


def _unquote(token: str) -> str:
    body = token.lstrip("rbuRBUfF")
    for quote in ('"""', "'''", '"', "'"):
        if body.startswith(quote) and body.endswith(quote) and len(body) >= 2 * len(quote):
            return body[len(quote) : -len(quote)]
    return body
