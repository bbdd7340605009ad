"""Seller cancellations on the sandbox: a POST_ORDER_ACKNOWLEDGEMENT_DATA feed (StatusCode Failure + CancelReason),
processed asynchronously into an XML processing report; the order becomes Canceled and is read back before the
cancel is reported applied."""

from __future__ import annotations

from typing import Any

from defusedxml.ElementTree import fromstring

from connectors.marketplace.amazon.cancellations import FEED_TYPE, parse_processing_report
from sandboxes.amazon.order_acks import process_order_acknowledgement
from tests.connectors.amazon.conftest import AmazonEnv


async def buy(amazon: AmazonEnv, sku: str, quantity: int, order_id: str) -> dict[str, Any]:
    async with amazon.admin() as c:
        r = await c.post("/_sandbox/orders", json={"sku": sku, "quantity": quantity, "order_id": order_id})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def feeds(amazon: AmazonEnv) -> list[Any]:
    return amazon.sbx.state.store.query("SELECT feed_type, status FROM az_feed ORDER BY feed_id")


async def test_an_order_we_cannot_fill_is_cancelled_with_no_inventory(amazon: AmazonEnv) -> None:
    [sku] = await amazon.seed(1, quantity=5)
    await buy(amazon, sku, 2, "111-0000001-0000001")
    mp, rec = amazon.adapter()
    result = await mp.cancel_order(
        "111-0000001-0000001", reason="out of stock across channels", idempotency_key="cancel-1"
    )
    assert (result.status, result.external_id) == ("applied", "111-0000001-0000001"), result
    order = await mp.get_order("111-0000001-0000001")
    assert order is not None and order.cancelled and order.status == "Canceled"
    assert [(line.sku, line.quantity) for line in order.lines] == [(sku, 2)]
    # what went to Amazon: an XML order acknowledgement, StatusCode Failure, NoInventory for the order's item
    [upload] = rec.calls("PUT", "/sandbox-s3/feeds/")
    assert upload.request_headers["content-type"].startswith("text/xml")
    doc = fromstring(upload.request_body)
    assert doc.findtext("MessageType") == "OrderAcknowledgement"
    ack = doc.find("Message/OrderAcknowledgement")
    assert ack is not None and ack.findtext("AmazonOrderID") == "111-0000001-0000001"
    assert ack.findtext("StatusCode") == "Failure"
    items = await mp.canceller.item_codes("111-0000001-0000001")
    assert [(i.findtext("AmazonOrderItemCode"), i.findtext("CancelReason")) for i in ack.findall("Item")] == [
        (items[0], "NoInventory")
    ]
    assert [(f["feed_type"], f["status"]) for f in feeds(amazon)] == [(FEED_TYPE, "DONE")]
    assert (await amazon.listing(sku))["quantity"] == 3  # type: ignore[index]  # NoInventory: no units put back


async def test_other_reasons_put_the_units_back_on_the_listing(amazon: AmazonEnv) -> None:
    [sku] = await amazon.seed(1, quantity=5)
    await buy(amazon, sku, 2, "111-0000002-0000002")
    mp, _ = amazon.adapter()
    result = await mp.cancel_order("111-0000002-0000002", reason="BuyerCanceled", idempotency_key="cancel-2")
    assert result.status == "applied"
    assert (await amazon.listing(sku))["quantity"] == 5  # type: ignore[index]


async def test_cancelling_again_sends_no_second_feed(amazon: AmazonEnv) -> None:
    [sku] = await amazon.seed(1)
    await buy(amazon, sku, 1, "111-0000003-0000003")
    mp, rec = amazon.adapter()
    first = await mp.cancel_order("111-0000003-0000003", reason="oos", idempotency_key="cancel-3")
    again = await mp.cancel_order("111-0000003-0000003", reason="oos", idempotency_key="cancel-3")
    assert (first.status, again.status) == ("applied", "applied")
    assert len(rec.calls("POST", "/feeds/2021-06-30/feeds")) == 1
    assert await amazon.duplicates() == []


async def test_unknown_and_shipped_orders_are_refused(amazon: AmazonEnv) -> None:
    [sku] = await amazon.seed(1)
    mp, rec = amazon.adapter()
    unknown = await mp.cancel_order("999-9999999-9999999", reason="oos", idempotency_key="cancel-4")
    assert (unknown.status, unknown.code) == ("rejected", "NotFound")
    await buy(amazon, sku, 1, "111-0000004-0000004")
    amazon.sbx.state.store.execute(
        "UPDATE az_order SET status = 'Shipped' WHERE order_id = '111-0000004-0000004'"
    )
    shipped = await mp.cancel_order("111-0000004-0000004", reason="oos", idempotency_key="cancel-5")
    assert (shipped.status, shipped.code) == ("rejected", "NotCancellable")
    assert rec.calls("POST", "/feeds/2021-06-30/feeds") == []  # nothing was sent to cancel a shipped order


async def test_the_processing_report_names_messages_amazon_refused(amazon: AmazonEnv) -> None:
    """The sandbox's XML processing report, read by the adapter's parser: a bad item code fails its message."""
    [sku] = await amazon.seed(1)
    await buy(amazon, sku, 1, "111-0000005-0000005")
    seller = amazon.sbx.seller_id
    doc = (
        '<?xml version="1.0" encoding="UTF-8"?><AmazonEnvelope><Header><DocumentVersion>1.01</DocumentVersion>'
        f"<MerchantIdentifier>{seller}</MerchantIdentifier></Header><MessageType>OrderAcknowledgement</MessageType>"
        "<Message><MessageID>1</MessageID><OrderAcknowledgement><AmazonOrderID>111-0000005-0000005</AmazonOrderID>"
        "<StatusCode>Failure</StatusCode><Item><AmazonOrderItemCode>42</AmazonOrderItemCode>"
        "<CancelReason>NoInventory</CancelReason></Item></OrderAcknowledgement></Message>"
        "<Message><MessageID>2</MessageID><OrderAcknowledgement><AmazonOrderID>111-0000005-0000005</AmazonOrderID>"
        "<StatusCode>Success</StatusCode></OrderAcknowledgement></Message></AmazonEnvelope>"
    ).encode()
    status, raw = process_order_acknowledgement(amazon.sbx, "50001", doc)
    report = parse_processing_report(raw)
    assert status == "DONE" and (report.processed, report.successful) == (2, 1)
    assert len(report.errors) == 1 and "42 is not an item" in report.errors[0][1]
    row = amazon.sbx.state.store.one("SELECT status FROM az_order WHERE order_id = '111-0000005-0000005'")
    assert row["status"] == "Unshipped"  # a refused message changes nothing
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><AmazonEnvelope>&a;</AmazonEnvelope>'
    assert (
        process_order_acknowledgement(amazon.sbx, "50002", bomb)[0] == "FATAL"
    )  # entities are never expanded
