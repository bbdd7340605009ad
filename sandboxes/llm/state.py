"""Knobs and the request log shared by both fake servers (one state per server)."""

from __future__ import annotations

import threading
import time
from typing import Any, Literal

from pydantic import BaseModel, Field


class FakeKnobs(BaseModel):
    latency_ms: float = Field(0.0, ge=0)  # added to every model answer (not to the /_fake API)
    # statuses to answer the next requests with, one per request (429, 500, 503, 529, 400, 401, ...)
    fail_next: list[int] = Field(default_factory=list)
    retry_after: str | None = "0.05"  # Retry-After on 429 / 503 / 529 (real servers send whole seconds)
    malformed_next: int = Field(0, ge=0)  # the next N answers are malformed
    malformed_kind: Literal["not_json", "schema"] = "schema"
    api_key: str = "test-key"


class FakeState:
    def __init__(self, name: str, knobs: FakeKnobs | None = None) -> None:
        self.name = name
        self.knobs = knobs or FakeKnobs()
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()

    def record(self, path: str, headers: dict[str, str], body: Any, status: int) -> None:
        with self._lock:
            self.requests.append(
                {
                    "id": len(self.requests) + 1,
                    "at": time.time(),
                    "path": path,
                    "headers": headers,
                    "body": body,
                    "status": status,
                }
            )

    def next_failure(self) -> int | None:
        with self._lock:
            return self.knobs.fail_next.pop(0) if self.knobs.fail_next else None

    def take_malformed(self) -> str | None:
        with self._lock:
            if self.knobs.malformed_next > 0:
                self.knobs.malformed_next -= 1
                return self.knobs.malformed_kind
            return None

    def enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.max_in_flight = 0
            self.knobs = FakeKnobs(api_key=self.knobs.api_key)


def control_routes(app: Any, state: FakeState) -> None:
    """/_fake/...: knobs, the request log, reset. Never subject to the knobs."""

    @app.get("/_fake/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "fake": state.name}

    @app.get("/_fake/knobs")
    def get_knobs() -> FakeKnobs:
        return state.knobs

    @app.put("/_fake/knobs")
    def put_knobs(knobs: FakeKnobs) -> FakeKnobs:
        state.knobs = knobs
        return knobs

    @app.get("/_fake/requests")
    def requests(since_id: int = 0) -> list[dict[str, Any]]:
        return [r for r in state.requests if r["id"] > since_id]

    @app.get("/_fake/stats")
    def stats() -> dict[str, int]:
        return {"requests": len(state.requests), "max_in_flight": state.max_in_flight}

    @app.post("/_fake/reset")
    def reset() -> dict[str, str]:
        state.reset()
        return {"status": "reset"}
