"""What one Python source says, read statically: calls, strings, imports, exec sinks.

``read_source(text)`` parses with ``ast`` (never compiles to bytecode, never imports or runs
anything) and collects ``Facts``: every call with its dotted name resolved through the
module's imports (``from base64 import b64decode as d; d(x)`` is ``base64.b64decode``), every
string literal (plus what constant ``base64``/``hex``/``zlib`` decodes of literals give, found
statically), and every ``exec``/``eval``/``compile``/``__import__`` with what feeds it. A file
``ast`` cannot parse (Python 2, truncated, deliberately broken) falls back to ``tokenize``,
and one that cannot even be tokenized to a line-based reading; the facts are then coarser
(``parsed`` is false) but strings and names are still seen.
"""

from __future__ import annotations

import ast
import base64
import binascii
import io
import re
import tokenize
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

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
    }
)
EXEC_SINKS = frozenset({"exec", "eval", "compile", "execfile", "builtins.exec", "builtins.eval"})
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
    }
)
_ESCAPE = re.compile(r"\\(?:x[0-9a-fA-F]{2}|[0-7]{3})")
_MAX_DECODE = 256 * 1024
_ESCAPES = re.compile(r"\\x[0-9a-fA-F]{2}")


@dataclass(slots=True)
class Call:
    name: str
    line: int
    args: tuple[str, ...] = ()  # the string literals among its arguments, in order
    top: bool = False  # runs when the module runs (module level, or a function it calls)


@dataclass(slots=True)
class ExecSink:
    """An ``exec``-like call and what feeds it: ``decoded`` (``payload`` when decoded from a
    literal in the file), ``network``, ``file``, ``literal`` or ``other``."""

    sink: str
    feed: str
    line: int


@dataclass(slots=True)
class Facts:
    parsed: bool = True
    imports: dict[str, int] = field(default_factory=dict)  # module -> first line
    local_imports: set[str] = field(default_factory=set)  # ".mod", "pkg.mod", "mod"
    calls: list[Call] = field(default_factory=list)
    strings: list[tuple[str, int]] = field(default_factory=list)
    decoded: list[tuple[str, int]] = field(default_factory=list)  # literals decoded statically
    sinks: list[ExecSink] = field(default_factory=list)
    names: dict[str, int] = field(default_factory=dict)  # identifiers -> first line
    statements: int = 0  # top-level statements other than imports, docstrings, __all__...
    definitions: int = 0  # functions and classes anywhere
    builtins_getattr: int = 0  # getattr(__builtins__, ...) and friends
    escapes: int = 0  # \\x41 and \\101 escapes in the source text
    refs: set[str] = field(default_factory=set)  # dotted names referred to (os.uname)
    code_literals: list[tuple[str, int]] = field(default_factory=list)  # strings, not docstrings
    max_line: int = 0

    def called(self, *names: str) -> Call | None:
        """The first call to one of ``names`` (a leading dot matches any receiver)."""
        for call in self.calls:
            for name in names:
                if call.name == name or (name.startswith(".") and call.name.endswith(name)):
                    return call
        return None


def read_source(text: str, *, nested: int = 2) -> Facts:
    """The facts of ``text``; never raises for bad input (falls back as described above).

    Python source hidden in a string literal (a payload written to a file and run, a
    ``python -c`` argument, a literal decoded statically) is read too, ``nested`` levels
    deep, and its facts are merged in at the line of the literal.
    """
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return _lexical(text)
    try:
        facts = _Collector().collect(tree, text)
    except RecursionError:
        return _lexical(text)
    if nested > 0:
        _merge_nested(facts, nested)
    return facts


_CODE_HINT = re.compile(r"(?:^|[;\n])\s*(?:import |from \S+ import |exec\(|eval\()")
#: Only hidden code that does something worth hiding is read (each read costs a parse).
_DANGER_HINT = re.compile(
    r"exec|eval|socket|subprocess|urlopen|requests|system|b64decode|dup2|Popen|decrypt|marshal"
)
_MAX_NESTED = 128 * 1024


def _merge_nested(facts: Facts, nested: int) -> None:
    budget = _MAX_NESTED
    for text, line in [*facts.code_literals, *facts.decoded]:
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
        facts.builtins_getattr += inner.builtins_getattr


