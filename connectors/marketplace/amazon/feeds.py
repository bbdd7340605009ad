"""Bulk quantity and price changes through a JSON_LISTINGS_FEED (Feeds API 2021-06-30).

createFeedDocument -> upload the document to the presigned URL -> createFeed -> poll getFeed (heartbeating through
`on_wait`) until DONE / FATAL / CANCELLED -> getFeedDocument -> download (maybe GZIP) the processing report -> one
outcome per message. Amazon's "accepted" only means the message passed validation, so a message is reported applied
only when the report's `items` (requested via header.report.includedData) show the new value.

createFeed is never resent after a lost answer (connectors/http.py): the error goes up, the activity is retried by
Temporal and sends the values current then, after the possibly created older feed has finished (`_unsettled_since`).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import structlog

from connectors.errors import ConnectorError, RetryableError
from connectors.marketplace.amazon.client import SpApiClient
from connectors.marketplace.amazon.limits import JSON_LISTINGS_FEED
from connectors.marketplace.amazon.listings import item_price, item_quantity
from connectors.marketplace.amazon.options import AmazonOptions
from connectors.marketplace.port import WaitCallback
from connectors.marketplace.types import BulkResult, ItemOutcome

log = structlog.get_logger("connectors.amazon.feeds")

CONTENT_TYPE = "application/json; charset=UTF-8"
TERMINAL = ("DONE", "FATAL", "CANCELLED")
# Issue codes that describe Amazon's trouble rather than the message's content: worth retrying.
TRANSIENT_CODES = {"INTERNAL_ERROR", "InternalFailure", "ServiceUnavailable", "SERVICE_UNAVAILABLE"}


class FeedMessage(NamedTuple):
    sku: str
    attribute: str  # the top-level attribute the PATCH replaces
    value: list[dict[str, Any]]
    expected: Any  # what the report item must show: the quantity, or (price, currency)


Evidence = tuple[str, Callable[[dict[str, Any], Any], bool]]


def evidence(options: AmazonOptions) -> dict[str, Evidence]:
    """Per patched attribute: the report data set that shows it, and how to read the new value back from an item."""
    channel, mp = options.fulfillment_channel_code, options.marketplace_id
    return {
        "fulfillment_availability": (
            "fulfillmentAvailability",
            lambda item, q: item_quantity(item, channel) == q,
        ),
        "purchasable_offer": ("offers", lambda item, pc: item_price(item, mp) == pc),
    }


class FeedRunner:
    def __init__(self, api: SpApiClient, options: AmazonOptions, seller_id: str) -> None:
        self.api = api
        self.options = options
        self.seller_id = seller_id
        self.evidence = evidence(options)
        # Set when a createFeed's answer was lost (per adapter, i.e. per worker process): the next submission waits
        # for every feed created since then to finish first.
        self._unsettled_since: datetime | None = None

    def document(self, messages: Sequence[FeedMessage]) -> bytes:
        header: dict[str, Any] = {
            "sellerId": self.seller_id,
            "version": "2.0",
            "issueLocale": self.options.language_tag,
        }
        included = sorted({self.evidence[a][0] for a in {m.attribute for m in messages}})
        if self.options.confirm_via_report_items and included:
            header["report"] = {"includedData": included, "apiVersion": "2021-08-01"}
        doc = {
            "header": header,
            "messages": [
                {
                    "messageId": i,
                    "sku": m.sku,
                    "operationType": "PATCH",
                    "productType": self.options.default_product_type,
                    "patches": [{"op": "replace", "path": f"/attributes/{m.attribute}", "value": m.value}],
                }
                for i, m in enumerate(messages, start=1)
            ],
        }
        return json.dumps(doc, separators=(",", ":")).encode()

    async def run(
        self, messages: Sequence[FeedMessage], *, idempotency_key: str, on_wait: WaitCallback | None
    ) -> BulkResult:
        size = self.options.feed_max_messages
        chunks = [messages[i : i + size] for i in range(0, len(messages), size)]
        gate = asyncio.Semaphore(self.options.feed_concurrency)

        async def one(index: int, chunk: Sequence[FeedMessage]) -> tuple[list[ItemOutcome], str]:
            async with gate:
                return await self.submit(chunk, idempotency_key=f"{idempotency_key}:{index}", on_wait=on_wait)

        results = await asyncio.gather(*(one(i, c) for i, c in enumerate(chunks)))
        return BulkResult(
            outcomes=[o for outcomes, _ in results for o in outcomes],
            submission_ids=[feed_id for _, feed_id in results],
        )

    async def submit(
        self, messages: Sequence[FeedMessage], *, idempotency_key: str, on_wait: WaitCallback | None
    ) -> tuple[list[ItemOutcome], str]:
        feed = await self.process(
            JSON_LISTINGS_FEED, CONTENT_TYPE, self.document(messages), idempotency_key=idempotency_key,
            on_wait=on_wait,
        )  # fmt: skip
        outcomes = await self.outcomes(feed, messages)
        applied = sum(1 for o in outcomes if o.status == "applied")
        log.info(
            "amazon feed processed",
            account=self.api.account,
            feed_id=feed["feedId"],
            status=feed["processingStatus"],
            applied=applied,
            other=len(outcomes) - applied,
        )
        return outcomes, str(feed["feedId"])

    async def process(
        self,
        feed_type: str,
        content_type: str,
        body: bytes,
        *,
        idempotency_key: str,
        on_wait: WaitCallback | None,
    ) -> dict[str, Any]:
        """Upload `body` as a feed document, create the feed and wait until it is DONE / FATAL / CANCELLED."""
        # A new document per attempt: nothing refers to it until createFeed, so these two may be resent freely.
        r = await self.api.call(
            "createFeedDocument",
            "POST",
            "/feeds/2021-06-30/documents",
            json={"contentType": content_type},
            idempotency_key=idempotency_key,
            replay_safe=True,
        )
        doc = r.json()
        await self.api.raw(
            "PUT",
            doc["url"],
            operation="uploadFeedDocument",
            content=body,
            headers={"content-type": content_type},
            replay_safe=True,
        )
        listings = feed_type == JSON_LISTINGS_FEED
        if listings and self._unsettled_since is not None:
            # An earlier createFeed of ours may have been applied with its answer lost: its feed, with older values,
            # must finish before this one is created, or it could land after (and undo) this newer change.
            await self.wait_for_pending(self._unsettled_since, on_wait)
            self._unsettled_since = None
        bucket = self.api.feed_type_bucket(feed_type)
        if bucket is not None:
            await bucket.acquire()
        sent_at = datetime.now(UTC)
        try:
            r = await self.api.call(
                "createFeed",
                "POST",
                "/feeds/2021-06-30/feeds",
                json={
                    "feedType": feed_type,
                    "marketplaceIds": [self.options.marketplace_id],
                    "inputFeedDocumentId": doc["feedDocumentId"],
                },
                idempotency_key=idempotency_key,
            )
        except ConnectorError as exc:
            if listings and exc.outcome_unknown and self._unsettled_since is None:
                self._unsettled_since = sent_at
            raise
        feed_id = str(r.json()["feedId"])
        log.info("amazon feed submitted", account=self.api.account, feed_id=feed_id, feed_type=feed_type)
        return await self.wait(feed_id, on_wait)

    async def wait(self, feed_id: str, on_wait: WaitCallback | None) -> dict[str, Any]:
        delay = self.options.feed_poll_initial_seconds
        deadline = time.monotonic() + self.options.feed_timeout_seconds
        while True:
            feed = (await self.api.call("getFeed", "GET", f"/feeds/2021-06-30/feeds/{feed_id}")).json()
            status = feed["processingStatus"]
            if status in TERMINAL:
                return feed  # type: ignore[no-any-return]
            if on_wait is not None:
                on_wait(f"amazon feed {feed_id} {status}")
            if time.monotonic() > deadline:
                raise RetryableError(
                    f"feed {feed_id} still {status} after {self.options.feed_timeout_seconds:.0f}s",
                    marketplace="amazon",
                    operation="getFeed",
                )
            await asyncio.sleep(delay)
            delay = min(delay * self.options.feed_poll_factor, self.options.feed_poll_max_seconds)

    async def wait_for_pending(self, since: datetime, on_wait: WaitCallback | None) -> None:
        """Until no listings feed created since `since` (minus clock skew) is queued or in progress; raises a
        retryable error at the feed timeout rather than submitting while an older feed may still land."""
        created_since = (since - timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
        delay = self.options.feed_poll_initial_seconds
        deadline = time.monotonic() + self.options.feed_timeout_seconds
        while True:
            r = await self.api.call(
                "getFeeds",
                "GET",
                "/feeds/2021-06-30/feeds",
                params={
                    "feedTypes": JSON_LISTINGS_FEED,
                    "processingStatuses": "IN_QUEUE,IN_PROGRESS",
                    "createdSince": created_since,
                    "pageSize": 100,
                },
            )
            pending = [f["feedId"] for f in r.json().get("feeds", [])]
            if not pending:
                return
            if time.monotonic() > deadline:
                raise RetryableError(
                    f"earlier feed(s) {', '.join(pending)} still pending after "
                    f"{self.options.feed_timeout_seconds:.0f}s",
                    marketplace="amazon",
                    operation="getFeeds",
                )
            if on_wait is not None:
                on_wait(f"amazon: waiting for {len(pending)} earlier feed(s) to finish")
            await asyncio.sleep(delay)
            delay = min(delay * self.options.feed_poll_factor, self.options.feed_poll_max_seconds)

    async def report(self, document_id: str) -> dict[str, Any]:
        return json.loads(await self.report_bytes(document_id))  # type: ignore[no-any-return]

    async def report_bytes(self, document_id: str) -> bytes:
        """A processing report as stored (JSON for listings feeds, XML for the older XML feed types)."""
        doc = (
            await self.api.call("getFeedDocument", "GET", f"/feeds/2021-06-30/documents/{document_id}")
        ).json()
        raw = (await self.api.raw("GET", doc["url"], operation="downloadFeedDocument")).content
        if doc.get("compressionAlgorithm") == "GZIP":
            raw = gzip.decompress(raw)
        return raw

    async def outcomes(self, feed: dict[str, Any], messages: Sequence[FeedMessage]) -> list[ItemOutcome]:
        status = feed["processingStatus"]
        report = await self.report(feed["resultFeedDocumentId"]) if feed.get("resultFeedDocumentId") else {}
        if status != "DONE":
            first: dict[str, Any] = next(iter(report.get("issues") or []), {})
            code = f"FEED_{status}"
            text = first.get("message") or f"feed {feed['feedId']} ended {status}; its changes are unknown"
            return [ItemOutcome(sku=m.sku, status="failed", code=code, message=text) for m in messages]
        return interpret_report(
            report, messages, evidence=self.evidence if self.options.confirm_via_report_items else None
        )


def interpret_report(
    report: dict[str, Any], messages: Sequence[FeedMessage], *, evidence: dict[str, Evidence] | None
) -> list[ItemOutcome]:
    """One outcome per message; with `evidence`, an accepted message is applied only if its report item agrees."""
    errors: dict[int, list[dict[str, Any]]] = {}
    for issue in report.get("issues") or []:
        if issue.get("severity") == "ERROR" and isinstance(issue.get("messageId"), int):
            errors.setdefault(issue["messageId"], []).append(issue)
    items = {item.get("sku"): item for item in report.get("items") or []}
    out = []
    for message_id, m in enumerate(messages, start=1):
        found = errors.get(message_id)
        if found:
            code = found[0].get("code")
            status = "failed" if code in TRANSIENT_CODES else "rejected"
            text = "; ".join(i.get("message", "") for i in found)
            out.append(ItemOutcome(sku=m.sku, status=status, code=code, message=text))
        elif evidence is None or (m.sku in items and evidence[m.attribute][1](items[m.sku], m.expected)):
            out.append(ItemOutcome.model_construct(sku=m.sku, status="applied"))  # hot path: 25k per feed
        else:
            out.append(
                ItemOutcome(
                    sku=m.sku,
                    status="failed",
                    code="NOT_CONFIRMED",
                    message="accepted by Amazon but the processing report does not show the new value",
                )
            )
    return out
