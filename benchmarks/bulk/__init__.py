"""Per-marketplace bulk benchmarks, imported by benchmarks/connector_bulk.py."""
