"""Demo data for `make up`: a small catalog with stock. Idempotent: re-running changes nothing."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import select

from activities.stock.tables import StockLedgerEntry
from domain.stock.rules import available_to_publish
from merchflow.db.engine import session_scope
from merchflow.db.identifiers import replace_identifiers
from merchflow.db.models import MarketplaceAccount, MarketplaceListing, Product, StockLevel
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
# Also the account segment of the sandboxes' webhook URL: /api/v1/webhooks/<mp>/sandbox
DEMO_ACCOUNT = "sandbox"
# Account options the adapters need against the sandboxes (the values the sandboxes are built with). Written only
# where a key is missing, so an operator's own settings on the demo accounts survive a restart.
DEMO_ACCOUNT_OPTIONS: dict[str, dict[str, str]] = {
    "amazon": {"marketplace_id": "ATVPDKIKX0DER", "seller_id": "A2MERCHFLOWSBX"},
    "ebay": {"marketplace_id": "EBAY_US", "category_id": "9355"},  # publishing an offer needs a category
    "shopify": {"location_id": "gid://shopify/Location/71234567890"},  # the demo shop's only location
    "woocommerce": {"currency": "USD"},
}


def seed_demo_accounts(engine: sa.Engine) -> int:
    """One account per sandbox marketplace that has none yet; base_url left empty so it follows the sandbox
    settings. Demo accounts made by an earlier version get the options they lack."""
    added = 0
    with session_scope(engine) as session:
        rows = session.exec(select(MarketplaceAccount)).all()
        have = {a.marketplace for a in rows}
        demo = {a.marketplace: a for a in rows if a.name == DEMO_ACCOUNT}
        for mp in DEMO_MARKETPLACES:
            row = demo.get(mp)
            if mp not in have:
                session.add(
                    MarketplaceAccount(
                        marketplace=mp,
                        name=DEMO_ACCOUNT,
                        credentials_ref=f"sandbox-{mp}",
                        config=dict(DEMO_ACCOUNT_OPTIONS[mp]),
                    )
                )
                added += 1
            elif row is not None and (row.credentials_ref or "").startswith("sandbox-"):
                missing = {k: v for k, v in DEMO_ACCOUNT_OPTIONS[mp].items() if k not in (row.config or {})}
                if missing:
                    row.config = {
                        **(row.config or {}),
                        **missing,
                    }  # a new dict: JSON columns track assignment
                    session.add(row)
    return added


def seed_demo_listings(engine: sa.Engine) -> int:
    """An active listing of every demo product on every demo account, showing what the master says (the sandboxes
    seed the same catalog), so orders and reconciles have something to sync. Only missing (account, SKU) pairs."""
    added = 0
    now = utcnow()
    demo_skus = [p[0] for p in DEMO_PRODUCTS]
    with session_scope(engine) as session:
        accounts = session.exec(
            select(MarketplaceAccount).where(
                MarketplaceAccount.name == DEMO_ACCOUNT,
                MarketplaceAccount.marketplace.in_(DEMO_MARKETPLACES),  # type: ignore[attr-defined]
            )
        ).all()
        in_products = Product.sku.in_(demo_skus)  # type: ignore[attr-defined]
        in_levels = StockLevel.sku.in_(demo_skus)  # type: ignore[attr-defined]
        products = {p.sku: p for p in session.exec(select(Product).where(in_products)).all()}
        levels = {s.sku: s for s in session.exec(select(StockLevel).where(in_levels)).all()}
        for account in accounts:
            listed = set(
                session.exec(
                    select(MarketplaceListing.sku).where(MarketplaceListing.account_id == account.id)
                ).all()
            )
            for sku, product in products.items():
                if sku in listed:
                    continue
                level = levels.get(sku)
                on_hand, reserved = (level.on_hand, level.reserved) if level else (0, 0)
                session.add(
                    MarketplaceListing(
                        account_id=account.id or 0,
                        sku=sku,
                        price=product.price,
                        quantity=available_to_publish(on_hand, reserved, account.safety_buffer),
                        status="active",
                        last_synced_at=now,
                    )
                )
                added += 1
    return added


def seed_demo(engine: sa.Engine, *, sandbox_accounts: bool = True) -> int:
    """Insert the demo products and their stock if missing, and (unless the sandboxes are off) the sandbox accounts
    listing them. Returns how many products were added."""
    if sandbox_accounts:
        seed_demo_accounts(engine)
    added = 0
    now = utcnow()
    with session_scope(engine) as session:
        existing = set(session.exec(select(Product.sku)).all())
        new_ids: dict[str, dict[str, str]] = {}
        for sku, name, brand, category, cost, price, on_hand, ids in DEMO_PRODUCTS:
            if sku in existing:
                continue
            new_ids[sku] = dict(ids)
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
        session.flush()
        replace_identifiers(session.connection(), new_ids)  # listing sync finds them by GTIN
    if sandbox_accounts:
        seed_demo_listings(engine)
    return added
