"""Feeds API 2021-06-30: feed documents at presigned URLs, createFeed, getFeed(s), cancelFeed, getFeedDocument.

Feeds are processed asynchronously like the real service: IN_QUEUE -> IN_PROGRESS -> DONE (or FATAL), driven by
a background ticker when served by uvicorn and by polls otherwise; the processing report is a JSON_LISTINGS_FEED
report (header / issues / summary / items) stored as a result document, GZIP-compressed when large.
"""

from __future__ import annotations

import gzip
import json
import secrets
import time
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from sandboxes.amazon.common import AmazonSandbox, SpApiError, csv_param, iso, parse_iso
from sandboxes.amazon.feed_processing import process_listings_feed
from sandboxes.amazon.listings import json_body
from sandboxes.amazon.order_acks import FEED_TYPE as ORDER_ACK_FEED
from sandboxes.amazon.order_acks import process_order_acknowledgement
from sandboxes.amazon.store import FIRST_FEED_ID
from sandboxes.common.state import current_idempotency_key, current_request_id

BASE = "/feeds/2021-06-30"
SUPPORTED_FEED_TYPES = ("JSON_LISTINGS_FEED", ORDER_ACK_FEED)
TERMINAL = ("DONE", "FATAL", "CANCELLED")


def new_doc_id() -> str:
    return f"amzn1.tortuga.4.na.{secrets.token_hex(16)}.T{secrets.token_hex(6).upper()}"


def render_feed(row: Any) -> dict[str, Any]:
    feed: dict[str, Any] = {
        "feedId": str(row["feed_id"]),
        "feedType": row["feed_type"],
        "marketplaceIds": json.loads(row["marketplace_ids"]),
        "createdTime": iso(row["created_at"]),
        "processingStatus": row["status"],
    }
    if row["started_at"] is not None:
        feed["processingStartTime"] = iso(row["started_at"])
    if row["ended_at"] is not None:
        feed["processingEndTime"] = iso(row["ended_at"])
    if row["result_doc"]:
        feed["resultFeedDocumentId"] = row["result_doc"]
    return feed


def advance_feeds(sbx: AmazonSandbox, now: float | None = None) -> int:
    """Move due feeds along IN_QUEUE -> IN_PROGRESS -> DONE/FATAL, oldest first. Synchronous on purpose: it runs on
    the event loop with no await inside, so the ticker and a poll can never process one feed twice."""
    now = time.time() if now is None else now
    store = sbx.state.store
    done = 0
    for row in store.query(
        "SELECT * FROM az_feed WHERE status IN ('IN_QUEUE','IN_PROGRESS') ORDER BY feed_id"
    ):
        status, started = row["status"], row["started_at"]
        if status == "IN_QUEUE":
            if now < row["created_at"] + sbx.knobs.feed_queue_seconds:
                continue
            started = now
            store.execute(
                "UPDATE az_feed SET status='IN_PROGRESS', started_at=? WHERE feed_id=?", (now, row["feed_id"])
            )
        if now < started + sbx.knobs.feed_progress_seconds:
            continue
        _finish(sbx, row)
        done += 1
    return done


def _finish(sbx: AmazonSandbox, row: Any) -> None:
    store = sbx.state.store
    doc = store.one("SELECT content FROM az_document WHERE doc_id = ?", (row["input_doc"],))
    # Effects of a feed belong to the createFeed request (and its idempotency key), not to whoever polled.
    tok_r = current_request_id.set(row["request_id"])
    tok_k = current_idempotency_key.set(row["idempotency_key"])
    content, content_type = (doc["content"] if doc else None), "application/json"
    try:
        if row["feed_type"] == ORDER_ACK_FEED:  # an XML feed: XML processing report
            status, raw = process_order_acknowledgement(sbx, str(row["feed_id"]), content)
            content_type = "text/xml"
        else:
            status, report = process_listings_feed(sbx, str(row["feed_id"]), content)
            raw = json.dumps(report, separators=(",", ":")).encode()
    finally:
        current_request_id.reset(tok_r)
        current_idempotency_key.reset(tok_k)
    compression = None
    if len(raw) >= sbx.knobs.report_gzip_min_bytes:
        raw, compression = gzip.compress(raw, compresslevel=1), "GZIP"
    result_doc = new_doc_id()
    now = time.time()
    with store.tx() as c:
        c.execute(
            "INSERT INTO az_document(doc_id, kind, content_type, content, compression, created_at) "
            "VALUES (?, 'report', ?, ?, ?, ?)",
            (result_doc, content_type, raw, compression, now),
        )
        c.execute(
            "UPDATE az_feed SET status=?, ended_at=?, result_doc=? WHERE feed_id=?",
            (status, now, result_doc, row["feed_id"]),
        )


