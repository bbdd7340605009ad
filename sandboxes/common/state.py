"""Per-sandbox runtime state: configuration of faults and rate limits, the store, the webhook target."""

from __future__ import annotations

import contextvars
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from sandboxes.common.store import SandboxStore


class FaultConfig(BaseModel):
    """Fractions of API requests (0..1) that fail in each way; changeable at run time via PUT /_sandbox/faults."""

    error_rate: float = Field(0.0, ge=0, le=1)  # 5xx before doing anything
    rate_429: float = Field(0.0, ge=0, le=1)  # 429 with Retry-After, before doing anything
    retry_after_seconds: float = Field(1.0, ge=0)
    latency_ms: float = Field(0.0, ge=0)  # added to every API request
    timeout_rate: float = Field(0.0, ge=0, le=1)  # hang for timeout_seconds, then 504 (nothing applied)
    timeout_seconds: float = Field(35.0, ge=0)
    lost_response_rate: float = Field(0.0, ge=0, le=1)  # apply the change, then answer 504 as if lost
    rate_limits: bool = True  # enforce the marketplace's published limits
    seed: int | None = None


def faults_from_settings(sandbox: Any) -> FaultConfig:
    """The start-up fault configuration of every sandbox, from `MERCHFLOW_SANDBOX__*` (merchflow.settings)."""
    return FaultConfig(
        error_rate=sandbox.error_rate,
        rate_429=sandbox.rate_429,
        retry_after_seconds=sandbox.retry_after_seconds,
        latency_ms=sandbox.latency_ms,
        timeout_rate=sandbox.timeout_rate,
        lost_response_rate=sandbox.lost_response_rate,
        rate_limits=sandbox.rate_limits,
        seed=sandbox.seed,
    )


class WebhookTarget(BaseModel):
    url: str | None = None
    secret: str | None = None  # signing secret, marketplace-specific meaning


# Set by the request middleware, read by handlers that record effects.
current_request_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "sbx_request_id", default=None
)
current_idempotency_key: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "sbx_idem_key", default=None
)


@dataclass
class SandboxState:
    name: str
    store: SandboxStore
    faults: FaultConfig = field(default_factory=FaultConfig)
    webhook: WebhookTarget = field(default_factory=WebhookTarget)
    rng: random.Random = field(default_factory=random.Random)
    # server-side buckets: key -> (tokens, updated)
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def set_faults(self, faults: FaultConfig) -> None:
        self.faults = faults
        if faults.seed is not None:
            self.rng.seed(faults.seed)

    # ---- rate limits -------------------------------------------------------------------------------------------
    def take(self, key: str, *, rate: float, burst: float, cost: float = 1.0) -> float | None:
        """Take `cost` from the bucket `key`. Returns None when allowed, else the seconds until it would be."""
        if not self.faults.rate_limits:
            return None
        now = time.monotonic()
        tokens, updated = self._buckets.get(key, (burst, now))
        tokens = min(burst, tokens + (now - updated) * rate)
        if tokens >= cost:
            self._buckets[key] = (tokens - cost, now)
            return None
        self._buckets[key] = (tokens, now)
        return (cost - tokens) / rate

    def bucket_level(self, key: str, *, rate: float, burst: float) -> float:
        now = time.monotonic()
        tokens, updated = self._buckets.get(key, (burst, now))
        return min(burst, tokens + (now - updated) * rate)

    # ---- effects: what really changed, for "nothing applied twice" checks -------------------------------------
    def record_effect(self, entity: str, fieldname: str, old: Any, new: Any) -> None:
        """Record one applied change. Re-setting the same value is not a change and is not recorded."""
        if _norm(old) == _norm(new):
            return
        self.store.execute(
            "INSERT INTO sbx_effect(at, request_id, idempotency_key, entity, field, old_value, new_value) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                time.time(),
                current_request_id.get(),
                current_idempotency_key.get(),
                entity,
                fieldname,
                _norm(old),
                _norm(new),
            ),
        )

    def record_effects(self, rows: list[tuple[str, str, Any, Any]]) -> None:
        rid, key, now = current_request_id.get(), current_idempotency_key.get(), time.time()
        data = [(now, rid, key, e, f, _norm(o), _norm(n)) for e, f, o, n in rows if _norm(o) != _norm(n)]
        if data:
            self.store.executemany(
                "INSERT INTO sbx_effect(at, request_id, idempotency_key, entity, field, old_value, new_value) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                data,
            )


def _norm(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)
