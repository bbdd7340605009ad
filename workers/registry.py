"""The one list of business processes. Adding a process = its packages in each layer + one line here.

Each process declares itself once, as a `merchflow.features.Feature` in `workflows/<process>/feature.py`; the
worker, the API, `merchflow up` (steps, schedules), the decision executor and the CLI are all built from this list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from merchflow.features import Feature
from workflows.accounts.feature import FEATURE as ACCOUNTS
from workflows.analytics.feature import FEATURE as ANALYTICS
from workflows.arbitrage.feature import FEATURE as ARBITRAGE
from workflows.catalog.feature import FEATURE as CATALOG
from workflows.decisions.feature import FEATURE as DECISIONS
from workflows.forecasting.feature import FEATURE as FORECASTING
from workflows.ingest.feature import FEATURE as INGEST
from workflows.listings.feature import FEATURE as LISTINGS
from workflows.ops.feature import FEATURE as OPS
from workflows.replenishment.feature import FEATURE as REPLENISHMENT
from workflows.repricing.feature import FEATURE as REPRICING
from workflows.stock.feature import FEATURE as STOCK

FEATURES: list[Feature] = [
    CATALOG,
    DECISIONS,
    STOCK,
    REPRICING,
    OPS,
    ACCOUNTS,
    LISTINGS,
    INGEST,
    ARBITRAGE,
    FORECASTING,
    REPLENISHMENT,
    ANALYTICS,
]


def feature(name: str) -> Feature:
    for f in FEATURES:
        if f.name == name:
            return f
    raise KeyError(name)


def activity_callables(instance: Any) -> list[Callable[..., Any]]:
    """Bound methods of an activity class instance that carry @activity.defn."""
    out = []
    for name in dir(type(instance)):
        fn = getattr(type(instance), name, None)
        if fn is not None and hasattr(fn, "__temporal_activity_definition"):
            out.append(getattr(instance, name))
    return out


def queues(features: list[Feature] | None = None) -> dict[str, tuple[list[type], list[type]]]:
    """Logical task queue -> (workflow classes, activity classes), merged over the features."""
    grouped: dict[str, tuple[list[type], list[type]]] = {}

    def add(queue: str, workflows: list[type], activities: list[type]) -> None:
        wfs, acts = grouped.setdefault(queue, ([], []))
        wfs.extend(w for w in workflows if w not in wfs)
        acts.extend(a for a in activities if a not in acts)

    for f in FEATURES if features is None else features:
        add(f.task_queue, f.workflow_classes(), f.activity_classes())
        for queue in f.queue_activities:
            add(queue, [], f.activity_classes(queue))
    return grouped


def decision_types() -> list[str]:
    """Every decision type some feature acts on: the closed set the decisions API and pages accept."""
    return sorted({t for f in FEATURES for t in f.action_handlers})


def workflow_classes(features: list[Feature] | None = None) -> list[type]:
    return [w for wfs, _ in queues(features).values() for w in wfs]


def workflow_names(features: list[Feature] | None = None) -> list[str]:
    return [w.__temporal_workflow_definition.name for w in workflow_classes(features)]  # type: ignore[attr-defined]
