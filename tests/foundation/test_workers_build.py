"""Worker construction from the registry: one worker per task queue that has something to run."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():  # the sandbox validates the workflow by importing this module
    import pytest
    from temporalio.testing import WorkflowEnvironment

    from merchflow.features import Feature
    from merchflow.settings import Settings
    from workers import build, registry


@workflow.defn(name="build-probe")
class BuildProbeWorkflow:
    @workflow.run
    async def run(self) -> None:
        return None


class NoActivities:
    """An activity class without any @activity.defn method."""

    def __init__(self, deps: object) -> None:
        self.deps = deps


def _features(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        registry,
        "FEATURES",
        [
            Feature("empty", "empty-queue"),
            Feature("hollow", "hollow-queue", activities=[NoActivities]),
            Feature("probe", "probe-queue", workflows=[BuildProbeWorkflow]),
        ],
    )


async def test_queues_without_workflows_or_activities_get_no_worker(
    monkeypatch: pytest.MonkeyPatch, tmp_settings: Settings, temporal_env: WorkflowEnvironment
) -> None:
    _features(monkeypatch)
    deps = build.build_deps(tmp_settings)
    try:
        workers = build.build_workers(temporal_env.client, deps)
        assert [w.task_queue for w in workers] == [tmp_settings.task_queue("probe-queue")]
        assert build.build_workers(temporal_env.client, deps, only=["empty-queue"]) == []
        with pytest.raises(ValueError, match="unknown task queue"):
            build.build_workers(temporal_env.client, deps, only=["no-such-queue"])
    finally:
        deps.engine.dispose()
