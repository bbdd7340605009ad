"""The products API on the real stack: filters and cursor paging, reading and changing a product, archiving one whose
listings then end on the marketplace once the `listing_deactivate` decision is approved, and the export of 100,000
products streamed in constant memory."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc

import pytest
import sqlalchemy as sa

from merchflow.db.engine import session_scope
from merchflow.db.identifiers import replace_identifiers
from merchflow.db.models import MarketplaceListing, Product, ProductIdentifier
from merchflow.db.types import utcnow
from tests.accounts.conftest import StackFactory, sqlite_url, stack_any_db, stack_sqlite  # noqa: F401
from tests.accounts.helpers import json_of, tokens
from tests.stock.waiting import eventually


def _describe(engine: sa.Engine) -> None:
    """Categories, brands and identifiers on the stack's products (the harness makes plain ones)."""
    with session_scope(engine) as s:
        conn = s.connection()
        p = Product.__table__  # type: ignore[attr-defined]
        conn.execute(sa.update(p).where(p.c.sku.like("MUG%")).values(category="kitchen", brand="Acme"))
        conn.execute(sa.update(p).where(p.c.sku.like("TEE%")).values(category="apparel", brand="Zed"))
        conn.execute(
            sa.update(p)
            .where(p.c.sku == "MUG-1")
            .values(attributes={"identifiers": {"ean": "4006381333931"}})
        )
        replace_identifiers(conn, {"MUG-1": {"ean": "4006381333931"}})


async def test_filters_paging_read_and_change(stack_any_db: StackFactory) -> None:  # noqa: F811
    stock = {"MUG-1": 3, "MUG-2": 40, "TEE-1": 0, "TEE-2": 12, "HAT-1": 5}
    async with stack_any_db(
        marketplaces=("ebay",), stock=stock, listed={"ebay": ["MUG-1", "TEE-1"]}, worker=False
    ) as st:
        _describe(st.engine)
        t = tokens(st)
        async with st.api(t["operator"]) as api:

            async def skus(**params: object) -> list[str]:
                return [p["sku"] for p in json_of(await api.get("/api/v1/products", params=params))["items"]]

            assert await skus() == sorted(stock)
            assert await skus(category="kitchen") == ["MUG-1", "MUG-2"]
            assert await skus(brand="Zed") == ["TEE-1", "TEE-2"]
            assert await skus(q="tee") == ["TEE-1", "TEE-2"]
            assert await skus(marketplace="ebay") == await skus(linked="true") == ["MUG-1", "TEE-1"]
            assert await skus(marketplace="amazon") == []
            assert await skus(linked="false") == ["HAT-1", "MUG-2", "TEE-2"]
            assert await skus(stock_below=5) == ["MUG-1", "TEE-1"]
            pages, cursor = [], None
            while True:
                body = json_of(
                    await api.get(
                        "/api/v1/products", params={"limit": 2, **({"cursor": cursor} if cursor else {})}
                    )
                )
                pages.append([p["sku"] for p in body["items"]])
                cursor = body["next_cursor"]
                if cursor is None:
                    break
            assert pages == [["HAT-1", "MUG-1"], ["MUG-2", "TEE-1"], ["TEE-2"]]

            one = json_of(await api.get("/api/v1/products/MUG-1"))
            assert one["identifiers"] == {"ean": "4006381333931"} and one["stock"]["available"] == 3
            assert [(x["marketplace"], x["marketplace_sku"]) for x in one["listings"]] == [("ebay", "MUG-1")]
            assert (await api.get("/api/v1/products/NOPE")).status_code == 404

            bad = await api.patch(
                "/api/v1/products/MUG-1", json={"cost": "-1", "identifiers": {"ean": "123"}}
            )
            assert bad.status_code == 422
            assert {d["field"] for d in bad.json()["error"]["details"]} == {"cost", "ean"}
            changed = json_of(await api.patch("/api/v1/products/MUG-1", json={"name": "Big mug", "price": "14.5",
                                                                              "identifiers": {"upc": "036000291452"}}))  # fmt: skip
            assert (changed["name"], changed["price"], changed["identifiers"]) == (
                "Big mug",
                "14.5000",
                {"upc": "036000291452"},
            )
            with st.engine.connect() as conn:
                pid = ProductIdentifier.__table__  # type: ignore[attr-defined]
                assert conn.execute(sa.select(pid.c.kind, pid.c.value).where(pid.c.sku == "MUG-1")).all() == [
                    ("gtin", "00036000291452")
                ]
        async with st.api(t["viewer"]) as viewer:
            assert (await viewer.patch("/api/v1/products/MUG-1", json={"name": "x"})).status_code == 403


