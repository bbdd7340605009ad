"""A card-payments sandbox speaking Stripe's PaymentIntents wire format (see api.py)."""
