"""Local Amazon Selling Partner API sandbox: LWA token endpoint, Listings Items, Feeds (asynchronous processing with
a JSON processing report), FBA Inventory, Product Pricing, Product Fees, Catalog Items and Orders v0."""
