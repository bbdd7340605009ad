"""The purchase-order workflow where timers matter, on the time-skipping server: a PO nobody approves expires
with its decision (72 h of waiting skipped); a PO cancelled while it waits stays cancelled; an approved PO that
cannot be mailed waits for a resend instead of being called sent."""

from __future__ import annotations

import concurrent.futures
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.decisions.activities import DecisionActivities
from activities.decisions.service import decide
from activities.replenishment.activities import ReplenishmentActivities
from activities.replenishment.tables import PurchaseOrder, PurchaseOrderLine, Supplier
from connectors.blobs.local import LocalBlobStore
from domain.decisions.rules import Proposal
from merchflow.db.engine import make_engine, session_scope
from merchflow.db.migrate import upgrade
from merchflow.db.models import Product
from merchflow.settings import Settings
from tests.support.waiting import until
from workers.build import decision_handlers
from workers.deps import Deps
from workers.registry import FEATURES, activity_callables
from workflows.decisions.decision import DecisionWorkflow
from workflows.replenishment.contract import (
    CANCEL_UPDATE,
    STATE_QUERY,
    CancelRequest,
    PoState,
    PurchaseOrderInput,
)
from workflows.replenishment.purchase_order import PurchaseOrderWorkflow

_pool = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="po-test")


@pytest.fixture
async def ts(time_skipping_env: WorkflowEnvironment) -> WorkflowEnvironment:
    try:  # the decision workflow keeps DecisionStatus current
        await time_skipping_env.client.operator_service.add_search_attributes(AddSearchAttributesRequest(
            namespace=time_skipping_env.client.namespace,
            search_attributes={"DecisionStatus": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD},
        ))  # fmt: skip
    except Exception as exc:
        if "already" not in str(exc).lower():
            raise
    return time_skipping_env


@pytest.fixture
def deps(tmp_path: Path) -> Iterator[Deps]:
    settings = Settings(_env_file=None, environment="test", data_dir=tmp_path)  # type: ignore[call-arg]
    upgrade(settings.sqlalchemy_url)
    engine = make_engine(settings.sqlalchemy_url)
    d = Deps(settings=settings, engine=engine, blobs=LocalBlobStore(tmp_path / "blobs"))
    d.decision_handlers = decision_handlers(d, FEATURES)
    yield d
    engine.dispose()


def _worker(client: Client, deps: Deps, queue: str) -> Worker:
    acts = [*activity_callables(DecisionActivities(deps)), *activity_callables(ReplenishmentActivities(deps))]
    return Worker(client, task_queue=queue, workflows=[PurchaseOrderWorkflow, DecisionWorkflow], activities=acts,
                  activity_executor=_pool)  # fmt: skip


def _po(engine: sa.Engine, *, email: str | None = "orders@x.test") -> tuple[str, Proposal]:
    po_id = f"po-{uuid.uuid4().hex[:16]}"
    with session_scope(engine) as s:
        sup = Supplier(name=f"S {po_id}", email=email)
        s.add(sup)
        if s.get(Product, 1) is None:
            s.add(Product(sku="W-1", name="widget", cost=Decimal(2)))
        s.flush()
        s.add(PurchaseOrder(id=po_id, supplier_id=sup.id or 0, total=Decimal("40.00")))
        s.flush()
        s.add(PurchaseOrderLine(po_id=po_id, sku="W-1", quantity=20, unit_cost=Decimal("2.00")))
    proposal = Proposal(decision_type="purchase_order", subject=po_id, current={"amount": "40.00", "status": "proposed"},
                        proposed={"amount": "40.00", "quantity": 20, "lines": 1}, confidence=0.9)  # fmt: skip
    return po_id, proposal


async def _start(client: Client, queue: str, po_id: str, proposal: Proposal) -> WorkflowHandle:  # type: ignore[type-arg]
    return await client.start_workflow(PurchaseOrderWorkflow.run, PurchaseOrderInput(po_id=po_id, proposal=proposal),
                                       id=f"purchase-order-{po_id}", task_queue=queue)  # fmt: skip


def _status(engine: sa.Engine, po_id: str) -> str:
    with session_scope(engine) as s:
        return s.get(PurchaseOrder, po_id).status  # type: ignore[union-attr]


async def test_a_po_nobody_approves_expires(ts: WorkflowEnvironment, deps: Deps) -> None:
    queue = f"po-{uuid.uuid4().hex[:8]}"
    po_id, proposal = _po(deps.engine)
    async with _worker(ts.client, deps, queue):
        handle = await _start(ts.client, queue, po_id, proposal)
        state: PoState = await handle.result()  # the 72 hours of the default policy are skipped
    assert (state.status, state.decision_status) == ("expired", "expired")
    assert _status(deps.engine, po_id) == "expired"


async def test_cancelled_while_waiting_stays_cancelled(ts: WorkflowEnvironment, deps: Deps) -> None:
    queue = f"po-{uuid.uuid4().hex[:8]}"
    po_id, proposal = _po(deps.engine)
    async with _worker(ts.client, deps, queue):
        handle = await _start(ts.client, queue, po_id, proposal)
        state = await handle.execute_update(CANCEL_UPDATE, CancelRequest(actor="ann", reason="found cheaper"),
                                            result_type=PoState)  # fmt: skip
        assert state.status == "cancelled"
        # approving now acts on a cancelled PO: the action refuses, the decision fails, the PO stays cancelled
        await until(lambda: _decision_pending(ts.client, po_id), timeout=30)
        await decide(ts.client, decision_id=f"{po_id}-approval", action="approve", actor="bob", role="approver",
                     expected_version=1)  # fmt: skip
        final: PoState = await handle.result()
    assert final.status == "cancelled" and final.decision_status == "failed"
    assert _status(deps.engine, po_id) == "cancelled"


async def _decision_pending(client: Client, po_id: str) -> bool:
    try:
        s = await client.get_workflow_handle(f"decision-{po_id}-approval").query("state")
    except Exception:
        return False
    return bool(s and s.get("status") == "pending")


async def test_an_approved_po_without_a_mail_server_waits_for_a_resend(
    ts: WorkflowEnvironment, deps: Deps
) -> None:
    queue = f"po-{uuid.uuid4().hex[:8]}"
    po_id, proposal = _po(deps.engine)
    async with _worker(ts.client, deps, queue):
        handle = await _start(ts.client, queue, po_id, proposal)
        await until(lambda: _decision_pending(ts.client, po_id), timeout=30)
        await decide(ts.client, decision_id=f"{po_id}-approval", action="approve", actor="bob", role="approver",
                     expected_version=1)  # fmt: skip

        async def waiting() -> bool:
            st = await handle.query(STATE_QUERY, result_type=PoState)
            return st.last_error is not None

        await until(waiting, timeout=30)
        st = await handle.query(STATE_QUERY, result_type=PoState)
        assert st.status == "approved" and "no SMTP server" in (st.last_error or "")
        assert _status(deps.engine, po_id) == "approved"  # approved, never called sent
        await handle.execute_update(CANCEL_UPDATE, CancelRequest(actor="ann"), result_type=PoState)
        assert (await handle.result()).status == "cancelled"
