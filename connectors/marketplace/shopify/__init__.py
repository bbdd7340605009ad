"""Shopify Admin GraphQL 2025-01 adapter."""
