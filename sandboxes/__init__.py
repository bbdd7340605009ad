"""Local sandbox marketplaces: ASGI services speaking the real APIs' paths, auth, paging, errors and rate limits,
with persistent SQLite state, fault injection, webhooks, and an inspection API under /_sandbox for tests."""
