"""Draft cache: a retried activity or a re-run never pays twice for the same image, prompt and model.

The key is (image SHA-256, prompt version, provider:model, digest of the text inputs): the first three are
the issue's key; the digest keeps a changed OCR reading or seller hint from being served an old draft.
In-memory here; a SQL-backed store with the same two methods comes with the workflow's tables.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Protocol

from domain.ingest.draft import DraftRequest, DraftResult


def cache_key(request: DraftRequest, *, prompt_version: str, provider: str, model: str) -> str:
    parts = (request.image_sha256, prompt_version, f"{provider}:{model}", request.inputs_digest())
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


class DraftCache(Protocol):
    def get(self, key: str) -> DraftResult | None: ...
    def put(self, key: str, result: DraftResult) -> None: ...


class InMemoryDraftCache:
    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._items: OrderedDict[str, str] = OrderedDict()  # JSON, so callers never share mutable results
        self._lock = threading.Lock()

    def get(self, key: str) -> DraftResult | None:
        with self._lock:
            raw = self._items.get(key)
            if raw is None:
                return None
            self._items.move_to_end(key)
        return DraftResult.model_validate_json(raw)

    def put(self, key: str, result: DraftResult) -> None:
        with self._lock:
            self._items[key] = result.model_dump_json()
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)
