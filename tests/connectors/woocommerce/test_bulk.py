"""set_quantities / set_prices through the batch endpoints: chunking, SKU resolution, per-item outcomes."""

from __future__ import annotations

from decimal import Decimal

from connectors.marketplace.types import ListingDraft, PriceUpdate, QuantityUpdate
from tests.connectors.woocommerce.conftest import Sandbox


async def _seed_mixed(sandbox: Sandbox) -> None:
    await sandbox.seed(
        [{"sku": f"Q-{i:03d}", "title": "q", "price": "5.00", "quantity": 1} for i in range(230)]
        + [
            {"sku": f"QV-{i}", "title": "v", "price": "7.00", "quantity": 1, "parent_sku": "TEE"}
            for i in range(30)
        ]
    )


async def test_quantities_chunked_at_100_per_batch_and_grouped_by_collection(sandbox: Sandbox) -> None:
    await _seed_mixed(sandbox)
    mp = sandbox.adapter()
    updates = [QuantityUpdate(sku=f"Q-{i:03d}", quantity=i + 5) for i in range(230)]
    updates += [QuantityUpdate(sku=f"QV-{i}", quantity=50 + i) for i in range(30)]
    result = await mp.set_quantities(updates, idempotency_key="chunks")
    assert [o.sku for o in result.outcomes] == [u.sku for u in updates]
    assert all(o.status == "applied" for o in result.outcomes)
    truth = await sandbox.truth("Q-000", "Q-229", "QV-0", "QV-29")
    assert truth["Q-000"]["quantity"] == 5 and truth["Q-229"]["quantity"] == 234
    assert truth["QV-0"]["quantity"] == 50 and truth["QV-29"]["quantity"] == 79
    batches = [r for r in await sandbox.requests() if r["path"].endswith("/batch")]
    paths = sorted(r["path"] for r in batches)
    parent = truth["QV-0"]["parent_id"]
    assert paths == sorted(
        ["/wp-json/wc/v3/products/batch"] * 3 + [f"/wp-json/wc/v3/products/{parent}/variations/batch"]
    )
    # every batch carries its own derived key so the sandbox can attribute effects
    assert len({r["idempotency_key"] for r in batches}) == 4
    assert all(r["idempotency_key"].startswith("chunks:") for r in batches)


async def test_partial_failures_are_reported_per_item(sandbox: Sandbox) -> None:
    await _seed_mixed(sandbox)
    mp = sandbox.adapter()
    truth = await sandbox.truth("Q-001", "Q-002")
    # the server refuses one item of a batch (negative stock) while applying the others
    raw = await sandbox.woo(
        "POST",
        "/products/batch",
        json={
            "update": [
                {"id": truth["Q-001"]["id"], "stock_quantity": -3},
                {"id": truth["Q-002"]["id"], "stock_quantity": 9},
            ]
        },
    )
    answered = raw.json()["update"]
    assert answered[0]["error"]["code"] == "woocommerce_rest_invalid_stock_quantity"
    assert answered[1]["stock_quantity"] == 9
    result = await mp.set_quantities(
        [
            QuantityUpdate(sku="Q-003", quantity=4),
            QuantityUpdate(sku="NO-SUCH-SKU", quantity=4),
            QuantityUpdate(sku="Q-004", quantity=6, external_id="999999"),  # stale id from an old sync
            QuantityUpdate(sku="GONE", quantity=1, external_id="888888"),  # stale id and no such SKU any more
        ],
        idempotency_key="partial",
    )
    by_sku = {o.sku: o for o in result.outcomes}
    assert by_sku["Q-003"].status == "applied"
    assert by_sku["NO-SUCH-SKU"].status == "rejected" and by_sku["NO-SUCH-SKU"].code == "sku_not_found"
    # the invalid id came back as a per-item error; the adapter re-resolved the SKU and resent once
    assert by_sku["Q-004"].status == "applied"
    assert by_sku["Q-004"].external_id == str((await sandbox.truth("Q-004"))["Q-004"]["id"])
    assert by_sku["GONE"].status == "rejected" and by_sku["GONE"].code == "sku_not_found"
    assert (await sandbox.truth("Q-004"))["Q-004"]["quantity"] == 6
    assert [o.sku for o in result.failed] == ["NO-SUCH-SKU", "GONE"]


async def test_prices_are_sent_as_strings_and_checked(sandbox: Sandbox) -> None:
    await _seed_mixed(sandbox)
    mp = sandbox.adapter()
    result = await mp.set_prices(
        [
            PriceUpdate(sku="Q-010", price=Decimal("12.5")),
            PriceUpdate(sku="QV-3", price=Decimal("1E+1")),
            PriceUpdate(sku="Q-011", price=Decimal("3.00"), currency="EUR"),
        ],
        idempotency_key="prices",
    )
    status = {o.sku: (o.status, o.code) for o in result.outcomes}
    assert status == {
        "Q-010": ("applied", None),
        "QV-3": ("applied", None),
        "Q-011": ("rejected", "currency_mismatch"),
    }
    truth = await sandbox.truth("Q-010", "QV-3", "Q-011")
    assert truth["Q-010"]["price"] == "12.50" and truth["QV-3"]["price"] == "10.00"
    assert truth["Q-011"]["price"] == "5.00"
    effects = await sandbox.effects()
    assert {(e["field"], e["new_value"]) for e in effects if e["idempotency_key"]} == {
        ("regular_price", "12.50"),
        ("regular_price", "10.00"),
    }


