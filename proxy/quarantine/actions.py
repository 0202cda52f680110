"""Reviewer actions: each checks its input, then writes its rule, the states of the
entries it covers and its audit record in one transaction.

Scope of an action: ``index`` is one index, or ``ALL_INDEXES`` for a reject or a
deny rule of every index (a release and an allow rule always name one). The
index an action applies to when it names none is chosen by ``Review``.

Raises ``ReviewError`` (bad input), ``NotFound``, ``Conflict`` and
``StoreUnavailable``; never an HTTP status. Blocking.
"""

from __future__ import annotations

from datetime import datetime

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pipgate.policies.rules import parse_rule
from pipgate.proxy.errors import NotFound, ReviewError
from pipgate.proxy.quarantine.records import (
    ALL_INDEXES,
    MAX_REASON,
    SCOPES,
    Entry,
    RemovedRule,
    Rule,
    timestamp,
    utc_text,
)
from pipgate.proxy.quarantine.store import QuarantineStore


def check_reason(reason: str) -> None:
    if len(reason) > MAX_REASON:
        raise ReviewError(f"the reason is {len(reason)} characters long; at most {MAX_REASON}")


def normalize_version(text: str) -> str:
    try:
        return str(Version(text))
    except InvalidVersion:
        raise ReviewError(f"{text!r} is not a valid version") from None


def applies_to(index: str) -> str:
    """How an audit record names the scope of a rule."""
    return "all indexes" if index == ALL_INDEXES else f"index {index}"


