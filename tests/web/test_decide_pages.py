"""Deciding through the pages against real decision workflows (Temporal dev server + a worker built from
workers/registry.py): approve, edit-and-approve, reject, conflicts, bulk approve, signed links."""

from __future__ import annotations

import httpx
import sqlalchemy as sa
from temporalio.testing import WorkflowEnvironment

from activities.decisions import repository as repo
from activities.decisions.links import make_decision_token
from merchflow.db.engine import read_session
from merchflow.db.models import Product
from tests.web.conftest import (
    add_product,
    price_proposal,
    priced,
    start_decision,
    wait_for_status,
    workflow_result,
)
from tests.web.helpers import add_users, csrf_of, login


def _engine(client: httpx.AsyncClient) -> sa.Engine:
    return client.app.state.engine  # type: ignore[attr-defined, no-any-return]


def _price(engine: sa.Engine, sku: str) -> str:
    with read_session(engine) as session:
        product = session.get(Product, _product_id(session, sku))
    return str(product.price) if product else ""


def _product_id(session, sku: str) -> int:  # type: ignore[no-untyped-def]
    from sqlmodel import select

    return session.exec(select(Product.id).where(Product.sku == sku)).one()  # type: ignore[no-any-return]


async def _decide(client: httpx.AsyncClient, decision_id: str, **form: str) -> httpx.Response:
    page = await client.get(f"/approvals/{decision_id}")
    assert page.status_code == 200, page.text
    return await client.post(
        f"/approvals/{decision_id}/decide", data={"csrf_token": csrf_of(page.text), **form}
    )


async def test_approve_edit_and_reject(
    flow_client: httpx.AsyncClient, temporal_env: WorkflowEnvironment, task_queue: str
) -> None:
    client, eng = temporal_env.client, _engine(flow_client)
    add_users(eng, ("alice", "approver"))
    for sku in ("A-1", "A-2"):
        add_product(eng, sku)
    await start_decision(client, eng, task_queue, "ap1", price_proposal("A-1"))
    await start_decision(client, eng, task_queue, "ed1", price_proposal("A-2"))
    await start_decision(client, eng, task_queue, "rj1", priced(eng, "supplier-7"))
    await login(flow_client, "alice")

    r = await _decide(flow_client, "ap1", action="approve", version="1", comment="matches the market")
    assert r.status_code == 303 and r.headers["location"] == "/approvals?done=approve"
    assert "Approved." in (await flow_client.get(r.headers["location"])).text
    result = await workflow_result(client, "ap1")
    assert (result.status, result.approver, result.executed) == ("executed", "alice", True)
    assert _price(eng, "A-1") == "18.5000"

    r = await _decide(flow_client, "ed1", action="edit_approve", version="1", **{"edit.price": "18.90"})
    assert r.status_code == 303, r.text
    result = await workflow_result(client, "ed1")
    assert result.status == "executed" and result.action_result["new_price"] == "18.90"
    assert _price(eng, "A-2") == "18.9000"

    r = await _decide(flow_client, "rj1", action="reject", version="1", comment="we have enough")
    assert r.status_code == 303
    result = await workflow_result(client, "rj1")
    assert (result.status, result.executed) == ("rejected", False)

    page = await flow_client.get("/approvals/rj1")
    assert 'data-testid="status">rejected<' in page.text and "<b>Rejected by alice</b>" in page.text
    assert "we have enough" in page.text and 'data-testid="approve"' not in page.text
    page = await flow_client.get("/approvals/ed1")
    assert "<b>Edited and approved by alice</b>" in page.text
    assert "<li>price: $18.50 → $18.90</li>" in page.text  # the edit, as people read it
    assert 'data-testid="pending-total">0<' in (await flow_client.get("/approvals")).text


async def test_edit_with_a_bad_value_is_refused_and_nothing_happens(
    flow_client: httpx.AsyncClient, temporal_env: WorkflowEnvironment, task_queue: str
) -> None:
    eng = _engine(flow_client)
    add_users(eng, ("alice", "approver"))
    add_product(eng, "B-1")
    await start_decision(temporal_env.client, eng, task_queue, "bad1", price_proposal("B-1"))
    await login(flow_client, "alice")
    for value, message in (
        ("-3", "price must be a positive number"),
        ("Infinity", "price must be a finite number"),
        ("NaN", "price must be a finite number"),
        ("1e30", "price must be less than 10,000,000,000"),
        ("18.123456", "more than 4 decimal places"),
    ):
        r = await _decide(flow_client, "bad1", action="edit_approve", version="1", **{"edit.price": value})
        assert r.status_code == 422 and message in r.text, (value, r.text[-2000:])
        assert "InvalidOperation" not in r.text
    with read_session(eng) as session:
        assert repo.get_decision(session, "bad1").status == "pending"  # type: ignore[union-attr]
    assert _price(eng, "B-1") == "20.0000"


