"""The competitor scraper against sandbox-style product pages served over real HTTP on 127.0.0.1."""

from __future__ import annotations

import itertools
import os
import time
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi import FastAPI, Request

from connectors.scraper.guard import ScrapeRefused, check_url
from connectors.scraper.scraper import CompetitorScraper
from merchflow.settings import ScraperSettings
from sandboxes.common.pages import product_pages_router
from tests.support.servers import serve

PRODUCTS = {
    "HP-1": {
        "title": "Wireless Over-Ear Headphones",
        "price": "74.50",
        "currency": "USD",
        "identifiers": {"upc": "012345678905"},
    },
    "BAD-1": {"title": "Broken price", "price": "call us", "currency": "USD", "identifiers": {}},
}
hits: list[tuple[float, str]] = []


def make_app() -> FastAPI:
    app = FastAPI()

    @app.middleware("http")
    async def log_hits(request: Request, call_next):  # type: ignore[no-untyped-def]
        hits.append((time.monotonic(), request.url.path))
        return await call_next(request)

    app.include_router(product_pages_router(PRODUCTS.get, shop_name="Sandbox Shop"))
    return app


@pytest.fixture(scope="module")
def shop() -> str:
    with serve(make_app()) as url:
        yield url


def scraper(**kw: object) -> CompetitorScraper:
    base = {"per_domain_rate": 50.0, "per_domain_concurrency": 4}
    return CompetitorScraper(ScraperSettings(**{**base, **kw}))  # type: ignore[arg-type]


async def test_json_ld(shop: str) -> None:
    s = scraper()
    r = await s.scrape(f"{shop}/products/HP-1")
    await s.aclose()
    assert r.status == "ok" and r.method == "json-ld"
    offer = r.offers[0]
    assert offer.price == Decimal("74.50") and offer.currency == "USD"
    assert offer.identifiers.get("gtin12") == "012345678905"
    assert offer.seller == "Sandbox Shop"


async def test_microdata_only(shop: str) -> None:
    s = scraper()
    r = await s.scrape(f"{shop}/products/HP-1/microdata")
    await s.aclose()
    assert r.status == "ok" and r.method == "microdata"
    assert r.offers[0].price == Decimal("74.50") and r.offers[0].identifiers["gtin12"] == "012345678905"


async def test_css_selector_fallback(shop: str) -> None:
    host = shop.removeprefix("http://")
    s = scraper(selectors={host: {"price": ".amount", "title": ".product-title", "gtin": ".gtin"}})
    r = await s.scrape(f"{shop}/products/HP-1/plain")
    await s.aclose()
    assert r.status == "ok" and r.method == "css"
    assert r.offers[0].price == Decimal("74.50") and r.offers[0].currency == "USD"
    no_rules = scraper()
    r2 = await no_rules.scrape(f"{shop}/products/HP-1/plain")
    await no_rules.aclose()
    assert r2.status == "no_data"


async def test_robots_txt_disallow(shop: str) -> None:
    s = scraper()
    r = await s.scrape(f"{shop}/private/HP-1")
    assert r.status == "disallowed"
    bad = scraper(user_agent="BadBot/1.0")
    r2 = await bad.scrape(f"{shop}/products/HP-1")
    await s.aclose()
    await bad.aclose()
    assert r2.status == "disallowed"
    assert not any(path.startswith("/private/") for _, path in hits)


async def test_per_domain_rate_is_held(shop: str) -> None:
    hits.clear()
    s = scraper(per_domain_rate=10.0, per_domain_concurrency=1)
    for _ in range(6):
        assert (await s.scrape(f"{shop}/products/HP-1")).status == "ok"
    await s.aclose()
    times = [t for t, p in hits if p == "/products/HP-1"]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(times) == 6
    assert min(gaps) >= 0.09  # 10 req/s: never two requests to the domain closer than ~100 ms


async def test_private_addresses_refused_unless_allowed() -> None:
    for url in (
        "http://10.1.2.3/p",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "file:///etc/passwd",
    ):
        with pytest.raises(ScrapeRefused):
            await check_url(url, allowed_private_hosts=[])
    s = scraper(allowed_private_hosts=[])
    r = await s.scrape("http://127.0.0.1:9/products/HP-1")
    await s.aclose()
    assert r.status in ("refused", "disallowed")  # robots fetch refused too: nothing is sent


async def test_unparseable_price_is_not_an_offer_price(shop: str) -> None:
    s = scraper()
    r = await s.scrape(f"{shop}/products/BAD-1")
    await s.aclose()
    assert r.status == "ok" and r.offers[0].price is None


@pytest.mark.browser
async def test_javascript_page_needs_the_browser(shop: str) -> None:
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium must be installed in CI (apt-get install chromium)")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    host = shop.removeprefix("http://")
    rules = {host: {"price": ".amount", "title": ".product-title"}}
    plain = scraper(selectors=rules)
    r = await plain.scrape(f"{shop}/products/HP-1/js")
    await plain.aclose()
    assert r.status == "no_data"  # the price is not in the HTML
    browser = scraper(selectors=rules, browser_domains=[host])
    r = await browser.scrape(f"{shop}/products/HP-1/js")
    await browser.aclose()
    assert r.status == "ok" and r.offers[0].price == Decimal("74.50")
    assert r.offers[0].title == "Wireless Over-Ear Headphones"
