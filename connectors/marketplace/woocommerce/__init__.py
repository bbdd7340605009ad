"""WooCommerce REST API v3 adapter (consumer key / secret, batch endpoints, webhooks). See README.md."""
