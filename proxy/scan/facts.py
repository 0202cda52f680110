"""What reading one Python file finds (``source.read_source``), as data the rules judge:
the calls it makes, what feeds its ``exec``-like sinks, what it sends and drops, and counts
of what hides code. Plain records; nothing here reads source."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Call:
    name: str
    line: int
    args: tuple[str, ...] = ()  # the string literals among its arguments, in order
    top: bool = False  # runs when the module runs (module level, or a function it calls)
    within: str = ""  # the function it is in ('' at module level)
    keywords: tuple[str, ...] = ()  # the keyword arguments' names (process calls only)
    discarded: bool = False  # a statement of its own: nothing reads what it returns


@dataclass(slots=True)
class ExecSink:
    """An ``exec``-like call and what feeds it: ``decoded`` (``payload`` when decoded from a
    literal in the file), ``network``, ``file``, ``literal`` or ``other``."""

    sink: str
    feed: str
    line: int


@dataclass(slots=True)
class Send:
    """A call that sends data out (an HTTP request, a socket send, a DNS look-up, a mail)
    and the kinds of data that reach its arguments (``SOURCE_KINDS``)."""

    name: str
    kinds: frozenset[str]
    line: int
    top: bool = False
    fixed: bool = False  # to an address written into the file (a literal, or one decoded)
    host: bool = False  # to a URL that starts with a literal host (`"https://h/x/" + data`)


@dataclass(slots=True)
class Drop:
    """A file written with data of ``kinds`` (downloaded, decoded, embedded) and then run,
    made executable or opened by ``runner``."""

    line: int
    kinds: frozenset[str]
    runner: str


#: How a kind names what another of the project's modules hands over, until the scan
#: links the modules (``linking``): ``"module:.send.ship()"`` (what the function returns),
#: ``"module:.blob.DATA"`` (a module-level value).
FOREIGN = "module:"


def foreign_kinds(kinds: set[str] | frozenset[str]) -> frozenset[str]:
    """The ``FOREIGN`` kinds among ``kinds``: what other modules hand over."""
    return frozenset(kind for kind in kinds if kind.startswith(FOREIGN))


def own_kinds(kinds: set[str] | frozenset[str]) -> frozenset[str]:
    """``kinds`` without the ``FOREIGN`` ones: the file's own data."""
    return frozenset(kind for kind in kinds if not kind.startswith(FOREIGN))


@dataclass(frozen=True, slots=True)
class Export:
    """What a function of the file does with data, for the project's other modules that
    call it: what it returns (``SOURCE_KINDS``, perhaps ``FOREIGN`` ones), the ``exec``-like
    or process sink its parameters reach, and the send they reach (name, to an address
    written in, to a literal host)."""

    returns: frozenset[str] = frozenset()
    runs: str = ""
    sends: str = ""
    fixed: bool = False
    host: bool = False
    address: str = ""  # the parameter it sends to, when the caller hands the address
    params: tuple[str, ...] = ()  # its positional parameters, in order


@dataclass(frozen=True, slots=True)
class Link:
    """Data of the project's other modules reaching something in this file: ``target`` is
    ``exec`` or ``process`` (``name`` the sink), ``send`` (``name`` the call), or ``call`` (a
    function of another module, ``name`` its import reference, ``.send.ship``). ``kinds``
    are what reaches it, ``FOREIGN`` kinds still to be looked up in the other modules."""

    target: str
    name: str
    line: int
    kinds: frozenset[str]
    top: bool = False
    fixed: bool = False
    host: bool = False
    # (``call``) the arguments it hands that are addresses written in: positions ("0")
    # and keyword names.
    literal: frozenset[str] = frozenset()


