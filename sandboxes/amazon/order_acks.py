"""Seller cancellations in the Amazon sandbox: getOrder, and the processing of POST_ORDER_ACKNOWLEDGEMENT_DATA feeds.

An XML AmazonEnvelope of OrderAcknowledgement messages: StatusCode "Success" acknowledges an order, "Failure" cancels
the whole order (Canceled, ORDER_CHANGE notification); for every item whose CancelReason is not NoInventory the
units go back on the listing, as Amazon does. The processing report is the XML ProcessingReport of the older feed
types (summary counts and one Result per message in error). Result message codes are the sandbox's own; the adapter
reads ResultCode and ResultDescription and then re-reads the order.
"""

from __future__ import annotations

import time
from typing import Any
from xml.etree.ElementTree import (  # building only; input goes through defusedxml
    Element,
    SubElement,
    tostring,
)

from defusedxml.ElementTree import fromstring
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sandboxes.amazon.common import AmazonSandbox, SpApiError, iso
from sandboxes.amazon.orders import BASE, _envelope, _notify, _order_json, _quantity_change

FEED_TYPE = "POST_ORDER_ACKNOWLEDGEMENT_DATA"
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
CANCELLABLE = frozenset({"Pending", "Unshipped"})
# (ResultMessageCode, description) of the sandbox's message-level errors
UNKNOWN_ORDER = "18001"
NOT_CANCELLABLE = "18002"
BAD_MESSAGE = "18003"


def router(sbx: AmazonSandbox) -> APIRouter:
    r = APIRouter(tags=["Orders v0"])
    store = sbx.state.store

    @r.get(BASE + "/{order_id}")
    async def get_order(order_id: str, request: Request) -> JSONResponse:
        headers = sbx.guard(request, "getOrder")
        row = store.one("SELECT * FROM az_order WHERE order_id = ?", (order_id,))
        if row is None:
            raise SpApiError(404, "InvalidInput", f"Invalid AmazonOrderId: {order_id}", headers=headers)
        items = store.query("SELECT quantity FROM az_order_item WHERE order_id = ?", (order_id,))
        return JSONResponse({"payload": _order_json(sbx, row, items)}, headers=headers)

    return r


class _Reject(Exception):
    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code, self.text = code, text


def process_order_acknowledgement(
    sbx: AmazonSandbox, feed_id: str, content: bytes | None
) -> tuple[str, bytes]:
    """(processingStatus, XML processing report) of one order acknowledgement feed."""
    try:
        root = fromstring(content or b"")
    except Exception:  # defusedxml refusals and syntax errors alike: the document is unusable
        return "FATAL", _report(
            sbx, feed_id, 0, [("0", BAD_MESSAGE, "The feed document is not well-formed XML.")]
        )
    if (
        root.tag != "AmazonEnvelope"
        or root.findtext("MessageType") != "OrderAcknowledgement"
        or root.findtext("Header/MerchantIdentifier") != sbx.seller_id
    ):
        text = "Expected an AmazonEnvelope of MessageType OrderAcknowledgement for this merchant."
        return "FATAL", _report(sbx, feed_id, 0, [("0", BAD_MESSAGE, text)])
    messages = root.findall("Message")
    errors: list[tuple[str, str, str]] = []  # (MessageID, code, description)
    for message in messages:
        message_id = message.findtext("MessageID", "0")
        try:
            _apply(sbx, message)
        except _Reject as rejected:
            errors.append((message_id, rejected.code, rejected.text))
    return "DONE", _report(sbx, feed_id, len(messages), errors)


