"""Alerts end to end on a real Temporal server: a marketplace account failing (seen by the HTTP transport) and
runs failing or stuck (seen through visibility queries) alert once through the notification channel (a
Slack-compatible webhook here), stay quiet while still firing, and send one recovery notice."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():  # the workflow sandbox re-imports this module
    import httpx
    import pytest
    from temporalio.client import Client
    from temporalio.testing import WorkflowEnvironment
    from temporalio.worker import Worker

    from activities.ops.tables import AccountHealth
    from connectors.errors import ServerError
    from connectors.http import HttpTransport
    from merchflow.db.engine import read_session
    from merchflow.settings import Settings
    from tests.decisions.servers import WebhookState, webhook_server
    from tests.stock.waiting import eventually
    from workers.build import build_deps, build_workers
    from workers.deps import Deps
    from workflows.ops.contract import ALERTS_WORKFLOW, AlertCheckInput, AlertCheckResult


@workflow.defn(name="alert-probe-failing")
class FailingProbe:
    @workflow.run
    async def run(self) -> None:
        raise ApplicationError("probe failure", non_retryable=True)


@workflow.defn(name="alert-probe-stuck")
class StuckProbe:
    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)


class Harness:
    def __init__(self, client: Client, queue: str, hook: WebhookState, deps: Deps) -> None:
        self.client, self.queue, self.hook = client, queue, hook
        self.engine = deps.engine
        self.recorder = deps.services["account_health"]  # the transport's listener in this process

    async def check(self) -> AlertCheckResult:
        return await self.client.execute_workflow(
            ALERTS_WORKFLOW,
            AlertCheckInput(),
            id=f"alerts-{uuid.uuid4().hex[:8]}",
            task_queue=self.queue,
            result_type=AlertCheckResult,
        )

    def notices(self, needle: str) -> list[str]:
        return [m["text"] for m in self.hook.received if needle in m["text"]]


@pytest.fixture
async def alerts(
    tmp_path: Path, sqlite_url: str, temporal_env: WorkflowEnvironment
) -> AsyncIterator[Harness]:
    queue = f"alerts-{uuid.uuid4().hex[:8]}"
    with webhook_server() as (hook_url, hook):
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            environment="test",
            data_dir=tmp_path / "data",
            database_url=sqlite_url,  # type: ignore[arg-type]
            notifications={"webhook_url": hook_url},
            alerts={
                "account_failing_minutes": 0.02,  # 1.2 s
                "expected_minutes": {"alert-probe-stuck": 0.01},
                "default_expected_minutes": 100000,
                "outbox_backlog": 1000,
            },
        )
        deps = build_deps(settings)
        workers = build_workers(temporal_env.client, deps, only=["main"], task_queue_override=queue)
        probes = Worker(
            temporal_env.client, task_queue=queue + "-probes", workflows=[FailingProbe, StuckProbe]
        )
        async with workers[0], probes:
            yield Harness(temporal_env.client, queue, hook, deps)
        await deps.services["marketplaces"].aclose()
        deps.engine.dispose()


async def test_a_failing_marketplace_account_alerts_once_and_recovers_once(alerts: Harness) -> None:
    account = f"acct-{uuid.uuid4().hex[:6]}"
    healthy = False

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={}) if healthy else httpx.Response(503, text="down")

    transport = HttpTransport(
        marketplace="ebay",
        account=account,
        base_url="https://api.ebay.test",
        max_retries=0,
        transport=httpx.MockTransport(answer),
    )
    recorder = alerts.recorder
    with pytest.raises(ServerError):
        await transport.request("GET", "/sell/inventory/v1/inventory_item", operation="get_inventory")
    recorder.flush()
    with read_session(alerts.engine) as s:
        row = s.get(AccountHealth, ("ebay", account))
        assert row is not None and row.failing_since is not None and "503" in (row.last_error or "")
    key = f"account:ebay:{account}"

    fired = await eventually(alerts.check, lambda r: key in r.fired, timeout=60, what="account alert")
    assert key in fired.firing
    await eventually(
        lambda: asyncio.sleep(0, alerts.notices(account)), lambda n: len(n) == 1, what="alert notice"
    )
    assert "ALERT" in alerts.notices(account)[0] and "503" in alerts.notices(account)[0]

    # still failing: checks go on, no second notice
    with pytest.raises(ServerError):
        await transport.request("GET", "/sell/inventory/v1/inventory_item", operation="get_inventory")
    for _ in range(2):
        again = await alerts.check()
        assert key in again.firing and key not in again.fired
    assert len(alerts.notices(account)) == 1

    healthy = True
    await transport.request("GET", "/sell/inventory/v1/inventory_item", operation="get_inventory")
    recorder.flush()
    recovered = await alerts.check()
    assert key in recovered.recovered and key not in recovered.firing
    await eventually(
        lambda: asyncio.sleep(0, alerts.notices(account)), lambda n: len(n) == 2, what="recovery notice"
    )
    assert "RECOVERED" in alerts.notices(account)[1]
    quiet = await alerts.check()
    assert key not in quiet.recovered and key not in quiet.fired
    assert len(alerts.notices(account)) == 2
    await transport.aclose()


async def test_failed_and_stuck_runs_alert_through_visibility(alerts: Harness) -> None:
    client = alerts.client
    probes = alerts.queue + "-probes"
    failing = await client.start_workflow(
        "alert-probe-failing", id=f"probe-fail-{uuid.uuid4().hex[:6]}", task_queue=probes
    )
    stuck = await client.start_workflow(
        "alert-probe-stuck", id=f"probe-stuck-{uuid.uuid4().hex[:6]}", task_queue=probes
    )
    with pytest.raises(Exception, match=r"probe failure|failed"):
        await failing.result()

    result = await eventually(
        alerts.check,
        lambda r: (
            {"workflow-failed:alert-probe-failing", "workflow-stuck:alert-probe-stuck"} <= set(r.firing)
        ),
        timeout=60,
        what="visibility alerts",
    )
    assert result.firing
    await eventually(
        lambda: asyncio.sleep(0, alerts.notices("alert-probe-stuck")),
        lambda n: len(n) == 1,
        what="stuck notice",
    )
    assert stuck.id in alerts.notices("alert-probe-stuck")[0]
    assert len(alerts.notices("alert-probe-failing")) == 1

    await stuck.terminate("test over")
    after = await eventually(
        alerts.check,
        lambda r: "workflow-stuck:alert-probe-stuck" not in r.firing,
        timeout=60,
        what="stuck run closed",
    )
    assert "workflow-failed:alert-probe-failing" in after.firing  # failures stay until the window passes
    await eventually(
        lambda: asyncio.sleep(0, alerts.notices("alert-probe-stuck")),
        lambda n: len(n) == 2,
        what="stuck recovery notice",
    )
    assert "RECOVERED" in alerts.notices("alert-probe-stuck")[1]
    assert len(alerts.notices("alert-probe-failing")) == 1
