"""Market scenarios for the arbitrage tests and the benchmark: products the marketplaces know (Amazon catalog with buy
box, rank, dimensions and gating; eBay live offers) and classifieds listings priced against them - underpriced
items, items to negotiate, and the traps (a gated brand, negative ROI after fees, a repost, a cross-posted photo,
junk without identifiers)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


def upc(n: int) -> str:
    """A valid 12-digit UPC-A from a number (check digit computed)."""
    body = f"{n % 10**11:011d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def asin(n: int) -> str:
    return f"B0{n:08d}"[:10]


@dataclass
class Product:
    n: int
    title: str
    brand: str
    category: str
    buy_box: Decimal
    offers: int = 3
    rank: int = 900
    restricted: bool = False
    ebay: list[Decimal] = field(default_factory=list)  # live eBay offers (landed)

    @property
    def gtin(self) -> str:
        return upc(self.n)

    @property
    def asin(self) -> str:
        return asin(self.n)

    def amazon(self) -> dict[str, Any]:
        return {"asin": self.asin, "title": self.title, "brand": self.brand, "category": self.category,
                "sales_rank": self.rank, "buy_box": str(self.buy_box), "offers": self.offers,
                "restricted": self.restricted, "weight_lb": 1.2, "dimensions_in": [9.0, 7.0, 3.0],
                "identifiers": {"upc": self.gtin}}  # fmt: skip

    def ebay_items(self) -> list[dict[str, Any]]:
        return [{"item_id": f"9{self.n:06d}{i:02d}", "title": self.title, "price": str(p), "seller": f"ebayer{i}",
                 "gtin": self.gtin, "category": self.category, "condition_id": "3000"}
                for i, p in enumerate(self.ebay)]  # fmt: skip


def listing(lid: str, p: Product | None, price: str, *, seller: str = "s1", title: str | None = None,
            photo: int = 0, behaviour: dict[str, Any] | None = None, condition: str = "like new",
            with_upc: bool = True) -> dict[str, Any]:  # fmt: skip
    return {
        "id": lid, "title": title or (p.title if p else "Old couch, free pickup"), "price": price,
        "condition": condition, "category": p.category if p else "Furniture", "brand": p.brand if p else None,
        "seller_id": seller, "city": "Springfield", "lat": 39.8, "lng": -89.6, "photos": [{"seed": photo}],
        "identifiers": {"upc": p.gtin} if p and with_upc else {}, "behaviour": behaviour or {"mode": "auto"},
        "description": f"UPC {p.gtin}" if p and not with_upc else "",
    }  # fmt: skip


@dataclass
class Scenario:
    products: list[Product]
    listings: list[dict[str, Any]]
    expect: dict[str, str]  # listing id -> expected verdict (buy | negotiate | skip | duplicate)


def e2e_scenario() -> Scenario:
    """The acceptance scenario: two underpriced items (one bought at asking, one negotiated) and the traps."""
    headphones = Product(101, "Sony WH-1000XM4 Wireless Headphones", "Sony", "Electronics", Decimal("199.99"),
                         ebay=[Decimal("185.00"), Decimal("189.00")])  # fmt: skip
    lego = Product(102, "LEGO Star Wars Millennium Falcon 75257", "LEGO", "Toys & Games", Decimal("159.99"),
                   ebay=[Decimal("150.00")])  # fmt: skip
    gated = Product(103, "Pokemon Trading Card Booster Box", "Pokemon", "Toys & Games", Decimal("149.99"),
                    restricted=True, ebay=[Decimal("95.00")])  # fmt: skip
    thin = Product(
        104, "Anker USB-C Charger 20W", "Anker", "Electronics", Decimal("19.99"), ebay=[Decimal("18.50")]
    )
    listings = [
        listing("L-BUY", headphones, "60.00", seller="alice", photo=11),
        listing(
            "L-NEGO", lego, "115.00", seller="bob", photo=12, behaviour={"mode": "auto", "floor": "80.00"}
        ),
        listing("L-GATED", gated, "40.00", seller="carol", photo=13),
        listing("L-THIN", thin, "15.00", seller="dave", photo=14),
        # alice reposts the headphones under a new id: a duplicate of L-BUY (same seller, same item)
        listing(
            "L-REPOST",
            headphones,
            "60.00",
            seller="alice",
            photo=11,
            title="Sony WH1000XM4 wireless headphones (like new)",
        ),
        # someone else posts the very same photo at the same price: a cross-post of L-BUY
        listing(
            "L-XPOST",
            headphones,
            "62.00",
            seller="erin",
            photo=11,
            title="Sony WH-1000XM4 wireless headphones, noise cancelling",
            with_upc=False,
        ),
        listing("L-JUNK", None, "25.00", seller="frank", photo=15),
    ]
    expect = {"L-BUY": "buy", "L-NEGO": "negotiate", "L-GATED": "skip", "L-THIN": "skip", "L-REPOST": "duplicate",
              "L-XPOST": "duplicate", "L-JUNK": "skip"}  # fmt: skip
    return Scenario([headphones, lego, gated, thin], listings, expect)


def bulk_scenario(n_offers: int, *, n_products: int = 2000, seed: int = 7) -> Scenario:
    """A large market for the benchmark: most offers priced near the market (skips), a few underpriced, some reposts
    and some without identifiers."""
    rng = random.Random(seed)
    cats = ["Electronics", "Toys & Games", "Home & Kitchen", "Books", "Video Games", "Sports & Outdoors"]
    products = [Product(1000 + i, f"Product {i} model X{i:04d}", f"Brand{i % 97}", cats[i % len(cats)],
                        Decimal(rng.randrange(1500, 40000)) / 100, offers=rng.randrange(1, 25),
                        rank=rng.randrange(50, 400_000), restricted=rng.random() < 0.03)
                for i in range(n_products)]  # fmt: skip
    for p in products:
        p.ebay = [(p.buy_box * Decimal(rng.uniform(0.85, 1.05))).quantize(Decimal("0.01"))]
    listings = []
    for i in range(n_offers):
        p = products[rng.randrange(n_products)]
        r = rng.random()
        factor = (
            Decimal(str(round(rng.uniform(0.25, 0.45), 2)))
            if r < 0.02
            else Decimal(str(round(rng.uniform(0.7, 1.2), 2)))
        )
        if r > 0.97:
            listings.append(listing(f"B{i}", None, f"{rng.randrange(5, 300)}.00", seller=f"u{i % 5000}", photo=i,
                                    title=f"misc item {i}"))  # fmt: skip
            continue
        listings.append(listing(f"B{i}", p, str((p.buy_box * factor).quantize(Decimal("0.01"))),
                                seller=f"u{i % 5000}", photo=i, title=f"{p.title} #{i}",
                                behaviour={"mode": "never"}))  # fmt: skip
    return Scenario(products, listings, {})
