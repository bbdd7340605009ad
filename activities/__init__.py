"""Thin, idempotent activities: one typed input, one typed result; connectors and domain do the work."""
