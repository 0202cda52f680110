"""How much of what the scan holds it still holds once the code is rewritten the way evasive
uploads rewrite it: the same behaviour, other spelling.

    .venv/bin/python -m benchmarks.scan_mutations [--workers 2] [--limit N] [--write]

Development malware only (added to the registry before 2025-01-01, as ``scan_eval``'s
default), one sample per campaign cluster (``scan_clusters``), so a campaign of thousands
counts once. Each sample the scan holds as it is is rewritten by each *mutation* below, in
memory, every Python file of the archive that parses (``ast``, then ``ast.unparse``; a file
that does not parse is left as it is), and scanned again. The report gives, per mutation,
the share of the rewritten samples still held. Nothing is extracted, installed or run: the
archives are read and rebuilt as bytes, and the rewritten code is only scanned.

The mutations are generic (what obfuscators and hand-written evasions do), not taken from
any sample:

- ``function``: a module's code (imports aside) moved into a function the module calls;
- ``try``: a module's code wrapped in ``try: ... except Exception: pass``;
- ``thread``: a module's code moved into a function started on a thread;
- ``split``: every string of six characters or more split in two and joined by ``+``;
- ``reverse``: every such string written reversed and read back with ``[::-1]``;
- ``base64``: every such string spelled in base64 and decoded where it is used;
- ``hex``: every such string spelled in hex (``bytes.fromhex(...).decode()``);
- ``chr``: every such string spelled as character codes (``''.join(map(chr, [...]))``);
- ``rot13``: every such string spelled in ROT13 (``codecs.decode(..., "rot13")``);
- ``pad``: 12,000 harmless functions (about 700 KB) put before a module's own code;
- ``alias``: every plain ``import x`` renamed (``import x as _m0``), uses renamed too;
- ``getattr``: calls of an imported module's functions made through ``getattr(x, "name")``;
- ``relocate``: the code of ``setup.py`` and each package ``__init__.py`` moved into a
  module beside it, which the original file imports;
- ``method``: a module's code moved into a method of a class the module makes and calls;
- ``async``: a module's code moved into a coroutine run by ``asyncio.run``;
- ``atexit``: a module's code moved into a function run at exit (``atexit.register``);
- ``importlib`` / ``dunder``: every plain ``import x`` made ``x = importlib.import_module("x")``
  / ``x = __import__("x")`` (``from x import y``: ``y = importlib.import_module("x").y``);
- ``names``: every such string bound to a module-level name first and used by that name;
- ``table``: every such string put in one module-level list and used by its index;
- ``bytes``: every such string spelled as bytes (``b"...".decode()``);
- ``zlib``: every such string compressed and base64-encoded, decoded where it is used;
- ``join``: every such string spelled as a list of its characters joined (``"".join([...])``);
- ``format``: every such string split in two and put together by ``"{}{}".format(a, b)``;
- ``exec``: a module's whole text handed to ``exec`` as one string literal.
"""

from __future__ import annotations

import argparse
import ast
import base64
import codecs
import io
import json
import sys
import tarfile
import time
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.scan_clusters import clusters, fingerprint  # noqa: E402
from benchmarks.scan_eval import REGISTRY, blobs, malware  # noqa: E402
from pipgate.policies.scan import ScanPolicy  # noqa: E402
from pipgate.proxy.scan import scan_archive  # noqa: E402
from pipgate.proxy.scan.rules import RULES_VERSION  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
POLICY = ScanPolicy()
MIN_STRING = 6
#: Python files larger than this are left as they are (unparse of megabytes is slow).
#: (``pad`` makes every file it rewrites about 700 KB.)
MAX_REWRITE = 256 * 1024


# -- mutations of one module --------------------------------------------------------------


def _split_body(tree: ast.Module) -> tuple[list[ast.stmt], list[ast.stmt]]:
    """(statements that stay at the top: docstring, imports; the rest)."""
    head: list[ast.stmt] = []
    rest: list[ast.stmt] = []
    for index, node in enumerate(tree.body):
        docstring = (
            index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        )
        if docstring or (isinstance(node, ast.Import | ast.ImportFrom) and not rest):
            head.append(node)
        else:
            rest.append(node)
    return head, rest


def _parse(code: str) -> ast.Module:
    return ast.parse(code)