# -- ast -----------------------------------------------------------------------------------


class _Collector:
    """One walk over the tree; the costlier taint tracking only where an exec sink exists."""

    def __init__(self) -> None:
        self.facts = Facts()
        self.alias: dict[str, str] = {}
        self.tainted: dict[str, str] = {}  # name -> "decoded" | "payload" | "network"
        self.literals: set[str] = set()  # names bound to a string or bytes literal
        self._assigns: list[tuple[list[str], ast.AST]] = []
        self._call_nodes: list[ast.Call] = []

    def collect(self, tree: ast.Module, text: str) -> Facts:
        facts = self.facts
        facts.max_line = text.count("\n") + 1
        if "\\" in text:
            facts.escapes = len(_ESCAPE.findall(text))
        nodes = _walk(tree)
        rebinds = []
        for node in nodes:
            kind = type(node)
            if kind is ast.Import or kind is ast.ImportFrom:
                self._import(node)  # type: ignore[arg-type]
            elif (
                kind is ast.Assign
                and type(node.value) in (ast.Name, ast.Attribute)  # type: ignore[attr-defined]
                and all(type(t) is ast.Name for t in node.targets)  # type: ignore[attr-defined]
            ):
                rebinds.append(node)
        for node in rebinds:
            # `run = exec; run(payload)`: the new name is the builtin it is bound to.
            target = self.qual(node.value)  # type: ignore[attr-defined]
            if target in EXEC_SINKS or target in PROCESS_SINKS:
                for name in node.targets:  # type: ignore[attr-defined]
                    self.alias[name.id] = target
        for node in tree.body:
            if not _is_inert(node):
                facts.statements += 1
        pending: list[tuple[str, ast.Call]] = []
        docstrings = _docstrings(nodes)
        strings, code_literals, names = facts.strings, facts.code_literals, facts.names
        for node in nodes:
            kind = type(node)
            if kind is ast.Name:
                if node.id not in names:  # type: ignore[attr-defined]
                    names[node.id] = node.lineno  # type: ignore[attr-defined]
            elif kind is ast.Constant:
                value = node.value  # type: ignore[attr-defined]
                if type(value) in (str, bytes) and id(node) not in docstrings:
                    # Docstrings are prose: a path or URL mentioned there is documentation.
                    text = value if type(value) is str else value.decode("latin-1")
                    strings.append((text, node.lineno))  # type: ignore[attr-defined]
                    if len(text) >= 24:
                        code_literals.append((text, node.lineno))  # type: ignore[attr-defined]
            elif kind is ast.Call:
                name = self._call(node)  # type: ignore[arg-type]
                if (
                    name in EXEC_SINKS
                    or name in PROCESS_SINKS
                    or (
                        name in ("__import__", "importlib.import_module")
                        and node.args  # type: ignore[attr-defined]
                        and type(node.args[0]) is not ast.Constant  # type: ignore[attr-defined]
                    )
                ):
                    pending.append((name, node))  # type: ignore[arg-type]
            elif kind is ast.Attribute:
                if node.attr in _HOST_ATTRS:  # type: ignore[attr-defined]
                    name = self.qual(node)
                    if name and not name.startswith("."):
                        facts.refs.add(name)
            elif kind in _DEFINITIONS:
                facts.definitions += 1
                names.setdefault(node.name, node.lineno)  # type: ignore[attr-defined]
            elif kind in _ASSIGNMENTS:
                targets, value = _assignment(node)  # type: ignore[arg-type]
                self._assigns.append((targets, value))
                if type(value) is ast.Constant and type(value.value) in (str, bytes):  # type: ignore[attr-defined]
                    self.literals.update(targets)
        if pending:
            self._taint(nodes, [node for _, node in pending])
            for name, node in pending:
                if name in PROCESS_SINKS:
                    # A process fed decoded *runtime* data is everyday code; one fed a
                    # payload written into the file (decoded from a literal) is not.
                    feeds = {self._feed(arg) for arg in node.args}
                    feed = "decoded" if "payload" in feeds else "other"
                else:
                    feed = self._feed(node.args[0]) if node.args else "other"
                facts.sinks.append(ExecSink(name, feed, node.lineno))
        top = _runs_on_load(tree)
        for call, node in zip(facts.calls, self._call_nodes, strict=True):
            call.top = id(node) in top
        return facts

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        facts = self.facts
        if isinstance(node, ast.Import):
            for alias in node.names:
                facts.imports.setdefault(alias.name, node.lineno)
                facts.local_imports.add(alias.name)
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

    def _call(self, node: ast.Call) -> str:
        facts = self.facts
        name = self.qual(node.func)
        literals = tuple(
            a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
        )
        if name.startswith(("subprocess.", "os.")) and node.args:
            # A command is often a list: ["sh", "-c", "curl ... | sh"].
            literals += tuple(
                sub.value
                for arg in node.args
                if isinstance(arg, ast.List | ast.Tuple)
                for sub in arg.elts
                if isinstance(sub, ast.Constant) and isinstance(sub.value, str)
            )
        facts.calls.append(Call(name, node.lineno, literals))
        self._call_nodes.append(node)
        if name == "getattr" and node.args:
            target = node.args[0]
            if self.qual(target) in ("__builtins__", "builtins") or (
                isinstance(target, ast.Call) and self.qual(target.func) == "globals"
            ):
                facts.builtins_getattr += 1
        if node.args and _matches(name, DECODERS):
            decoded = _decode_constant(name, node.args[0], self)
            if decoded:
                facts.decoded.append((decoded, node.lineno))
        return name

    def _taint(self, nodes: list[ast.AST], sinks: list[ast.Call]) -> None:
        """Mark the names that carry decoded or downloaded data into ``sinks``.

        Only names the sinks' arguments use are followed (two assignments back, and the
        return values of functions called there), so a large module with one ``exec`` costs
        a few sub-walks, not one per assignment.
        """
        needed = {n.id for call in sinks for arg in call.args for n in _names(arg)}
        if not needed:
            return
        functions = {
            node.name: node
            for node in nodes
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        for _ in range(3):
            relevant = [(t, v) for t, v in self._assigns if needed.intersection(t)]
            for name in needed & functions.keys():
                relevant += [
                    ([name], sub.value)
                    for sub in ast.walk(functions[name])
                    if isinstance(sub, ast.Return) and sub.value is not None
                ]
            grown = set(needed)
            for targets, value in relevant:
                feed = self._feed(value)
                if feed in ("decoded", "payload", "network"):
                    for target in targets:
                        self.tainted[target] = feed
                grown |= {n.id for n in _names(value)}
            if grown == needed:
                break
            needed = grown

    def qual(self, node: ast.AST) -> str:
        """The dotted name of an expression, resolved through imports ('' when unknown)."""
        if isinstance(node, ast.Name):
            return self.alias.get(node.id, node.id)
        if isinstance(node, ast.Attribute):
            base = self.qual(node.value)
            return f"{base}.{node.attr}" if base else f".{node.attr}"
        if isinstance(node, ast.Call):
            func = self.qual(node.func)
            if func in ("__import__", "importlib.import_module") and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    return first.value
            if func == "getattr" and len(node.args) >= 2:
                target, attr = node.args[0], node.args[1]
                if isinstance(attr, ast.Constant) and isinstance(attr.value, str):
                    base = self.qual(target)
                    if base in ("__builtins__", "builtins"):
                        return attr.value
                    return f"{base}.{attr.value}" if base else f".{attr.value}"
            return f"{func}()" if func else ""
        if isinstance(node, ast.Subscript):
            return self.qual(node.value)
        return ""

    def _feed(self, node: ast.AST) -> str:
        """What flows into ``node``: decoded data, network data, a file, a literal."""
        kinds = set()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call):
                name = self.qual(sub.func)
                if _matches(name, DECODERS):
                    constant = bool(sub.args) and self._constant(sub.args[0])
                    kinds.add("payload" if constant else "decoded")
                elif _is_char_join(sub, self):
                    kinds.add("payload")
                elif _matches(name, NETWORK_READS):
                    kinds.add("network")
                elif name in ("open", "io.open", "codecs.open") or name.endswith(
                    (".read_text", ".read_bytes")
                ):
                    kinds.add("file")
                elif name in self.tainted:
                    kinds.add(self.tainted[name])
            elif isinstance(sub, ast.Name) and sub.id in self.tainted:
                kinds.add(self.tainted[sub.id])
        for kind in ("network", "payload", "decoded", "file"):
            if kind in kinds:
                return kind
        if isinstance(node, ast.Constant):
            return "literal"
        return "other"

    def _constant(self, node: ast.AST) -> bool:
        """Whether ``node`` is data written into the file: a literal, a name bound to one,
        or such data reversed, encoded or decoded again (``b64decode(PAYLOAD[::-1])``)."""
        for _ in range(8):
            if isinstance(node, ast.Constant | ast.JoinedStr):
                return True
            if isinstance(node, ast.Name):
                return node.id in self.literals
            if isinstance(node, ast.Subscript):
                node = node.value
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


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_ASSIGNMENTS = (ast.Assign, ast.AnnAssign, ast.NamedExpr)
#: Attributes read as host facts when referred to, not only called (``try_call(os.uname)``).
_HOST_ATTRS = frozenset({"uname", "getuser", "gethostname", "node", "getlogin", "getnode"})


