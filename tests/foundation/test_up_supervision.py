"""`merchflow up` supervises its children for real: a worker killed with SIGKILL is started again and work still
completes; a child that crashes at once every time makes `up` stop everything and exit 1, saying why."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx
import psutil
import pytest
from temporalio.testing import WorkflowEnvironment

from tests.foundation.test_up_e2e import REPO, _import_csv
from tests.foundation.upproc import UpProcess
from tests.support.waiting import until

pytestmark = pytest.mark.slow


def against(temporal_env: WorkflowEnvironment, **env: str) -> dict[str, str]:
    """`up` on the session's Temporal server (no dev server of its own: faster), on a task queue of its own."""
    return {
        "MERCHFLOW_TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
        "MERCHFLOW_TEMPORAL__TASK_QUEUE_PREFIX": f"up-sup-{os.getpid()}-{id(env)}",
        "MERCHFLOW_SEED_DEMO": "false",
        "MERCHFLOW_SCHEDULES_ENABLED": "false",
        "MERCHFLOW_SANDBOX__ENABLED": "false",
        **env,
    }


def workers(up: UpProcess) -> list[int]:
    """Live worker processes of this `up` (a killed one is a zombie until `up` reaps it: not counted)."""
    found = []
    for p in up.descendants():
        try:
            if p.status() != psutil.STATUS_ZOMBIE and " ".join(p.cmdline()).endswith("merchflow worker"):
                found.append(p.pid)
        except psutil.Error:
            continue
    return found


async def test_a_worker_killed_with_sigkill_is_restarted_and_work_completes(
    tmp_path: Path, temporal_env: WorkflowEnvironment
) -> None:
    up = UpProcess.on_free_ports(
        tmp_path / "data",
        extra_env=against(temporal_env, MERCHFLOW_SUPERVISOR__RESTART_BACKOFF_SECONDS="0.5"),
    )
    try:
        up.start()
        await asyncio.to_thread(up.wait_ready)
        [first] = workers(up)
        os.kill(first, signal.SIGKILL)
        again = await until(
            lambda: [pid for pid in workers(up) if pid != first], timeout=60, what="a new worker"
        )
        assert len(again) == 1
        out = await until(lambda: "child restarted" in up.output() and up.output(), what="the restart logged")
        assert '"child exited unexpectedly; restarting it"' in out and '"child": "worker"' in out
        async with httpx.AsyncClient(base_url=up.api, timeout=30) as http:
            created, final = await _import_csv(http, up.token())
        assert created.status_code == 202, created.text
        assert str(final.get("status")).lower() == "completed", final  # run by the restarted worker
        assert up.proc is not None and up.proc.poll() is None  # `up` itself never went down
        assert await asyncio.to_thread(up.stop) == 0
        assert await asyncio.to_thread(up.leftovers) == []
    finally:
        up.kill_everything()


async def test_a_child_crashing_at_once_every_time_makes_up_give_up_with_a_clear_message(
    tmp_path: Path, temporal_env: WorkflowEnvironment
) -> None:
    driver = (
        "import sys, merchflow.startup as s\n"
        "s.CHILDREN.append('tests.foundation.startup_probe:crashing_children')\n"
        "from merchflow.cli import main\n"
        "sys.argv = ['merchflow', 'up']\n"
        "main()\n"
    )
    env = against(
        temporal_env,
        MERCHFLOW_SUPERVISOR__RESTART_BACKOFF_SECONDS="0.1",
        MERCHFLOW_SUPERVISOR__CRASH_LOOP_RESTARTS="2",
        PYTHONPATH=str(REPO),
    )
    up = UpProcess.on_free_ports(tmp_path / "data", extra_env=env, argv=[sys.executable, "-c", driver])
    try:
        up.start()
        assert up.proc is not None
        assert await asyncio.to_thread(up.proc.wait, 120) == 1, up.output()
        out = up.output()
        assert "giving up: crasher exited 3 times within 120s (last exit code 3)" in out, out
        assert out.count('"child restarted"') == 2 and "stopped." in out
        assert await asyncio.to_thread(up.leftovers) == []
    finally:
        up.kill_everything()
