"""Operators' tooling, pure parts: alert evaluation and retention decisions (no I/O, no clock)."""
