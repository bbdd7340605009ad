"""Where the arbitrage loop finds offers (one port, `OfferSource`): the classifieds sandbox's API, eBay Browse
search, scraped listing pages through the scraper; plus the market data that prices them (Amazon, eBay, a
Keepa-style price history when a key is configured)."""
