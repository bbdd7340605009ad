"""The stock shell: reads and writes master stock under row locks, applying the rules in domain/stock.py."""
