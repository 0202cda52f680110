"""Data that crosses the project's own modules: a function of one module that returns a
credential store's content, or decoded or downloaded bytes, handed to a function of another
that sends or runs what it is given (``from .grab import collect; from .send import ship;
ship(collect())``).

``source`` reads each file alone and leaves, where data of another module reaches something
(``Link``), a ``FOREIGN`` kind naming it; it also notes what each file's functions return
and hand to a sink or a send (``Export``), and what its module-level values hold. Linking
looks those up across the scan's modules and adds the sends and sinks they amount to to the
file where the data meets them, so the rules judge them there, at that file's role.
"""

from __future__ import annotations

from collections.abc import Mapping

from . import layout
from .facts import FOREIGN, ExecSink, Export, Facts, Send, foreign_kinds, own_kinds
from .source import SENSITIVE, sink_feed

#: How many modules deep a value handed over is followed (a function returning what
#: another module's function returns, ...).
_DEPTH = 3


def link(facts: Mapping[str, Facts], helpers: Mapping[str, Facts]) -> None:
    """Add to ``facts`` (path -> facts of the modules judged) the sinks and sends that data
    of their project's other modules reaches; ``helpers`` are modules read only for what
    their functions and values hand over."""
    linker = _Linker({**facts, **helpers})  # a helper read whole, not its imports alone
    for path, found in facts.items():
        for item in found.links:
            # What the other modules add: the file's own data reaching its own sinks was
            # judged where it was read; handed to another module's function, it was not.
            handed = linker.resolved(path, foreign_kinds(item.kinds), _DEPTH)
            if not handed and item.target != "call":
                continue
            kinds = handed | own_kinds(item.kinds)
            if "envkey" in kinds:
                kinds.add("key")
            if item.target == "call":
                export = linker.export(path, item.name)
                if export is None:
                    continue
                if export.runs:
                    feed = sink_feed(export.runs, kinds)
                    if feed is not None and feed != "file":
                        name = f"{item.name.rsplit('.', 1)[-1]} ({export.runs})"
                        found.sinks.append(ExecSink(name, feed, item.line))
                if export.sends and kinds & SENSITIVE:
                    fixed, host = export.fixed, export.host
                    if export.address in export.params:
                        # The caller hands the address: written in, if a literal.
                        position = str(export.params.index(export.address))
                        fixed = host = position in item.literal or export.address in item.literal
                    send = Send(export.sends, frozenset(kinds), item.line, item.top, fixed, host)
                    found.sends.append(send)
            elif item.target in ("exec", "process"):
                feed = sink_feed(item.name, kinds)
                if feed is not None and feed != "file":
                    found.sinks.append(ExecSink(item.name, feed, item.line))
            elif item.target == "send" and kinds & SENSITIVE:
                send = Send(item.name, frozenset(kinds), item.line, item.top, item.fixed, item.host)
                found.sends.append(send)


def wanted(facts: Mapping[str, Facts], paths: list[str]) -> list[str]:
    """Of ``paths`` (modules not read), those whose functions or values the ``facts``'
    links use, or what their functions return or values hold names: worth reading for
    what they hand over."""
    modules = {layout.module_of(p): p for p in [*facts, *paths] if p.endswith((".py", ".pyw"))}
    unread = set(paths)
    found: list[str] = []
    for path in sorted(facts):
        found_in = facts[path]
        uses: list[tuple[str, frozenset[str]]] = [
            (item.name if item.target == "call" else "", item.kinds) for item in found_in.links
        ]
        uses += [("", export.returns) for export in found_in.exports.values()]
        uses += [("", kinds) for kinds in found_in.values.values()]
        for name, kinds in uses:
            refs = [name] if name else []
            refs += [k[len(FOREIGN) :].removesuffix("()") for k in sorted(foreign_kinds(kinds))]
            for ref in refs:
                target = layout.resolve_from(path, ref, modules)
                if target in unread and target not in found:
                    found.append(target)
    return found


class _Linker:
    def __init__(self, facts: Mapping[str, Facts]) -> None:
        self.facts = facts
        self.modules = {layout.module_of(p): p for p in facts if p.endswith((".py", ".pyw"))}

    def _target(self, path: str, ref: str) -> tuple[str, str] | None:
        """The module a reference used in ``path`` names and the attribute in it."""
        target = layout.resolve_from(path, ref, self.modules)
        if target is None or layout.module_of(target).endswith(ref.lstrip(".")):
            return None  # not a project module, or the module itself, not a name in it
        return target, ref.rsplit(".", 1)[-1]

    def export(self, path: str, ref: str) -> Export | None:
        found = self._target(path, ref)
        return None if found is None else self.facts[found[0]].exports.get(found[1])

    def resolved(self, path: str, kinds: frozenset[str], depth: int) -> set[str]:
        """``kinds`` with each ``FOREIGN`` one replaced by what it names holds."""
        out: set[str] = set()
        for kind in kinds:
            if not kind.startswith(FOREIGN):
                out.add(kind)
                continue
            ref = kind[len(FOREIGN) :]
            found = self._target(path, ref.removesuffix("()")) if depth else None
            if found is None:
                continue
            target, name = found
            held: frozenset[str] = frozenset()
            if ref.endswith("()"):
                export = self.facts[target].exports.get(name)
                held = export.returns if export is not None else held
            else:
                held = self.facts[target].values.get(name, held)
            out |= self.resolved(target, held, depth - 1)
        return out