def _wrapped(tree: ast.Module, how: str) -> ast.Module | None:
    head, rest = _split_body(tree)
    if not rest or any(isinstance(n, ast.ImportFrom) and n.module == "__future__" for n in rest):
        return None
    if how == "try":
        body = [ast.Try(body=rest, handlers=[_except_pass()], orelse=[], finalbody=[])]
        return ast.Module(body=head + body, type_ignores=[])
    # `global` for every name the code binds at module level, so what other modules import
    # from this one (and functions defined here read) is still bound at module level.
    bound = sorted(_module_names(rest))
    inner: list[ast.stmt] = [ast.Global(names=bound)] if bound else []
    function = ast.FunctionDef(
        name="_pg_main",
        args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]),
        body=inner + rest,
        decorator_list=[],
        returns=None,
        type_params=[],
    )
    if how == "method":
        function.args.args = [ast.arg("self")]
        holder: ast.stmt = ast.ClassDef(
            name="_PgMain",
            bases=[],
            keywords=[],
            body=[function],
            decorator_list=[],
            type_params=[],
        )
        return ast.Module(
            body=[*head, holder, *_parse("_PgMain()._pg_main()").body], type_ignores=[]
        )
    if how == "async":
        coroutine = ast.AsyncFunctionDef(**{f: getattr(function, f) for f in function._fields})
        start = _parse("import asyncio as _pg_asyncio\n_pg_asyncio.run(_pg_main())").body
        return ast.Module(body=[*head, coroutine, *start], type_ignores=[])
    starts = {
        "thread": "import threading as _pg_threading\n_pg_threading.Thread(target=_pg_main).start()",
        "atexit": "import atexit as _pg_atexit\n_pg_atexit.register(_pg_main)",
    }
    start = _parse(starts.get(how, "_pg_main()")).body
    return ast.Module(body=[*head, function, *start], type_ignores=[])


def _except_pass() -> ast.ExceptHandler:
    return ast.ExceptHandler(type=ast.Name("Exception", ast.Load()), name=None, body=[ast.Pass()])


def _module_names(statements: list[ast.stmt]) -> set[str]:
    names: set[str] = set()
    for statement in statements:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(statement.name)
            continue
        for node in ast.walk(statement):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
                continue
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.alias):
                names.add((node.asname or node.name).split(".")[0])
    return names


class _Strings(ast.NodeTransformer):
    """Rewrites string constants (not docstrings, f-string parts, or annotations)."""

    def __init__(self, spell: Callable[[str], ast.expr]) -> None:
        self.spell = spell
        self.changed = 0

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        return node  # parts of an f-string must stay constants

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        if isinstance(node.value, ast.Constant):
            return node  # a docstring, or a bare string
        return self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST:
        return node

    def visit_MatchValue(self, node: ast.AST) -> ast.AST:
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, str) and len(node.value) >= MIN_STRING:
            self.changed += 1
            return ast.copy_location(self.spell(node.value), node)
        return node


def _split(text: str) -> ast.expr:
    half = len(text) // 2
    return ast.BinOp(ast.Constant(text[:half]), ast.Add(), ast.Constant(text[half:]))


def _reverse(text: str) -> ast.expr:
    return ast.Subscript(
        ast.Constant(text[::-1]), ast.Slice(None, None, ast.Constant(-1)), ast.Load()
    )


def _base64(text: str) -> ast.expr:
    data = base64.b64encode(text.encode("utf-8", "surrogatepass")).decode()
    return _parse(f"_pg_b64.b64decode({data!r}).decode('utf-8', 'surrogatepass')").body[0].value  # type: ignore[attr-defined]


def _hex(text: str) -> ast.expr:
    data = text.encode("utf-8", "surrogatepass").hex()
    return _parse(f"bytes.fromhex({data!r}).decode('utf-8', 'surrogatepass')").body[0].value  # type: ignore[attr-defined]


def _char_codes(text: str) -> ast.expr:
    codes = ", ".join(str(ord(c)) for c in text)
    return _parse(f"''.join(map(chr, [{codes}]))").body[0].value  # type: ignore[attr-defined]


def _rot13(text: str) -> ast.expr:
    spelled = codecs.encode(text, "rot13")
    return _parse(f"_pg_codecs.decode({spelled!r}, 'rot13')").body[0].value  # type: ignore[attr-defined]


