"""Seller cancellation of an order Amazon cannot have filled: a POST_ORDER_ACKNOWLEDGEMENT_DATA feed.

SP-API has no "cancel order" call for sellers. The Feeds API's order acknowledgement feed (an XML AmazonEnvelope of
OrderAcknowledgement messages) cancels an order when its StatusCode is "Failure", with a CancelReason per item
(NoInventory for an order we cannot fill; for every other reason Amazon also puts the units back on the listing).
The feed is processed asynchronously and answers with an XML ProcessingReport, and "processed" is not "cancelled":
the order is read back with getOrder and the cancel is `applied` only once Amazon shows it Canceled.

A cancel is safe to repeat: the order is read first, and an order already Canceled is reported applied without a
second feed (an activity retried after a lost createFeed answer lands here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote
from xml.etree.ElementTree import (  # building only; parsing goes through defusedxml
    Element,
    SubElement,
    tostring,
)

from defusedxml.ElementTree import fromstring

from connectors.errors import NotFoundError
from connectors.marketplace.amazon.client import SpApiClient
from connectors.marketplace.amazon.feeds import FeedRunner
from connectors.marketplace.port import WaitCallback
from connectors.marketplace.types import ListingResult

FEED_TYPE = "POST_ORDER_ACKNOWLEDGEMENT_DATA"
CONTENT_TYPE = "text/xml; charset=UTF-8"
CANCEL_REASONS = frozenset(
    {
        "NoInventory",
        "ShippingAddressUndeliverable",
        "CustomerExchange",
        "BuyerCanceled",
        "GeneralAdjustment",
        "CarrierCreditDecision",
        "RiskAssessmentInformationNotValid",
        "CarrierCoverageFailure",
        "CustomerReturn",
        "MerchandiseNotReceived",
    }
)
# Orders past this point are on their way: cancelling would refund a shipped order in full.
NOT_CANCELLABLE = frozenset({"Shipped", "PartiallyShipped", "InvoiceUnconfirmed", "Unfulfillable"})


def cancel_reason(reason: str) -> str:
    """Amazon's CancelReason for our reason text: a valid code is kept, anything else (our callers cancel orders
    they cannot fill) is NoInventory."""
    return reason if reason in CANCEL_REASONS else "NoInventory"


def acknowledgement_document(seller_id: str, order_id: str, item_codes: list[str], reason: str) -> bytes:
    envelope = Element("AmazonEnvelope")
    envelope.set("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance")
    envelope.set("xsi:noNamespaceSchemaLocation", "amzn-envelope.xsd")
    header = SubElement(envelope, "Header")
    SubElement(header, "DocumentVersion").text = "1.01"
    SubElement(header, "MerchantIdentifier").text = seller_id
    SubElement(envelope, "MessageType").text = "OrderAcknowledgement"
    message = SubElement(envelope, "Message")
    SubElement(message, "MessageID").text = "1"
    ack = SubElement(message, "OrderAcknowledgement")
    SubElement(ack, "AmazonOrderID").text = order_id
    SubElement(ack, "StatusCode").text = "Failure"
    for code in item_codes:
        item = SubElement(ack, "Item")
        SubElement(item, "AmazonOrderItemCode").text = code
        SubElement(item, "CancelReason").text = reason
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(envelope, encoding="utf-8")


@dataclass
class ProcessingReport:
    processed: int = 0
    successful: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)  # (ResultMessageCode, ResultDescription)


def parse_processing_report(raw: bytes) -> ProcessingReport:
    root = fromstring(raw)
    report = root.find("Message/ProcessingReport")
    if report is None:
        raise ValueError("not an XML processing report")
    summary = report.find("ProcessingSummary")
    out = ProcessingReport(
        processed=int(summary.findtext("MessagesProcessed", "0")) if summary is not None else 0,
        successful=int(summary.findtext("MessagesSuccessful", "0")) if summary is not None else 0,
    )
    for result in report.findall("Result"):
        if result.findtext("ResultCode") == "Error":
            out.errors.append(
                (result.findtext("ResultMessageCode", ""), result.findtext("ResultDescription", ""))
            )
    return out


class OrderCanceller:
    def __init__(self, api: SpApiClient, feeds: FeedRunner, seller_id: str) -> None:
        self.api = api
        self.feeds = feeds
        self.seller_id = seller_id

    async def read(self, order_id: str) -> dict[str, Any] | None:
        """getOrder's payload, or None when Amazon does not know the order."""
        r = await self.api.call(
            "getOrder", "GET", f"/orders/v0/orders/{quote(order_id, safe='')}", expected=(400, 404)
        )
        return None if r.status_code in (400, 404) else r.json().get("payload")  # type: ignore[no-any-return]

    async def item_codes(self, order_id: str) -> list[str]:
        codes: list[str] = []
        token: str | None = None
        while True:
            r = await self.api.call(
                "getOrderItems", "GET", f"/orders/v0/orders/{quote(order_id, safe='')}/orderItems",
                params={"NextToken": token} if token else None,
            )  # fmt: skip
            payload = r.json()["payload"]
            codes += [str(i["OrderItemId"]) for i in payload.get("OrderItems") or []]
            token = payload.get("NextToken")
            if not token:
                return codes

    async def cancel(
        self, order_id: str, *, reason: str, idempotency_key: str, on_wait: WaitCallback | None = None
    ) -> ListingResult:
        order = await self.read(order_id)
        if order is None:
            return ListingResult(
                sku="", status="rejected", code="NotFound", message=f"no Amazon order {order_id}"
            )
        status = order.get("OrderStatus")
        if status == "Canceled":
            return ListingResult(sku="", status="applied", external_id=order_id, message="Canceled on Amazon")
        if status in NOT_CANCELLABLE:
            return ListingResult(sku="", status="rejected", code="NotCancellable",
                                 message=f"order {order_id} is {status} on Amazon")  # fmt: skip
        try:
            codes = await self.item_codes(order_id)
        except NotFoundError:
            return ListingResult(
                sku="", status="rejected", code="NotFound", message=f"no Amazon order {order_id}"
            )
        body = acknowledgement_document(self.seller_id, order_id, codes, cancel_reason(reason))
        feed = await self.feeds.process(
            FEED_TYPE, CONTENT_TYPE, body, idempotency_key=idempotency_key, on_wait=on_wait
        )
        errors: list[tuple[str, str]] = []
        if feed.get("resultFeedDocumentId"):
            errors = parse_processing_report(
                await self.feeds.report_bytes(feed["resultFeedDocumentId"])
            ).errors
        after = await self.read(order_id)
        if after is not None and after.get("OrderStatus") == "Canceled":
            return ListingResult(
                sku="", status="applied", external_id=order_id,
                message=f"Canceled on Amazon ({cancel_reason(reason)}, feed {feed['feedId']})",
            )  # fmt: skip
        if feed["processingStatus"] == "DONE" and errors:
            code, text = errors[0]
            return ListingResult(sku="", status="rejected", code=code or "FeedError", message=text)
        return ListingResult(
            sku="", status="failed", code="NOT_CONFIRMED",
            message=f"feed {feed['feedId']} ended {feed['processingStatus']} but the order is still "
            f"{(after or {}).get('OrderStatus')}",
        )  # fmt: skip
