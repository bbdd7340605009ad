"""What sellers granted through a sandbox's consent pages: authorization codes, refresh tokens, access tokens and API
keys, each derived from the one before it, so revoking a consent (as a seller does in the marketplace's app settings)
invalidates everything that came from it while the sandbox's built-in credentials keep working.

`/_sandbox/grants` lists them (token values shortened) and `POST /_sandbox/grants/revoke` revokes one, all of a
client, or every consent: the "seller revoked the app" fault of the connect and listing-sync tests.
"""

from __future__ import annotations

import html
import json
import secrets
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from sandboxes.common.state import SandboxState
from sandboxes.common.store import SandboxStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS sbx_grant (
  token TEXT PRIMARY KEY,
  kind TEXT NOT NULL,            -- code | refresh | access | keys
  parent TEXT,                   -- the grant it was issued from (code -> refresh -> access)
  client_id TEXT NOT NULL DEFAULT '',
  scope TEXT NOT NULL DEFAULT '',
  data TEXT NOT NULL DEFAULT '{}',
  created REAL NOT NULL,
  expires REAL,
  used REAL,
  revoked REAL
);
CREATE INDEX IF NOT EXISTS ix_sbx_grant_parent ON sbx_grant(parent);
"""
RevokeListener = Callable[[list[str]], None]


class Grants:
    def __init__(self, store: SandboxStore) -> None:
        self.store = store
        with store.lock:
            store.conn.executescript(SCHEMA)  # executescript commits on its own: not inside tx()
        self._listeners: list[RevokeListener] = []

    def on_revoke(self, listener: RevokeListener) -> None:
        """Sandboxes keep their own caches of access tokens: they drop revoked ones here."""
        self._listeners.append(listener)

    def issue(
        self,
        kind: str,
        *,
        client_id: str = "",
        scope: str = "",
        ttl: float | None = None,
        parent: str | None = None,
        data: Mapping[str, Any] | None = None,
        token: str | None = None,
        prefix: str = "",
    ) -> str:
        token = token or prefix + secrets.token_urlsafe(24)
        now = time.time()
        self.store.execute(
            "INSERT INTO sbx_grant(token, kind, parent, client_id, scope, data, created, expires) VALUES (?,?,?,?,?,?,?,?)",
            (
                token,
                kind,
                parent,
                client_id,
                scope,
                json.dumps(dict(data or {})),
                now,
                now + ttl if ttl else None,
            ),
        )
        return token

    def _row(self, token: str) -> sqlite3.Row | None:
        return self.store.one("SELECT * FROM sbx_grant WHERE token = ?", (token,))

    def find(self, token: str, kind: str) -> sqlite3.Row | None:
        """The grant if it is of `kind`, unexpired, and neither it nor anything it came from was revoked."""
        if not token:
            return None
        row = self._row(token)
        if (
            row is None
            or row["kind"] != kind
            or (row["expires"] is not None and row["expires"] <= time.time())
        ):
            return None
        current: sqlite3.Row | None = row
        while current is not None:
            if current["revoked"] is not None:
                return None
            current = self._row(current["parent"]) if current["parent"] else None
        return row

    def data(self, row: sqlite3.Row) -> dict[str, Any]:
        return dict(json.loads(row["data"] or "{}"))

    def redeem_code(
        self, code: str, *, client_id: str, redirect_uri: str | None = None
    ) -> sqlite3.Row | None:
        """An authorization code is good once. Presenting a used one again revokes what it produced (RFC 6749
        section 4.1.2: a replayed code may mean it was stolen)."""
        row = self._row(code)
        if row is None or row["kind"] != "code" or row["client_id"] != client_id:
            return None
        if row["used"] is not None:
            self.revoke_tree([code])
            return None
        if self.find(code, "code") is None:
            return None
        wanted = self.data(row).get("redirect_uri")
        if redirect_uri is not None and wanted and redirect_uri != wanted:
            return None
        self.store.execute(
            "UPDATE sbx_grant SET used = ? WHERE token = ? AND used IS NULL", (time.time(), code)
        )
        return row

    def children(self, tokens: Sequence[str]) -> list[str]:
        found: list[str] = []
        frontier = list(tokens)
        while frontier:
            marks = ",".join("?" * len(frontier))
            rows = self.store.query(f"SELECT token FROM sbx_grant WHERE parent IN ({marks})", frontier)
            frontier = [r["token"] for r in rows]
            found += frontier
        return found

    def revoke_tree(self, tokens: Sequence[str]) -> list[str]:
        everything = [*tokens, *self.children(tokens)]
        if not everything:
            return []
        now = time.time()
        for i in range(0, len(everything), 500):
            part = everything[i : i + 500]
            self.store.execute(
                f"UPDATE sbx_grant SET revoked = ? WHERE revoked IS NULL AND token IN ({','.join('?' * len(part))})",
                [now, *part],
            )
        for listener in self._listeners:
            listener(everything)
        return everything

    def revoke(self, *, token: str | None = None, client_id: str | None = None) -> list[str]:
        """One grant, every grant of a client, or (neither given) every consent ever given."""
        if token is not None:
            return self.revoke_tree([token])
        sql, params = "SELECT token FROM sbx_grant WHERE parent IS NULL AND revoked IS NULL", []
        if client_id is not None:
            sql += " AND client_id = ?"
            params.append(client_id)
        return self.revoke_tree([r["token"] for r in self.store.query(sql, params)])


def grants_of(state: SandboxState) -> Grants:
    """One Grants per sandbox, created with its first use (the table lives in the sandbox's own store)."""
    found = getattr(state, "_grants", None)
    if found is None:
        found = Grants(state.store)
        state._grants = found  # type: ignore[attr-defined]
    return found


class RevokeRequest(BaseModel):
    token: str | None = None
    client_id: str | None = None


def grants_router(state: SandboxState) -> APIRouter:
    r = APIRouter(prefix="/_sandbox/grants", tags=["sandbox inspection"])

    @r.get("")
    def list_grants() -> list[dict[str, Any]]:
        rows = state.store.query("SELECT * FROM sbx_grant ORDER BY created")
        return [
            {
                "token": row["token"][:10] + "…",
                "kind": row["kind"],
                "client_id": row["client_id"],
                "scope": row["scope"],
                "used": row["used"] is not None,
                "revoked": row["revoked"] is not None,
            }
            for row in rows
        ]

    @r.post("/revoke")
    def revoke(body: RevokeRequest) -> dict[str, int]:
        return {"revoked": len(grants_of(state).revoke(token=body.token, client_id=body.client_id))}

    return r


def consent_page(
    *,
    title: str,
    heading: str,
    lines: Sequence[str],
    action: str,
    fields: Mapping[str, str],
    yes: str,
    no: str,
) -> HTMLResponse:
    """The marketplace's consent screen: what the app asks for, and two buttons posting the seller's answer."""
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in fields.items()
    )
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    body = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(heading)}</h1><ul>{items}</ul>"
        f'<form method="post" action="{html.escape(action)}">{hidden}'
        f'<button type="submit" name="decision" value="allow" id="allow">{html.escape(yes)}</button> '
        f'<button type="submit" name="decision" value="deny" id="deny">{html.escape(no)}</button>'
        "</form></body></html>"
    )
    return HTMLResponse(body)


def error_page(status: int, message: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><body><h1>Error</h1><p id='error'>{html.escape(message)}</p></body></html>",
        status,
    )
