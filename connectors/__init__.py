"""Ports (Protocols) to external systems, each with a real adapter and a local sandbox or fake."""