def router(sbx: AmazonSandbox) -> APIRouter:
    r = APIRouter(tags=["Feeds 2021-06-30"])
    store = sbx.state.store

    @r.post(BASE + "/documents", status_code=201)
    async def create_feed_document(request: Request) -> JSONResponse:
        headers = sbx.guard(request, "createFeedDocument")
        body = await json_body(request)
        content_type = body.get("contentType")
        if not isinstance(content_type, str) or not content_type:
            raise SpApiError(400, "InvalidInput", "Missing required 'contentType'.", headers=headers)
        doc_id = new_doc_id()
        store.execute(
            "INSERT INTO az_document(doc_id, kind, content_type, created_at) VALUES (?, 'feed', ?, ?)",
            (doc_id, content_type, time.time()),
        )
        url = sbx.presign("feeds", doc_id)
        return JSONResponse({"feedDocumentId": doc_id, "url": url}, status_code=201, headers=headers)

    @r.put("/sandbox-s3/feeds/{doc_id}")
    async def upload_feed_document(doc_id: str, request: Request) -> Response:
        q = request.query_params
        sbx.check_presigned("feeds", doc_id, q.get("X-Amz-Expires"), q.get("X-Amz-Signature"))
        row = store.one("SELECT content_type FROM az_document WHERE doc_id = ? AND kind = 'feed'", (doc_id,))
        if row is None:
            raise SpApiError(404, "NoSuchKey", "The specified key does not exist.")
        store.execute("UPDATE az_document SET content = ? WHERE doc_id = ?", (await request.body(), doc_id))
        return Response(status_code=200)

    @r.post(BASE + "/feeds", status_code=202)
    async def create_feed(request: Request) -> JSONResponse:
        headers = sbx.guard(request, "createFeed")
        body = await json_body(request)
        feed_type, doc_id = body.get("feedType"), body.get("inputFeedDocumentId")
        marketplaces = body.get("marketplaceIds")
        if (
            not isinstance(marketplaces, list)
            or not 1 <= len(marketplaces) <= 25
            or not isinstance(doc_id, str)
        ):
            raise SpApiError(
                400, "InvalidInput", "Request has missing or invalid parameters.", headers=headers
            )
        sbx.check_marketplace(marketplaces)
        if feed_type not in SUPPORTED_FEED_TYPES:
            raise SpApiError(400, "InvalidInput", f"Unsupported feed type '{feed_type}'.", headers=headers)
        if store.one("SELECT 1 FROM az_document WHERE doc_id = ? AND kind = 'feed'", (doc_id,)) is None:
            raise SpApiError(400, "InvalidInput", f"Invalid inputFeedDocumentId '{doc_id}'.", headers=headers)
        sbx.throttle_feed_type(feed_type)
        with store.tx() as c:
            cur = c.execute(
                "INSERT INTO az_feed(feed_id, feed_type, marketplace_ids, status, created_at, input_doc, "
                "idempotency_key, request_id) VALUES ((SELECT COALESCE(MAX(feed_id) + 1, ?) FROM az_feed), "
                "?, ?, 'IN_QUEUE', ?, ?, ?, ?)",
                (
                    FIRST_FEED_ID,
                    feed_type,
                    json.dumps(marketplaces),
                    time.time(),
                    doc_id,
                    current_idempotency_key.get(),
                    current_request_id.get(),
                ),
            )
            feed_id = cur.lastrowid
        return JSONResponse({"feedId": str(feed_id)}, status_code=202, headers=headers)

    @r.get(BASE + "/feeds/{feed_id}")
    async def get_feed(feed_id: str, request: Request) -> JSONResponse:
        headers = sbx.guard(request, "getFeed")
        advance_feeds(sbx)
        row = store.one("SELECT * FROM az_feed WHERE feed_id = ?", (_int_id(feed_id),))
        if row is None:
            raise SpApiError(404, "NotFound", f"Feed '{feed_id}' not found.", headers=headers)
        return JSONResponse(render_feed(row), headers=headers)

    @r.get(BASE + "/feeds")
    async def get_feeds(request: Request) -> JSONResponse:
        headers = sbx.guard(request, "getFeeds")
        advance_feeds(sbx)
        q = request.query_params
        token = q.get("nextToken")
        if token:
            try:
                f = json.loads(bytes.fromhex(token))
            except ValueError:
                raise SpApiError(400, "InvalidInput", "Invalid nextToken.", headers=headers) from None
        else:
            f = {
                "types": csv_param(request, "feedTypes"),
                "statuses": csv_param(request, "processingStatuses"),
                "since": parse_iso(q["createdSince"]) if q.get("createdSince") else time.time() - 90 * 86400,
                "n": int(q.get("pageSize", "10")),
                "after": 0,
            }
            if not f["types"]:
                raise SpApiError(
                    400, "InvalidInput", "Either feedTypes or nextToken is required.", headers=headers
                )
            if not 1 <= f["n"] <= 100:
                raise SpApiError(
                    400, "InvalidInput", "'pageSize' must be between 1 and 100.", headers=headers
                )
        where = [f"feed_type IN ({','.join('?' * len(f['types']))})", "created_at >= ?", "feed_id > ?"]
        params = [*f["types"], f["since"], f["after"]]
        if f["statuses"]:
            where.append(f"status IN ({','.join('?' * len(f['statuses']))})")
            params += f["statuses"]
        rows = store.query(
            f"SELECT * FROM az_feed WHERE {' AND '.join(where)} ORDER BY feed_id LIMIT ?",
            [*params, f["n"] + 1],
        )
        body: dict[str, Any] = {"feeds": [render_feed(row) for row in rows[: f["n"]]]}
        if len(rows) > f["n"]:
            body["nextToken"] = json.dumps({**f, "after": rows[f["n"] - 1]["feed_id"]}).encode().hex()
        return JSONResponse(body, headers=headers)

    @r.delete(BASE + "/feeds/{feed_id}")
    async def cancel_feed(feed_id: str, request: Request) -> Response:
        headers = sbx.guard(request, "cancelFeed")
        row = store.one("SELECT status FROM az_feed WHERE feed_id = ?", (_int_id(feed_id),))
        if row is None:
            raise SpApiError(404, "NotFound", f"Feed '{feed_id}' not found.", headers=headers)
        if row["status"] != "IN_QUEUE":
            raise SpApiError(400, "InvalidInput", "Only feeds IN_QUEUE can be cancelled.", headers=headers)
        store.execute(
            "UPDATE az_feed SET status='CANCELLED', ended_at=? WHERE feed_id=?",
            (time.time(), _int_id(feed_id)),
        )
        return Response(status_code=200, headers=headers)

    @r.get(BASE + "/documents/{doc_id}")
    async def get_feed_document(doc_id: str, request: Request) -> JSONResponse:
        headers = sbx.guard(request, "getFeedDocument")
        row = store.one("SELECT kind, compression FROM az_document WHERE doc_id = ?", (doc_id,))
        if row is None or row["kind"] != "report":
            raise SpApiError(404, "NotFound", f"Feed document '{doc_id}' not found.", headers=headers)
        body = {"feedDocumentId": doc_id, "url": sbx.presign("reports", doc_id)}
        if row["compression"]:
            body["compressionAlgorithm"] = row["compression"]
        return JSONResponse(body, headers=headers)

    @r.get("/sandbox-s3/reports/{doc_id}")
    async def download_report(doc_id: str, request: Request) -> Response:
        q = request.query_params
        sbx.check_presigned("reports", doc_id, q.get("X-Amz-Expires"), q.get("X-Amz-Signature"))
        row = store.one("SELECT content, content_type FROM az_document WHERE doc_id = ?", (doc_id,))
        if row is None or row["content"] is None:
            raise SpApiError(404, "NoSuchKey", "The specified key does not exist.")
        return Response(row["content"], media_type=row["content_type"])

    return r


def _int_id(feed_id: str) -> int:
    try:
        return int(feed_id)
    except ValueError:
        raise SpApiError(404, "NotFound", f"Feed '{feed_id}' not found.") from None