def _walk(root: ast.AST) -> list[ast.AST]:
    """Every node under ``root``, breadth first (``ast.walk``, without its generators)."""
    out = [root]
    index = 0
    while index < len(out):
        node = out[index]
        index += 1
        for attribute in node._fields:
            value = getattr(node, attribute, None)
            if isinstance(value, ast.AST):
                out.append(value)
            elif type(value) is list:
                out.extend(item for item in value if isinstance(item, ast.AST))
    return out


def _names(node: ast.AST) -> Iterator[ast.Name]:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            yield sub
        elif isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name):
            yield sub.func


def _docstrings(nodes: list[ast.AST]) -> set[int]:
    """Ids of the docstring constants (their examples are prose, not code)."""
    found = set()
    for node in nodes:
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _runs_on_load(tree: ast.Module, depth: int = 3) -> set[int]:
    """Ids of the calls that run when the module runs: module level (class bodies too, not
    ``if __name__ == "__main__"``), and the bodies of module functions called from there."""
    functions = {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    found: set[int] = set()
    entered: set[str] = set()
    frontier: list[ast.AST] = list(tree.body)
    for _ in range(depth + 1):
        following: list[ast.AST] = []
        stack = frontier
        while stack:
            node = stack.pop()
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue
            if isinstance(node, ast.If) and _is_main_guard(node.test):
                stack.extend(node.orelse)
                continue
            if isinstance(node, ast.Call):
                found.add(id(node))
                func = node.func
                if isinstance(func, ast.Name) and func.id in functions and func.id not in entered:
                    entered.add(func.id)
                    following.extend(functions[func.id].body)
            stack.extend(ast.iter_child_nodes(node))
        frontier = following
        if not frontier:
            break
    return found


def _is_main_guard(test: ast.expr) -> bool:
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
    )


def _assignment(node: ast.Assign | ast.AnnAssign | ast.NamedExpr) -> tuple[list[str], ast.AST]:
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)], node.value
    target = [node.target.id] if isinstance(node.target, ast.Name) else []
    value = node.value if node.value is not None else ast.Constant(None)
    return target, value


def _matches(name: str, table: frozenset[str]) -> bool:
    if name in table:
        return True
    dot = name.rfind(".")
    return dot > 0 and name[dot:] in table


def _is_char_join(node: ast.Call, collector: _Collector) -> bool:
    """``''.join(chr(c) for c in [...])``, ``''.join(map(chr, [...]))``, ``bytes([...]).decode()``."""
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr == "join" and node.args:
        for sub in ast.walk(node.args[0]):
            if isinstance(sub, ast.Name) and collector.alias.get(sub.id, sub.id) == "chr":
                return True
    if isinstance(func, ast.Attribute) and func.attr == "decode":
        inner = func.value
        if isinstance(inner, ast.Call) and collector.qual(inner.func) in ("bytes", "bytearray"):
            return bool(inner.args) and isinstance(inner.args[0], ast.List | ast.Tuple)
    return False


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
