"""GET /api/v1/orders: the orders the stock process recorded, filtered by status, marketplace, account, SKU and the
time received, newest first, paged by cursor - on SQLite and PostgreSQL (the SKU filter reads JSON lines)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import sqlalchemy as sa

from activities.stock.tables import MarketplaceOrder
from merchflow.db.engine import session_scope
from merchflow.db.models import MarketplaceAccount
from tests.conftest import make_token

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _seed(engine: sa.Engine) -> dict[str, int]:
    with session_scope(engine) as s:
        accounts = {
            mp: MarketplaceAccount(marketplace=mp, name="main") for mp in ("amazon", "ebay", "shopify")
        }
        s.add_all(accounts.values())
        s.flush()
        ids = {mp: a.id or 0 for mp, a in accounts.items()}
        rows = [
            ("amazon", "A-1", "allocated", [("MUG", 1)], 0),
            ("amazon", "A-2", "cancelled", [("MUG", 5), ("CAP", 1)], 1),
            ("ebay", "E-1", "allocated", [("CAP", 2)], 2),
            ("shopify", "S-1", "unmanaged", [("OTHER-MUG", 1)], 3),  # a SKU that merely contains "MUG"
            ("shopify", "S-2", "backordered", [("MUG", 2)], 4),
            ("ebay", "E-2", "allocated", [("MUG", 1), ("HAT", 1)], 5),
        ]
        for mp, order_id, status, lines, hours in rows:
            s.add(
                MarketplaceOrder(
                    account_id=ids[mp],
                    marketplace=mp,
                    order_id=order_id,
                    status=status,
                    lines=[{"sku": sku, "quantity": q} for sku, q in lines],
                    source="webhook",
                    outcome={"allocated": [sku for sku, _ in lines] if status == "allocated" else []},
                    received_at=T0 + timedelta(hours=hours),
                )
            )
    return ids


async def test_orders_are_listed_filtered_and_paged(api_client: httpx.AsyncClient) -> None:
    engine = api_client.app.state.engine  # type: ignore[attr-defined]
    ids = _seed(engine)
    auth = {"Authorization": f"Bearer {make_token(engine, 'viewer')}"}

    async def order_ids(**params: object) -> list[str]:
        r = await api_client.get("/api/v1/orders", params=params, headers=auth)
        assert r.status_code == 200, r.text
        return [o["order_id"] for o in r.json()["items"]]

    assert await order_ids() == ["E-2", "S-2", "S-1", "E-1", "A-2", "A-1"]  # newest first
    assert await order_ids(status="allocated") == ["E-2", "E-1", "A-1"]
    assert await order_ids(marketplace="ebay") == ["E-2", "E-1"]
    assert await order_ids(account_id=ids["shopify"]) == ["S-2", "S-1"]
    assert await order_ids(sku="MUG") == ["E-2", "S-2", "A-2", "A-1"]
    assert await order_ids(sku="MUG", status="allocated", marketplace="amazon") == ["A-1"]
    assert await order_ids(sku="NOPE") == []
    since, until = (T0 + timedelta(hours=1)).isoformat(), (T0 + timedelta(hours=4)).isoformat()
    assert await order_ids(received_from=since, received_before=until) == ["S-1", "E-1", "A-2"]

    first = (await api_client.get("/api/v1/orders", params={"limit": 4}, headers=auth)).json()
    assert [o["order_id"] for o in first["items"]] == ["E-2", "S-2", "S-1", "E-1"]
    rest = await order_ids(limit=4, before_id=first["next_before_id"])
    assert rest == ["A-2", "A-1"]
    last = (
        await api_client.get("/api/v1/orders", params={"before_id": first["next_before_id"]}, headers=auth)
    ).json()
    assert last["next_before_id"] is None

    one = first["items"][0]
    assert one["lines"] == [{"sku": "MUG", "quantity": 1}, {"sku": "HAT", "quantity": 1}]
    assert one["account_id"] == ids["ebay"] and one["status"] == "allocated" and one["source"] == "webhook"
    assert datetime.fromisoformat(one["received_at"]) == T0 + timedelta(hours=5)


async def test_bad_filters_are_422_and_the_list_needs_a_token(api_client: httpx.AsyncClient) -> None:
    engine = api_client.app.state.engine  # type: ignore[attr-defined]
    auth = {"Authorization": f"Bearer {make_token(engine, 'viewer')}"}
    assert (await api_client.get("/api/v1/orders")).status_code == 401
    for params in (
        {"status": "lost"},
        {"marketplace": "etsy"},
        {"received_from": "2025-03-01T00:00:00"},  # no time zone: which midnight?
        {"received_from": "1700000000"},
        {"before_id": 2**64},
        {"limit": 501},
        {"sku": "x" * 65},
    ):
        r = await api_client.get("/api/v1/orders", params=params, headers=auth)
        assert r.status_code == 422, (params, r.text)
