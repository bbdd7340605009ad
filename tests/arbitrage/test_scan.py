"""A scan batch over the sandboxes (no Temporal): the seeded underpriced items become deals, the traps are skipped
with their reasons, duplicates are caught by source id, by a seller's repost and by a cross-posted photo."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from activities.arbitrage.scan import Scanner
from activities.arbitrage.services import services
from activities.arbitrage.tables import Deal, SeenOffer
from connectors.arbitrage_sources.port import SearchQuery
from merchflow.db.engine import read_session
from tests.arbitrage.harness import arb_stack
from tests.arbitrage.scenario import e2e_scenario

DAY = date(2025, 6, 2)


def verdicts(engine) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    with read_session(engine) as s:
        return {r.offer_key.partition(":")[2]: (r.verdict, r.reason) for r in s.exec(select(SeenOffer)).all()}


async def test_a_scan_finds_the_underpriced_items_and_skips_the_traps(tmp_path: Path) -> None:
    scenario = e2e_scenario()
    with arb_stack(tmp_path) as st:
        st.seed(scenario)
        svc = services(st.deps)
        cfg = st.settings.arbitrage.rules.model_copy(update={"channels": ("amazon_fba",)})
        scanner = Scanner(
            engine=st.engine, source=svc.source("classifieds"), market=svc.market, config=cfg, page_size=3
        )
        res = await scanner.run(
            scan_id="scan-1", search_id=1, query=SearchQuery(), cursor=None, limit=100, day=DAY
        )
        assert res.done and res.offers == len(scenario.listings)
        got = verdicts(st.engine)
        assert {k: v[0] for k, v in got.items()} == scenario.expect, got
        assert "restricted on Amazon" in got["L-GATED"][1]
        assert "negative ROI after fees" in got["L-THIN"][1]
        assert "repost of classifieds:L-BUY" in got["L-REPOST"][1]
        assert "same photo as classifieds:L-BUY" in got["L-XPOST"][1]
        assert got["L-JUNK"][1] == "no product identifier found"
        with read_session(st.engine) as s:
            deals = {d.source_id: d for d in s.exec(select(Deal)).all()}
        assert set(deals) == {"L-BUY", "L-NEGO"} and len(res.deals) == 2
        buy, nego = deals["L-BUY"], deals["L-NEGO"]
        assert buy.action == "buy" and buy.target_price == buy.asking_price
        assert nego.action == "negotiate" and nego.target_price is not None and nego.max_price is not None
        assert nego.target_price < nego.max_price < nego.asking_price
        assert buy.predicted_profit is not None and buy.predicted_profit > 10
        assert buy.fee_version == "amazon-us-2024-02-05" and buy.asin == "B000000101"
        assert "amazon:restrictions" in buy.evaluation["quote"]["sources"]

        # a later batch screens a product an earlier one deepened on the screen facts only (the offer's verdict must
        # not depend on the batch it fell into), and keeps the deep facts for when the offer becomes a candidate
        assert buy.product_key is not None
        screened, deepened = await scanner._quotes([buy.product_key])
        fresh = await svc.market.screen([buy.product_key])
        assert screened[buy.product_key].model_dump(exclude={"fetched_at"}) == fresh[
            buy.product_key
        ].model_dump(exclude={"fetched_at"})
        assert (
            screened[buy.product_key].restricted is None and screened[buy.product_key].ebay_active_min is None
        )
        assert (
            deepened[buy.product_key].restricted is False
            and "amazon:restrictions" in deepened[buy.product_key].sources
        )

        # a second scan of the same listings: everything is known by its source id, nothing new is started
        again = await scanner.run(
            scan_id="scan-2", search_id=1, query=SearchQuery(), cursor=None, limit=100, day=DAY
        )
        assert again.duplicates == again.offers == len(scenario.listings) and again.deals == []


@pytest.mark.parametrize("limit", [2])
async def test_scan_batches_follow_the_cursor(tmp_path: Path, limit: int) -> None:
    scenario = e2e_scenario()
    with arb_stack(tmp_path, sandboxes=("classifieds",)) as st:
        async with httpx.AsyncClient(timeout=60) as http:
            seeded = await http.post(
                st.url("classifieds") + "/_sandbox/classifieds/seed", json={"listings": scenario.listings}
            )
            seeded.raise_for_status()
        svc = services(st.deps)
        scanner = Scanner(
            engine=st.engine,
            source=svc.source("classifieds"),
            market=None,
            config=st.settings.arbitrage.rules,
            page_size=1,
        )
        cursor, total = None, 0
        for _ in range(10):
            res = await scanner.run(
                scan_id="s", search_id=1, query=SearchQuery(), cursor=cursor, limit=limit, day=DAY
            )
            total += res.offers
            cursor = res.next_cursor
            if res.done:
                break
        assert total == len(scenario.listings)
