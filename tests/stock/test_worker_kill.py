"""The worker process is SIGKILLed in the middle of a reconcile and of an order push (seen in the sandboxes' request
logs); a new worker process takes over: every run completes, the marketplaces end at the master's values, and no
sandbox applied any change twice under one idempotency key."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus

from tests.conftest import make_token
from tests.stock.conftest import StackFactory
from tests.stock.harness import Stack, spawn_worker
from tests.stock.waiting import converged, eventually, orders

AUTH_PATHS = ("oauth", "token", "/auth/")


async def writes(st: Stack, mps: tuple[str, ...]) -> dict[str, int]:
    """Mutating marketplace calls (not credential refreshes) each sandbox has received so far."""
    out = {}
    for mp in mps:
        out[mp] = sum(
            1 for r in await st.sbx.requests(mp, mutating=True) if not any(p in r["path"] for p in AUTH_PATHS)
        )
    return out


async def kill_when(
    worker: subprocess.Popen[bytes], st: Stack, mps: tuple[str, ...], before: dict[str, int], log: Path
) -> None:
    try:
        await eventually(
            lambda: writes(st, mps), lambda now: any(now[m] > before.get(m, 0) for m in mps), timeout=180,
            what="first marketplace write",
        )  # fmt: skip
    except (
        AssertionError
    ) as exc:  # say what the worker was doing (or why it died), not only that nothing came
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no worker log)"
        raise AssertionError(f"{exc}\nworker exit code: {worker.poll()}\nworker log tail:\n{tail}") from None
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)


async def timed_out(st: Stack, workflow_id: str) -> int:
    """Activities that needed more than one attempt (the killed worker's attempt timed out): proof the kill hit a
    run. History keeps only the last attempt, whose start event carries its attempt number."""
    history = await st.client.get_workflow_handle(workflow_id).fetch_history()
    return sum(
        1
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
        and e.activity_task_started_event_attributes.attempt > 1
    )


async def no_duplicates(st: Stack) -> None:
    for mp in st.marketplaces:
        assert await st.sbx.duplicates(mp) == [], mp


async def test_worker_killed_during_reconcile(
    stack_sqlite: StackFactory, marketplaces: tuple[str, ...], tmp_path: Path
) -> None:
    stock = {f"K-{i:05d}": 10 + i % 7 for i in range(2000)}
    drifted = {
        mp: {sku: q + 3 if i % 5 == 0 else q for i, (sku, q) in enumerate(stock.items())}
        for mp in marketplaces
    }
    async with stack_sqlite(stock=stock, sandbox_stock=drifted, worker=False) as st:
        log = tmp_path / "worker.log"
        worker = spawn_worker(st.settings, marketplaces, log)
        try:
            for mp in marketplaces:
                await st.sbx.faults(mp, latency_ms=15)
            before = await writes(st, marketplaces)
            token = make_token(st.engine, "operator")
            async with st.api(token) as api:
                r = await api.post("/api/v1/stock/reconciles", json={"batch_size": 500})
                assert r.status_code == 202, r.text
                run = r.json()["id"]
                await kill_when(worker, st, marketplaces, before, log)
                worker = spawn_worker(st.settings, marketplaces, log)
                await st.client.get_workflow_handle(run).result()
                status = (await api.get(f"/api/v1/stock/reconciles/{run}")).json()
                report = (
                    await api.get(f"/api/v1/stock/reconciles/{run}/report", params={"limit": 5000})
                ).json()
            assert status["status"] == "completed"
            assert sum([await timed_out(st, a["run_id"]) for a in status["accounts"]]) >= 1
            assert {a["status"] for a in status["accounts"]} == {"completed"}
            assert len(status["accounts"]) == len(marketplaces)
            # every drifted SKU is reported corrected, including those a killed attempt corrected
            per_account: dict[int, list[str]] = {}
            for item in report["items"]:
                assert (item["action"], item["outcome"]) == ("set", "applied"), item
                per_account.setdefault(item["account_id"], []).append(item["sku"])
            assert {a: len(s) for a, s in per_account.items()} == dict.fromkeys(st.accounts.values(), 400)
            await converged(st)
            await no_duplicates(st)
        finally:
            worker.kill()
            worker.wait(10)


async def test_worker_killed_during_order_push(
    stack_sqlite: StackFactory, marketplaces: tuple[str, ...], tmp_path: Path
) -> None:
    seller, targets = marketplaces[-1], marketplaces[:-1]
    async with stack_sqlite(stock={"KILL-1": 5, "KILL-2": 9}, worker=False) as st:
        log = tmp_path / "worker.log"
        worker = spawn_worker(st.settings, marketplaces, log)
        try:
            # slow marketplaces: the push to one lands while the others are still in flight
            for n, mp in enumerate(targets):
                await st.sbx.faults(mp, latency_ms=300 + 1200 * n)
            before = await writes(st, targets)
            r = await st.sbx.buy(seller, "KILL-1", 2, order_id="killed-push")
            assert r.status_code in (200, 201), r.text
            await kill_when(worker, st, targets, before, log)
            worker = spawn_worker(st.settings, marketplaces, log)
            order = (await eventually(lambda: asyncio.to_thread(orders, st), lambda o: len(o) == 1))[0]
            assert order.workflow_id
            handle = st.client.get_workflow_handle(order.workflow_id)
            await handle.result()
            assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
            assert await timed_out(st, order.workflow_id) >= 1
            assert order.status == "allocated"
            await converged(st)
            assert (await st.sbx.truth(targets[0], "KILL-1")) == {"KILL-1": 3}
            await no_duplicates(st)
        finally:
            worker.kill()
            worker.wait(10)
