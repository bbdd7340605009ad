"""A classifieds marketplace sandbox standing in for local marketplaces: listings with photos, sellers who answer
offers, checkout with an idempotency key (see core.py and api.py)."""