async def test_archive_ends_listings_through_an_approved_decision(stack_sqlite: StackFactory) -> None:  # noqa: F811
    async with stack_sqlite(marketplaces=("woocommerce", "ebay"), stock={"MUG-1": 5, "TEE-1": 2}) as st:
        t = tokens(st)
        async with st.api(t["operator"]) as api, st.api(t["admin"]) as admin:
            gone = json_of(await api.delete("/api/v1/products/MUG-1"))
            assert (gone["status"], gone["live_listings"]) == ("archived", 2) and gone["deactivation"]
            assert (
                json_of(await api.get("/api/v1/products", params={"status": "archived"}))["items"][0]["sku"]
                == "MUG-1"
            )
            assert [p["sku"] for p in json_of(await api.get("/api/v1/products"))["items"]] == ["TEE-1"]
            assert (await api.patch("/api/v1/products/MUG-1", json={"name": "x"})).status_code == 409

            decision = await eventually(
                lambda: admin.get("/api/v1/decisions", params={"decision_type": "listing_deactivate"}),
                lambda r: r.status_code == 200 and any(d["status"] == "pending" for d in r.json()["items"]),
                what="the deactivation decision waiting for a person",
            )
            d = next(x for x in decision.json()["items"] if x["status"] == "pending")
            assert d["subject"] == "MUG-1"
            # nothing ended before anyone approved
            for mp in ("woocommerce", "ebay"):
                assert await st.sbx.truth(mp, "MUG-1")  # still listed
            json_of(
                await admin.post(
                    f"/api/v1/decisions/{d['id']}/approve", json={"expected_version": d["version"]}
                )
            )

            def statuses() -> set[str]:
                link = MarketplaceListing.__table__  # type: ignore[attr-defined]
                with st.engine.connect() as conn:
                    return set(conn.execute(sa.select(link.c.status).where(link.c.sku == "MUG-1")).scalars())

            async def probe() -> set[str]:
                return statuses()

            await eventually(probe, lambda s: s == {"ended"}, what="both listings ended")
            for mp in ("woocommerce", "ebay"):
                rows = (await st.sbx.call(mp, "GET", "/_sandbox/listings", params={"sku": "MUG-1"})).json()[
                    "listings"
                ]
                assert rows and all(not r["active"] for r in rows), (mp, rows)
            assert (
                json_of(await api.delete("/api/v1/products/MUG-1"))["live_listings"] == 0
            )  # archiving again: no-op


@pytest.mark.slow
async def test_export_of_100000_products_streams_in_constant_memory(stack_sqlite: StackFactory) -> None:  # noqa: F811
    async with stack_sqlite(marketplaces=("woocommerce",), worker=False) as st:
        now = utcnow()
        with session_scope(st.engine) as s:
            rows = [{"sku": f"SKU-{i:06d}", "name": f"Product number {i} with a longer name", "cost": "3.25",
                     "price": "9.99", "currency": "USD", "attributes": {"identifiers": {"mpn": f"M{i}"}, "color": "red"},
                     "image_refs": [], "added_at": now, "updated_at": now, "status": "active", "category": "c"}
                    for i in range(100_000)]  # fmt: skip
            for i in range(0, len(rows), 10_000):
                s.connection().execute(sa.insert(Product.__table__), rows[i : i + 10_000])  # type: ignore[attr-defined]
        del rows
        t = tokens(st)
        async with st.api(t["viewer"]) as api:

            async def export(fmt: str, **params: str) -> tuple[int, int, int, bytes]:
                tracemalloc.start()
                size, lines, first = 0, 0, b""
                async with api.stream(
                    "GET", "/api/v1/products/export", params={"format": fmt, **params}
                ) as r:
                    assert r.status_code == 200
                    async for chunk in r.aiter_bytes():
                        first = first or chunk[:2000]
                        size += len(chunk)
                        lines += chunk.count(b"\n")
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                return size, lines, peak, first

            for fmt in ("csv", "jsonl"):
                size, lines, peak, first = await export(fmt)
                assert lines == 100_000 + (1 if fmt == "csv" else 0)
                _, tenth, small_peak, _ = await export(fmt, q="SKU-00")  # SKU-000000 .. SKU-009999
                assert tenth == 10_000 + (1 if fmt == "csv" else 0)
                # memory does not grow with the catalog: ten times the rows, about the same peak, far below the output
                assert peak < 2 * small_peak + 1_000_000 and peak < size / 2, (fmt, size, peak, small_peak)
                if fmt == "csv":
                    header, row = list(csv.reader(io.StringIO(first.decode())))[:2]
                    assert (
                        header[:3] == ["sku", "name", "brand"]
                        and row[0] == "SKU-000000"
                        and row[header.index("mpn")] == "M0"
                    )
                else:
                    obj = json.loads(first.split(b"\n")[0])
                    assert obj["sku"] == "SKU-000000" and obj["attributes"] == {"color": "red"}