#: Harmless code put before a module's own: what pads a payload past a scanner's reading.
PADDING = "".join(
    f"def _pg_pad_{i}(value):\n    return [value * {i} for _ in range(3)]\n\n" for i in range(12000)
)


def _padded(code: str) -> str | None:
    """``code`` with ``PADDING`` put before its first statement that is no import (a text
    edit: unparsing 12,000 functions for every file would take minutes)."""
    _head, rest = _split_body(ast.parse(code))
    if not rest or getattr(rest[0], "col_offset", 0):
        return None
    lines = code.splitlines(keepends=True)
    at = rest[0].lineno - 1
    return "".join([*lines[:at], PADDING, *lines[at:]])


def _bytes(text: str) -> ast.expr:
    data = text.encode("utf-8", "surrogatepass")
    return _parse(f"{data!r}.decode('utf-8', 'surrogatepass')").body[0].value  # type: ignore[attr-defined]


def _zlib(text: str) -> ast.expr:
    data = base64.b64encode(zlib.compress(text.encode("utf-8", "surrogatepass"))).decode()
    return (
        _parse(f"_pg_zlib.decompress(_pg_b64.b64decode({data!r})).decode('utf-8', 'surrogatepass')")
        .body[0]
        .value
    )  # type: ignore[attr-defined]


def _joined(text: str) -> ast.expr:
    return _parse(f"''.join({list(text)!r})").body[0].value  # type: ignore[attr-defined]


def _formatted(text: str) -> ast.expr:
    half = len(text) // 2
    return _parse(f"'{{}}{{}}'.format({text[:half]!r}, {text[half:]!r})").body[0].value  # type: ignore[attr-defined]


class _Table:
    """Strings moved out of the code into module-level names (``names``) or one list
    (``table``), defined before the module's first statement that is no import."""

    def __init__(self, how: str) -> None:
        self.how = how
        self.texts: list[str] = []

    def spell(self, text: str) -> ast.expr:
        self.texts.append(text)
        index = len(self.texts) - 1
        if self.how == "names":
            return ast.Name(f"_pg_s{index}", ast.Load())
        return ast.Subscript(ast.Name("_pg_t", ast.Load()), ast.Constant(index), ast.Load())

    def prelude(self) -> str:
        if self.how == "names":
            return "\n".join(f"_pg_s{i} = {t!r}" for i, t in enumerate(self.texts))
        return f"_pg_t = {self.texts!r}"


def _tabled(tree: ast.Module, how: str) -> ast.Module | None:
    table = _Table(how)
    rewriter = _Strings(table.spell)
    tree = rewriter.visit(tree)
    if not rewriter.changed:
        return None
    head, rest = _split_body(tree)
    tree.body = head + _parse(table.prelude()).body + rest
    return tree


def _imported(tree: ast.Module, how: str) -> ast.Module | None:
    loader = "_pg_importlib.import_module" if how == "importlib" else "__import__"
    changed = 0
    body: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, ast.Import) and all("." not in a.name for a in node.names):
            body.extend(
                _parse(f"{a.asname or a.name} = {loader}({a.name!r})").body[0] for a in node.names
            )
            changed += 1
        elif (
            isinstance(node, ast.ImportFrom)
            and not node.level
            and node.module not in (None, "__future__")
            and "." not in (node.module or "")
            and all(a.name != "*" for a in node.names)
        ):
            body.extend(
                _parse(f"{a.asname or a.name} = {loader}({node.module!r}).{a.name}").body[0]
                for a in node.names
            )
            changed += 1
        else:
            body.append(node)
    if not changed:
        return None
    if how == "importlib":
        head, rest = _split_body(ast.Module(body=body, type_ignores=[]))
        future = [n for n in head if isinstance(n, ast.ImportFrom) and n.module == "__future__"]
        body = (
            future
            + _parse("import importlib as _pg_importlib").body
            + [n for n in head if n not in future]
            + rest
        )
    tree.body = body
    return tree


def _strings(
    tree: ast.Module, spell: Callable[[str], ast.expr], prelude: str = ""
) -> ast.Module | None:
    rewriter = _Strings(spell)
    tree = rewriter.visit(tree)
    if not rewriter.changed:
        return None
    if prelude:
        head, rest = _split_body(tree)
        future = [n for n in head if isinstance(n, ast.ImportFrom) and n.module == "__future__"]
        others = [n for n in head if n not in future]
        tree.body = future + _parse(prelude).body + others + rest
    return tree


