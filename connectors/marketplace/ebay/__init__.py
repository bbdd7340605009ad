"""eBay marketplace adapter (Sell Inventory API v1 + Fulfillment / Browse / Post-Order). See README.md."""
