"""Records the committed workflow histories replayed by test_replay.py. Re-run only on purpose, when a
change to the decision workflow is meant to be incompatible (and old runs are drained):

    .venv/bin/python -m tests.decisions.histories.record
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlmodel import select
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from activities.decisions.service import decide
from connectors.blobs.local import LocalBlobStore
from merchflow.db.engine import make_engine, session_scope
from merchflow.db.migrate import upgrade
from merchflow.db.models import Product
from merchflow.settings import Settings, bin_path
from tests.decisions.conftest import add_product, make_worker, price_proposal, set_policy
from tests.decisions.helpers import wait_state
from workers.build import decision_handlers
from workers.deps import Deps
from workers.registry import FEATURES
from workflows.decisions.contract import DecisionInput, DecisionResult, decision_workflow_id

HERE = Path(__file__).parents[2] / "replay" / "histories" / "decision"


async def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    settings = Settings(
        _env_file=None, environment="test", data_dir=tmp, database_url=f"sqlite:///{tmp}/h.db"
    )  # type: ignore[call-arg,arg-type]
    upgrade(settings.sqlalchemy_url)
    engine = make_engine(settings.sqlalchemy_url)
    deps = Deps(settings=settings, engine=engine, blobs=LocalBlobStore(tmp / "blobs"))
    deps.decision_handlers = decision_handlers(deps, FEATURES)
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(bin_path("temporal-test-server")),
        data_converter=pydantic_data_converter,
    )
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace="default",
            search_attributes={"DecisionStatus": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD},
        )
    )
    add_product(engine, "SKU-H", price="20.00")
    set_policy(
        engine,
        "price_change",
        timeout_hours=24,
        on_timeout="escalate",
        escalation_groups=["approver", "admin"],
    )
    did = "history-escalate-premise"
    async with make_worker(env.client, deps, "history"):
        handle = await env.client.start_workflow(
            "decision",
            DecisionInput(decision_id=did, proposal=price_proposal("SKU-H")),
            id=decision_workflow_id(did),
            task_queue="history",
            result_type=DecisionResult,
        )
        await wait_state(handle, lambda s: s.status == "pending")
        await env.sleep(timedelta(hours=25))
        await wait_state(handle, lambda s: s.escalation_level == 1)
        with session_scope(engine) as s:
            p = s.exec(select(Product).where(Product.sku == "SKU-H")).one()
            p.price = Decimal("21.00")
            s.add(p)
        await decide(
            env.client, decision_id=did, action="approve", actor="a", role="admin", expected_version=1
        )
        await wait_state(handle, lambda s: s.version == 2 and s.status == "pending")
        await decide(
            env.client,
            decision_id=did,
            action="edit_approve",
            actor="b",
            role="approver",
            expected_version=2,
            edited_value={"price": "20.50"},
        )
        assert (await handle.result()).status == "executed"
        history = await handle.fetch_history()
    (HERE / "decision_escalate_premise_edit.json").write_text(history.to_json())
    await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