def _alias(tree: ast.Module) -> ast.Module | None:
    renamed: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname is None and "." not in alias.name:
                    alias.asname = renamed[alias.name] = f"_m{len(renamed)}"
    if not renamed:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in renamed:
            node.id = renamed[node.id]
        elif isinstance(node, ast.Global | ast.Nonlocal):
            node.names = [renamed.get(n, n) for n in node.names]
    return tree


def _getattr(tree: ast.Module) -> ast.Module | None:
    modules = {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.Import)
        for alias in node.names
        if "." not in alias.name or alias.asname
    }
    changed = 0
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in modules
        ):
            node.func = ast.Call(
                ast.Name("getattr", ast.Load()),
                [node.func.value, ast.Constant(node.func.attr)],
                [],
            )
            changed += 1
    return tree if changed else None


MUTATIONS: dict[str, Callable[[ast.Module], ast.Module | None]] = {
    "function": lambda tree: _wrapped(tree, "function"),
    "try": lambda tree: _wrapped(tree, "try"),
    "thread": lambda tree: _wrapped(tree, "thread"),
    "split": lambda tree: _strings(tree, _split),
    "reverse": lambda tree: _strings(tree, _reverse),
    "base64": lambda tree: _strings(tree, _base64, "import base64 as _pg_b64"),
    "hex": lambda tree: _strings(tree, _hex),
    "chr": lambda tree: _strings(tree, _char_codes),
    "rot13": lambda tree: _strings(tree, _rot13, "import codecs as _pg_codecs"),
    "alias": _alias,
    "getattr": _getattr,
    "method": lambda tree: _wrapped(tree, "method"),
    "async": lambda tree: _wrapped(tree, "async"),
    "atexit": lambda tree: _wrapped(tree, "atexit"),
    "importlib": lambda tree: _imported(tree, "importlib"),
    "dunder": lambda tree: _imported(tree, "dunder"),
    "names": lambda tree: _tabled(tree, "names"),
    "table": lambda tree: _tabled(tree, "table"),
    "bytes": lambda tree: _strings(tree, _bytes),
    "zlib": lambda tree: _strings(tree, _zlib, "import base64 as _pg_b64, zlib as _pg_zlib"),
    "join": lambda tree: _strings(tree, _joined),
    "format": lambda tree: _strings(tree, _formatted),
}


def mutate_module(code: str, mutation: str) -> str | None:
    """``code`` rewritten by ``mutation``, or ``None`` (does not parse, nothing to rewrite)."""
    try:
        if mutation == "pad":
            return _padded(code)
        if mutation == "exec":
            if not ast.parse(code).body:
                return None  # nothing runs (an empty `__init__.py`)
            return f"exec({code!r})\n"
        tree = ast.parse(code)
        changed = MUTATIONS[mutation](tree)
        if changed is None:
            return None
        ast.fix_missing_locations(changed)
        return ast.unparse(changed) + "\n"
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


# -- archives -----------------------------------------------------------------------------


def _members(data: bytes, filename: str) -> tuple[str, list[tuple[str, bytes]]]:
    """("zip" | "tar:<mode>", [(name, bytes)]) of the archive's regular files."""
    if filename.endswith((".whl", ".zip", ".egg")):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "zip", [
                (info.filename, archive.read(info))
                for info in archive.infolist()
                if not info.is_dir()
            ]
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        return "tar", [
            (member.name, archive.extractfile(member).read())  # type: ignore[union-attr]
            for member in archive.getmembers()
            if member.isfile()
        ]


