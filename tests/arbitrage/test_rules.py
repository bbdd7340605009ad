"""Buy / negotiate / skip: each rule with its reason, on realistic offers and market quotes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from domain.arbitrage.config import ArbitrageConfig
from domain.arbitrage.fee_data import FEE_BOOK
from domain.arbitrage.limits import SafetyLimits
from domain.arbitrage.market import MarketQuote
from domain.arbitrage.offers import RawOffer, identify
from domain.arbitrage.rules import decide

DAY = date(2024, 7, 1)
GTIN = "0885909950805"  # valid check digit


def offer(price: str, **kw: object) -> RawOffer:
    base = {"source": "classifieds", "source_id": "1", "title": f"Headphones {GTIN}", "price": D(price),
            "condition": "like new", "can_message": True, "can_checkout": True}  # fmt: skip
    return RawOffer(**{**base, **kw})  # type: ignore[arg-type]


def quote(**kw: object) -> MarketQuote:
    base = {"product_key": f"gtin:0{GTIN}", "asin": "B0TEST0001", "brand": "Sony", "category": "Electronics",
            "amazon_price": D("200"), "amazon_offers": 4, "sales_rank": 800, "ebay_active_min": D("190"),
            "ebay_active_count": 6, "ebay_sold_median": D("185"), "ebay_sold_count": 45}  # fmt: skip
    return MarketQuote(**{**base, **kw})  # type: ignore[arg-type]


def run(o: RawOffer, q: MarketQuote | None, cfg: ArbitrageConfig | None = None):  # type: ignore[no-untyped-def]
    return decide(o, identify(o), q, config=cfg or ArbitrageConfig(), book=FEE_BOOK, day=DAY)


def test_underpriced_item_is_a_buy_with_its_numbers() -> None:
    v = run(offer("60"), quote())
    assert v.action == "buy" and v.target_price == D("60")
    assert v.channel == "amazon_fba" and v.max_price is not None and v.max_price >= D("60")
    assert v.at_asking is not None and v.at_asking.profit > 10 and v.at_asking.roi > D("0.3")
    assert 0 < v.confidence <= 1 and any("max price" in r for r in v.reasons)


def test_asking_a_little_above_max_is_negotiated_from_an_offer_below_max() -> None:
    v0 = run(offer("60"), quote())
    assert v0.max_price is not None
    v = run(offer(str(v0.max_price + 10)), quote())
    assert v.action == "negotiate" and v.target_price is not None and v.target_price < v0.max_price
    # a source without messaging cannot negotiate
    assert run(offer(str(v0.max_price + 10), can_message=False), quote()).action == "skip"


def test_traps_are_skipped_with_their_reason() -> None:
    # negative ROI after fees: cheap to buy but the fees eat the margin
    v = run(offer("30"), quote(amazon_price=D("34"), ebay_active_min=D("33"), ebay_sold_median=D("33")))
    assert v.action == "skip" and "negative ROI after fees" in v.reasons[0]
    # a restricted brand on Amazon with eBay switched off
    cfg = ArbitrageConfig(channels=("amazon_fba",))
    v = run(offer("60"), quote(restricted=True, restriction_reason="APPROVAL_REQUIRED"), cfg)
    assert v.action == "skip" and "restricted on Amazon" in v.reasons[0]
    # ... but eBay remains when allowed
    assert run(offer("60"), quote(restricted=True)).channel == "ebay"
    # deny list
    cfg = ArbitrageConfig(limits=SafetyLimits(denied_brands=frozenset({"sony"})))
    assert "deny list" in run(offer("60"), quote(), cfg).reasons[0]
    # nothing identifies the product
    v = run(offer("60", title="old headphones"), None)
    assert v.action == "skip" and v.reasons == ["no product identifier found"]
    # slow sellers
    v = run(
        offer("60"), quote(sales_rank=5_000_000, ebay_sold_count=0, amazon_offers=40, ebay_active_count=40)
    )
    assert v.action == "skip" and "too slow" in v.reasons[0]


def test_per_item_cap_skips_even_a_profitable_buy() -> None:
    cfg = ArbitrageConfig(limits=SafetyLimits(per_item_cap=D(50)))
    v = run(offer("60"), quote(), cfg)
    assert v.action == "skip" and "per-item cap" in v.reasons[0]


def test_condition_lowers_the_expected_price() -> None:
    new = run(offer("60", condition="new"), quote())
    parts = run(offer("60", condition="for parts"), quote())
    assert new.action == "buy" and parts.action == "skip"
    assert new.at_asking is not None and parts.at_asking is not None
    assert parts.at_asking.sale_price < new.at_asking.sale_price / 3


def test_the_screen_view_of_a_deepened_quote_holds_only_what_the_screen_fetched() -> None:
    from domain.arbitrage.market import DEEP_FIELDS, screen_view

    screened = MarketQuote(product_key="gtin:00012345678905", asin="B0TEST", amazon_price=D("50.00"),
                           amazon_offers=3, sales_rank=900, sources=("amazon",))  # fmt: skip
    deep = screened.model_copy(update={
        "restricted": True, "restriction_reason": "APPROVAL_REQUIRED", "amazon_fees_estimate": D("9.10"),
        "ebay_active_min": D("44.00"), "ebay_active_count": 7, "ebay_sold_median": D("46.00"),
        "ebay_sold_count": 30, "price_history": (D("49"), D("51")), "sales_30d": 40,
        "sources": ("amazon", "amazon:restrictions", "ebay:browse", "keepa"),
    })  # fmt: skip
    assert all(getattr(deep, f) not in (None, ()) for f in DEEP_FIELDS)  # the test covers every deep field
    assert screen_view(deep) == screened
    assert screen_view(screened) == screened
