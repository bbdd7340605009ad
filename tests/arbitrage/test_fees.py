"""Fee tables against the marketplaces' published worked examples and rules (sources in domain/arbitrage/fee_data.py),
and the versioning: a sale is charged with the schedule in force on its day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from domain.arbitrage.fee_data import FEE_BOOK, fee_category
from domain.arbitrage.fees import RateTiers, Tier, amazon_fees, ebay_fees, size_tier, total


def ebay_total(day: date, price: str, category: str | None = None) -> D:
    return total(ebay_fees(FEE_BOOK.on("ebay", day), price=D(price), category=category))


def test_ebay_trading_card_example_from_the_winter_2024_seller_update() -> None:
    """eBay Seller Update (Winter 2024): "if you sell a trading card for $25 including shipping and tax, you'll now pay
    a fee of $3.71 instead of $3.61" - 13.25 % of $25 plus the per-order fee, $0.30 before March 15, 2024, $0.40 after."""
    assert ebay_total(date(2024, 3, 14), "25") == D("3.61")
    assert ebay_total(date(2024, 3, 15), "25") == D("3.71")


def test_ebay_orders_of_10_dollars_or_less_keep_the_30_cent_fee() -> None:
    # same update: "for orders $10 and under, there'll be no change": 13.25 % of $10 = $1.33 (rounded) + $0.30
    assert ebay_total(date(2024, 6, 1), "10") == D("1.63")
    assert ebay_total(date(2024, 6, 1), "10.01") == D("1.73")  # 1.3263 -> 1.33, + 0.40


def test_ebay_final_value_fee_tiers_above_7500_and_books() -> None:
    # eBay Help, Selling fees: 13.25 % on up to $7,500, 2.35 % on the portion above
    assert ebay_total(date(2024, 6, 1), "10000") == D("993.75") + D("58.75") + D("0.40")
    assert ebay_total(date(2024, 6, 1), "20", "books_movies_music") == D("2.99") + D("0.40")  # 14.95 %


def test_ebay_fee_base_includes_the_sales_tax_it_collects() -> None:
    lines = ebay_fees(
        FEE_BOOK.on("ebay", date(2024, 6, 1)), price=D("100"), buyer_tax_rate=D("0.08"), category=None
    )
    assert lines[0].amount == D("14.31")  # 13.25 % of 108.00


def amazon(day: date, price: str, category: str | None, **kw: object) -> list[D]:
    return [
        line.amount
        for line in amazon_fees(FEE_BOOK.on("amazon", day), price=D(price), category=category, **kw)
    ]  # type: ignore[arg-type]


def test_amazon_referral_fees_by_the_fee_schedule_rules() -> None:
    day = date(2024, 6, 1)
    assert amazon(day, "40", "home_kitchen") == [D("6.00")]  # 15 %
    assert amazon(day, "100", "consumer_electronics") == [D("8.00")]  # 8 %
    assert amazon(day, "1.50", "toys_games") == [D("0.30")]  # 15 % is 0.225: the $0.30 minimum applies
    # jewellery: 20 % of the portion up to $250, 5 % of the portion above
    assert amazon(day, "300", "jewelry") == [D("52.50")]
    # electronics accessories: 15 % up to $100, 8 % above
    assert amazon(day, "150", "electronics_accessories") == [D("19.00")]
    # media: 15 % of the item price only, plus the $1.80 closing fee
    book = amazon_fees(
        FEE_BOOK.on("amazon", day), price=D("20"), shipping_charged=D("3.99"), category="books"
    )
    assert [(x.kind, x.amount) for x in book] == [("referral", D("3.00")), ("closing", D("1.80"))]
    # non-media: the percentage is on price + shipping charged (Amazon's $20 + $5 shipping at 15 % = $3.75)
    assert amazon(day, "20", "toys_games", shipping_charged=D("5")) == [D("3.75")]


def test_amazon_apparel_banding_came_with_the_2024_schedule() -> None:
    # 2023: 17 % flat; from 2024: 5 % at $15 or less, 10 % up to $20, 17 % above - on the whole price
    assert amazon(date(2023, 6, 1), "14.99", "clothing") == [D("2.55")]
    assert amazon(date(2024, 6, 1), "14.99", "clothing") == [D("0.75")]
    assert amazon(date(2024, 6, 1), "18.00", "clothing") == [D("1.80")]
    assert amazon(date(2024, 6, 1), "25.00", "clothing") == [D("4.25")]


def test_fba_fulfilment_fees_by_size_tier_and_weight() -> None:
    v24, v23 = date(2024, 6, 1), date(2023, 6, 1)
    # 2024 rate card: small standard 2 oz or less $3.06; large standard 4 oz or less $3.68, 1 to 1.25 lb $4.99,
    # 3 lb to 20 lb $6.92 + $0.08 per 4 oz above the first 3 lb
    assert amazon(v24, "20", "toys_games", size_tier="small_standard", weight_oz=D(2))[-1] == D("3.06")
    assert amazon(v24, "20", "toys_games", size_tier="large_standard", weight_oz=D(4))[-1] == D("3.68")
    assert amazon(v24, "20", "toys_games", size_tier="large_standard", weight_oz=D("17.6"))[-1] == D("4.99")
    assert amazon(v24, "20", "toys_games", size_tier="large_standard", weight_oz=D(56))[-1] == D("7.08")
    # 2023 rate card: small standard 4 oz or less $3.22
    assert amazon(v23, "20", "toys_games", size_tier="small_standard", weight_oz=D(4))[-1] == D("3.22")
    with pytest.raises(LookupError):
        amazon(v24, "20", None, size_tier="small_standard", weight_oz=D(17))  # not small standard any more


def test_size_tiers_follow_the_dimension_rules() -> None:
    assert (
        size_tier(length_in=D(8), width_in=D(5), height_in=D("0.5"), weight_lb=D("0.5"))[0]
        == "small_standard"
    )
    tier, billed = size_tier(length_in=D(12), width_in=D(10), height_in=D(6), weight_lb=D(1))
    assert tier == "large_standard" and billed > 16  # dimensional weight 720/139 lb beats the unit weight
    assert size_tier(length_in=D(30), width_in=D(20), height_in=D(10), weight_lb=D(20))[0] == "large_bulky"


def test_a_past_decision_is_explained_with_the_fees_of_its_day() -> None:
    assert FEE_BOOK.on("ebay", date(2024, 3, 14)).version == "ebay-us-2023-02-15"
    assert FEE_BOOK.on("ebay", date(2025, 1, 1)).version == "ebay-us-2024-03-15"
    assert [v.version for v in FEE_BOOK.history("amazon")] == ["amazon-us-2023-01-17", "amazon-us-2024-02-05"]
    with pytest.raises(LookupError):
        FEE_BOOK.on("amazon", date(2020, 1, 1))


def test_rate_tiers_portion_and_band() -> None:
    tiers = (Tier(up_to=D(10), rate=D("0.1")), Tier(up_to=None, rate=D("0.2")))
    assert RateTiers(mode="portion", tiers=tiers).fee(D(20)) == D("3.0")
    assert RateTiers(mode="band", tiers=tiers).fee(D(20)) == D("4.0")
    assert RateTiers(mode="band", tiers=tiers).fee(D(0)) == 0


def test_category_names_map_to_fee_categories() -> None:
    assert fee_category("amazon", "Toys & Games") == "toys_games"
    assert fee_category("ebay", "Books") == "books_movies_music"
    assert fee_category("amazon", "Garden gnomes") is None
