"""Deterministic orchestration only: no I/O, no clock, no randomness outside the workflow APIs."""
