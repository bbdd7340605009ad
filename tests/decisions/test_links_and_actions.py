"""Signed links (expiry, tampering, single use), the action executor's idempotency and premise check, and the
bulk path's guarded decide on both databases."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import select

from activities.decisions import bulk
from activities.decisions.actions import NoActionHandler, execute
from activities.decisions.links import (
    LinkExpired,
    LinkInvalid,
    LinkUsed,
    consume_decision_link,
    make_decision_link,
    make_decision_token,
    verify_decision_link,
)
from activities.decisions.tables import Decision, DecisionAction
from activities.repricing.price_change import PriceChangeHandler
from activities.repricing.tables import PricingHistory
from domain.decisions.rules import default_policy
from merchflow.db.engine import read_session, session_scope
from merchflow.db.models import AuditLog, Product
from merchflow.db.types import utcnow
from merchflow.settings import Settings
from tests.decisions.conftest import add_product, new_id, price_proposal
from workflows.decisions.contract import BulkDecideItem, BulkItem, ExecuteInput


def _settings(secret: str = "s" * 40) -> Settings:
    return Settings(
        _env_file=None, environment="test", secret_key=secret, public_base_url="https://shop.example"
    )  # type: ignore[call-arg,arg-type]


def test_link_round_trip_and_single_use(engine: sa.Engine) -> None:
    settings = _settings()
    link = make_decision_link(settings, decision_id="d-1", version=3)
    assert link.startswith("https://shop.example/approvals/link/")
    token = link.rsplit("/", 1)[1]
    with session_scope(engine) as s:
        claims = verify_decision_link(settings, s, token)
        assert (claims.decision_id, claims.version) == ("d-1", 3)
        consume_decision_link(s, claims)
        with pytest.raises(LinkUsed):
            consume_decision_link(s, claims)  # same transaction, second use
    with read_session(engine) as s, pytest.raises(LinkUsed):
        verify_decision_link(settings, s, token)
    # each link is its own: a new one for the same decision version still works
    other = make_decision_link(settings, decision_id="d-1", version=3).rsplit("/", 1)[1]
    with read_session(engine) as s:
        assert verify_decision_link(settings, s, other).jti != claims.jti


def test_link_refusals(engine: sa.Engine) -> None:
    settings = _settings()
    expired = make_decision_token(settings, decision_id="d", version=1, ttl_seconds=60, now=time.time() - 120)
    token = make_decision_token(settings, decision_id="d", version=1)
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    with read_session(engine) as s:
        with pytest.raises(LinkExpired):
            verify_decision_link(settings, s, expired)
        with pytest.raises(LinkInvalid):
            verify_decision_link(settings, s, tampered)
        with pytest.raises(LinkInvalid):
            verify_decision_link(_settings("t" * 40), s, token)  # signed with another key
        with pytest.raises(LinkInvalid):
            verify_decision_link(settings, s, "garbage")


def _req(did: str, sku: str, version: int = 1, current: str = "20.00") -> ExecuteInput:
    return ExecuteInput(
        decision_id=did,
        version=version,
        idempotency_key=f"{did}:v{version}",
        proposal=price_proposal(sku, current=current),
        approver="alice",
    )


def test_executor_acts_once_per_key_and_checks_the_premise(engine: sa.Engine) -> None:
    sku, did = new_id("SKU"), new_id()
    add_product(engine, sku, price="20.00")
    handler = PriceChangeHandler()
    with session_scope(engine) as s:
        assert execute(s, _req(did, sku), handler).outcome == "executed"
    with session_scope(engine) as s:
        again = execute(s, _req(did, sku), handler)
    assert again.outcome == "already_executed" and again.result["new_price"] == "19.00"
    with session_scope(engine) as s:  # a new version on the old facts: the price moved, nothing acts
        stale = execute(s, _req(did, sku, version=2), handler)
    assert (stale.outcome, stale.current["price"]) == ("premise_changed", "19.0000")
    with read_session(engine) as s:
        assert len(s.exec(select(PricingHistory).where(PricingHistory.decision_id == did)).all()) == 1
        assert s.exec(select(Product.price).where(Product.sku == sku)).one() == Decimal("19.00")
        assert s.get(DecisionAction, f"{did}:v2") is None
    with session_scope(engine) as s:
        gone = execute(s, _req(new_id(), "NO-SUCH-SKU"), handler)
    assert gone.outcome == "failed" and "no longer exists" in gone.message
    with session_scope(engine) as s:  # a type no feature acts on is never "executed"
        unhandled = execute(s, _req(new_id(), "ANY"), NoActionHandler("purchase"))
    assert unhandled.outcome == "failed" and "no action is registered" in unhandled.message


def test_bulk_create_decide_and_execute_pages(engine: sa.Engine) -> None:
    skus = [new_id("SKU") for _ in range(7)]
    for sku in skus:
        add_product(engine, sku, price="20.00")
    items = [BulkItem(decision_id=f"b-{sku}", proposal=price_proposal(sku)) for sku in skus]
    policies = {"price_change": default_policy("price_change")}
    with session_scope(engine) as s:
        created = bulk.create_pending(s, items, policies=policies, now=utcnow(), chunk=3)
    assert (created.created, created.by_status) == (7, {"pending": 7})
    decide = [BulkDecideItem(decision_id=i.decision_id, expected_version=1) for i in items]
    out = bulk.decide_rows(engine, decide[:5], action="approve", actor="bob", role="approver")
    assert all(o.ok for o in out)
    rej = bulk.decide_rows(engine, decide[4:6], action="reject", actor="eve", role="approver")
    assert [(o.ok, o.code) for o in rej] == [(False, "conflict"), (True, None)]
    assert "already approved by bob" in rej[0].message
    viewer = bulk.decide_rows(engine, decide[6:], action="approve", actor="v", role="viewer")
    assert viewer[0].code == "forbidden"
    # someone changes one price before execution
    with session_scope(engine) as s:
        p = s.exec(select(Product).where(Product.sku == skus[0])).one()
        p.price = Decimal("25.00")
        s.add(p)
    handlers = {"price_change": PriceChangeHandler()}
    totals = {"executed": 0, "premise_changed": 0}
    cursor, pages = "", 0
    while True:
        with session_scope(engine) as s:
            page = bulk.execute_page(
                s, after_id=cursor, limit=2, handler_for=handlers.__getitem__, now=utcnow()
            )
        totals["executed"] += page.executed
        totals["premise_changed"] += page.premise_changed
        cursor, pages = page.next_cursor, pages + 1
        if page.done:
            break
    assert totals == {"executed": 4, "premise_changed": 1} and pages == 3
    with read_session(engine) as s:
        rows = {
            r.id: r
            for r in s.exec(select(Decision).where(Decision.id.in_([i.decision_id for i in items]))).all()
        }  # type: ignore[attr-defined]
    first = rows[items[0].decision_id]
    assert (first.status, first.version, first.proposal["current"]["price"]) == ("pending", 2, "25.0000")
    assert [rows[i.decision_id].status for i in items[1:]] == ["executed"] * 4 + ["rejected", "pending"]


def test_bulk_rows_expire(engine: sa.Engine) -> None:
    sku = new_id("SKU")
    proposal = price_proposal(sku).model_copy(update={"expires_at": utcnow() - timedelta(minutes=1)})
    with session_scope(engine) as s:
        bulk.create_pending(
            s,
            [BulkItem(decision_id=f"e-{sku}", proposal=proposal)],
            policies={"price_change": default_policy("price_change")},
            now=utcnow(),
        )
    out = bulk.decide_rows(
        engine,
        [BulkDecideItem(decision_id=f"e-{sku}", expected_version=1)],
        action="approve",
        actor="a",
        role="approver",
    )
    assert out[0].code == "conflict" and "already expired" in out[0].message


def test_an_unreadable_stored_proposal_fails_visibly_and_the_page_goes_on(engine: sa.Engine) -> None:
    """A row written before proposals were checked (an infinite price) must not crash the executor's activity
    (which would retry forever): it fails with the reason, the rows after it execute."""
    good, bad = new_id("SKU"), new_id("SKU")
    add_product(engine, good, price="20.00")
    add_product(engine, bad, price="20.00")
    with session_scope(engine) as s:
        for sku in (bad, good):
            p = price_proposal(sku).model_dump(mode="json")
            if sku == bad:
                p["proposed"] = {"price": "Infinity"}
            s.add(
                Decision(id=f"a-{sku}", decision_type="price_change", subject=sku, proposal=p, confidence=0.7,
                         status="approved", version=1, approver="bob")
            )  # fmt: skip
    with session_scope(engine) as s:
        page = bulk.execute_page(
            s,
            after_id="a-",
            limit=50,
            handler_for={"price_change": PriceChangeHandler()}.__getitem__,
            now=utcnow(),
        )
    assert (page.executed, page.failed) == (1, 1)
    with read_session(engine) as s:
        assert s.get(Decision, f"a-{bad}").status == "failed"  # type: ignore[union-attr]
        assert s.exec(select(Product.price).where(Product.sku == bad)).one() == Decimal("20.00")
        assert s.exec(select(Product.price).where(Product.sku == good)).one() == Decimal("19.00")
        reason = s.exec(select(AuditLog.details).where(AuditLog.entity_id == f"a-{bad}")).one()["error"]
    assert "proposed.price must be a finite number" in reason