def _apply(sbx: AmazonSandbox, message: Element) -> None:
    store = sbx.state.store
    ack = message.find("OrderAcknowledgement")
    if ack is None or not ack.findtext("AmazonOrderID"):
        raise _Reject(BAD_MESSAGE, "The message has no OrderAcknowledgement with an AmazonOrderID.")
    order_id, status_code = ack.findtext("AmazonOrderID", ""), ack.findtext("StatusCode")
    order = store.one("SELECT * FROM az_order WHERE order_id = ?", (order_id,))
    if order is None:
        raise _Reject(UNKNOWN_ORDER, f"AmazonOrderID {order_id} was not found for this merchant.")
    if status_code == "Success":
        return
    if status_code != "Failure":
        raise _Reject(BAD_MESSAGE, f"StatusCode must be Success or Failure, not {status_code!r}.")
    items = {
        i["item_id"]: i for i in store.query("SELECT * FROM az_order_item WHERE order_id = ?", (order_id,))
    }
    reasons: dict[str, str] = {}
    for item in ack.findall("Item"):
        code, reason = item.findtext("AmazonOrderItemCode", ""), item.findtext("CancelReason", "")
        if code not in items:
            raise _Reject(BAD_MESSAGE, f"AmazonOrderItemCode {code} is not an item of order {order_id}.")
        if reason not in CANCEL_REASONS:
            raise _Reject(BAD_MESSAGE, f"CancelReason {reason!r} is not valid.")
        reasons[code] = reason
    if order["status"] not in CANCELLABLE:
        raise _Reject(
            NOT_CANCELLABLE, f"Order {order_id} is {order['status']} and can no longer be canceled."
        )
    now = time.time()
    restock = [
        (i["sku"], i["quantity"])
        for code, i in items.items()
        if reasons.get(code, "NoInventory") != "NoInventory"
    ]
    effects: list[tuple[str, str, Any, Any]] = [(f"order:{order_id}", "status", order["status"], "Canceled")]
    changed: list[tuple[str, int]] = []
    with store.tx() as c:
        c.execute(
            "UPDATE az_order SET status = 'Canceled', last_update = ? WHERE order_id = ?", (now, order_id)
        )
        for sku, qty in restock:
            row = c.execute("SELECT quantity FROM az_listing WHERE sku = ?", (sku,)).fetchone()
            if row is not None:
                c.execute(
                    "UPDATE az_listing SET quantity = ?, updated_at = ? WHERE sku = ?",
                    (row[0] + qty, now, sku),
                )
                effects.append((f"listing:{sku}", "quantity", row[0], row[0] + qty))
                changed.append((sku, row[0] + qty))
    sbx.state.record_effects(effects)
    _notify(sbx, _cancelled(sbx, order_id, now, list(items.values())))
    for sku, qty in changed:
        _notify(sbx, _quantity_change(sbx, sku, qty, now))


def _cancelled(sbx: AmazonSandbox, order_id: str, at: float, items: list[Any]) -> dict[str, Any]:
    return _envelope(
        "ORDER_CHANGE",
        at,
        {
            "OrderChangeNotification": {
                "NotificationLevel": "OrderLevel",
                "SellerId": sbx.seller_id,
                "AmazonOrderId": order_id,
                "OrderChangeType": "OrderStatusChange",
                "OrderChangeTrigger": {"TimeOfOrderChange": iso(at), "ChangeReason": "Seller canceled the order"},
                "Summary": {
                    "MarketplaceId": sbx.marketplace_id,
                    "OrderStatus": "Canceled",
                    "FulfillmentType": "MFN",
                    "OrderType": "StandardOrder",
                    "NumberOfItemsShipped": 0,
                    "NumberOfItemsUnshipped": 0,
                    "OrderItems": [
                        {"OrderItemId": i["item_id"], "SellerSKU": i["sku"], "Quantity": i["quantity"],
                         "QuantityShipped": 0, "OrderItemStatus": "Canceled"}
                        for i in items
                    ],
                },
            }
        },
    )  # fmt: skip


def _report(sbx: AmazonSandbox, feed_id: str, processed: int, errors: list[tuple[str, str, str]]) -> bytes:
    """`errors`: (MessageID, ResultMessageCode, ResultDescription); MessageID 0 is about the whole document."""
    envelope = Element("AmazonEnvelope")
    envelope.set("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance")
    envelope.set("xsi:noNamespaceSchemaLocation", "amzn-envelope.xsd")
    header = SubElement(envelope, "Header")
    SubElement(header, "DocumentVersion").text = "1.02"
    SubElement(header, "MerchantIdentifier").text = sbx.seller_id
    SubElement(envelope, "MessageType").text = "ProcessingReport"
    message = SubElement(envelope, "Message")
    SubElement(message, "MessageID").text = "1"
    report = SubElement(message, "ProcessingReport")
    SubElement(report, "DocumentTransactionID").text = feed_id
    SubElement(report, "StatusCode").text = "Complete"
    summary = SubElement(report, "ProcessingSummary")
    failed = len({m for m, _, _ in errors if m != "0"})
    SubElement(summary, "MessagesProcessed").text = str(processed)
    SubElement(summary, "MessagesSuccessful").text = str(processed - failed)
    SubElement(summary, "MessagesWithError").text = str(len(errors))
    SubElement(summary, "MessagesWithWarning").text = "0"
    for message_id, code, text in errors:
        result = SubElement(report, "Result")
        SubElement(result, "MessageID").text = message_id
        SubElement(result, "ResultCode").text = "Error"
        SubElement(result, "ResultMessageCode").text = code
        SubElement(result, "ResultDescription").text = text
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(envelope, encoding="utf-8")