class Actions:
    def __init__(self, store: QuarantineStore) -> None:
        self._store = store

    def decide(
        self,
        kind: str,
        *,
        index: str,
        project: str,
        version: str | None = None,
        file: str | None = None,
        until: datetime | None = None,
        reason: str,
        actor: str,
        now: datetime,
        entry_id: int | None = None,
    ) -> Rule:
        """Release or reject a file, a version or a whole project; returns the rule.

        A new decision on the same target replaces the previous one of the same
        index (a global one: of every index). Entries the target covers take the
        new state (see ``entries.EntryRepository.decide``).
        """
        if kind not in ("release", "reject"):
            raise ReviewError(f"unknown decision {kind!r}; choose release or reject")
        if kind == "release" and index == ALL_INDEXES:
            raise ReviewError("a release applies to one index; name it ('index')")
        if not reason.strip():
            raise ReviewError(f"a {kind} needs a reason")
        check_reason(reason)
        if until is not None and until <= now:
            raise ReviewError(f"'until' {until.isoformat()} is not in the future")
        name = canonicalize_name(project)
        version = normalize_version(version) if version else None
        stamp = now.timestamp()
        store = self._store
        with store.write() as tx:
            rule_id = store.rules.add_decision(
                tx,
                kind=kind,
                index=index,
                project=name,
                version=version,
                file=file,
                until=timestamp(until),
                reason=reason,
                actor=actor,
                stamp=stamp,
            )
            covered = store.entries.decide(
                tx,
                index=index,
                project=name,
                version=version,
                file=file,
                state="released" if kind == "release" else "rejected",
                actor=actor,
                stamp=stamp,
                reason=reason,
                until=timestamp(until),
            )
            store.audit.append(
                tx,
                stamp=stamp,
                actor=actor,
                action=kind,
                index=index,
                target=" ".join(p for p in (name, version, file) if p),
                reason=reason,
                detail={
                    "rule": rule_id,
                    "scope": "file" if file else "version" if version else "project",
                    "applies_to": applies_to(index),
                    "until": None if until is None else utc_text(until),
                    "entry": entry_id,
                    "entries": covered,
                },
            )
            store.rules.bump(tx)
            return store.rules.get(tx, rule_id)

    def decide_entry(
        self,
        kind: str,
        entry_id: int,
        *,
        scope: str | None = None,
        file: str | None = None,
        index: str | None = None,
        until: datetime | None = None,
        reason: str,
        actor: str,
        now: datetime,
    ) -> Rule:
        """``decide`` on an entry: by default on what it holds (its version, or the project);
        ``scope`` ``file`` with ``file`` on one of its files, ``project`` on the project.

        A release applies to the entry's index. A reject applies to every index
        unless ``index`` is the entry's own (malware is malware on every index).
        """
        entry = self._store.entries.get(entry_id)
        if entry is None:
            raise NotFound(f"no quarantine entry {entry_id}")
        scope = scope or ("file" if file else entry.scope)
        if scope not in SCOPES:
            raise ReviewError(f"unknown scope {scope!r}; choose version, file or project")
        index = _entry_index(kind, entry, index)
        if scope == "file":
            file = _held_file(entry, file)
        elif file:
            raise ReviewError(f"a file is named only with scope 'file', not {scope!r}")
        if scope == "version" and not entry.version:
            raise ReviewError(
                f"entry {entry.id} ({entry.project}) is about the whole project; use scope 'project'"
                if not entry.files
                else f"the version of the files of entry {entry.id} is unknown; decide on one "
                "file ('file') or on the project"
            )
        return self.decide(
            kind,
            index=index,
            project=entry.project,
            version=entry.version if scope in ("file", "version") else None,
            file=file,
            until=until,
            reason=reason,
            actor=actor,
            now=now,
            entry_id=entry.id,
        )

    def list_add(
        self,
        kind: str,
        *,
        index: str,
        rule: str,
        reason: str,
        actor: str,
        now: datetime,
        everything: bool = False,
    ) -> Rule:
        """Add a rule (``name``, ``name==1.2``, ``acme-*``) to the runtime allow or deny list.

        An allow rule that matches every project name (``*``) lifts every policy
        from every project; it is refused unless ``everything`` confirms it.
        """
        if kind not in ("allow", "deny"):
            raise ReviewError(f"unknown list {kind!r}; choose allow or deny")
        if kind == "allow" and index == ALL_INDEXES:
            raise ReviewError("an allow rule applies to one index; name it ('index')")
        if not reason.strip():
            raise ReviewError(f"adding to the {kind} list needs a reason")
        check_reason(reason)
        try:
            parsed = parse_rule(rule)
        except ValueError as exc:
            raise ReviewError(str(exc)) from None
        if kind == "allow" and parsed.matches_every_name and not everything:
            raise ReviewError(
                f"{parsed.text!r} matches every project: it would lift every policy on index "
                f'{index!r}; if that is really meant, confirm it with "everything": true '
                "(pipgate allow add --everything)"
            )
        stamp = now.timestamp()
        store = self._store
        with store.write() as tx:
            rule_id = store.rules.add_list_rule(
                tx, kind=kind, index=index, rule=parsed, reason=reason, actor=actor, stamp=stamp
            )
            covered = store.entries.matching(tx, index, parsed)
            state = "released" if kind == "allow" else "rejected"
            store.entries.set_state(tx, covered, state, actor, stamp, reason, None)
            store.audit.append(
                tx,
                stamp=stamp,
                actor=actor,
                action=f"{kind}-add",
                index=index,
                target=parsed.text,
                reason=reason,
                detail={"rule": rule_id, "applies_to": applies_to(index), "entries": covered},
            )
            store.rules.bump(tx)
            return store.rules.get(tx, rule_id)

    def list_remove(
        self, kind: str, *, index: str, rule: str, reason: str, actor: str, now: datetime
    ) -> RemovedRule:
        """Remove a rule; what it released or rejected is held again, until decided."""
        if kind not in ("allow", "deny"):
            raise ReviewError(f"unknown list {kind!r}; choose allow or deny")
        check_reason(reason)
        try:
            parsed = parse_rule(rule)
        except ValueError as exc:
            raise ReviewError(str(exc)) from None
        stamp = now.timestamp()
        store = self._store
        with store.write() as tx:
            rule_id = store.rules.remove_list_rule(
                tx, kind=kind, index=index, text=parsed.text, actor=actor, stamp=stamp
            )
            decided = "released" if kind == "allow" else "rejected"
            reopened = store.entries.matching(tx, index, parsed, decided)
            store.entries.set_state(
                tx,
                reopened,
                "quarantined",
                actor,
                stamp,
                f"removed from the {kind} list",
                None,
                files_in=decided,
            )
            store.audit.append(
                tx,
                stamp=stamp,
                actor=actor,
                action=f"{kind}-remove",
                index=index,
                target=parsed.text,
                reason=reason or "-",
                detail={"rule": rule_id, "applies_to": applies_to(index), "entries": reopened},
            )
            store.rules.bump(tx)
        return RemovedRule(removed=rule_id, index=index, rule=parsed.text, kind=kind)


def _entry_index(kind: str, entry: Entry, index: str | None) -> str:
    """The index a decision about ``entry`` applies to (see ``decide_entry``)."""
    index = index or (entry.index if kind == "release" else ALL_INDEXES)
    if index == entry.index or (kind != "release" and index == ALL_INDEXES):
        return index
    where = "there" if kind == "release" else f"to every index ('*') or to {entry.index!r} only"
    raise ReviewError(
        f"entry {entry.id} belongs to index {entry.index!r}; a {kind} of it applies {where}"
    )


def _held_file(entry: Entry, file: str | None) -> str:
    """The file of ``entry`` a file-scope decision is about."""
    if file is None and len(entry.files) == 1:
        return entry.files[0].file
    if file is not None and entry.file(file) is not None:
        return file
    if not entry.files:
        raise ReviewError(f"entry {entry.id} holds the whole project, no file; use scope 'project'")
    named = ", ".join(f.file for f in entry.files[:5]) + (", ..." if len(entry.files) > 5 else "")
    problem = "name one of its files" if file is None else f"it holds no file {file!r}"
    raise ReviewError(f"entry {entry.id} holds {len(entry.files)} files ({named}): {problem}")
