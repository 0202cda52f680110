"""The OpenAPI 3.1 description of the admin API, served at ``/-/admin/openapi.json``."""

from __future__ import annotations

from typing import Any


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _query(name: str, description: str, kind: str = "string") -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": kind},
    }


def _path(name: str, kind: str = "integer") -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": kind}}


def _op(
    summary: str,
    *,
    scope: str = "read",
    params: list[dict[str, Any]] | None = None,
    body: str | None = None,
    result: dict[str, Any] | None = None,
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "description": f"Needs a token of scope '{scope}'.",
        "parameters": params or [],
        "responses": {
            "200": _json(result or {"type": "object"}),
            "400": _json(_ref("Error"), "Bad input"),
            "401": _json(_ref("Error"), "No or wrong token"),
            "403": _json(_ref("Error"), "Scope too small"),
        },
    }
    if scope == "admin":
        op["responses"]["503"] = _json(
            _ref("Error"), "The store cannot be written now (disk full); nothing was done"
        )
    if body:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(body)}},
        }
        op["responses"]["415"] = _json(_ref("Error"), "The body is not application/json")
    return op


_STR = {"type": "string"}
_STR_OR_NULL = {"type": ["string", "null"]}
_INT = {"type": "integer"}
_TIME = {"type": "string", "format": "date-time"}
_TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
_KIND_LIST = _path("kind", "string") | {"schema": {"type": "string", "enum": ["allow", "deny"]}}
_STATE = {"enum": ["quarantined", "released", "rejected", "expired"]}
_RULES = {
    "type": "object",
    "properties": {"rules": {"type": "array", "items": {"$ref": "#/components/schemas/Rule"}}},
}