async def test_someone_else_decided_first_or_it_changed(
    flow_client: httpx.AsyncClient, temporal_env: WorkflowEnvironment, task_queue: str
) -> None:
    eng = _engine(flow_client)
    add_users(eng, ("alice", "approver"), ("bob", "approver"))
    await start_decision(temporal_env.client, eng, task_queue, "c1", priced(eng, "s-1"))
    await start_decision(temporal_env.client, eng, task_queue, "c2", priced(eng, "s-2"))
    await login(flow_client, "alice")
    alice_page = await flow_client.get("/approvals/c1")  # alice opens the page...

    transport = httpx.ASGITransport(app=flow_client.app)  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as bob:
        await login(bob, "bob")
        assert (await _decide(bob, "c1", action="reject", version="1")).status_code == 303  # ...bob is faster
    await wait_for_status(eng, "c1", {"rejected"})
    r = await flow_client.post(
        "/approvals/c1/decide",
        data={"action": "approve", "version": "1", "csrf_token": csrf_of(alice_page.text)},
    )
    assert r.status_code == 409
    assert "someone else got there first" in r.text and "rejected by bob" in r.text
    assert 'data-testid="status">rejected<' in r.text  # the page shows the decision as it is now

    r = await _decide(flow_client, "c2", action="approve", version="3")  # a version the decision never had
    assert r.status_code == 409 and "version" in r.text
    with read_session(eng) as session:
        assert repo.get_decision(session, "c2").status == "pending"  # type: ignore[union-attr]


async def test_bulk_approve_redirects_to_a_result_in_selection_order(
    flow_client: httpx.AsyncClient, temporal_env: WorkflowEnvironment, task_queue: str
) -> None:
    eng = _engine(flow_client)
    add_users(eng, ("alice", "approver"), ("bob", "approver"))
    for i in range(4):
        await start_decision(
            temporal_env.client, eng, task_queue, f"b{i}", priced(eng, f"s-{i}", marketplace="ebay")
        )
    await start_decision(temporal_env.client, eng, task_queue, "other", priced(eng, "X-9"))
    await login(flow_client, "alice")
    queue = await flow_client.get("/approvals?marketplace=ebay")
    assert 'value="b0:1"' in queue.text and 'value="other:1"' not in queue.text  # the filtered set

    # bob approves b1 in the meantime, from his own browser
    transport = httpx.ASGITransport(app=flow_client.app)  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as bob:
        await login(bob, "bob")
        assert (await _decide(bob, "b1", action="approve", version="1")).status_code == 303
    await wait_for_status(eng, "b1", {"approved", "executed"})

    selection = ["b3:1", "b1:1", "b0:1", "b2:7"]  # not the queue's order, one stale version
    r = await flow_client.post(
        "/approvals/bulk", data={"items": selection, "comment": "restock", "csrf_token": csrf_of(queue.text)}
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/approvals/bulk/")
    page = await flow_client.get(r.headers["location"])
    assert page.status_code == 200
    assert 'data-testid="bulk-summary">2 approved, 1 already approved, 1 not approved.' in page.text
    order = [page.text.index(f'data-testid="result-{d}"') for d in ("b3", "b1", "b0", "b2")]
    assert order == sorted(order)  # the selection's order
    b1 = page.text.split('data-testid="result-b1"')[1].split("</li>")[0]
    assert 'data-outcome="already"' in b1 and "already approved" in b1 and "bob" in b1
    assert 'class="card neutral" data-testid="result-b1"' in page.text  # not a red failure
    b2 = page.text.split('data-testid="result-b2"')[1].split("</li>")[0]
    assert 'data-outcome="not_approved"' in b2 and "version" in b2
    for i in (0, 3):
        assert (await workflow_result(temporal_env.client, f"b{i}")).status == "executed"
    # a reload shows the same result and approves nothing again
    again = await flow_client.get(r.headers["location"])
    assert again.text.count('data-outcome="approved"') == 2
    with read_session(eng) as session:
        assert repo.get_decision(session, "b2").status == "pending"  # type: ignore[union-attr]
        assert repo.get_decision(session, "other").status == "pending"  # type: ignore[union-attr]
    # the result is the approver's own: another user gets "not found"
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as bob:
        await login(bob, "bob")
        assert (await bob.get(r.headers["location"])).status_code == 404
    assert (await flow_client.get("/approvals/bulk/no-such-result")).status_code == 404


async def test_signed_link_acts_once(
    flow_client: httpx.AsyncClient, temporal_env: WorkflowEnvironment, task_queue: str
) -> None:
    eng, settings = _engine(flow_client), flow_client.app.state.settings  # type: ignore[attr-defined]
    add_users(eng, ("alice", "approver"), ("vera", "viewer"))
    await start_decision(temporal_env.client, eng, task_queue, "l1", priced(eng, "s-1"))
    token = make_decision_token(settings, decision_id="l1", version=1)

    await login(flow_client, "vera")
    page = await flow_client.get(f"/approvals/link/{token}")
    assert page.status_code == 200 and 'data-testid="confirm-approve"' not in page.text
    r = await flow_client.post(
        f"/approvals/link/{token}", data={"action": "approve", "csrf_token": csrf_of(page.text)}
    )
    assert r.status_code == 403  # a viewer's POST neither acts nor spends the link
    await flow_client.post("/logout", data={"csrf_token": csrf_of(page.text)})

    await login(flow_client, "alice")
    page = await flow_client.get(f"/approvals/link/{token}")
    assert page.status_code == 200
    r = await flow_client.post(
        f"/approvals/link/{token}",
        data={"action": "approve", "comment": "ok", "csrf_token": csrf_of(page.text)},
    )
    assert r.status_code == 303 and r.headers["location"] == "/approvals/l1?done=approve"
    assert (await workflow_result(temporal_env.client, "l1")).approver == "alice"

    reused = await flow_client.post(
        f"/approvals/link/{token}", data={"action": "approve", "csrf_token": csrf_of(page.text)}
    )
    assert reused.status_code == 410 and "already used" in reused.text
    again = await flow_client.get(f"/approvals/link/{token}")
    assert again.status_code == 410 and "already used" in again.text
