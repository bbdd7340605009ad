"""Amazon Selling Partner API adapter (LWA auth, Listings Items, Feeds, FBA Inventory, Pricing, Fees, Catalog,
Orders v0)."""
