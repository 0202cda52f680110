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
_KIND_LIST = _path("kind", "string") | {"schema": {"type": "string", "enum": ["allow", "deny"]}}

SCHEMA: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "pipgate admin API",
        "version": "1",
        "description": "Review what pipgate holds: list, show, release, reject; runtime "
        "allow and deny lists; the decision log; stats. Every action is audited.",
    },
    "servers": [{"url": "/-/admin"}],
    "security": [{"bearer": []}],
    "paths": {
        "/whoami": {"get": _op("The token's name and scope")},
        "/quarantine": {
            "get": _op(
                "List quarantine entries, most recently requested first",
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
                "One entry with its clients and history",
                params=[_path("entry")],
                result=_ref("Entry"),
            )
        },
        "/quarantine/{entry}/release": {
            "post": _op(
                "Release the entry's file, version or project (optionally until a date)",
                scope="admin",
                params=[_path("entry")],
                body="Release",
                result=_ref("Rule"),
            )
        },
        "/quarantine/{entry}/reject": {
            "post": _op(
                "Reject: keep it blocked with the reviewer's reason",
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
            )
        },
        "/lists/{kind}": {"get": _op("The runtime allow or deny list", params=[_KIND_LIST])},
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
            )
        },
        "/audit": {
            "get": _op(
                "The audit log, newest first",
                params=[
                    _query("limit", "At most 1000 (100)", "integer"),
                    _query("offset", "Skip", "integer"),
                ],
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
                "Hourly served/quarantined/blocked counts and top held projects",
                params=[_query("hours", "Hours back (48)", "integer")],
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
            "Entry": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "index": _STR,
                    "project": _STR,
                    "version": _STR_OR_NULL,
                    "file": _STR_OR_NULL,
                    "policy": _STR,
                    "action": {"enum": ["quarantine", "block"]},
                    "reason": _STR,
                    "available_at": _STR_OR_NULL,
                    "first_requested": _STR,
                    "last_requested": _STR,
                    "request_count": {"type": "integer"},
                    "top_clients": {"type": "array", "items": _STR},
                    "state": {"enum": ["quarantined", "released", "rejected", "expired"]},
                    "changed_by": _STR_OR_NULL,
                    "changed_at": _STR_OR_NULL,
                    "change_reason": _STR_OR_NULL,
                    "until": _STR_OR_NULL,
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
                    "until": _STR_OR_NULL,
                    "reason": _STR,
                    "actor": _STR,
                    "created_at": _STR,
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
                    "scope": {"enum": ["file", "version", "project"], "default": "file"},
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
                    "scope": {"enum": ["file", "version", "project"], "default": "file"},
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