def _pack(kind: str, members: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    if kind == "zip":
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in members:
                archive.writestr(name, data)
    else:
        with tarfile.open(fileobj=out, mode="w:gz") as archive:
            for name, data in members:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _relocated(members: list[tuple[str, bytes]]) -> list[tuple[str, bytes]] | None:
    out: list[tuple[str, bytes]] = []
    changed = 0
    for name, data in members:
        base = name.rsplit("/", 1)[-1]
        depth = name.count("/")
        if base in ("setup.py", "__init__.py") and depth <= 2 and len(data) <= MAX_REWRITE:
            folder = name[: -len(base)]
            module = "_pg_setup_impl" if base == "setup.py" else "_pg_impl"
            if base == "setup.py":
                stub = f"import sys, os\nsys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))\nimport {module}\n"
            else:
                stub = f"from .{module} import *\n"
            out.append((name, stub.encode()))
            out.append((f"{folder}{module}.py", data))
            changed += 1
        else:
            out.append((name, data))
    return out if changed else None


def mutate_archive(data: bytes, filename: str, mutation: str) -> bytes | None:
    """The archive with its Python rewritten, or ``None`` when nothing was."""
    kind, members = _members(data, filename)
    if mutation == "relocate":
        relocated = _relocated(members)
        return _pack(kind, relocated) if relocated is not None else None
    out: list[tuple[str, bytes]] = []
    changed = 0
    for name, content in members:
        if name.endswith(".py") and len(content) <= MAX_REWRITE:
            rewritten = mutate_module(content.decode("utf-8", "replace"), mutation)
            if rewritten is not None:
                content = rewritten.encode("utf-8", "surrogatepass")
                changed += 1
        out.append((name, content))
    return _pack(kind, out) if changed else None


ALL = (*MUTATIONS, "pad", "relocate", "exec")


def _held(data: bytes, filename: str) -> bool:
    return not POLICY.decide(scan_archive(data, filename)).allowed


def _job(item: tuple[str, bytes, tuple[str, ...]]) -> dict[str, object]:
    name, data, mutations = item
    filename = name.rsplit("/", 1)[-1]
    row: dict[str, object] = {"name": name, "held": _held(data, filename)}
    if not row["held"]:
        return row
    for mutation in mutations:
        try:
            mutated = mutate_archive(data, filename, mutation)
        except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError, ValueError):
            mutated = None
        row[mutation] = None if mutated is None else _held(mutated, filename)
    return row


def run(workers: int, limit: int | None, only: tuple[str, ...] = ALL) -> dict[str, object]:
    samples = malware(REGISTRY, "2025-01-01", None)
    items = [(s.name, data) for s, data in blobs(REGISTRY, samples)]
    prints = [fingerprint(data, name.rsplit("/", 1)[-1]) for name, data in items]
    labels = clusters(prints)
    chosen = sorted({label: items[label] for label in labels}.values())
    if limit:
        chosen = chosen[:limit]
    jobs = [(name, data, only) for name, data in chosen]
    started = time.perf_counter()
    with Pool(workers) as pool:
        rows = pool.map(_job, jobs, chunksize=4)
    return {
        "rules": RULES_VERSION,
        "clusters": len(chosen),
        "held": sum(1 for r in rows if r["held"]),
        "seconds": round(time.perf_counter() - started, 1),
        "mutations": {
            mutation: dict(Counter(str(r.get(mutation)) for r in rows if r["held"]))
            for mutation in only
        },
        "missed": {
            mutation: sorted(r["name"] for r in rows if r["held"] and r.get(mutation) is False)  # type: ignore[misc]
            for mutation in only
        },
    }


def markdown(data: dict) -> str:  # type: ignore[type-arg]
    lines = [
        "# Held after rewriting (`benchmarks/scan_mutations.py`)",
        "",
        f"Rules {data['rules']}; development malware, one sample per campaign cluster: "
        f"{data['clusters']} clusters, {data['held']} held as they are. Each rewritten "
        "sample is scanned again; *rewritten* counts the held samples the mutation changed.",
        "",
        "| mutation | rewritten | still held |",
        "|---|---|---|",
    ]
    for mutation, counts in data["mutations"].items():
        rewritten = counts.get("True", 0) + counts.get("False", 0)
        share = counts.get("True", 0) / rewritten if rewritten else 0.0
        lines.append(f"| `{mutation}` | {rewritten} | {share:.1%} ({counts.get('True', 0)}) |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--only", nargs="+", choices=ALL, default=list(ALL))
    parser.add_argument("--write", action="store_true", help="write results/scan_mutations.*")
    parser.add_argument("--json", type=Path, help="also write the full result (misses) here")
    args = parser.parse_args(argv)
    data = run(args.workers, args.limit, tuple(args.only))
    text = markdown(data)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(data, indent=1))
    if args.write:
        (RESULTS / "scan_mutations.md").write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
