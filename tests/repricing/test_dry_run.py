"""Dry runs through the REST API: proposals with their expected margin and revenue effect, nothing written to any
marketplace or decided. Real Temporal, real sandboxes, SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import sqlalchemy as sa

from activities.decisions.tables import Decision
from activities.repricing.tables import PricingHistory
from merchflow.db.models import MarketplaceListing
from tests.conftest import make_token
from tests.repricing.harness import MARKETPLACES, RepriceStack, sandbox_prices, wait_for

RUN_RATE_DAYS = 28


async def _finished(api: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    async def done() -> dict[str, Any] | None:
        body = (await api.get(f"/api/v1/repricing/runs/{run_id}")).json()
        return body if body["status"] in ("completed", "failed") else None

    return await wait_for(done, timeout=120)  # type: ignore[no-any-return]


async def _all_proposals(api: httpx.AsyncClient, run_id: str, page: int = 3) -> list[dict[str, Any]]:
    items, offset = [], 0
    while True:
        body = (
            await api.get(
                f"/api/v1/repricing/runs/{run_id}/proposals", params={"offset": offset, "limit": page}
            )
        ).json()
        items += body["items"]
        offset += page
        if offset >= body["total"]:
            return items


async def _effects(st: RepriceStack) -> dict[str, list[Any]]:
    return {mp: (await st.sbx.call(mp, "GET", "/_sandbox/effects")).json() for mp in st.accounts}


async def test_dry_run_writes_nothing_and_returns_proposals_with_their_effect(stack_any_db) -> None:
    async with stack_any_db(marketplaces=MARKETPLACES) as st:
        before = {mp: await sandbox_prices(st.sbx, mp) for mp in st.accounts}
        token = make_token(st.engine, "operator")
        async with st.api(token) as api:
            viewer = make_token(st.engine, "viewer")
            refused = await api.post(
                "/api/v1/repricing/runs",
                json={"dry_run": True},
                headers={"authorization": f"Bearer {viewer}"},
            )
            assert refused.status_code == 403
            started = await api.post(
                "/api/v1/repricing/runs", json={"dry_run": True, "refresh_competitors": False}
            )
            assert started.status_code == 202, started.text
            run_id = started.json()["id"]
            body = await _finished(api, run_id)
            proposals = await _all_proposals(api, run_id)

        assert body["status"] == "completed" and body["dry_run"] is True
        summary = body["summary"]
        # four SKUs change on each of the four accounts; the steady one holds
        assert summary["evaluated"] == 20 and summary["proposed"] == 16
        assert summary["auto_approved"] == summary["pending_approval"] == summary["pushed"] == 0
        assert len(proposals) == 16 and {p["status"] for p in proposals} == {"proposed"}
        by_sku = {p["sku"]: p for p in proposals}
        assert "RP-STEADY" not in by_sku
        for sku in ("RP-AGED", "RP-COMP", "RP-HIGH"):
            assert Decimal(by_sku[sku]["suggested_price"]) < Decimal("40")
        assert Decimal(by_sku["RP-LOW"]["suggested_price"]) > Decimal("40")
        assert "competitor at 38.50" in by_sku["RP-COMP"]["reasoning"]
        for p in proposals:
            assert p["decision_id"] is None and p["unit_margin_new"] is not None
            assert Decimal(p["suggested_price"]) >= Decimal(p["floor_price"])
        # the summary's daily effect = run-rate x (units factor x new unit margin - old unit margin), summed
        rate = {"RP-AGED": 28, "RP-COMP": 14, "RP-HIGH": 56, "RP-LOW": 7}
        margin = sum(
            rate[p["sku"]]
            / RUN_RATE_DAYS
            * (p["expected_units_factor"] * float(p["unit_margin_new"]) - float(p["unit_margin_now"]))
            for p in proposals
        )
        revenue = sum(
            rate[p["sku"]]
            / RUN_RATE_DAYS
            * (p["expected_units_factor"] * float(p["suggested_price"]) - float(p["current_price"]))
            for p in proposals
        )
        assert abs(float(summary["expected_margin_delta_per_day"]) - margin) < 0.05, (
            summary,
            margin,
            revenue,
        )
        assert abs(float(summary["expected_revenue_delta_per_day"]) - revenue) < 0.05
        assert margin < 0  # three markdowns outweigh one markup at these run-rates

        # nothing reached a marketplace, nothing was decided or recorded as a price change
        assert await _effects(st) == {mp: [] for mp in st.accounts}
        assert {mp: await sandbox_prices(st.sbx, mp) for mp in st.accounts} == before
        with st.engine.connect() as c:
            assert c.execute(sa.select(sa.func.count()).select_from(Decision.__table__)).scalar_one() == 0  # type: ignore[attr-defined]
            assert (
                c.execute(sa.select(sa.func.count()).select_from(PricingHistory.__table__)).scalar_one() == 0
            )  # type: ignore[attr-defined]
            listing = MarketplaceListing.__table__  # type: ignore[attr-defined]
            assert (
                c.execute(sa.select(listing.c.target_price).where(listing.c.target_price.is_not(None))).all()
                == []
            )


async def test_a_filtered_dry_run_prices_only_the_named_skus_and_accounts(stack_sqlite) -> None:
    async with stack_sqlite(marketplaces=("ebay", "woocommerce")) as st:
        result = await st.run(
            dry_run=True, skus=["RP-LOW", "RP-HIGH", "RP-STEADY"], account_ids=[st.accounts["ebay"]]
        )
        totals = result.summary.totals
        assert (totals.evaluated, totals.proposed) == (3, 2)
        assert set(result.summary.accounts) == {st.accounts["ebay"]}
