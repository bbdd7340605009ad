"""Operators' telemetry: business metrics (`metrics`), the worker's /metrics endpoint and the SDK's
runtime metrics (`endpoint`, `runtime`), the decisions-pending collector (`collectors`), OpenTelemetry (`tracing`)."""
