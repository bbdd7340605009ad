"""The Marketplace port and its adapters (Amazon SP-API, eBay Sell Inventory, Shopify Admin GraphQL, WooCommerce)."""
