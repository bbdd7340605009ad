"""The run's competitor refresh: other sellers' offers from the marketplaces' pricing APIs (eBay Browse, Amazon
competitive pricing) and a competitor's product page scraped on the scraper queue, stored for 24 h and used by the
engine. Real Temporal, real sandboxes, a second WooCommerce sandbox playing a competitor's shop."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from activities.repricing.tables import CompetitorPrice, RepriceProposal
from merchflow.settings import Settings
from sandboxes.run import load_app
from tests.repricing.harness import Item, listing_payloads, seed_sandbox
from tests.stock.harness import Sandboxes
from tests.support.servers import serve

UPC = "036000291452"


async def test_competitor_prices_from_marketplace_apis_and_pages_reach_the_proposals(
    stack_sqlite, tmp_path: Path
) -> None:
    shop_settings = Settings(_env_file=None, environment="test", data_dir=tmp_path / "rival", seed_demo=False)  # type: ignore[call-arg]
    with serve(load_app("woocommerce", shop_settings)) as rival_url:
        catalog = {
            "RP-EBAY": Item(identifiers={"upc": "012345678905"}, stock=40),
            "RP-PAGE": Item(
                identifiers={"upc": UPC},
                stock=40,
                attributes={"competitor_urls": [f"{rival_url}/products/RIVAL-LAMP"]},
            ),
            "RP-NONE": Item(stock=40),
        }
        rival = Sandboxes(shop_settings, ("woocommerce",))
        rival.url = lambda mp: rival_url  # type: ignore[method-assign]
        page = {"RIVAL-LAMP": Item(price="33.00", identifiers={"upc": UPC})}
        await seed_sandbox(rival, "woocommerce", listing_payloads(page, page))
        await rival.aclose()

        async with stack_sqlite(marketplaces=("ebay", "amazon"), catalog=catalog) as st:
            offers = {"gtin": "012345678905", "offers": [{"seller": "rival_seller", "price": "35.00"}]}
            (await st.sbx.call("ebay", "PUT", "/_sandbox/ebay/competitors", json=offers)).raise_for_status()

            await st.run(dry_run=True, wid="reprice-test-comp-" + st.main_queue[-8:], refresh=True)

            with st.engine.connect() as c:
                stored = c.execute(sa.select(CompetitorPrice.__table__)).all()  # type: ignore[attr-defined]
                props = c.execute(sa.select(RepriceProposal.__table__)).all()  # type: ignore[attr-defined]
            rival = [(r.sku, r.price, r.competitor) for r in stored if r.competitor == "rival_seller"]
            assert rival == [("RP-EBAY", Decimal("35"), "rival_seller")]  # eBay Browse, by the product's UPC
            scraped = [(r.sku, r.price, r.matched_by) for r in stored if r.url]
            assert scraped == [("RP-PAGE", Decimal("33"), "gtin")]  # the rival's page, matched by UPC
            amazon = [r for r in stored if r.source.startswith("amazon:")]
            assert {r.sku for r in amazon} <= set(catalog) and amazon
            assert all(r.competitor != "self" for r in stored)  # our own offer is no competitor
            # every proposal beats the cheapest competitor price known for its SKU (landed: price + shipping)
            cheapest: dict[str, Decimal] = {}
            for r in stored:
                landed = r.price + (r.shipping or 0)
                cheapest[r.sku] = min(cheapest.get(r.sku, landed), landed)
            assert cheapest["RP-PAGE"] <= Decimal("33")
            assert {p.sku for p in props} == set(cheapest) and len(props) == 2 * len(cheapest)
            for p in props:
                assert f"competitor at {cheapest[p.sku]:.2f}" in p.reasoning, (p.sku, p.reasoning)
                # toward it by at most the 15 % a run may move a price
                assert p.suggested_price < cheapest[p.sku] or p.suggested_price <= Decimal("34.99")

            # within 24 h a second refresh asks nothing again: no new rows
            await st.run(dry_run=True, wid="reprice-test-comp2-" + st.main_queue[-8:], refresh=True)
            with st.engine.connect() as c:
                again = c.execute(
                    sa.select(sa.func.count()).select_from(CompetitorPrice.__table__)
                ).scalar_one()  # type: ignore[attr-defined]
            assert again == len(stored)
