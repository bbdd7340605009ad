"""The README's "outgrow one machine" path: PostgreSQL, one Temporal server, a shared data dir (blob store) and
two `merchflow worker` processes. Orders and a catalog import (whose upload the API wrote to the shared blob
store) are spread across both workers (the worker identities in the histories show it); one worker is killed
with SIGKILL mid-run and the other finishes everything: every order allocated once, every marketplace shows the
master's count, no sandbox applied a change twice."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from merchflow.db.migrate import upgrade
from merchflow.settings import Settings
from tests.conftest import _new_pg_database, make_token
from tests.stock.harness import ROOT, Stack, open_stack, settings_env
from tests.stock.waiting import converged, eventually, orders
from tests.support.pg import PgCluster

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
FIRST_WAVE_MAX = 200

MPS = ("amazon", "shopify")
SKUS = [f"SO-{i}" for i in range(6)]
CSV = "SKU,Name,Brand,Cost,Price,UPC,Attributes,Image Refs\n" + "".join(
    f"IMP-{i},Item {i},Brand,3.00,9.99,,,\n" for i in range(3000)
)


async def identities(st: Stack, workflow_ids: list[str]) -> set[str]:
    """Worker identities (pid@host) that ran workflow or activity tasks of these workflows."""
    out: set[str] = set()
    for wf_id in workflow_ids:
        history = await st.client.get_workflow_handle(wf_id).fetch_history()
        for e in history.events:
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                out.add(e.activity_task_started_event_attributes.identity)
            elif e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
                out.add(e.workflow_task_started_event_attributes.identity)
    return out


def spawn(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    """`merchflow worker`, logging at INFO so its start and its task queues are in the log."""
    env = settings_env(settings, MPS) | {"MERCHFLOW_LOG_LEVEL": "INFO"}
    return subprocess.Popen(
        [sys.executable, "-m", "merchflow", "worker", "--queue", "main"],
        env=env,
        cwd=ROOT,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def _ids(st: Stack) -> list[str]:
    return [o.workflow_id for o in orders(st) if o.workflow_id and o.status != "received"]


async def test_two_workers_share_the_work_and_survive_losing_one(
    tmp_path: Path, pg_cluster: PgCluster | None, temporal_env: WorkflowEnvironment
) -> None:
    url = _new_pg_database(pg_cluster)
    upgrade(url)
    stock = dict.fromkeys(SKUS, 500)
    async with open_stack(
        tmp_path / "data", db_url=url, client=temporal_env.client, stock=stock, marketplaces=MPS, worker=False
    ) as st:
        logs = [tmp_path / f"worker-{n}.log" for n in range(2)]
        workers = [spawn(st.settings, log) for log in logs]
        pids = {f"{w.pid}@" for w in workers}
        try:
            # both polling before the first order: on a loaded machine the first worker up would otherwise
            # take every task while the second is still importing
            await eventually(
                lambda: asyncio.to_thread(
                    lambda: all(
                        p.exists() and "worker started" in p.read_text(errors="replace") for p in logs
                    )
                ),
                lambda up: up,
                timeout=180,
                what="both workers started",
            )
            for mp in MPS:
                await st.sbx.faults(mp, latency_ms=40)  # pushes take a moment: work is in flight at the kill
            token = make_token(st.engine, "operator")
            async with st.api(token) as api:
                created = await api.post(
                    "/api/v1/catalog/imports", files={"file": ("big.csv", CSV.encode(), "text/csv")}
                )
                assert created.status_code in (201, 202), created.text
                import_wf = created.json()["workflow_id"]

                async def buy(n: int) -> None:
                    r = await st.sbx.buy(MPS[n % 2], SKUS[n % len(SKUS)], 1, order_id=f"scale-{n}")
                    assert r.status_code in (200, 201), r.text

                async def seen() -> set[str]:
                    return {
                        p
                        for p in pids
                        if any(i.startswith(p) for i in await identities(st, [*_ids(st), import_wf]))
                    }

                # first wave, until both workers have taken part (Temporal hands each task to whichever poller
                # asks first, so how many orders that takes varies)
                n = 0
                while await seen() != pids:
                    assert n < FIRST_WAVE_MAX, f"one worker did all of {n} orders: {await seen()}"
                    for _ in range(4):
                        await buy(n)
                        n += 1
                    await asyncio.sleep(0.5)
                first = n

                # second wave, and one worker dies in the middle of it
                for n in range(first, first + 24):
                    await buy(n)
                    if n == first + 8:
                        workers[0].send_signal(signal.SIGKILL)
                        workers[0].wait(10)
                    await asyncio.sleep(0.05)
                await eventually(
                    lambda: asyncio.to_thread(
                        lambda: len([o for o in orders(st) if o.status == "allocated"])
                    ),
                    lambda n: n == first + 24,
                    timeout=240,
                    what="every order allocated",
                )
                await temporal_env.client.get_workflow_handle(import_wf).result()
                status = (await api.get(created.json()["links"]["self"])).json()
            assert status["status"] == "completed" and status["counts"]["valid_rows"] == 3000, status
            await converged(st, SKUS, timeout=180)
            for mp in MPS:
                assert await st.sbx.duplicates(mp) == [], mp
            assert sum(500 - v for v in (await st.sbx.truth("amazon")).values()) == first + 24
            assert workers[0].returncode == -signal.SIGKILL and workers[1].poll() is None
        finally:
            for w in workers:
                if w.poll() is None:
                    w.kill()
                w.wait(10)
