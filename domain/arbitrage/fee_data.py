"""The marketplaces' published fee schedules (US), as data. Add a version when a marketplace changes its fees;
never edit an old one: past evaluations are re-explained with the version of their day.

Sources (the public pages each version transcribes):
- Amazon referral fees: Seller Central "Selling on Amazon fee schedule" (referral fee by category, per-item
  minimum $0.30, $1.80 closing fee on media) and the "2024 US referral and FBA fee changes" summary (apparel
  banded 5 % / 10 % / 17 % and baby products 8 % at $10 or less, from January 15, 2024).
- Amazon FBA fulfilment fees: Seller Central "FBA fulfillment fees for orders on Amazon.com" rate cards of
  January 17, 2023 and February 5, 2024 (standard-size tiers; 2024: items priced $10 to $50 - the band nearly
  every resale item falls in; the low-price FBA rates below $10 are not modelled, so those items are charged a
  little more here than by Amazon, the safe side for a buying decision).
- eBay final value fees: eBay Help "Selling fees" (most categories 13.25 % of the total amount of the sale up to
  $7,500 and 2.35 % above; books, movies and music 14.95 %), and the eBay Seller Update (Winter 2024): "Starting
  March 15, 2024, the per-order fee on orders over $10 will increase from $0.30 to $0.40", with the worked example
  of a $25 trading card whose fee goes from $3.61 to $3.71. The total amount of the sale includes the sales tax.
Categories not listed fall back to each version's default category ("everything_else" on Amazon, "most" on eBay).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from domain.arbitrage.fees import (
    CategoryFee,
    FeeBook,
    FeeVersion,
    PerOrderFee,
    RateTiers,
    SizeTierFees,
    Tier,
    WeightBand,
    flat,
)

_MIN = D("0.30")
_LB = D(16)


def _bands(*pairs: tuple[str, str]) -> tuple[WeightBand, ...]:
    return tuple(WeightBand(max_oz=D(oz), fee=D(fee)) for oz, fee in pairs)


def _amazon_common() -> dict[str, CategoryFee]:
    return {
        "everything_else": CategoryFee(rates=flat("0.15"), minimum=_MIN),
        "books": CategoryFee(rates=flat("0.15"), closing=D("1.80"), on_item_price_only=True),
        "music": CategoryFee(rates=flat("0.15"), closing=D("1.80"), on_item_price_only=True),
        "video_dvd": CategoryFee(rates=flat("0.15"), closing=D("1.80"), on_item_price_only=True),
        "consumer_electronics": CategoryFee(rates=flat("0.08"), minimum=_MIN),
        "camera_photo": CategoryFee(rates=flat("0.08"), minimum=_MIN),
        "cell_phone_devices": CategoryFee(rates=flat("0.08"), minimum=_MIN),
        "video_game_consoles": CategoryFee(rates=flat("0.08"), minimum=_MIN),
        "electronics_accessories": CategoryFee(
            rates=RateTiers(tiers=(Tier(up_to=D(100), rate=D("0.15")), Tier(up_to=None, rate=D("0.08")))),
            minimum=_MIN,
        ),
        "home_kitchen": CategoryFee(rates=flat("0.15"), minimum=_MIN),
        "toys_games": CategoryFee(rates=flat("0.15"), minimum=_MIN),
        "video_games": CategoryFee(rates=flat("0.15"), minimum=_MIN),
        "sports_outdoors": CategoryFee(rates=flat("0.15"), minimum=_MIN),
        "tools_home_improvement": CategoryFee(rates=flat("0.15"), minimum=_MIN),
        "jewelry": CategoryFee(
            rates=RateTiers(tiers=(Tier(up_to=D(250), rate=D("0.20")), Tier(up_to=None, rate=D("0.05")))),
            minimum=_MIN,
        ),
    }


AMAZON_2023 = FeeVersion(
    marketplace="amazon",
    version="amazon-us-2023-01-17",
    effective_from=date(2023, 1, 17),
    source="Amazon Seller Central: Selling on Amazon fee schedule; FBA fulfillment fees (rate card of 2023-01-17)",
    categories={
        **_amazon_common(),
        "clothing": CategoryFee(rates=flat("0.17"), minimum=_MIN),
        "baby": CategoryFee(rates=flat("0.15"), minimum=_MIN),
    },
    default_category="everything_else",
    fulfilment={
        "small_standard": SizeTierFees(
            bands=_bands(("4", "3.22"), ("8", "3.40"), ("12", "3.58"), ("16", "3.77")), max_oz=D(16)
        ),
        "large_standard": SizeTierFees(
            bands=_bands(
                ("4", "3.86"),
                ("8", "4.08"),
                ("12", "4.24"),
                ("16", "4.75"),
                ("24", "5.40"),
                ("32", "5.69"),
                ("40", "6.10"),
                ("48", "6.39"),
            ),
            over_base=D("7.17"),
            over_step_fee=D("0.16"),
            over_step_oz=D(8),  # + $0.16 per half pound above the first 3 lb
            max_oz=20 * _LB,
        ),
    },
)

AMAZON_2024 = FeeVersion(
    marketplace="amazon",
    version="amazon-us-2024-02-05",
    effective_from=date(2024, 2, 5),
    source="Amazon Seller Central: 2024 US referral and FBA fee changes; FBA fulfillment fees (rate card of "
    "2024-02-05, items priced $10-$50)",
    categories={
        **_amazon_common(),
        "clothing": CategoryFee(
            rates=RateTiers(
                mode="band",
                tiers=(
                    Tier(up_to=D(15), rate=D("0.05")),
                    Tier(up_to=D(20), rate=D("0.10")),
                    Tier(up_to=None, rate=D("0.17")),
                ),
            ),
            minimum=_MIN,
        ),
        "baby": CategoryFee(
            rates=RateTiers(
                mode="band", tiers=(Tier(up_to=D(10), rate=D("0.08")), Tier(up_to=None, rate=D("0.15")))
            ),
            minimum=_MIN,
        ),
    },
    default_category="everything_else",
    fulfilment={
        "small_standard": SizeTierFees(
            bands=_bands(
                ("2", "3.06"),
                ("4", "3.15"),
                ("6", "3.24"),
                ("8", "3.33"),
                ("10", "3.43"),
                ("12", "3.53"),
                ("14", "3.60"),
                ("16", "3.65"),
            ),
            max_oz=D(16),
        ),
        "large_standard": SizeTierFees(
            bands=_bands(
                ("4", "3.68"),
                ("8", "3.90"),
                ("12", "4.15"),
                ("16", "4.55"),
                ("20", "4.99"),
                ("24", "5.37"),
                ("28", "5.52"),
                ("32", "5.77"),
                ("36", "5.87"),
                ("40", "6.05"),
                ("44", "6.21"),
                ("48", "6.62"),
            ),
            over_base=D("6.92"),
            over_step_fee=D("0.08"),
            over_step_oz=D(4),  # + $0.08 per 4 oz above the first 3 lb
            max_oz=20 * _LB,
        ),
        "large_bulky": SizeTierFees(
            bands=_bands(("16", "9.61")),
            over_base=D("9.61"),
            over_step_fee=D("0.38"),
            over_step_oz=_LB,  # + $0.38 per pound above the first pound
            max_oz=50 * _LB,
        ),
    },
)


def _ebay(version: str, effective: date, over_10: str, source: str) -> FeeVersion:
    def fvf(rate: str) -> CategoryFee:
        return CategoryFee(
            rates=RateTiers(tiers=(Tier(up_to=D(7500), rate=D(rate)), Tier(up_to=None, rate=D("0.0235"))))
        )

    return FeeVersion(
        marketplace="ebay",
        version=version,
        effective_from=effective,
        source=source,
        categories={"most": fvf("0.1325"), "books_movies_music": fvf("0.1495")},
        default_category="most",
        per_order=(PerOrderFee(up_to=D(10), fee=D("0.30")), PerOrderFee(up_to=None, fee=D(over_10))),
        base_includes_tax=True,
    )


EBAY_2023 = _ebay(
    "ebay-us-2023-02-15", date(2023, 2, 15), "0.30", "eBay Help: Selling fees (final value fees, 2023)"
)
EBAY_2024 = _ebay(
    "ebay-us-2024-03-15",
    date(2024, 3, 15),
    "0.40",
    "eBay Seller Update Winter 2024: per-order fee $0.40 on orders over $10 from 2024-03-15",
)

FEE_BOOK = FeeBook(versions=(AMAZON_2023, AMAZON_2024, EBAY_2023, EBAY_2024))

# How sources and catalogs name categories -> the fee category they are charged as (lower-case, "&" as "and").
CATEGORY_ALIASES: dict[str, dict[str, str]] = {
    "amazon": {
        "books": "books",
        "book": "books",
        "music": "music",
        "movies and tv": "video_dvd",
        "electronics": "consumer_electronics",
        "consumer electronics": "consumer_electronics",
        "camera and photo": "camera_photo",
        "cell phones": "cell_phone_devices",
        "headphones": "consumer_electronics",
        "electronics accessories": "electronics_accessories",
        "computers and accessories": "electronics_accessories",
        "home and kitchen": "home_kitchen",
        "kitchen": "home_kitchen",
        "toys and games": "toys_games",
        "toys": "toys_games",
        "video games": "video_games",
        "video game consoles": "video_game_consoles",
        "sports and outdoors": "sports_outdoors",
        "tools and home improvement": "tools_home_improvement",
        "clothing": "clothing",
        "clothing and accessories": "clothing",
        "baby": "baby",
        "jewelry": "jewelry",
    },
    "ebay": {
        "books": "books_movies_music",
        "book": "books_movies_music",
        "music": "books_movies_music",
        "movies and tv": "books_movies_music",
    },
}


def fee_category(marketplace: str, name: str | None) -> str | None:
    """The fee category a free-text category name is charged as on `marketplace` (None: the default one)."""
    if not name:
        return None
    key = " ".join(name.lower().replace("&", "and").replace(",", " ").split())
    return CATEGORY_ALIASES.get(marketplace, {}).get(key)
