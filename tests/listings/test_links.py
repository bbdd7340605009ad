"""What links do once a sync made them, on the real stack: a listing linked by GTIN under the marketplace's own SKU
gets the master's stock and sends its orders to the master product; a listing's own safety buffer and automation
switch are honoured; conflicts are resolved through the API; unmatched listings become master products."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from merchflow.db.engine import session_scope
from merchflow.db.identifiers import replace_identifiers
from merchflow.db.models import Product, StockLevel
from tests.accounts.conftest import StackFactory
from tests.accounts.helpers import json_of, tokens
from tests.listings.store import ean13
from tests.stock.harness import on_hand
from tests.stock.waiting import eventually

EAN_B, EAN_C, EAN_OTHER = ean13("200000000002"), ean13("200000000003"), ean13("300000000003")


async def test_links_at_work(stack_sqlite: StackFactory) -> None:
    # master: A, B (with GTIN), C (with GTIN); the harness lists nothing (listed={})
    async with stack_sqlite(marketplaces=("woocommerce",), stock={"A": 10, "B": 8, "C": 5}, listed={"woocommerce": []},
                            relay=True) as st:  # fmt: skip
        with session_scope(st.engine) as s:
            p = Product.__table__  # type: ignore[attr-defined]
            conn = s.connection()
            conn.execute(
                sa.update(p).where(p.c.sku == "B").values(attributes={"identifiers": {"ean": EAN_B}})
            )
            conn.execute(
                sa.update(p).where(p.c.sku == "C").values(attributes={"identifiers": {"ean": EAN_C}})
            )
            replace_identifiers(conn, {"B": {"ean": EAN_B}, "C": {"ean": EAN_C}})
        store = [
            {"sku": "A", "title": "A on the shop", "price": "10.00", "quantity": 10, "identifiers": {}},
            {"sku": "SHOP-B", "title": "B on the shop", "price": "11.00", "quantity": 8, "identifiers": {"ean": EAN_B}},
            {"sku": "C", "title": "Not our C", "price": "12.00", "quantity": 3, "identifiers": {"ean": EAN_OTHER}},
            {"sku": "LOOSE-1", "title": "A loose thing", "price": "7.25", "quantity": 4, "identifiers": {"upc": "036000291452"}},
        ]  # fmt: skip
        (
            await st.sbx.call(
                "woocommerce", "POST", "/_sandbox/seed", json={"listings": store, "replace": True}
            )
        ).raise_for_status()
        account = st.accounts["woocommerce"]
        t = tokens(st)
        async with st.api(t["operator"]) as api:
            json_of(await api.post(f"/api/v1/accounts/{account}/listing-sync"))
            done = await eventually(lambda: api.get(f"/api/v1/accounts/{account}/listing-sync"),
                                    lambda r: r.json().get("status") == "completed", what="sync")  # fmt: skip
            report = done.json()["report"]
            assert (
                report["by_sku"],
                report["by_identifier"],
                report["conflicts"],
                report["listings_without_product"],
            ) == (1, 1, 1, 1)

            async def adjust(sku: str, quantity: int) -> None:
                body = {"sku": sku, "kind": "adjustment", "quantity": quantity, "reason": "count",
                        "idempotency_key": uuid.uuid4().hex}  # fmt: skip
                json_of(await api.post("/api/v1/stock/adjustments", json=body))

            async def shop(sku: str) -> int | None:
                return (await st.sbx.truth("woocommerce", sku)).get(sku)

            # stock of B reaches the listing the shop calls SHOP-B
            await adjust("B", 4)
            await eventually(lambda: shop("SHOP-B"), lambda q: q == 12, what="B's stock on SHOP-B")
            # an order for SHOP-B on the shop takes the master's B
            assert (await st.sbx.buy("woocommerce", "SHOP-B", 3)).status_code == 201

            async def b_on_hand() -> int:
                return on_hand(st.engine, "B")

            await eventually(b_on_hand, lambda n: n == 9, what="the order allocated against B")

            listings = {
                x["marketplace_sku"]: x
                for x in json_of(await api.get("/api/v1/listings", params={"account_id": account}))["items"]
            }
            # A's listing: excluded from stock automation, then an adjustment does not reach it
            json_of(
                await api.patch(f"/api/v1/listings/{listings['A']['id']}", json={"stock_automation": False})
            )
            await adjust("A", -4)
            # B's listing: its own buffer of 2
            b = json_of(
                await api.patch(f"/api/v1/listings/{listings['SHOP-B']['id']}", json={"safety_buffer": 2})
            )
            assert (b["safety_buffer"], b["stock_automation"]) == (2, True)
            await adjust("B", 1)  # on hand 10 -> the shop shows 8
            await eventually(lambda: shop("SHOP-B"), lambda q: q == 8, what="B with its buffer")
            assert await shop("A") == 10  # untouched: excluded
            assert (
                await api.patch(f"/api/v1/listings/{listings['LOOSE-1']['id']}", json={"safety_buffer": 1})
            ).status_code == 409

            # the conflict: the shop's C is another product; an operator links it to C anyway, and a sync keeps that
            c = listings["C"]
            assert c["match_state"] == "conflict" and "same SKU, different product" in c["conflict"]
            linked = json_of(
                await api.post(
                    f"/api/v1/listings/{c['id']}/resolve", json={"action": "link", "product_sku": "C"}
                )
            )
            assert (linked["match_state"], linked["match_method"]) == ("linked", "manual")
            # the unmatched listing becomes a product of its own, linked, out of price automation
            made = json_of(await api.post(f"/api/v1/accounts/{account}/listings/create-products"))
            assert (made["created"], made["skipped"]) == (1, [])
            product = json_of(await api.get("/api/v1/products/LOOSE-1"))
            assert (product["name"], product["price"], product["cost"], product["identifiers"]) == (
                "A loose thing",
                "7.2500",
                "0.0000",
                {"upc": "036000291452"},
            )
            assert (
                product["listings"][0]["price_automation"] is False and product["stock"]["managed"] is False
            )

            json_of(await api.post(f"/api/v1/accounts/{account}/listing-sync"))
            again = await eventually(lambda: api.get(f"/api/v1/accounts/{account}/listing-sync"),
                                     lambda r: r.json().get("status") == "completed" and r.json()["run_id"] != done.json()["run_id"],
                                     what="second sync")  # fmt: skip
            assert (again.json()["report"]["linked"], again.json()["report"]["conflicts"]) == (4, 0)
            with st.engine.connect() as conn:
                level = StockLevel.__table__  # type: ignore[attr-defined]
                assert (
                    conn.execute(sa.select(level.c.on_hand).where(level.c.sku == "LOOSE-1")).first() is None
                )  # unmanaged
