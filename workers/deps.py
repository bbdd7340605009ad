"""The composition root's product: everything an activity class may need, built once per worker process."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from connectors.blobs.port import BlobStore
from merchflow.settings import Settings


@dataclass
class Deps:
    settings: Settings
    engine: sa.Engine
    blobs: BlobStore
    # Feature-specific services (marketplace connectors, scrapers, LLM clients...) keyed by name, added by
    # the composition root so activities receive ports, never build adapters themselves.
    services: dict[str, Any] = field(default_factory=dict)
    # decision type -> the action its feature registered (activities.decisions.actions.ActionHandler)
    decision_handlers: dict[str, Any] = field(default_factory=dict)
