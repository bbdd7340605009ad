"""Listing pages of a marketplace without an API, read through the existing scraper (connectors/scraper): its
robots.txt check, per-domain rate and concurrency limits, private-address guard and size limit all apply. A source
is scraped only when its configuration says its terms allow it (`terms_allow_scraping`); otherwise nothing is
fetched. Offers come from the pages' schema.org JSON-LD (an ItemList of Products with Offers).
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote_plus, urlsplit

from connectors.arbitrage_sources.port import OfferPage, SearchQuery
from connectors.errors import ValidationError
from connectors.scraper.scraper import CompetitorScraper
from domain.arbitrage.offers import RawOffer

PAGE_SIZE = 50  # what the page shows; a full page means there may be a next one
ID_NAMES = {"gtin": "gtin", "gtin12": "upc", "gtin13": "ean", "gtin14": "gtin", "isbn": "isbn"}


class ScrapedSource:
    can_message = False
    can_checkout = False

    def __init__(self, scraper: CompetitorScraper, *, search_url: str, terms_allow_scraping: bool) -> None:
        """`search_url` with `{q}` and `{page}`, e.g. "https://local.example/search?q={q}&page={page}"."""
        self.scraper, self.search_url, self.allowed = scraper, search_url, terms_allow_scraping
        self.name = f"scraped:{urlsplit(search_url).netloc}"

    async def aclose(self) -> None:
        return None  # the scraper is shared

    async def search(self, query: SearchQuery, cursor: str | None, limit: int) -> OfferPage:
        if not self.allowed:
            raise ValidationError(
                f"{self.name}: its terms do not allow scraping (terms_allow_scraping is off)"
            )
        page = int(cursor or 1)
        url = self.search_url.format(q=quote_plus(query.keywords), page=page)
        result = await self.scraper.scrape(url)
        if result.status == "disallowed":
            raise ValidationError(f"{self.name}: robots.txt disallows {url}")
        if result.status not in ("ok", "no_data"):
            raise ValidationError(f"{self.name}: {result.status} {result.message or ''}".strip())
        offers = []
        for o in result.offers:
            ident = o.identifiers.get("sku")
            if not ident or o.price is None or o.price <= 0:
                continue
            offers.append(RawOffer(
                source=self.name, source_id=ident, title=(o.title or "")[:500], price=Decimal(o.price),
                currency=o.currency or "USD", seller_id=f"{self.name}:{o.seller}" if o.seller else None,
                identifiers={ID_NAMES[k]: v for k, v in o.identifiers.items() if k in ID_NAMES},
                url=o.url,
            ))  # fmt: skip
        nxt = str(page + 1) if len(result.offers) >= PAGE_SIZE else None
        return OfferPage(offers=offers, next_cursor=nxt)

    async def get_offer(self, source_id: str) -> RawOffer | None:
        return None
