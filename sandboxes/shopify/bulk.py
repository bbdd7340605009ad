"""Bulk operations (Admin GraphQL 2025-01): `bulkOperationRunQuery` runs a query over a whole shop in the background,
`currentBulkOperation` reports its status, and a COMPLETED operation's `url` serves the result as JSON lines (one
object per node; nodes of nested connections on lines of their own with `__parentId`), readable with HTTP Range
requests like the signed storage URL Shopify hands out. One query operation at a time per shop, as on Shopify.

The sandbox executes the bulk query with its ordinary resolvers, 250 nodes per internal page, outside the cost
bucket (Shopify charges the mutation only). Types and fields here exist with the same names in the official schema
(tests check it).
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, cast

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationDefinitionNode,
    execute_sync,
    extend_schema,
    parse,
    print_ast,
    validate,
)

from sandboxes.common.state import SandboxState
from sandboxes.shopify import db
from sandboxes.shopify.objects import Ctx

SDL = """
scalar UnsignedInt64
scalar URL
enum BulkOperationStatus { CANCELED CANCELING COMPLETED CREATED EXPIRED FAILED RUNNING }
enum BulkOperationErrorCode { ACCESS_DENIED INTERNAL_SERVER_ERROR TIMEOUT }
enum BulkOperationType { MUTATION QUERY }
enum BulkOperationUserErrorCode { INVALID }
type BulkOperation implements Node {
  id: ID!
  status: BulkOperationStatus!
  errorCode: BulkOperationErrorCode
  objectCount: UnsignedInt64!
  rootObjectCount: UnsignedInt64!
  fileSize: UnsignedInt64
  url: URL
  partialDataUrl: URL
  query: String!
  type: BulkOperationType!
  createdAt: DateTime!
  completedAt: DateTime
}
type BulkOperationUserError { code: BulkOperationUserErrorCode field: [String!] message: String! }
type BulkOperationRunQueryPayload { bulkOperation: BulkOperation userErrors: [BulkOperationUserError!]! }
extend type Mutation { bulkOperationRunQuery(query: String!): BulkOperationRunQueryPayload }
extend type QueryRoot { currentBulkOperation(type: BulkOperationType): BulkOperation }
"""
TABLE = """
CREATE TABLE IF NOT EXISTS shp_bulk (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  status TEXT NOT NULL,
  query TEXT NOT NULL,
  error_code TEXT,
  object_count INTEGER NOT NULL DEFAULT 0,
  root_count INTEGER NOT NULL DEFAULT 0,
  file TEXT,
  token TEXT,
  created REAL NOT NULL,
  completed REAL
);
"""
PAGE = 250
RESULTS_PATH = "/bulk-operation-results"


def extended(schema: GraphQLSchema) -> GraphQLSchema:
    # the scalars the base subset already declares (UnsignedInt64 since it has legacyResourceId) are not redeclared
    sdl = "\n".join(
        line
        for line in SDL.splitlines()
        if not (line.startswith("scalar ") and line.split()[1] in schema.type_map)
    )
    return extend_schema(schema, parse(sdl))


def _ctx(info: GraphQLResolveInfo) -> Ctx:
    return cast(Ctx, info.context)


def _iso(ts: float | None) -> str | None:
    return None if ts is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _obj(row: sqlite3.Row, base_url: str) -> dict[str, Any]:
    done = row["status"] == "COMPLETED" and row["object_count"] > 0
    return {
        "__typename": "BulkOperation",
        "id": db.gid("BulkOperation", row["id"]),
        "status": row["status"],
        "errorCode": row["error_code"],
        "objectCount": str(row["object_count"]),
        "rootObjectCount": str(row["root_count"]),
        "fileSize": str(Path(row["file"]).stat().st_size) if done and row["file"] else None,
        "url": f"{base_url}{RESULTS_PATH}/{row['token']}.jsonl" if done else None,
        "partialDataUrl": None,
        "query": row["query"],
        "type": "QUERY",
        "createdAt": _iso(row["created"]),
        "completedAt": _iso(row["completed"]),
    }


_attached: list[GraphQLSchema] = []  # the executor's schema, once it attached these resolvers


def _schema() -> GraphQLSchema:
    return _attached[-1]


def runner_of(state: SandboxState) -> BulkRunner:
    """One runner per sandbox, created with its first use (resolvers find it through the request context)."""
    found = getattr(state, "_bulk", None)
    if found is None:
        found = BulkRunner(state)
        state._bulk = found  # type: ignore[attr-defined]
    return cast(BulkRunner, found)


def attach(schema: GraphQLSchema) -> None:
    _attached.append(schema)
    mutation, query = schema.mutation_type, schema.query_type
    assert mutation is not None and query is not None
    mutation.fields["bulkOperationRunQuery"].resolve = lambda _, info, **kw: runner_of(
        _ctx(info).state
    ).run_query(**kw)
    query.fields["currentBulkOperation"].resolve = lambda _, info, **kw: runner_of(_ctx(info).state).current()


class BulkRunner:
    """Runs one shop's bulk queries on a thread; results land in files beside the sandbox's database."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.store = state.store
        self.schema_fn = _schema
        with self.store.lock:
            self.store.conn.executescript(TABLE)
        path = self.store.one("PRAGMA database_list")
        file = path["file"] if path is not None else ""
        self.dir = Path(file).parent / "bulk" if file else Path(tempfile.mkdtemp(prefix="shp-bulk-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        self.base_url = ""

    # ---- GraphQL ---------------------------------------------------------------------------------------------------
    def current(self) -> dict[str, Any] | None:
        row = self.store.one("SELECT * FROM shp_bulk ORDER BY id DESC LIMIT 1")
        return None if row is None else _obj(row, self.base_url)

    def by_id(self, op_id: int) -> dict[str, Any] | None:
        row = self.store.one("SELECT * FROM shp_bulk WHERE id = ?", (op_id,))
        return None if row is None else _obj(row, self.base_url)

    def run_query(self, query: str) -> dict[str, Any]:
        def refused(message: str) -> dict[str, Any]:
            return {
                "bulkOperation": None,
                "userErrors": [{"code": "INVALID", "field": ["query"], "message": message}],
            }

        running = self.store.one("SELECT id FROM shp_bulk WHERE status IN ('CREATED', 'RUNNING')")
        if running is not None:
            gid = db.gid("BulkOperation", running["id"])
            return refused(f"A bulk query operation for this app and shop is already in progress: {gid}.")
        try:
            doc = parse(query)
        except GraphQLError as exc:
            return refused(f"Invalid bulk query: {exc.message}")
        errors = validate(self.schema_fn(), doc)
        ops = [d for d in doc.definitions if isinstance(d, OperationDefinitionNode)]
        if errors:
            return refused(f"Invalid bulk query: {errors[0].message}")
        if len(ops) != 1 or ops[0].operation.value != "query" or len(ops[0].selection_set.selections) != 1:
            return refused("Bulk queries must contain exactly one top-level connection field.")
        cur = self.store.execute(
            "INSERT INTO shp_bulk(status, query, created) VALUES ('CREATED', ?, ?)", (query, time.time())
        )
        op_id = int(cur.lastrowid or 0)
        threading.Thread(
            target=self._execute, args=(op_id, ops[0]), daemon=True, name=f"bulk-{op_id}"
        ).start()
        row = self.store.one("SELECT * FROM shp_bulk WHERE id = ?", (op_id,))
        assert row is not None
        return {"bulkOperation": _obj(row, self.base_url), "userErrors": []}

    # ---- execution -----------------------------------------------------------------------------------------------
    def _execute(self, op_id: int, op: OperationDefinitionNode) -> None:
        self.store.execute("UPDATE shp_bulk SET status = 'RUNNING' WHERE id = ?", (op_id,))
        field = cast(FieldNode, op.selection_set.selections[0])
        args = [a for a in field.arguments or () if a.name.value not in ("first", "after", "last", "before")]
        shown = ", ".join(print_ast(a) for a in args)
        selection = print_ast(field.selection_set) if field.selection_set else ""
        paged = (
            "query BulkPage($after: String) { page: "
            f"{field.name.value}(first: {PAGE}, after: $after{', ' + shown if shown else ''}) "
            f"{{ pageInfo {{ hasNextPage endCursor }} {selection[1:-1]} }} }}"
        )
        document = parse(paged)
        path = self.dir / f"bulk-{op_id}-{secrets.token_hex(8)}.jsonl"
        count = roots = 0
        try:
            with path.open("w", encoding="utf-8") as out:
                after: str | None = None
                while True:
                    result = execute_sync(
                        self.schema_fn(), document, context_value=Ctx(store=self.store, state=self.state),
                        variable_values={"after": after},
                    )  # fmt: skip
                    if result.errors:
                        raise RuntimeError(result.errors[0].message)
                    page = (result.data or {})["page"]
                    nodes = page.get("nodes") or [e["node"] for e in page.get("edges") or []]
                    for node in nodes:
                        roots += 1
                        for line in _flatten(node, None):
                            out.write(json.dumps(line, separators=(",", ":")) + "\n")
                            count += 1
                    info = page["pageInfo"]
                    if not info["hasNextPage"]:
                        break
                    after = info["endCursor"]
            self.store.execute(
                "UPDATE shp_bulk SET status = 'COMPLETED', object_count = ?, root_count = ?, file = ?, token = ?, "
                "completed = ? WHERE id = ?",
                (count, roots, str(path), secrets.token_urlsafe(24), time.time(), op_id),
            )
        except Exception:  # the shop's side failed: Shopify reports FAILED with a code, no partial file here
            self.store.execute(
                "UPDATE shp_bulk SET status = 'FAILED', error_code = 'INTERNAL_SERVER_ERROR', completed = ? WHERE id = ?",
                (time.time(), op_id),
            )


def results_router(state: SandboxState) -> APIRouter:
    """The completed operations' files, as the signed storage URLs Shopify gives serve them (Range supported)."""
    r = APIRouter(include_in_schema=False)

    @r.get(RESULTS_PATH + "/{name}")
    def result(name: str, request: Request) -> Response:
        token = name.removesuffix(".jsonl")
        row = state.store.one("SELECT file FROM shp_bulk WHERE token = ? AND status = 'COMPLETED'", (token,))
        if row is None or not row["file"] or not Path(row["file"]).is_file():
            return JSONResponse({"error": "AccessDenied"}, status_code=403)
        path = Path(row["file"])
        size = path.stat().st_size
        start = _range_start(request.headers.get("range"))
        if start is None:
            return StreamingResponse(_chunks(path, 0), media_type="application/jsonl")
        if start >= size:
            return Response(status_code=416, headers={"content-range": f"bytes */{size}"})
        headers = {"content-range": f"bytes {start}-{size - 1}/{size}", "accept-ranges": "bytes"}
        return StreamingResponse(
            _chunks(path, start), status_code=206, media_type="application/jsonl", headers=headers
        )

    return r


def _range_start(header: str | None) -> int | None:
    if not header or not header.startswith("bytes="):
        return None
    first = header[6:].split(",")[0].split("-")[0].strip()
    return int(first) if first.isdigit() else None


def _chunks(path: Path, start: int) -> Any:
    with path.open("rb") as f:
        f.seek(start)
        while chunk := f.read(256 * 1024):
            yield chunk


def _flatten(node: dict[str, Any], parent: str | None) -> list[dict[str, Any]]:
    """A node and, on lines of their own after it, the nodes of its nested connections (with __parentId)."""
    line: dict[str, Any] = {}
    children: list[dict[str, Any]] = []
    for key, value in node.items():
        if isinstance(value, dict) and ("edges" in value or "nodes" in value) and "pageInfo" not in value:
            inner = value.get("nodes") or [e["node"] for e in value.get("edges") or []]
            for child in inner:
                children += _flatten(child, node.get("id"))
        else:
            line[key] = value
    if parent is not None:
        line["__parentId"] = parent
    return [line, *children]
