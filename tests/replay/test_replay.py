"""Replay every committed workflow history through the workflows the workers register (GUIDE rule 9).

A change to a workflow that would break runs already in flight (a new activity call, a reordered step, a
removed timer) fails here, before it is deployed. When such a change is intended, keep the old path behind
`workflow.patched("...")` and record a new history next to the old one.

Adding a history (do this for every workflow type, and again for each patched version):
1. run the workflow for real, e.g. `make up` and trigger it through the API;
2. `.venv/bin/python -m tests.replay.histories --workflow-id <id>` (add `--address host:port` for
   another cluster) writes tests/replay/histories/<workflow-type>/<workflow-id>.json;
3. commit the file. Histories hold the workflow's inputs and results: use demo data, never real data.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    import pytest
    from temporalio.client import WorkflowHistory
    from temporalio.contrib.pydantic import pydantic_data_converter
    from temporalio.testing import WorkflowEnvironment
    from temporalio.worker import Replayer, Worker

    from tests.replay.codec_key import replay_converter
    from tests.replay.histories import HISTORIES_DIR, load_histories, record_history, registry_workflows


async def test_committed_histories_replay_on_the_registered_workflows() -> None:
    histories = load_histories()
    if not histories:
        pytest.skip(f"no histories committed under {HISTORIES_DIR} yet (see this module's docstring)")
    workflows = registry_workflows()
    known = {getattr(w, "__temporal_workflow_definition").name for w in workflows}
    # with the payload codec, as the workers run: encrypted histories decrypt, clear ones pass through
    replayer = Replayer(workflows=workflows, data_converter=replay_converter())
    failures = []
    for path, history in histories:
        assert path.parent.name in known, f"{path}: no registered workflow is named {path.parent.name!r}"
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is not None:
            failures.append(f"{path.relative_to(HISTORIES_DIR)}: {result.replay_failure!r}")
    assert not failures, "workflow changes break running workflows:\n" + "\n".join(failures)


def _encrypted(history: WorkflowHistory) -> bool:
    return b"binary/encrypted" in history.events[0].SerializeToString()


async def test_encrypted_histories_replay_only_with_the_codec() -> None:
    encrypted = [(p, h) for p, h in load_histories() if _encrypted(h)]
    assert encrypted, (
        "record at least one history with MERCHFLOW_CODEC__KEYS__REPLAY set (tests/replay/codec_key.py)"
    )
    workflows = registry_workflows()
    for path, history in encrypted:
        plain = await Replayer(workflows=workflows, data_converter=pydantic_data_converter).replay_workflow(
            history, raise_on_replay_failure=False
        )
        assert plain.replay_failure is not None, f"{path} replayed without its key: is it really encrypted?"
        coded = await Replayer(workflows=workflows, data_converter=replay_converter()).replay_workflow(
            history, raise_on_replay_failure=False
        )
        assert coded.replay_failure is None, f"{path}: {coded.replay_failure!r}"


# ---------------------------------------------------------------- the mechanism itself
@activity.defn(name="replay-probe-step")
async def probe_step(n: int) -> int:
    return n + 1


@activity.defn(name="replay-probe-other-step")
async def probe_other_step(n: int) -> int:
    return n + 2


@workflow.defn(name="replay-probe")
class ProbeV1:
    @workflow.run
    async def run(self, n: int) -> int:
        n = await workflow.execute_activity(probe_step, n, start_to_close_timeout=timedelta(seconds=30))
        await workflow.sleep(timedelta(milliseconds=10))
        return n


@workflow.defn(name="replay-probe")
class ProbeV2Incompatible:
    """What a careless edit looks like: a different activity where history has another one."""

    @workflow.run
    async def run(self, n: int) -> int:
        n = await workflow.execute_activity(probe_other_step, n, start_to_close_timeout=timedelta(seconds=30))
        await workflow.sleep(timedelta(milliseconds=10))
        return n


async def test_recorded_history_replays_and_an_incompatible_change_is_caught(
    temporal_env: WorkflowEnvironment, task_queue: str, tmp_path: Path
) -> None:
    client = temporal_env.client
    wf_id = f"replay-probe-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=task_queue, workflows=[ProbeV1], activities=[probe_step]):
        assert await client.execute_workflow(ProbeV1.run, 1, id=wf_id, task_queue=task_queue) == 2
    path = await record_history(client, wf_id, root=tmp_path)
    assert path == tmp_path / "replay-probe" / f"{wf_id}.json"

    [(loaded_path, history)] = load_histories(tmp_path)
    assert loaded_path == path and history.workflow_id == wf_id
    same = await Replayer(workflows=[ProbeV1], data_converter=pydantic_data_converter).replay_workflow(
        history, raise_on_replay_failure=False
    )
    assert same.replay_failure is None
    changed = await Replayer(
        workflows=[ProbeV2Incompatible], data_converter=pydantic_data_converter
    ).replay_workflow(history, raise_on_replay_failure=False)
    assert changed.replay_failure is not None
    assert "nondetermin" in repr(changed.replay_failure).lower()


async def test_running_workflows_are_not_recorded(temporal_env: WorkflowEnvironment, tmp_path: Path) -> None:
    wf_id = f"replay-probe-open-{uuid.uuid4().hex[:8]}"
    handle = await temporal_env.client.start_workflow(ProbeV1.run, 1, id=wf_id, task_queue="nobody-polls")
    try:
        with pytest.raises(ValueError, match="still running"):
            await record_history(temporal_env.client, wf_id, root=tmp_path)
    finally:
        await handle.terminate()
