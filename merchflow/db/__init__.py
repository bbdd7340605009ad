"""Persistence: engine, SQLModel tables and keyword-only repository functions."""
