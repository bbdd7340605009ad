"""Local WooCommerce REST v3 sandbox: /wp-json/wc/v3 products, variations, batch endpoints, orders, webhooks."""