@dataclass(slots=True)
class Facts:
    parsed: bool = True
    # Too large to analyse (``source.MAX_PARSE_COST``): nothing else is known of it.
    too_large: bool = False
    imports: dict[str, int] = field(default_factory=dict)  # module -> first line
    local_imports: set[str] = field(default_factory=set)  # ".mod", "pkg.mod", "mod"
    lazy_imports: set[str] = field(default_factory=set)  # of those, imported only in functions
    # Of ``lazy_imports``, those made only in functions that nothing run on import calls
    # (``loading``): each enclosing function's name -> the names imported in it. They run
    # when code run early in another module calls the function (``engine``).
    on_call_imports: dict[str, set[str]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    strings: list[tuple[str, int]] = field(default_factory=list)
    decoded: list[tuple[str, int]] = field(default_factory=list)  # literals decoded statically
    sinks: list[ExecSink] = field(default_factory=list)
    names: dict[str, int] = field(default_factory=dict)  # identifiers -> first line
    statements: int = 0  # top-level statements other than imports, docstrings, __all__...
    definitions: int = 0  # functions and classes anywhere
    builtins_getattr: int = 0  # getattr(__builtins__, ...) and friends
    char_codes: int = 0  # strings spelled as character codes (''.join(map(chr, [...])))
    escapes: int = 0  # \\x41 and \\101 escapes in the source text
    exec_aliases: int = 0  # exec/eval/compile/__import__ bound to another name
    lookalike_names: int = 0  # identifiers spelled in look-alike letters (𝗿𝗲𝙦𝘂𝙚𝘀𝘁𝘀)
    disguise: str = ""  # a source encoding that hides the text from readers (utf-7, ...)
    refs: set[str] = field(default_factory=set)  # dotted names referred to (os.uname)
    code_literals: list[tuple[str, int]] = field(default_factory=list)  # strings, not docstrings
    sends: list[Send] = field(default_factory=list)
    drops: list[Drop] = field(default_factory=list)
    embedded: list[tuple[str, int]] = field(default_factory=list)  # (executable kind, line)
    verifies_digest: bool = False  # compares a hash digest (a pinned download, verified)
    # Another package's attribute replaced by a function or class of this file
    # (`Account.create = create`, `ccxt.mexc = mexc`): (the attribute's dotted name, the
    # functions that now run in its place (`Call.within` names), line).
    patches: list[tuple[str, tuple[str, ...], int]] = field(default_factory=list)
    # The line of a transaction field the chain publishes filled with a wallet's private
    # key (`{"data": acct.key.hex()}`), or 0.
    wallet_key_published: int = 0
    # For the project's other modules (``linking``): what its functions do with data, the
    # kinds of its module-level values, and where their data reaches this file.
    exports: dict[str, Export] = field(default_factory=dict)
    # The file's functions that hand their parameters to a process (``def run(c):
    # subprocess.run(c, shell=True)``): a call of one runs what it is handed.
    process_runners: set[str] = field(default_factory=set)
    values: dict[str, frozenset[str]] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    max_line: int = 0
    # (number of calls indexed, name -> first position, last dotted part -> positions)
    _index: tuple[int, dict[str, int], dict[str, list[int]]] | None = field(
        default=None, repr=False, compare=False
    )

    def called(self, *names: str) -> Call | None:
        """The first call to one of ``names`` (a leading dot matches any receiver)."""
        exact, by_last = self._calls_index()
        first = len(self.calls)
        for name in names:
            if name.startswith("."):
                for position in by_last.get(name.rsplit(".", 1)[-1], ()):
                    if position >= first:
                        break
                    if self.calls[position].name.endswith(name):
                        first = position
                        break
            else:
                first = min(first, exact.get(name, first))
        return self.calls[first] if first < len(self.calls) else None

    def _calls_index(self) -> tuple[dict[str, int], dict[str, list[int]]]:
        if self._index is None or self._index[0] != len(self.calls):
            exact: dict[str, int] = {}
            by_last: dict[str, list[int]] = {}
            for position, call in enumerate(self.calls):
                exact.setdefault(call.name, position)
                by_last.setdefault(call.name.rsplit(".", 1)[-1], []).append(position)
            self._index = (len(self.calls), exact, by_last)
        return self._index[1], self._index[2]
