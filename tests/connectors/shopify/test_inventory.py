"""set_quantities against the sandbox: applied, per-item failures, the compareQuantity guard, idempotent replays."""

from __future__ import annotations

import httpx

from connectors.marketplace.shopify.adapter import ShopifyMarketplace
from connectors.marketplace.types import QuantityUpdate
from tests.connectors.shopify.conftest import Recorder, seed, truth


async def test_quantities_are_applied_in_chunks_at_the_demo_location(
    make_adapter, recorder: Recorder, control: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    skus = await seed(control, 600, quantity=5)
    a: ShopifyMarketplace = make_adapter(quantities_per_call=250)
    page = await a.list_listings()  # fills the SKU -> inventory item cache for the first 199
    assert page.items and page.items[0].extra["location_id"] == "gid://shopify/Location/71234567890"
    beats: list[str] = []
    result = await a.set_quantities(
        [QuantityUpdate(sku=s, quantity=i % 7) for i, s in enumerate(skus)],
        idempotency_key="bulk-1",
        on_wait=beats.append,
    )
    assert len(beats) == 3  # one heartbeat per answered call, for the activity driving a long (throttled) run
    assert [o.status for o in result.outcomes] == ["applied"] * 600
    assert [o.sku for o in result.outcomes] == skus
    assert (await truth(control, skus[8]))["quantity"] == 1
    sent = [e for e in recorder.graphql() if e.request["operationName"] == "MerchflowSetQuantities"]
    assert sorted(len(e.request["variables"]["input"]["quantities"]) for e in sent) == [100, 250, 250]
    assert all(e.request["variables"]["input"]["ignoreCompareQuantity"] is True for e in sent)
    assert {e.headers["idempotency-key"] for e in sent} == {"bulk-1:q0", "bulk-1:q1", "bulk-1:q2"}


async def test_partial_failures_are_reported_per_item_and_the_rest_applied(
    make_adapter, recorder: Recorder, control: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    skus = await seed(control, 5, quantity=5)
    a: ShopifyMarketplace = make_adapter()
    updates = [
        QuantityUpdate(sku=skus[0], quantity=1),
        QuantityUpdate(sku="NO-SUCH-SKU", quantity=1),  # unknown: found by nobody, never sent
        QuantityUpdate(sku=skus[1], quantity=2_000_000_000),  # over Shopify's 1,000,000,000 cap
        QuantityUpdate(
            sku=skus[2], quantity=3, external_variant_id="gid://shopify/InventoryItem/999"
        ),  # no such item
        QuantityUpdate(sku=skus[3], quantity=4),
        QuantityUpdate(sku=skus[4], quantity=3_000_000_000),  # not even a GraphQL Int
    ]
    result = await a.set_quantities(updates, idempotency_key="partial-1")
    got = [(o.sku, o.status, o.code) for o in result.outcomes]
    assert got == [
        (skus[0], "applied", None),
        ("NO-SUCH-SKU", "rejected", "UNKNOWN_SKU"),
        (skus[1], "rejected", "INVALID_QUANTITY_TOO_HIGH"),
        (skus[2], "rejected", "INVALID_INVENTORY_ITEM"),
        (skus[3], "applied", None),
        (skus[4], "rejected", "INVALID_QUANTITY_TOO_HIGH"),
    ]
    assert [(await truth(control, s))["quantity"] for s in skus] == [1, 5, 5, 4, 5]
    # the mutation is all-or-nothing: the first call was refused whole, the valid items were sent again
    calls = [e for e in recorder.graphql() if e.request["operationName"] == "MerchflowSetQuantities"]
    assert [len(e.request["variables"]["input"]["quantities"]) for e in calls] == [4, 2]


async def test_compare_quantity_mismatch_is_a_conflict_and_nothing_else_is_blocked(
    make_adapter, control: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    skus = await seed(control, 3, quantity=10)
    a: ShopifyMarketplace = make_adapter()
    result = await a.set_quantities(
        [
            QuantityUpdate(sku=skus[0], quantity=8, expected_quantity=10),
            QuantityUpdate(sku=skus[1], quantity=8, expected_quantity=7),  # someone sold 3 meanwhile
            QuantityUpdate(sku=skus[2], quantity=9),  # no guard: sent with ignoreCompareQuantity
        ],
        idempotency_key="cas-1",
    )
    by_sku = {o.sku: o for o in result.outcomes}
    assert by_sku[skus[0]].status == "applied"
    assert by_sku[skus[1]].status == "conflict"
    assert by_sku[skus[1]].code == "COMPARE_QUANTITY_STALE"
    assert "live quantity is 10" in (by_sku[skus[1]].message or "")
    assert by_sku[skus[2]].status == "applied"
    assert [(await truth(control, s))["quantity"] for s in skus] == [8, 10, 9]


async def test_a_stale_guard_on_a_quantity_already_at_target_counts_as_applied(
    make_adapter, control: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    """What a retry looks like on the real 2025-01 API (no idempotency keys) after a lost response: the first call
    moved 10 -> 4, the retry's guard (10) is stale, but the live quantity is the target."""
    skus = await seed(control, 1, quantity=10)
    a: ShopifyMarketplace = make_adapter()
    first = await a.set_quantities(
        [QuantityUpdate(sku=skus[0], quantity=4, expected_quantity=10)], idempotency_key="a"
    )
    again = await a.set_quantities(
        [QuantityUpdate(sku=skus[0], quantity=4, expected_quantity=10)], idempotency_key="b"
    )
    assert first.outcomes[0].status == "applied" and first.outcomes[0].code is None
    assert again.outcomes[0].status == "applied" and again.outcomes[0].code == "ALREADY_AT_TARGET"
    effects = (await control.get("/_sandbox/effects", params={"entity": skus[0]})).json()
    assert [(e["old_value"], e["new_value"]) for e in effects] == [("10", "4")]


async def test_same_idempotency_key_replays_the_first_result_without_applying_again(
    make_adapter, recorder: Recorder, control: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    skus = await seed(control, 2, quantity=10)
    a: ShopifyMarketplace = make_adapter()
    updates = [QuantityUpdate(sku=s, quantity=3) for s in skus]
    first = await a.set_quantities(updates, idempotency_key="same")
    await control.post(
        "/_sandbox/orders", json={"sku": skus[0], "quantity": 1}
    )  # live stock moves on: 3 -> 2
    second = await a.set_quantities(updates, idempotency_key="same")
    assert [o.status for o in first.outcomes] == [o.status for o in second.outcomes] == ["applied", "applied"]
    assert (await truth(control, skus[0]))["quantity"] == 2  # the replay did not set 3 again
    replays = [e for e in recorder.graphql() if e.request["operationName"] == "MerchflowSetQuantities"]
    assert len(replays) == 2 and replays[0].response == replays[1].response
    assert (await control.get("/_sandbox/effects/duplicates")).json() == []


async def test_lost_responses_are_not_resent_and_nothing_applies_twice(
    make_adapter, control: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    skus = await seed(control, 300, quantity=10)
    a: ShopifyMarketplace = make_adapter(max_retries=6)
    await a.list_listings()  # token, shop and part of the cache before the faults start
    await control.put("/_sandbox/faults", json={"lost_response_rate": 0.5, "seed": 7, "rate_limits": False})
    updates = [QuantityUpdate(sku=s, quantity=1) for s in skus]
    result = await a.set_quantities(updates, idempotency_key="lossy")
    await control.put("/_sandbox/faults", json={"rate_limits": False})
    requests = (await control.get("/_sandbox/requests", params={"limit": 10000, "mutating": "true"})).json()
    lost = [r for r in requests if r["fault"] == "lost_response"]
    assert lost, "the seed was meant to lose some responses"
    assert len({r["idempotency_key"] for r in requests}) == len(requests)  # no call was sent twice
    unknown = {o.sku for o in result.outcomes if o.status != "applied"}
    assert unknown and {o.status for o in result.outcomes if o.sku in unknown} == {"failed"}
    again = await a.set_quantities([u for u in updates if u.sku in unknown], idempotency_key="lossy:2")
    assert {o.status for o in again.outcomes} == {"applied"}
    assert (await control.get("/_sandbox/effects/duplicates")).json() == []
    effects = (await control.get("/_sandbox/effects", params={"limit": 100000})).json()
    assert sorted(e["entity"] for e in effects if e["field"] == "available") == sorted(skus)


def first_lost_then_answered() -> int:
    """A fault seed under which, at lost_response_rate 0.5, the first mutation's answer is lost and the second's is
    not (each mutation draws a fault roll, then a lost-response roll)."""
    import random

    for s in range(10_000):
        r = random.Random(s)
        rolls = [r.random() for _ in range(4)]
        if rolls[1] < 0.5 <= rolls[3]:
            return s
    raise AssertionError("no seed")


async def test_a_guarded_write_whose_answer_was_lost_is_resent_and_converges(
    make_adapter, control: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    """compareQuantity makes a replay harmless (after it was applied, the guard would refuse it as stale), so the
    transport may resend a guarded call after a lost answer - unlike an unguarded one."""
    [sku] = await seed(control, 1, quantity=10)
    a: ShopifyMarketplace = make_adapter()
    await a.list_listings()
    faults = {"lost_response_rate": 0.5, "seed": first_lost_then_answered(), "rate_limits": False}
    await control.put("/_sandbox/faults", json=faults)
    result = await a.set_quantities(
        [QuantityUpdate(sku=sku, quantity=4, expected_quantity=10)], idempotency_key="g"
    )
    await control.put("/_sandbox/faults", json={"rate_limits": False})
    assert [o.status for o in result.outcomes] == ["applied"]
    sent = (await control.get("/_sandbox/requests", params={"mutating": "true"})).json()
    assert [r["fault"] for r in sent] == ["lost_response", None]  # resent once, same key
    assert len({r["idempotency_key"] for r in sent}) == 1
    assert (await truth(control, sku))["quantity"] == 4
    assert (await control.get("/_sandbox/effects/duplicates")).json() == []
