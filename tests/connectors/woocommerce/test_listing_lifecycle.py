"""create / update / end listing, variations, configuration and wiring."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import SecretStr

from connectors.marketplace.config import AccountConfig
from connectors.marketplace.factory import build_marketplace
from connectors.marketplace.port import Marketplace
from connectors.marketplace.types import ListingDraft, ProductIdentifier, QuantityUpdate
from connectors.marketplace.woocommerce.adapter import SANDBOX_CREDENTIALS, WooCommerceMarketplace
from connectors.ratelimit import RateLimiterRegistry
from sandboxes.woocommerce import auth as sandbox_auth
from tests.connectors.woocommerce.conftest import Sandbox


def _draft(sku: str, **kw: object) -> ListingDraft:
    base = {
        "sku": sku,
        "title": "Enamel Pin",
        "price": Decimal("7.25"),
        "quantity": 12,
        "brand": "Pinnacle",
        "category": "Accessories",
        "identifiers": {"ean": "4006381333948", "mpn": "PN-1"},
        "image_urls": ["https://img.example.com/pin.jpg"],
    }
    return ListingDraft(**{**base, **kw})  # type: ignore[arg-type]


async def test_create_update_end_a_simple_listing(sandbox: Sandbox) -> None:
    mp = sandbox.adapter()
    created = await mp.create_listing(_draft("PIN-1"), idempotency_key="c1")
    assert created.status == "applied" and created.external_id
    raw = (await sandbox.woo("GET", f"/products/{created.external_id}")).json()
    assert (raw["sku"], raw["regular_price"], raw["stock_quantity"], raw["status"]) == (
        "PIN-1",
        "7.25",
        12,
        "publish",
    )
    assert raw["global_unique_id"] == "4006381333948"
    assert {"key": "_merchflow_mpn", "value": "PN-1"}.items() <= next(
        m for m in raw["meta_data"] if m["key"] == "_merchflow_mpn"
    ).items()
    updated = await mp.update_listing(
        _draft("PIN-1", price=Decimal("8"), title="Enamel Pin v2"), idempotency_key="u1"
    )
    assert updated.status == "applied"
    raw = (await sandbox.woo("GET", f"/products/{created.external_id}")).json()
    assert (raw["name"], raw["regular_price"]) == ("Enamel Pin v2", "8.00")
    ended = await mp.end_listing("PIN-1", idempotency_key="e1")
    assert ended.status == "applied"
    assert (await sandbox.truth("PIN-1"))["PIN-1"]["status"] == "draft"
    # updating content does not republish an ended listing
    await mp.update_listing(_draft("PIN-1", quantity=3), idempotency_key="u2")
    assert (await sandbox.truth("PIN-1"))["PIN-1"]["status"] == "draft"
    assert (await mp.update_listing(_draft("NOPE"), idempotency_key="u3")).code == "sku_not_found"
    assert (await mp.end_listing("NOPE", idempotency_key="e3")).status == "rejected"


async def test_end_by_delete_and_repeat(sandbox: Sandbox) -> None:
    mp = sandbox.adapter(options={"end_mode": "delete"})
    await mp.create_listing(_draft("PIN-2", identifiers={}), idempotency_key="c2")
    assert (await mp.end_listing("PIN-2", idempotency_key="d2")).status == "applied"
    assert await sandbox.truth("PIN-2") == {}
    # the SKU is gone now: ending it again says so instead of pretending
    assert (await mp.end_listing("PIN-2", idempotency_key="d2")).code == "sku_not_found"


async def test_variation_listing_updates_and_ends_through_the_variation_endpoints(sandbox: Sandbox) -> None:
    parent = (
        await sandbox.woo("POST", "/products", json={"name": "Tee", "type": "variable", "sku": "TEE"})
    ).json()
    created = await sandbox.woo(
        "POST",
        f"/products/{parent['id']}/variations/batch",
        json={
            "create": [
                {
                    "sku": "TEE-S",
                    "regular_price": "15.00",
                    "manage_stock": True,
                    "stock_quantity": 4,
                    "attributes": [{"name": "Size", "option": "S"}],
                },
                {
                    "sku": "TEE-M",
                    "regular_price": "15.00",
                    "manage_stock": True,
                    "stock_quantity": 6,
                    "attributes": [{"name": "Size", "option": "M"}],
                },
            ]
        },
    )
    assert [v["sku"] for v in created.json()["create"]] == ["TEE-S", "TEE-M"]
    mp = sandbox.adapter(options={"end_mode": "private"})
    refs = await mp.resolve_skus(["TEE-S", "TEE-M", "TEE"])
    assert refs["TEE-S"].product_id == parent["id"] and refs["TEE-S"].variation_id
    assert refs["TEE"].variation_id is None
    result = await mp.update_listing(
        _draft("TEE-M", price=Decimal("16.50"), quantity=9), idempotency_key="uv"
    )
    assert result.status == "applied"
    v = (await sandbox.woo("GET", f"/products/{parent['id']}/variations/{refs['TEE-M'].variation_id}")).json()
    assert (v["regular_price"], v["stock_quantity"]) == ("16.50", 9)
    assert (await mp.end_listing("TEE-S", idempotency_key="ev")).status == "applied"
    assert (await sandbox.truth("TEE-S"))["TEE-S"]["status"] == "private"
    q = await mp.set_quantities([QuantityUpdate(sku="TEE-S", quantity=0)], idempotency_key="qv")
    assert q.outcomes[0].ok


async def test_competitive_prices_is_empty_for_an_own_shop(sandbox: Sandbox) -> None:
    mp = sandbox.adapter()
    assert await mp.competitive_prices([ProductIdentifier(type="upc", value="012345678905")]) == []
    await mp.list_listings()


async def test_configuration_refuses_keys_over_plain_http_and_wires_through_the_factory() -> None:
    creds = {k: SecretStr(v) for k, v in SANDBOX_CREDENTIALS.items()}
    cfg = AccountConfig(
        marketplace="woocommerce", name="shop", base_url="http://shop.example.com", credentials=creds
    )
    with pytest.raises(ValueError, match="HTTPS"):
        WooCommerceMarketplace.from_config(cfg, RateLimiterRegistry())
    ok = build_marketplace(
        cfg.model_copy(update={"base_url": "https://shop.example.com"}), RateLimiterRegistry()
    )
    assert isinstance(ok, WooCommerceMarketplace) and isinstance(ok, Marketplace)
    assert ok.max_batch == 100
    # the keys the adapter module advertises for sandbox accounts are the ones the sandbox accepts
    assert SANDBOX_CREDENTIALS == {
        "consumer_key": sandbox_auth.CONSUMER_KEY,
        "consumer_secret": sandbox_auth.CONSUMER_SECRET,
        "webhook_secret": sandbox_auth.WEBHOOK_SECRET,
    }
    assert "cs_" not in repr(ok.cfg) and "cs_" not in str(ok.cfg.credentials)
    await ok.aclose()
