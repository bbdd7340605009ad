"""The buy-and-resell arbitrage loop, the pure parts: versioned fee tables, profit and risk, the buy / negotiate /
skip rules, safety limits, negotiation moves, offer dedupe and identifiers, and per-deal accounting.

No I/O and no clock: offers, market quotes, today's date and the spend so far come in as arguments.
"""
