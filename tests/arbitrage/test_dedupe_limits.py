"""Offer dedupe (source id, then a seller's repost or a cross-posted photo), identifiers from text, safety limits,
and the deal states and books."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from domain.arbitrage.deals import PnL, StateError, advance, hit_rate
from domain.arbitrage.dedupe import DedupeIndex, fingerprint
from domain.arbitrage.limits import Exposure, SafetyLimits, violations, windows
from domain.arbitrage.offers import RawOffer, identify, normalise_condition

PHOTO = "f0e1d2c3b4a59687"


def fp(key: str, title: str, price: str, phash: str | None = None, seller: str | None = None):  # type: ignore[no-untyped-def]
    return fingerprint(key, title, D(price), phash, seller)


def test_dedupe_by_source_id_then_repost_then_photo() -> None:
    idx = DedupeIndex()
    first = fp(
        "classifieds:1", "Sony WH-1000XM4 headphones, black - like new!", "120", PHOTO, "classifieds:u1"
    )
    assert idx.check(first) is None
    idx.add(first)
    assert idx.check(first) == "seen before (same source id)"
    # the same seller reposts it under a new id with a reworded title
    repost = fp("classifieds:2", "Black Sony WH-1000XM4 Headphones", "115", None, "classifieds:u1")
    assert "repost of classifieds:1" in (idx.check(repost) or "")
    # another seller, same model, same price: a different item
    other = fp(
        "classifieds:3", "Sony WH-1000XM4 headphones black", "120", "0123456789abcdef", "classifieds:u2"
    )
    assert idx.check(other) is None
    # a cross-post on another source: the same photo (2 bits off after recompression), similar title and price
    cross = fp(
        "ebay:9", "Sony WH1000XM4 wireless headphones black", "125", "f0e1d2c3b4a59684", "ebay:someone"
    )
    assert "same photo as classifieds:1" in (idx.check(cross) or "")
    # a stock photo shared by a seller asking a very different price is not a duplicate
    assert idx.check(fp("ebay:10", "Sony WH-1000XM4 headphones", "300", PHOTO, "ebay:x")) is None


def test_identifiers_from_the_source_or_the_text() -> None:
    o = RawOffer(
        source="classifieds",
        source_id="1",
        title="Book",
        price=D(5),
        identifiers={"isbn": "978-0-306-40615-7"},
    )
    assert identify(o).keys == ("gtin:09780306406157",)
    o = RawOffer(
        source="classifieds",
        source_id="2",
        title="Lego set",
        description="UPC 673419340526 sealed",
        price=D(5),
    )
    assert identify(o).keys == ("gtin:00673419340526",)
    o = RawOffer(
        source="classifieds", source_id="3", title="Lego set 123456789013 (bad check digit)", price=D(5)
    )
    assert identify(o).keys == ()
    assert normalise_condition("Like New!") == "like_new" and normalise_condition(None) == "good"


LIMITS = SafetyLimits(daily_spend_cap=D(100), weekly_spend_cap=D(300), per_item_cap=D(80), max_units_per_product=2,
                      max_inventory_at_risk=D(500), denied_brands=frozenset({"acme"}))  # fmt: skip


def check(amount: str, exposure: Exposure | None = None, **kw: object) -> list[str]:
    args = {"units": 1, "profit": D(20), "roi": D("0.5"), "category": "Toys", "brand": "Lego", **kw}
    return violations(LIMITS, exposure or Exposure(), amount=D(amount), **args)  # type: ignore[arg-type]


def test_safety_limits_name_every_breach() -> None:
    assert check("60") == []
    assert any("per-item cap" in v for v in check("90"))
    assert any("daily spend cap" in v for v in check("50", Exposure(spent_today=D(60), spent_week=D(60))))
    assert any("weekly spend cap" in v for v in check("50", Exposure(spent_week=D(280))))
    assert any("units per product" in v for v in check("50", Exposure(units_of_product=2)))
    assert any("inventory at risk" in v for v in check("50", Exposure(inventory_at_risk=D(480))))
    assert any("deny list" in v for v in check("50", brand="ACME"))
    assert any("below the minimum" in v for v in check("50", profit=D(5), roi=D("0.1")))


def test_spend_windows_are_local_days_and_iso_weeks() -> None:
    day, week = windows(datetime(2024, 7, 4, 3, 0, tzinfo=UTC), "America/New_York")  # 23:00 on the 3rd in NY
    assert (day.isoformat(), week.isoformat()) == ("2024-07-03T00:00:00-04:00", "2024-07-01T00:00:00-04:00")


def test_deal_states_only_move_forward() -> None:
    assert advance("discovered", "negotiating") and advance("negotiating", "purchased")
    assert advance("purchased", "purchased") is False
    with pytest.raises(StateError):
        advance("received", "purchased")
    with pytest.raises(StateError):
        advance("sold", "listed")
    assert advance("awaiting_approval", "rejected")


def test_hit_rate_and_prediction_error() -> None:
    sold = [
        PnL(predicted_sale_price=D(100), predicted_fees=D(15), predicted_profit=D(30), landed_cost=D(50),
            realised_sale_price=D(95), realised_fees=D(14), realised_profit=D(23)),
        PnL(predicted_sale_price=D(60), predicted_fees=D(9), predicted_profit=D(12), landed_cost=D(40),
            realised_sale_price=D(40), realised_fees=D(6), realised_profit=D(-6)),
    ]  # fmt: skip
    h = hit_rate(evaluated=1000, opportunities=10, bought=4, sold=sold)
    assert (h.sold, h.profitable, h.hit_rate, h.buy_rate) == (2, 1, 0.5, 0.4)
    assert (h.predicted_profit, h.realised_profit, h.mean_error) == (D(42), D(17), D("-12.50"))
