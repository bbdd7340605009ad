"""Competitive prices (20 ASINs per getCompetitivePricing call), fee estimates, catalog search by identifiers."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from connectors.errors import ValidationError
from connectors.marketplace.types import ProductIdentifier
from sandboxes.amazon.catalog import competitor_price
from tests.connectors.amazon.conftest import AmazonEnv


async def test_competitive_prices_in_batches_of_20(amazon: AmazonEnv) -> None:
    skus = await amazon.seed(45, prefix="CP-", price="30.00")
    async with amazon.admin() as c:
        asins = [
            (await c.get("/_sandbox/listings", params={"sku": s})).json()["listings"][0]["asin"] for s in skus
        ]
    mp, rec = amazon.adapter()
    prices = await mp.competitive_prices(
        [ProductIdentifier(type="asin", value=a, sku=s) for a, s in zip(asins, skus, strict=True)]
    )
    calls = rec.calls("GET", "/products/pricing/v0/competitivePrice")
    sizes = [len(parse_qs(urlsplit(c.url).query)["Asins"][0].split(",")) for c in calls]
    assert sizes == [20, 20, 5]
    assert len(prices) == 45
    by_asin = {p.identifier.value: p for p in prices}
    assert by_asin[asins[0]].price == competitor_price(asins[0], Decimal("30.00"))
    assert by_asin[asins[0]].identifier.sku == skus[0]  # our SKU echoed back
    assert all(p.currency == "USD" and p.source.startswith("amazon:getCompetitivePricing") for p in prices)


async def test_competitive_prices_for_barcodes_and_skus(amazon: AmazonEnv) -> None:
    mp, rec = amazon.adapter()
    idents = [
        ProductIdentifier(type="upc", value="012345678905"),  # demo headphones
        ProductIdentifier(type="ean", value="4006381333931"),  # demo mug
        ProductIdentifier(type="isbn", value="9780306406157"),  # demo book
        ProductIdentifier(type="sku", value="DEMO-LAMP-04"),
        ProductIdentifier(type="upc", value="000000000000"),  # unknown to Amazon: no price, no error
    ]
    prices = await mp.competitive_prices(idents)
    assert sorted((p.identifier.type, p.identifier.value) for p in prices) == sorted(
        (i.type, i.value) for i in idents[:4]
    )
    assert {c.path for c in rec.exchanges} >= {
        "/catalog/2022-04-01/items",
        "/products/pricing/v0/competitivePrice",
    }


async def test_catalog_search_by_identifier(amazon: AmazonEnv) -> None:
    mp, _ = amazon.adapter()
    matches = await mp.search_catalog(
        [
            ProductIdentifier(type="isbn", value="9780306406157"),
            ProductIdentifier(type="asin", value="B0DEMO0010"),
        ]
    )
    by_type = {m.identifier.type: m for m in matches}
    assert by_type["isbn"].title == "The Pragmatic Seller (paperback)"
    assert by_type["isbn"].identifiers["isbn"] == "9780306406157"
    assert by_type["asin"].asin == "B0DEMO0010"


async def test_fee_estimates(amazon: AmazonEnv) -> None:
    mp, _ = amazon.adapter()
    mfn = await mp.fees_estimate(sku="DEMO-MUG-02", price=Decimal("12.99"))
    assert mfn.total == Decimal("1.95") and {f.fee_type for f in mfn.fees} == {
        "ReferralFee",
        "VariableClosingFee",
    }
    fba = await mp.fees_estimate(asin="B0DEMO0010", price=Decimal("54.99"), amazon_fulfilled=True)
    assert fba.total == Decimal("8.25") + Decimal("3.22")
    with pytest.raises(ValidationError):
        await mp.fees_estimate(sku="NOT-MINE", price=Decimal("5"))
