"""Customer purchases on a real sandbox server: signed notifications to a real receiver, Orders v0 paging."""

from __future__ import annotations

import json
import time

import pytest

from connectors.errors import WebhookRejected
from connectors.marketplace.amazon.webhooks import SIGNATURE_HEADER, sign
from tests.connectors.amazon.conftest import AmazonEnv, Receiver
from tests.connectors.amazon.spec import SpApiContract


async def test_purchase_sends_signed_notifications(
    live_amazon: AmazonEnv, receiver: tuple[Receiver, str], contract: SpApiContract | None
) -> None:
    rec, url = receiver
    live_amazon.webhooks_to(f"{url}/api/v1/webhooks/amazon/test")
    mp, _ = live_amazon.adapter()
    async with live_amazon.admin() as c:
        r = await c.post(
            "/_sandbox/orders", json={"sku": "DEMO-MUG-02", "quantity": 3, "order_id": "111-0000001-0000001"}
        )
        assert r.status_code == 201 and r.json()["remaining"] == 237
    deliveries = await rec.wait_for(2)
    events = {e.topic: e for e in (mp.verify_webhook(h, body) for h, body in deliveries)}
    order = events["ORDER_CHANGE"]
    assert order.kind == "order_created" and order.order is not None
    assert order.order.order_id == "111-0000001-0000001"
    assert [(line.sku, line.quantity) for line in order.order.lines] == [("DEMO-MUG-02", 3)]
    qty = events["LISTINGS_ITEM_MFN_QUANTITY_CHANGE"]
    assert (qty.kind, qty.sku, qty.quantity) == ("quantity_changed", "DEMO-MUG-02", 237)
    assert len({e.event_id for e in events.values()}) == 2
    if contract is not None:
        for _, body in deliveries:
            assert contract.check_notification(json.loads(body)) == []

    page = await mp.list_orders()
    assert [o.order_id for o in page.orders] == ["111-0000001-0000001"]
    assert page.orders[0].lines[0].quantity == 3 and not page.has_more


async def test_forged_notifications_are_refused(amazon: AmazonEnv) -> None:
    mp, _ = amazon.adapter()
    body = json.dumps(
        {
            "NotificationVersion": "1.0",
            "NotificationType": "LISTINGS_ITEM_MFN_QUANTITY_CHANGE",
            "PayloadVersion": "1.0",
            "EventTime": "2024-01-01T00:00:00.000Z",
            "Payload": {
                "SellerId": "A2MERCHFLOWSBX",
                "FulfillmentChannelCode": "DEFAULT",
                "Sku": "S",
                "Quantity": 1,
            },
            "NotificationMetadata": {
                "ApplicationId": "a",
                "SubscriptionId": "s",
                "PublishTime": "2024-01-01T00:00:00Z",
                "NotificationId": "n-1",
            },
        }
    ).encode()
    secret = "merchflow-sandbox-relay-secret"
    tampered = body.replace(b'"Quantity": 1', b'"Quantity": 999')
    assert tampered != body
    assert mp.verify_webhook({SIGNATURE_HEADER: sign(secret, body)}, body).sku == "S"
    forged = [
        ({}, body),  # unsigned
        ({SIGNATURE_HEADER: sign("guessed-secret", body)}, body),
        ({SIGNATURE_HEADER: sign(secret, body)}, tampered),
        ({SIGNATURE_HEADER: sign(secret, body, int(time.time()) - 3600)}, body),  # replayed an hour later
        ({SIGNATURE_HEADER: "t=abc,v1=00"}, body),
    ]
    for headers, payload in forged:
        with pytest.raises(WebhookRejected):
            mp.verify_webhook(headers, payload)
    with pytest.raises(WebhookRejected):  # signed but not a notification
        mp.verify_webhook({SIGNATURE_HEADER: sign(secret, b"{}")}, b"{}")


async def test_purchase_below_zero_is_refused(amazon: AmazonEnv) -> None:
    async with amazon.admin() as c:
        r = await c.post("/_sandbox/orders", json={"sku": "DEMO-BOOK-03", "quantity": 10})
        assert r.status_code == 409
        assert r.json()["errors"][0]["code"] == "InsufficientQuantity"
    assert (await amazon.listing("DEMO-BOOK-03"))["quantity"] == 9  # type: ignore[index]


async def test_orders_page_with_next_token_and_cursor(amazon: AmazonEnv) -> None:
    await amazon.seed(1, prefix="ORD-", quantity=1000)
    async with amazon.admin() as c:
        for i in range(130):
            r = await c.post(
                "/_sandbox/orders", json={"sku": "ORD-000000", "quantity": 1, "order_id": f"o-{i:04d}"}
            )
            assert r.status_code == 201
    mp, rec = amazon.adapter(orders_page_size=100)
    first = await mp.list_orders()
    assert len(first.orders) == 100 and first.has_more
    second = await mp.list_orders(first.next_cursor)
    assert len(second.orders) == 30 and not second.has_more
    ids = [o.order_id for o in first.orders + second.orders]
    assert len(set(ids)) == 130
    assert all(o.lines[0].sku == "ORD-000000" for o in second.orders)
    pages = [e for e in rec.exchanges if e.path == "/orders/v0/orders"]
    assert "NextToken" not in pages[0].url and "NextToken" in pages[1].url
    # the next poll starts from the newest update seen: older orders do not come back
    async with amazon.admin() as c:
        await c.post("/_sandbox/orders", json={"sku": "ORD-000000", "quantity": 2, "order_id": "o-new"})
    later = await mp.list_orders(second.next_cursor)
    assert "o-new" in [o.order_id for o in later.orders]
    newest = max(o.updated_at for o in first.orders + second.orders)
    # the bound is inclusive: orders of the newest millisecond may repeat (callers dedupe), nothing older comes back
    assert all(o.updated_at >= newest for o in later.orders)
    assert len(later.orders) < 130


async def test_more_than_a_page_of_orders_sharing_one_update_time(amazon: AmazonEnv) -> None:
    """Seven orders with one LastUpdateDate, two per page: NextToken pages them once each (no page twice, none
    skipped); the next poll starts at that time, inclusive, so they may come again (callers dedupe), and it still
    ends and finds the newer order."""
    await amazon.seed(1, prefix="TIE-", quantity=100)
    ids = [f"t-{i}" for i in range(7)]
    async with amazon.admin() as c:
        for order_id in ids:
            r = await c.post(
                "/_sandbox/orders", json={"sku": "TIE-000000", "quantity": 1, "order_id": order_id}
            )
            assert r.status_code == 201
    tie = time.time() - 60
    amazon.sbx.state.store.execute("UPDATE az_order SET last_update = ?", (tie,))
    mp, _ = amazon.adapter(orders_page_size=2)

    async def sweep(cursor: str | None) -> tuple[list[list[str]], str | None]:
        pages: list[list[str]] = []
        while True:
            page = await mp.list_orders(cursor)
            pages.append([o.order_id for o in page.orders])
            cursor = page.next_cursor
            if not page.has_more:
                return pages, cursor

    pages, cursor = await sweep(None)
    assert [len(p) for p in pages] == [2, 2, 2, 1] and sorted(o for p in pages for o in p) == ids
    async with amazon.admin() as c:
        await c.post("/_sandbox/orders", json={"sku": "TIE-000000", "quantity": 1, "order_id": "t-new"})
    later, cursor = await sweep(cursor)
    assert sorted(o for p in later for o in p) == sorted(
        [*ids, "t-new"]
    )  # the tie again (inclusive), and the new
    last, _ = await sweep(cursor)
    assert [o for p in last for o in p] == ["t-new"]  # the watermark moved past the tie
