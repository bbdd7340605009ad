"""The deal workflow's test rig: the arbitrage stack (sandboxes, migrated database, composition root), deals made by
a real scan over the classifieds sandbox, and a worker running the deal and decision workflows on the time-skipping
server with the real activities (so the `purchase` decision's action really buys on the sandboxes)."""

from __future__ import annotations

import concurrent.futures
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.arbitrage.activities import ArbitrageDealActivities, ArbitrageScanActivities
from activities.arbitrage.scan import Scanner
from activities.arbitrage.services import services
from activities.arbitrage.tables import Deal
from activities.decisions.activities import DecisionActivities
from activities.decisions.service import decide
from connectors.arbitrage_sources.port import SearchQuery
from merchflow.db.engine import read_session
from tests.arbitrage.harness import ArbStack, arb_stack
from tests.arbitrage.scenario import Scenario
from tests.support.waiting import until
from workers.registry import activity_callables, feature
from workflows.arbitrage.contract import (
    DEAL_WORKFLOW,
    STATE_QUERY,
    DealInput,
    DealResult,
    DealStatus,
    deal_id_for,
    deal_workflow_id,
    purchase_decision_id,
)
from workflows.arbitrage.deal import ArbitrageDealWorkflow
from workflows.arbitrage.scan import ArbitrageScanWorkflow
from workflows.decisions.contract import DecisionState, decision_workflow_id

SCAN_DAY = date(2025, 6, 2)
_executor = concurrent.futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix="arb-test")
_registered: set[int] = set()


async def register_attributes(env: WorkflowEnvironment) -> None:
    """The deal and decision workflows keep search attributes current; the test server must know them."""
    if id(env) in _registered:
        return
    for name in ("DealState", "DecisionStatus"):
        try:
            await env.client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(
                    namespace=env.client.namespace,
                    search_attributes={name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD},
                )
            )
        except Exception as exc:  # registered by an earlier test module
            if "already" not in str(exc).lower():
                raise
    _registered.add(id(env))


@dataclass
class DealRig:
    stack: ArbStack
    client: Client
    task_queue: str
    tag: str  # appended to the scenario's listing ids: deal workflow ids are business keys, unique per server

    def lid(self, listing_id: str) -> str:
        return f"{listing_id}-{self.tag}"

    def deal(self, listing_id: str) -> Deal:
        with read_session(self.stack.engine) as s:
            row = s.get(Deal, deal_id_for(f"classifieds:{self.lid(listing_id)}"))
            assert row is not None, f"no deal for {listing_id}"
            return row

    def worker(self, **kw: Any) -> Worker:
        deps = self.stack.deps
        return Worker(
            self.client,
            task_queue=self.task_queue,
            workflows=[
                ArbitrageScanWorkflow,
                ArbitrageDealWorkflow,
                *feature("decisions").workflow_classes(),
            ],
            activities=[
                *activity_callables(ArbitrageScanActivities(deps)),
                *activity_callables(ArbitrageDealActivities(deps)),
                *activity_callables(DecisionActivities(deps)),
            ],
            activity_executor=_executor,
            **kw,
        )

    async def start(self, listing_id: str) -> WorkflowHandle[Any, DealResult]:
        deal_id = self.deal(listing_id).id
        return await self.client.start_workflow(
            DEAL_WORKFLOW,
            DealInput(deal_id=deal_id),
            id=deal_workflow_id(deal_id),
            task_queue=self.task_queue,
            result_type=DealResult,
        )

    async def status(
        self, handle: WorkflowHandle[Any, Any], predicate: Any, timeout: float = 60
    ) -> DealStatus:
        async def check() -> DealStatus | None:
            try:
                st = await handle.query(STATE_QUERY, result_type=DealStatus)
            except Exception:  # the first workflow task has not run yet
                return None
            return st if predicate(st) else None

        return await until(check, timeout=timeout, what="deal status")

    async def approve_purchase(self, deal_id: str, actor: str = "alice") -> None:
        handle = self.client.get_workflow_handle(decision_workflow_id(purchase_decision_id(deal_id)))

        async def pending() -> DecisionState | None:
            try:
                st = await handle.query("state", result_type=DecisionState)
            except Exception:
                return None
            return st if st.status == "pending" else None

        state = await until(pending, timeout=60, what="purchase decision pending")
        await decide(
            self.client,
            decision_id=purchase_decision_id(deal_id),
            action="approve",
            actor=actor,
            role="approver",
            expected_version=state.version,
        )

    # ---- what the sandboxes saw ------------------------------------------------------------------------------
    def charges(self) -> list[dict[str, Any]]:
        return self.stack.get("payments", "/_sandbox/payments/charges")  # type: ignore[no-any-return]

    def orders(self, listing_id: str) -> list[dict[str, Any]]:
        return self.stack.get("classifieds", "/_sandbox/classifieds/orders", listing_id=self.lid(listing_id))  # type: ignore[no-any-return]

    def messages(self, listing_id: str) -> list[dict[str, Any]]:
        return self.stack.get(
            "classifieds", "/_sandbox/classifieds/messages", listing_id=self.lid(listing_id)
        )  # type: ignore[no-any-return]

    def configure(self, sandbox: str, **changes: Any) -> None:
        path = f"/_sandbox/{sandbox}/config"
        self.stack.put(sandbox, path, {**self.stack.get(sandbox, path), **changes})


async def scan_into_deals(stack: ArbStack, scenario: Scenario) -> list[str]:
    """Seed the sandboxes and run one scan batch: the scenario's opportunities become deals."""
    stack.seed(scenario)
    svc = services(stack.deps)
    cfg = stack.settings.arbitrage.rules.model_copy(update={"channels": ("amazon_fba",)})
    scanner = Scanner(engine=stack.engine, source=svc.source("classifieds"), market=svc.market, config=cfg)
    res = await scanner.run(
        scan_id="scan-test", search_id=1, query=SearchQuery(), cursor=None, limit=1000, day=SCAN_DAY
    )
    return res.deals


@contextlib.asynccontextmanager
async def deal_rig(
    tmp: Path,
    env: WorkflowEnvironment,
    task_queue: str,
    scenario: Scenario,
    *,
    scan: bool = True,
    **settings_kw: Any,
) -> AsyncIterator[DealRig]:
    """`scan=False`: the sandboxes are seeded, no deal exists yet (the test runs the scan workflow itself)."""
    await register_attributes(env)
    tag = uuid.uuid4().hex[:6]
    scenario = Scenario(
        scenario.products, [{**row, "id": f"{row['id']}-{tag}"} for row in scenario.listings], {}
    )
    with arb_stack(tmp, **settings_kw) as stack:
        if scan:
            await scan_into_deals(stack, scenario)
        else:
            stack.seed(scenario)
        yield DealRig(stack=stack, client=env.client, task_queue=task_queue, tag=tag)


def seller_says(rig: DealRig, listing_id: str, text: str, agrees_to: Any = None) -> dict[str, Any]:
    """The seller answers on the classifieds site (the sandbox's control endpoint stands in for the person)."""
    r = httpx.post(
        rig.stack.url("classifieds") + f"/_sandbox/classifieds/listings/{rig.lid(listing_id)}/reply",
        json={"text": text, **({"agrees_to": str(agrees_to)} if agrees_to is not None else {})},
        timeout=30,
    )
    r.raise_for_status()
    return r.json()  # type: ignore[no-any-return]
