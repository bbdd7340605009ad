"""Which workflows and activity classes run on which task queue.

Each feature module exports `WORKFLOWS` (workflow classes) and `ACTIVITIES` (activity classes whose
`__init__` takes `Deps`). Adding a feature = one line in `FEATURES`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from activities import catalog as catalog_activities
from activities import competitors as competitor_activities
from activities import decisions as decision_activities
from activities import repricing as repricing_activities
from activities import stock as stock_activities
from workflows import catalog_import
from workflows import decision as decision_workflows
from workflows import repricing as repricing_workflows
from workflows import stock as stock_workflows


@dataclass(frozen=True)
class Feature:
    name: str
    task_queue: str  # logical name; the real queue is settings.task_queue(name)
    workflows: Sequence[type]
    activities: Sequence[type]


MAIN_QUEUE = "main"
SCRAPER_QUEUE = "scraper"  # browser work is heavy: its own workers, scaled separately

FEATURES: list[Feature] = [
    Feature("catalog", MAIN_QUEUE, catalog_import.WORKFLOWS, catalog_activities.ACTIVITIES),
    Feature("decisions", MAIN_QUEUE, decision_workflows.WORKFLOWS, decision_activities.ACTIVITIES),
    Feature("competitors", SCRAPER_QUEUE, [], competitor_activities.ACTIVITIES),
    Feature("stock", MAIN_QUEUE, stock_workflows.WORKFLOWS, stock_activities.ACTIVITIES),
    Feature("repricing", MAIN_QUEUE, repricing_workflows.WORKFLOWS, repricing_activities.ACTIVITIES),
]


def activity_callables(instance: Any) -> list[Callable[..., Any]]:
    """Bound methods of an activity class instance that carry @activity.defn."""
    out = []
    for name in dir(type(instance)):
        fn = getattr(type(instance), name, None)
        if fn is not None and hasattr(fn, "__temporal_activity_definition"):
            out.append(getattr(instance, name))
    return out


def queues() -> dict[str, tuple[list[type], list[type]]]:
    grouped: dict[str, tuple[list[type], list[type]]] = {}
    for feature in FEATURES:
        wfs, acts = grouped.setdefault(feature.task_queue, ([], []))
        wfs.extend(w for w in feature.workflows if w not in wfs)
        acts.extend(a for a in feature.activities if a not in acts)
    return grouped
