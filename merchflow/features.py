"""What a business process plugs into the platform: one `Feature` per process, listed in `workers/registry.py`.

Every part is a "module:attribute" reference, imported only by the process that needs it: the API resolves
routers without loading a single activity module (pandas, scikit-learn, playwright stay out of it), the worker
resolves workflows and activities, `merchflow up` resolves start-up steps and schedules.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Ref = str  # "package.module:attribute" (tests may put the object itself)

MAIN_QUEUE = "main"
SCRAPER_QUEUE = "scraper"  # browser work is heavy: its own workers, scaled separately


@dataclass(frozen=True)
class Feature:
    """One business process. Only `name` is required; a process fills in the parts it has.

    - `workflows`: workflow classes, run on `task_queue`;
    - `activities`: activity classes (constructed with `workers.deps.Deps`) on `task_queue`;
      `queue_activities`: activity classes for other task queues (e.g. the scraper queue);
    - `tables`: modules defining its SQLModel tables (for Alembic and the test schema);
    - `routers`: its FastAPI routers (REST and pages), included by `api.app`;
    - `templates`: a package whose `templates/` directory holds the feature's Jinja2 page templates;
    - `schedules`: `f(settings) -> list[merchflow.schedules.ScheduleDef]`;
    - `startup_steps`: `f(settings)` run by `merchflow up` after migrations and the demo catalog;
    - `action_handlers`: decision type -> a class `(deps) -> ActionHandler` the decision executor calls;
    - `cli`: a Typer app added to `merchflow` under the feature's name.
    """

    name: str
    task_queue: str = MAIN_QUEUE
    workflows: Sequence[Ref] = ()
    activities: Sequence[Ref] = ()
    queue_activities: Mapping[str, Sequence[Ref]] = field(default_factory=dict)
    tables: Sequence[str] = ()
    routers: Sequence[Ref] = ()
    templates: str | None = None
    schedules: Ref | None = None
    startup_steps: Sequence[Ref] = ()
    action_handlers: Mapping[str, Ref] = field(default_factory=dict)
    cli: Ref | None = None

    def workflow_classes(self) -> list[type]:
        return [resolve(r) for r in self.workflows]

    def activity_classes(self, queue: str | None = None) -> list[type]:
        """Activity classes on `queue` (default: the feature's own task queue)."""
        if queue is None or queue == self.task_queue:
            return [resolve(r) for r in self.activities]
        return [resolve(r) for r in self.queue_activities.get(queue, ())]


def resolve(ref: Ref | Any) -> Any:
    if not isinstance(ref, str):
        return ref
    module, _, attr = ref.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split(".") if attr else ():
        obj = getattr(obj, part)
    return obj
