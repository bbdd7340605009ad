"""Demo data for `make up`: a small catalog with stock. Idempotent: re-running changes nothing."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import select

from merchflow.db.engine import session_scope
from merchflow.db.models import MarketplaceAccount, Product, StockLedgerEntry, StockLevel
from merchflow.db.types import utcnow

# (sku, name, brand, category, cost, price, on_hand, identifiers)
DEMO_PRODUCTS: list[tuple[str, str, str, str, str, str, int, dict[str, str]]] = [
    (
        "DEMO-HEADPHONES-01",
        "Wireless Over-Ear Headphones",
        "Sonora",
        "Electronics",
        "38.00",
        "79.99",
        42,
        {"upc": "012345678905"},
    ),
    (
        "DEMO-MUG-02",
        "Stoneware Coffee Mug 350 ml",
        "Hearth",
        "Home & Kitchen",
        "3.10",
        "12.99",
        240,
        {"ean": "4006381333931"},
    ),
    (
        "DEMO-BOOK-03",
        "The Pragmatic Seller (paperback)",
        "Fieldnote",
        "Books",
        "6.50",
        "18.50",
        9,
        {"isbn": "9780306406157"},
    ),
    (
        "DEMO-LAMP-04",
        "LED Desk Lamp with USB-C",
        "Lumio",
        "Home & Kitchen",
        "14.20",
        "34.90",
        67,
        {"upc": "036000291452"},
    ),
    (
        "DEMO-BOTTLE-05",
        "Insulated Steel Bottle 750 ml",
        "Trailhead",
        "Sports",
        "7.80",
        "24.00",
        130,
        {"ean": "5012345678900"},
    ),
    (
        "DEMO-CABLE-06",
        "Braided USB-C Cable 2 m",
        "Voltline",
        "Electronics",
        "1.40",
        "9.99",
        512,
        {"upc": "042100005264"},
    ),
    (
        "DEMO-YOGA-07",
        "Non-slip Yoga Mat 6 mm",
        "Asana",
        "Sports",
        "9.00",
        "29.99",
        4,
        {"ean": "4005808263204"},
    ),
    (
        "DEMO-KNIFE-08",
        "Chef's Knife 20 cm",
        "Hearth",
        "Home & Kitchen",
        "17.50",
        "49.00",
        23,
        {"mpn": "HK-CK20"},
    ),
    (
        "DEMO-GAME-09",
        "Cooperative Board Game",
        "Tabletop Co",
        "Toys & Games",
        "15.00",
        "39.99",
        18,
        {"upc": "630509278825"},
    ),
    (
        "DEMO-SPEAKER-10",
        "Portable Bluetooth Speaker",
        "Sonora",
        "Electronics",
        "21.00",
        "54.99",
        35,
        {"asin": "B0DEMO0010"},
    ),
    (
        "DEMO-WALLET-11",
        "Leather Card Wallet",
        "Ridge & Co",
        "Accessories",
        "5.60",
        "22.00",
        150,
        {"mpn": "RC-W11"},
    ),
    (
        "DEMO-PLANT-12",
        "Self-watering Planter",
        "Greenby",
        "Garden",
        "6.20",
        "19.99",
        58,
        {"ean": "8712345678906"},
    ),
]


DEMO_MARKETPLACES = ("amazon", "ebay", "shopify", "woocommerce")


def seed_demo_accounts(engine: sa.Engine) -> int:
    """One account per sandbox marketplace; base_url left empty so it follows the sandbox settings."""
    added = 0
    with session_scope(engine) as session:
        have = {a.marketplace for a in session.exec(select(MarketplaceAccount)).all()}
        for mp in DEMO_MARKETPLACES:
            if mp not in have:
                session.add(
                    MarketplaceAccount(marketplace=mp, name="sandbox", credentials_ref=f"sandbox-{mp}")
                )
                added += 1
    return added


def seed_demo(engine: sa.Engine) -> int:
    """Insert the demo products and their stock if missing. Returns how many products were added."""
    seed_demo_accounts(engine)
    added = 0
    now = utcnow()
    with session_scope(engine) as session:
        existing = set(session.exec(select(Product.sku)).all())
        for sku, name, brand, category, cost, price, on_hand, ids in DEMO_PRODUCTS:
            if sku in existing:
                continue
            session.add(
                Product(
                    sku=sku,
                    name=name,
                    brand=brand,
                    category=category,
                    cost=Decimal(cost),
                    price=Decimal(price),
                    attributes={"identifiers": ids, "demo": True},
                    image_refs=[f"demo/{sku.lower()}.jpg"],
                    added_at=now,
                    updated_at=now,
                )
            )
            if session.get(StockLevel, sku) is None:
                session.add(StockLevel(sku=sku, on_hand=on_hand, reserved=0, version=1, updated_at=now))
                session.add(
                    StockLedgerEntry(
                        sku=sku,
                        kind="receipt",
                        quantity=on_hand,
                        reason="demo opening stock",
                        idempotency_key=f"seed:{sku}",
                        created_by="seed-demo",
                        created_at=now,
                    )
                )
            added += 1
    return added
