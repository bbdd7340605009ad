"""The decisions REST API on SQLite and PostgreSQL, with a real Temporal dev server and worker."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from sqlmodel import select

from merchflow.db.engine import read_session
from merchflow.db.models import Product
from merchflow.temporal import DECISION_STATUS
from tests.conftest import make_token
from tests.decisions.conftest import add_product, new_id, price_proposal
from workers.registry import decision_types

KNOWN = "known types: " + ", ".join(sorted(decision_types()))


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _until(client, url: str, headers, predicate, attempts: int = 300) -> Any:  # type: ignore[no-untyped-def]
    body = None
    for _ in range(attempts):
        r = await client.get(url, headers=headers)
        body = r.json()
        if r.status_code == 200 and predicate(body):
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"{url} never matched; last: {body}")


def _price(engine, sku: str) -> Decimal:  # type: ignore[no-untyped-def]
    with read_session(engine) as s:
        return s.exec(select(Product.price).where(Product.sku == sku)).one()  # type: ignore[return-value]


async def test_propose_list_approve_and_history(dec_api) -> None:  # type: ignore[no-untyped-def]
    client, engine, _ = dec_api
    op, viewer = _auth(make_token(engine, "operator")), _auth(make_token(engine, "viewer"))
    approver = _auth(make_token(engine, "approver", username="alice"))
    sku, did = new_id("SKU"), new_id()
    add_product(engine, sku, price="20.00")
    body = {"decision_id": did, "proposal": price_proposal(sku).model_dump(mode="json")}
    assert (await client.post("/api/v1/decisions", json=body, headers=viewer)).status_code == 403
    r = await client.post("/api/v1/decisions", json=body, headers=op)
    assert r.status_code == 202 and r.json()["workflow_id"] == f"decision-{did}"
    again = await client.post("/api/v1/decisions", json=body, headers=op)  # idempotent while running
    assert again.status_code == 202 and again.json()["run_id"] == r.json()["run_id"]

    page = await _until(
        client,
        "/api/v1/decisions?decision_type=price_change",
        viewer,
        lambda b: any(i["id"] == did for i in b["items"]),
    )
    item = next(i for i in page["items"] if i["id"] == did)
    assert (item["status"], item["version"], item["proposed"], item["reasoning"]) == (
        "pending",
        1,
        {"price": "19.00"},
        "two competitors undercut us by 5%",
    )
    assert page["counts"]["pending"]["price_change"] >= 1
    assert (await client.get("/api/v1/decisions?min_confidence=0.9", headers=viewer)).json()["total"] == 0

    refused = await client.post(
        f"/api/v1/decisions/{did}/approve", json={"expected_version": 1}, headers=viewer
    )
    assert refused.status_code == 403
    stale = await client.post(
        f"/api/v1/decisions/{did}/approve", json={"expected_version": 3}, headers=approver
    )
    assert stale.status_code == 409 and "now version 1" in stale.json()["error"]["message"]
    ok = await client.post(
        f"/api/v1/decisions/{did}/approve", json={"expected_version": 1, "comment": "fine"}, headers=approver
    )
    assert ok.status_code == 200 and ok.json()["status"] == "approved"

    detail = await _until(
        client, f"/api/v1/decisions/{did}", viewer, lambda b: b["decision"]["status"] == "executed"
    )
    assert [h["action"] for h in detail["history"]] == ["proposed", "approved", "executed"]
    assert detail["history"][1]["actor"] == "alice" and detail["history"][1]["details"]["comment"] == "fine"
    assert _price(engine, sku) == Decimal("19.00")
    # operators filter by DecisionStatus in the Temporal UI: it follows the decision
    # (the row is written by the activity just before the workflow upserts the attribute: wait for it)
    temporal = client.app.state.temporal.client
    for _ in range(300):
        described = await temporal.get_workflow_handle(f"decision-{did}").describe()
        if described.typed_search_attributes.get(DECISION_STATUS) == "executed":
            break
        await asyncio.sleep(0.05)
    assert described.typed_search_attributes.get(DECISION_STATUS) == "executed"
    late = await client.post(
        f"/api/v1/decisions/{did}/reject", json={"expected_version": 1}, headers=approver
    )
    assert late.status_code == 409 and "already executed" in late.json()["error"]["message"]
    assert (await client.get("/api/v1/decisions/nope", headers=viewer)).status_code == 404
    missing = await client.post(
        "/api/v1/decisions/nope/approve", json={"expected_version": 1}, headers=approver
    )
    assert missing.status_code == 404


async def test_edit_reject_and_calibration(dec_api) -> None:  # type: ignore[no-untyped-def]
    client, engine, _ = dec_api
    op, approver = _auth(make_token(engine, "operator")), _auth(make_token(engine, "approver"))
    sku = new_id("SKU")
    add_product(engine, sku, price="20.00")
    ids = [new_id() for _ in range(3)]
    for did, conf in zip(ids, (0.72, 0.75, 0.31), strict=True):
        proposal = price_proposal(sku, confidence=conf).model_dump(mode="json")
        assert (
            await client.post(
                "/api/v1/decisions", json={"decision_id": did, "proposal": proposal}, headers=op
            )
        ).status_code == 202
    for did in ids:
        await _until(
            client, f"/api/v1/decisions/{did}", approver, lambda b: b["decision"]["status"] == "pending"
        )
    bad = await client.post(
        f"/api/v1/decisions/{ids[0]}/edit",
        json={"expected_version": 1, "value": {"colour": "red"}},
        headers=approver,
    )
    assert bad.status_code == 422
    r = await client.post(
        f"/api/v1/decisions/{ids[0]}/edit",
        json={"expected_version": 1, "value": {"price": "18.75"}},
        headers=approver,
    )
    assert r.status_code == 200
    assert (
        await client.post(
            f"/api/v1/decisions/{ids[1]}/reject", json={"expected_version": 1}, headers=approver
        )
    ).status_code == 200
    assert (
        await client.post(
            f"/api/v1/decisions/{ids[2]}/reject", json={"expected_version": 1}, headers=approver
        )
    ).status_code == 200
    await _until(
        client, f"/api/v1/decisions/{ids[0]}", approver, lambda b: b["decision"]["status"] == "executed"
    )
    assert _price(engine, sku) == Decimal("18.75")
    cal = (
        await client.get("/api/v1/decisions/calibration?decision_type=price_change", headers=approver)
    ).json()
    by_bucket = {c["bucket"]: c for c in cal}
    assert (by_bucket[0.7]["edited"], by_bucket[0.7]["rejected"], by_bucket[0.7]["approval_rate"]) == (
        1,
        1,
        0.5,
    )
    assert (by_bucket[0.3]["rejected"], by_bucket[0.3]["approval_rate"]) == (1, 0.0)


async def test_policies_admin_only(dec_api) -> None:  # type: ignore[no-untyped-def]
    client, engine, _ = dec_api
    admin, approver = (
        _auth(make_token(engine, "admin", username="root")),
        _auth(make_token(engine, "approver")),
    )
    listed = (await client.get("/api/v1/decision-policies", headers=approver)).json()
    # only types some feature acts on (each registered with its action by a feature)
    assert [p["decision_type"] for p in listed] == sorted(decision_types())
    assert {"price_change", "listing_publish", "purchase"} <= set(decision_types())
    junk = {"decision_type": "price-change", "mode": "manual"}
    r = await client.put("/api/v1/decision-policies", json=junk, headers=admin)
    assert r.status_code == 422 and KNOWN in r.json()["error"]["message"]
    body = {
        "decision_type": "price_change",
        "mode": "full-auto",
        "threshold": 0.9,
        "guardrails": {"max_price_change_pct": 5},
    }
    assert (await client.put("/api/v1/decision-policies", json=body, headers=approver)).status_code == 403
    r = await client.put("/api/v1/decision-policies", json=body, headers=admin)
    assert r.status_code == 200 and r.json()["stored"] and r.json()["updated_by"] == "root"
    typo = {**body, "guardrails": {"max_price_change_percent": 5}}
    assert (await client.put("/api/v1/decision-policies", json=typo, headers=admin)).status_code == 422
    after = {
        p["decision_type"]: p
        for p in (await client.get("/api/v1/decision-policies", headers=approver)).json()
    }
    assert (after["price_change"]["mode"], after["price_change"]["guardrails"]["max_price_change_pct"]) == (
        "full-auto",
        5,
    )


async def test_bulk_rows_approved_in_one_call_execute_in_one_batch_workflow(dec_api) -> None:  # type: ignore[no-untyped-def]
    client, engine, _ = dec_api
    op, approver = (
        _auth(make_token(engine, "operator")),
        _auth(make_token(engine, "approver", username="bulk-bob")),
    )
    skus = [new_id("SKU") for _ in range(40)]
    for sku in skus:
        add_product(engine, sku, price="20.00")
    items = [
        {"decision_id": f"bulk-{sku}", "proposal": price_proposal(sku).model_dump(mode="json")}
        for sku in skus
    ]
    created = (await client.post("/api/v1/decisions/bulk", json={"items": items}, headers=op)).json()
    assert created == {"created": 40, "skipped": 0, "by_status": {"pending": 40}, "outbox_id": None}
    again = (await client.post("/api/v1/decisions/bulk", json={"items": items}, headers=op)).json()
    assert (again["created"], again["skipped"]) == (0, 40)

    decide_items = [{"decision_id": i["decision_id"], "expected_version": 1} for i in items]
    decide_items[0]["expected_version"] = 2  # a stale view of one row
    out = (
        await client.post(
            "/api/v1/decisions/bulk/decide",
            json={"action": "approve", "items": decide_items, "comment": "bulk"},
            headers=approver,
        )
    ).json()
    assert [o["ok"] for o in out].count(True) == 39 and out[0]["code"] == "conflict"
    await _until(
        client,
        "/api/v1/decisions?status=executed&limit=500",
        approver,
        lambda b: sum(1 for i in b["items"] if i["id"].startswith("bulk-")) == 39,
    )
    assert [_price(engine, sku) for sku in skus[1:]] == [Decimal("19.00")] * 39
    assert _price(engine, skus[0]) == Decimal("20.00")
    twice = (
        await client.post(
            "/api/v1/decisions/bulk/decide",
            json={"action": "approve", "items": decide_items[1:3]},
            headers=approver,
        )
    ).json()
    assert [o["code"] for o in twice] == ["conflict", "conflict"]
    detail = (await client.get(f"/api/v1/decisions/{items[1]['decision_id']}", headers=approver)).json()
    assert [h["action"] for h in detail["history"]] == ["proposed", "approved", "executed"]
    # a single-decision approve reaches workflow-less rows too
    one = await client.post(
        f"/api/v1/decisions/{items[0]['decision_id']}/reject", json={"expected_version": 1}, headers=approver
    )
    assert one.status_code == 200 and one.json()["status"] == "rejected"


NOT_MONEY = ["Infinity", "-Infinity", "NaN", "1e30", 1e30, "-1", "0", "0.00001", "lots"]


async def test_unknown_decision_types_are_refused_at_proposal_time(dec_api) -> None:  # type: ignore[no-untyped-def]
    client, engine, _ = dec_api
    op = _auth(make_token(engine, "operator"))
    for decision_type in ("price-change", "listing-publish", "x" * 40):
        proposal = {**price_proposal("SKU-T").model_dump(mode="json"), "decision_type": decision_type}
        did = new_id()
        r = await client.post(
            "/api/v1/decisions", json={"decision_id": did, "proposal": proposal}, headers=op
        )
        assert r.status_code == 422, (decision_type, r.text)
        error = r.json()["error"]
        assert "unknown decision type" in error["message"] and KNOWN in error["message"]
        assert error["details"][0]["location"] == "body.proposal.decision_type"
        # nothing was started: no workflow to wait for an approval that would do nothing
        temporal = client.app.state.temporal.client
        try:
            await temporal.get_workflow_handle(f"decision-{did}").describe()
            raise AssertionError("a workflow was started for an unknown type")
        except Exception as exc:
            assert "not found" in str(exc).lower()
    good = {"decision_id": "bulk-ok", "proposal": price_proposal("SKU-T").model_dump(mode="json")}
    bad = {"decision_id": "bulk-bad", "proposal": {**good["proposal"], "decision_type": "listing-publish"}}
    r = await client.post("/api/v1/decisions/bulk", json={"items": [good, bad]}, headers=op)
    assert (
        r.status_code == 422
        and r.json()["error"]["details"][0]["location"] == "body.items.1.proposal.decision_type"
    )
    listed = (await client.get("/api/v1/decisions?status=all", headers=op)).json()
    assert not {"bulk-ok", "bulk-bad"} & {i["id"] for i in listed["items"]}  # all or nothing


async def test_money_that_is_not_money_is_refused_everywhere(dec_api) -> None:  # type: ignore[no-untyped-def]
    client, engine, _ = dec_api
    op, approver = _auth(make_token(engine, "operator")), _auth(make_token(engine, "approver"))
    sku = new_id("SKU")
    add_product(engine, sku, price="20.00")
    # proposals: single (workflow) and bulk (rows)
    for value in NOT_MONEY:
        proposal = {**price_proposal(sku).model_dump(mode="json"), "proposed": {"price": value}}
        r = await client.post("/api/v1/decisions", json={"proposal": proposal}, headers=op)
        assert r.status_code == 422 and "proposed.price" in r.text, (value, r.text)
        r = await client.post(
            "/api/v1/decisions/bulk",
            json={"items": [{"decision_id": new_id(), "proposal": proposal}]},
            headers=op,
        )
        assert r.status_code == 422 and "proposed.price" in r.text, (value, r.text)
    # edits of a workflow-backed decision and of a bulk row
    did = new_id()
    body = {"decision_id": did, "proposal": price_proposal(sku).model_dump(mode="json")}
    assert (await client.post("/api/v1/decisions", json=body, headers=op)).status_code == 202
    row = {"decision_id": new_id("row"), "proposal": price_proposal(sku).model_dump(mode="json")}
    assert (await client.post("/api/v1/decisions/bulk", json={"items": [row]}, headers=op)).status_code == 200
    await _until(client, f"/api/v1/decisions/{did}", op, lambda b: b["decision"]["status"] == "pending")
    for target in (did, row["decision_id"]):
        for value in NOT_MONEY:
            r = await client.post(
                f"/api/v1/decisions/{target}/edit",
                json={"expected_version": 1, "value": {"price": value}},
                headers=approver,
            )
            message = r.json()["error"]["message"]
            assert r.status_code == 422 and message.startswith("price "), (target, value, r.text)
            assert "InvalidOperation" not in message and "<class" not in message
        detail = (await client.get(f"/api/v1/decisions/{target}", headers=op)).json()["decision"]
        assert (detail["status"], detail["proposed"]) == ("pending", {"price": "19.00"})
    assert _price(engine, sku) == Decimal("20.00")
    # JSON's own non-finite literals are refused the same way
    raw = b'{"expected_version": 1, "value": {"price": Infinity}}'
    r = await client.post(
        f"/api/v1/decisions/{did}/edit", content=raw, headers={**approver, "content-type": "application/json"}
    )
    assert r.status_code == 422  # refused as JSON already (the API reads strict JSON)