async def test_same_sku_twice_in_one_call_sends_the_last_value_once(sandbox: Sandbox) -> None:
    await _seed_mixed(sandbox)
    mp = sandbox.adapter()
    result = await mp.set_quantities(
        [QuantityUpdate(sku="Q-020", quantity=1), QuantityUpdate(sku="Q-020", quantity=8)],
        idempotency_key="dup",
    )
    assert [o.status for o in result.outcomes] == ["applied", "applied"]
    assert (await sandbox.truth("Q-020"))["Q-020"]["quantity"] == 8
    batches = [r for r in await sandbox.requests() if r["path"].endswith("/batch")]
    assert len(batches) == 1


async def test_oversized_batch_is_refused_with_413_and_caught_by_the_contract(sandbox: Sandbox) -> None:
    await _seed_mixed(sandbox)
    ids = [row["id"] for row in (await sandbox.truth()).values()][:101]
    with sandbox.recorder.expecting_violations() as caught:
        raw = await sandbox.woo(
            "POST", "/products/batch", json={"update": [{"id": i, "stock_quantity": 1} for i in ids]}
        )
    assert raw.status_code == 413
    assert raw.json()["code"] == "woocommerce_rest_request_entity_too_large"
    assert any("batch of 101 objects > 100" in v for v in caught)
    assert (await sandbox.truth("Q-000"))["Q-000"]["quantity"] == 1  # nothing of it applied


async def test_contract_catches_a_malformed_adapter_request(sandbox: Sandbox) -> None:
    """The checks are not vacuous: a price sent as a number, or an unknown field, is flagged."""
    row = (await sandbox.truth("DEMO-MUG-02"))["DEMO-MUG-02"]
    with sandbox.recorder.expecting_violations() as caught:
        raw = await sandbox.woo(
            "POST", "/products/batch", json={"update": [{"id": row["id"], "regular_price": 3.5}]}
        )
        await sandbox.woo("POST", "/products/batch", json={"update": [{"id": row["id"], "qty": 3}]})
    assert raw.json()["update"][0]["error"]["code"] == "rest_invalid_param"
    assert any("3.5 is not of type 'string'" in v for v in caught)
    assert any("'qty' was unexpected" in v for v in caught)


async def test_variation_moved_to_another_parent_is_found_again(sandbox: Sandbox) -> None:
    await sandbox.seed(
        [{"sku": "MV-1", "title": "v", "price": "7.00", "quantity": 1, "parent_sku": "OLD-PARENT"}]
    )
    mp = sandbox.adapter()
    old = (await mp.resolve_skus(["MV-1"]))["MV-1"]
    # the shop rebuilt the product: old parent (and its variation) deleted, the SKU recreated under a new parent
    assert (
        await sandbox.woo("DELETE", f"/products/{old.product_id}", params={"force": "true"})
    ).status_code == 200
    await sandbox.seed(
        [{"sku": "MV-1", "title": "v", "price": "7.00", "quantity": 1, "parent_sku": "NEW-PARENT"}]
    )
    result = await mp.set_quantities([QuantityUpdate(sku="MV-1", quantity=5)], idempotency_key="moved")
    assert result.outcomes[0].status == "applied"
    truth = (await sandbox.truth("MV-1"))["MV-1"]
    assert truth["quantity"] == 5 and truth["parent_id"] != old.product_id
    assert result.outcomes[0].external_id == str(truth["id"])


async def test_a_price_a_store_would_mangle_is_refused_before_sending(sandbox: Sandbox) -> None:
    """A store does not refuse a bad regular_price, it stores wc_format_decimal of it ("NaN" -> "", the product
    stops being purchasable; "1E+1" would be "11"): the adapter refuses such prices itself and sends nothing."""
    await _seed_mixed(sandbox)
    mp = sandbox.adapter()
    bad = {"Q-010": "NaN", "Q-011": "Infinity", "QV-3": "12.345", "Q-012": "-4"}
    before = len(await sandbox.requests())
    result = await mp.set_prices(
        [PriceUpdate.model_construct(sku=s, price=Decimal(p), currency="USD") for s, p in bad.items()]
        + [PriceUpdate(sku="Q-013", price=Decimal("7.25"))],
        idempotency_key="bad-prices",
    )
    status = {o.sku: (o.status, o.code) for o in result.outcomes}
    assert status == {**{s: ("rejected", "invalid_price") for s in bad}, "Q-013": ("applied", None)}
    sent = [r for r in (await sandbox.requests())[before:] if r["method"] != "GET"]
    assert len(sent) == 1  # one batch, for the valid price only
    truth = await sandbox.truth(*bad, "Q-013")
    assert {s: row["price"] for s, row in truth.items()} == {
        "Q-010": "5.00", "Q-011": "5.00", "QV-3": "7.00", "Q-012": "5.00", "Q-013": "7.25"
    }  # fmt: skip
    draft = ListingDraft.model_construct(sku="NEW-NAN", title="x", price=Decimal("NaN"), quantity=1)
    made = await mp.create_listing(draft, idempotency_key="nan-create")
    assert (made.status, made.code) == ("rejected", "invalid_price")
    assert not [
        r
        for r in (await sandbox.requests())[before:]
        if r["method"] == "POST" and r["path"].endswith("/products")
    ]