SCHEMA: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "pipgate admin API",
        "version": "1",
        "description": "Review what pipgate holds: list, show, release, reject; runtime "
        "allow and deny lists; the decision log; stats. Every action is audited. A queue "
        "entry is one held version (its files inside) or project, per index and policy.",
    },
    "servers": [{"url": "/-/admin"}],
    "security": [{"bearer": []}],
    "paths": {
        "/whoami": {"get": _op("The token's name and scope")},
        "/quarantine": {
            "get": _op(
                "List quarantine entries (held versions, or projects), most recently asked "
                "for first",
                params=[
                    _query("state", "quarantined | released | rejected | expired"),
                    _query("index", "Index name"),
                    _query("project", "Part of a project name"),
                    _query("policy", "Policy name"),
                    _query("limit", "At most 500 (50)", "integer"),
                    _query("offset", "Skip this many", "integer"),
                ],
                result={
                    "type": "object",
                    "properties": {
                        "entries": {"type": "array", "items": _ref("Entry")},
                        "total": {"type": "integer"},
                        "limit": {"type": "integer"},
                        "offset": {"type": "integer"},
                    },
                },
            )
        },
        "/quarantine/{entry}": {
            "get": _op(
                "One entry with its files, clients and history",
                params=[_path("entry")],
                result=_ref("EntryDetail"),
            )
        },
        "/quarantine/{entry}/release": {
            "post": _op(
                "Release what the entry holds on its index: its version (or the project), "
                "one of its files ('file'), or the whole project (optionally until a date)",
                scope="admin",
                params=[_path("entry")],
                body="Release",
                result=_ref("Rule"),
            )
        },
        "/quarantine/{entry}/reject": {
            "post": _op(
                "Reject what the entry holds (its version, one of its files, or the project): "
                "keep it blocked with the reviewer's reason",
                scope="admin",
                params=[_path("entry")],
                body="Reject",
                result=_ref("Rule"),
            )
        },
        "/decide/{kind}": {
            "post": _op(
                "Release or reject a project, version or file by name (no entry needed)",
                scope="admin",
                params=[
                    _path("kind", "string")
                    | {"schema": {"type": "string", "enum": ["release", "reject"]}}
                ],
                body="Target",
                result=_ref("Rule"),
            )
        },
        "/rules": {
            "get": _op(
                "Active reviewer rules",
                params=[
                    _query("kind", "release | reject | allow | deny"),
                    _query("index", "Index name"),
                ],
                result=_RULES,
            )
        },
        "/lists/{kind}": {
            "get": _op("The runtime allow or deny list", params=[_KIND_LIST], result=_RULES)
        },
        "/lists/{kind}/add": {
            "post": _op(
                "Add a rule (name, glob, name==version) to the runtime allow or deny list",
                scope="admin",
                params=[_KIND_LIST],
                body="ListRule",
                result=_ref("Rule"),
            )
        },
        "/lists/{kind}/remove": {
            "post": _op(
                "Remove a rule from the runtime allow or deny list",
                scope="admin",
                params=[_KIND_LIST],
                body="ListRule",
                result=_ref("RemovedRule"),
            )
        },
        "/audit": {
            "get": _op(
                "The audit log, newest first",
                params=[
                    _query("limit", "At most 1000 (100)", "integer"),
                    _query("offset", "Skip", "integer"),
                ],
                result={
                    "type": "object",
                    "properties": {"audit": {"type": "array", "items": _ref("AuditRecord")}},
                },
            )
        },
        "/decisions": {
            "get": _op(
                "Search the decision log, newest first",
                params=[
                    _query("q", "Text anywhere in the entry"),
                    _query("index", "Exact index"),
                    _query("project", "Exact project"),
                    _query("policy", "Exact policy"),
                    _query("action", "quarantine | block"),
                    _query("mode", "enforce | dry-run"),
                    _query("client", "Exact client address"),
                    _query("limit", "At most 1000", "integer"),
                ],
            )
        },
        "/stats": {
            "get": _op(
                "Hourly counts of files served and of requests that met a hold or a block, "
                "entries by state, and the held projects asked for most",
                params=[_query("hours", "Hours back (48)", "integer")],
                result=_ref("Stats"),
            )
        },
        "/aggregates": {
            "get": _op(
                "Holds counted rather than queued one by one (names judged before upstream "
                "was asked that are not known to exist; dependency-confusion and denylist "
                "refusals): per hour, index, policy and action, with sample names",
                params=[_query("hours", "Hours back (24)", "integer")],
            )
        },
        "/sessions": {
            "get": _op(
                "Console sessions: a read token's own, or everyone's for an admin token",
                params=[
                    _query("name", "Token name (admin tokens only)"),
                    _query("ended", "1: list ended and expired sessions too"),
                ],
                result={
                    "type": "object",
                    "properties": {"sessions": {"type": "array", "items": _ref("Session")}},
                },
            )
        },
        "/sessions/{session}": {
            "delete": _op(
                "End (revoke) a console session: one's own, or any with an admin token",
                params=[_path("session"), _query("reason", "Kept in the audit log")],
                result=_ref("Session"),
            )
        },
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {"type": "object", "properties": {"error": _STR}},
            "HeldFile": {
                "type": "object",
                "description": "A file an entry holds",
                "properties": {
                    "file": _STR,
                    "reason": _STR,
                    "available_at": _TIME_OR_NULL,
                    "requests": {
                        "type": "integer",
                        "description": "Requests for the file or its metadata (page views "
                        "do not count)",
                    },
                    "first_held": _TIME,
                    "last_requested": _TIME_OR_NULL,
                    "state": _STATE,
                },
            },
            "Entry": {
                "type": "object",
                "description": "One held version (with its files) or project (no version, "
                "no files) on one index, held by one policy",
                "properties": {
                    "id": _INT,
                    "index": _STR,
                    "project": _STR,
                    "version": _STR_OR_NULL,
                    "policy": _STR,
                    "action": {"enum": ["quarantine", "block"]},
                    "reason": _STR,
                    "available_at": _TIME_OR_NULL,
                    "first_requested": _TIME,
                    "last_requested": _TIME,
                    "views": {
                        "type": "integer",
                        "description": "Page views that withheld it (or refused the project)",
                    },
                    "requests": {
                        "type": "integer",
                        "description": "Requests for its files or their metadata",
                    },
                    "files": {"type": "array", "items": _ref("HeldFile")},
                    "top_clients": {"type": "array", "items": _STR},
                    "state": _STATE,
                    "changed_by": _STR_OR_NULL,
                    "changed_at": _TIME_OR_NULL,
                    "change_reason": _STR_OR_NULL,
                    "until": _TIME_OR_NULL,
                },
            },
            "EntryDetail": {
                "allOf": [
                    _ref("Entry"),
                    {
                        "type": "object",
                        "properties": {
                            "clients": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "client": _STR,
                                        "count": _INT,
                                        "last_seen": _TIME,
                                    },
                                },
                            },
                            "history": {"type": "array", "items": _ref("AuditRecord")},
                        },
                    },
                ]
            },
            "AuditRecord": {
                "type": "object",
                "properties": {
                    "id": _INT,
                    "time": _TIME,
                    "actor": _STR,
                    "action": _STR,
                    "index": _STR,
                    "target": _STR,
                    "reason": _STR,
                    "detail": {
                        "type": "object",
                        "description": "rule, scope, applies_to, until, entry, entries (ids "
                        "of the entries it covered), ...",
                    },
                },
            },
            "RemovedRule": {
                "type": "object",
                "properties": {
                    "removed": _INT,
                    "index": _STR,
                    "rule": _STR,
                    "kind": {"enum": ["allow", "deny"]},
                },
            },
            "Stats": {
                "type": "object",
                "properties": {
                    "hours": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "hour": _TIME,
                                "served": _INT,
                                "quarantined": _INT,
                                "blocked": _INT,
                            },
                        },
                    },
                    "states": {"type": "object", "additionalProperties": _INT},
                    "top_held": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "index": _STR,
                                "project": _STR,
                                "views": _INT,
                                "requests": _INT,
                                "entries": _INT,
                            },
                        },
                    },
                },
            },
            "Rule": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "index": _STR,
                    "kind": {"enum": ["release", "reject", "allow", "deny"]},
                    "project": _STR,
                    "version": _STR_OR_NULL,
                    "file": _STR_OR_NULL,
                    "rule": _STR_OR_NULL,
                    "until": _TIME_OR_NULL,
                    "reason": _STR,
                    "actor": _STR,
                    "created_at": _TIME,
                },
            },
            "Session": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string", "description": "The token that logged in"},
                    "client": _STR,
                    "user_agent": _STR,
                    "created": _STR,
                    "last_seen": _STR,
                    "expires": {"type": "string", "description": "Idle or absolute, earliest"},
                    "active": {"type": "boolean"},
                    "ended_at": _STR_OR_NULL,
                    "ended_by": _STR_OR_NULL,
                    "end_reason": _STR_OR_NULL,
                    "current": {"type": "boolean"},
                },
            },
            "Release": {
                "type": "object",
                "required": ["reason"],
                "properties": {
                    "scope": {
                        "enum": ["version", "file", "project"],
                        "description": "Default: what the entry holds (its version, or the "
                        "project); 'file' needs 'file'",
                    },
                    "file": {
                        "type": "string",
                        "description": "One of the entry's files (implies scope 'file')",
                    },
                    "until": {
                        "type": "string",
                        "description": "2026-07-01, an ISO datetime or a duration (30d)",
                    },
                    "reason": _STR,
                },
            },
            "Reject": {
                "type": "object",
                "required": ["reason"],
                "properties": {
                    "scope": {
                        "enum": ["version", "file", "project"],
                        "description": "Default: what the entry holds (its version, or the "
                        "project); 'file' needs 'file'",
                    },
                    "file": {
                        "type": "string",
                        "description": "One of the entry's files (implies scope 'file')",
                    },
                    "index": {
                        "type": "string",
                        "description": "'*' (the default): reject on every index; the entry's "
                        "own index: there only",
                    },
                    "reason": _STR,
                },
            },
            "Target": {
                "type": "object",
                "required": ["project", "reason"],
                "properties": {
                    "index": {
                        "type": "string",
                        "description": "A configured index, or '*' (every index: rejects "
                        "only). Default: '*' for a reject, 'default' for a release",
                    },
                    "project": _STR,
                    "version": _STR,
                    "file": _STR,
                    "until": _STR,
                    "reason": _STR,
                },
            },
            "ListRule": {
                "type": "object",
                "required": ["rule"],
                "properties": {
                    "index": {
                        "type": "string",
                        "description": "A configured index, or '*' (every index: deny only). "
                        "Default: '*' for the deny list, 'default' for the allow list",
                    },
                    "rule": {"type": "string", "description": "name, glob or name==version"},
                    "reason": _STR,
                    "everything": {
                        "type": "boolean",
                        "default": False,
                        "description": "Confirm an allow rule that matches every project (*)",
                    },
                },
            },
        },
    },
}
