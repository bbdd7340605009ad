"""The pure decision policy: autonomy × confidence × guard rails, deadlines, deciding, the state machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.decisions.rules import (
    FINAL_STATUSES,
    TRANSITIONS,
    ExpectedEffect,
    GuardRails,
    InvalidTransition,
    Policy,
    Proposal,
    apply_edit,
    check_decide,
    confidence_bucket,
    default_policy,
    effect_of,
    evaluate,
    next_deadline,
    next_status,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def price(confidence: float, old: str = "100.00", new: str = "95.00", cost: str = "50") -> Proposal:
    return Proposal(
        decision_type="price_change",
        subject="SKU-1",
        current={"price": old, "cost": cost},
        proposed={"price": new},
        confidence=confidence,
    )


def purchase(confidence: float, amount: str) -> Proposal:
    return Proposal(
        decision_type="purchase", subject="OPP-1", proposed={"amount": amount}, confidence=confidence
    )


RAILS = GuardRails(max_price_change_pct=10, max_purchase_amount=Decimal("500"))
# (mode, confidence, trips a guard rail) -> expected outcome
MATRIX = [
    ("manual", 0.95, False, "record_only"),
    ("manual", 0.50, False, "record_only"),
    ("manual", 0.95, True, "record_only"),
    ("manual", 0.50, True, "record_only"),
    ("semi-auto", 0.95, False, "wait"),
    ("semi-auto", 0.50, False, "wait"),
    ("semi-auto", 0.95, True, "wait"),
    ("semi-auto", 0.50, True, "wait"),
    ("full-auto", 0.95, False, "auto_approve"),
    ("full-auto", 0.85, False, "auto_approve"),  # at the threshold counts as above
    ("full-auto", 0.84, False, "wait"),
    ("full-auto", 0.95, True, "wait"),
    ("full-auto", 0.50, True, "wait"),
]


@pytest.mark.parametrize(("mode", "confidence", "tripped", "expected"), MATRIX)
@pytest.mark.parametrize("kind", ["price", "purchase"])
def test_autonomy_matrix(mode: str, confidence: float, tripped: bool, expected: str, kind: str) -> None:
    policy = Policy(decision_type=kind, mode=mode, threshold=0.85, guardrails=RAILS)  # type: ignore[arg-type]
    if kind == "price":
        proposal = price(confidence, new="80.00" if tripped else "95.00")  # 20% vs 5%
    else:
        proposal = purchase(confidence, "900" if tripped else "120")
    verdict = evaluate(proposal, policy)
    assert verdict.outcome == expected
    if mode != "manual":
        assert bool(verdict.guardrail_hits) == tripped


def test_guard_rail_messages_and_below_cost() -> None:
    policy = Policy(decision_type="price_change", mode="full-auto", guardrails=RAILS)
    hits = evaluate(price(0.99, new="40.00", cost="50"), policy).guardrail_hits
    assert hits == ["price change 60.0% exceeds 10%", "new price 40.00 is below cost 50.00"]
    quantity = Proposal(
        decision_type="purchase", subject="O", proposed={"quantity": 100, "unit_cost": "6"}, confidence=0.99
    )
    assert (
        evaluate(quantity, Policy(decision_type="purchase", mode="full-auto", guardrails=RAILS)).outcome
        == "wait"
    )


def test_verdict_initial_status() -> None:
    p = Policy(decision_type="price_change", mode="full-auto", guardrails=GuardRails())
    assert evaluate(price(0.9), p).initial_status == "auto_approved"
    assert evaluate(price(0.1), p).initial_status == "pending"
    assert evaluate(price(0.9), p.model_copy(update={"mode": "manual"})).initial_status == "recommended"


def test_defaults_per_type() -> None:
    assert default_policy("price_change").guardrails.max_price_change_pct == 20
    assert default_policy("purchase").guardrails.max_purchase_amount == Decimal("500")
    unknown = default_policy("supplier_switch")
    assert (unknown.mode, unknown.threshold) == ("semi-auto", 0.85)


def test_escalates_through_groups_then_expires() -> None:
    p = Policy(decision_type="x", timeout_hours=24, on_timeout="escalate", escalation_groups=["a", "b", "c"])
    d0 = next_deadline(p, stage_started_at=T0, escalation_level=0, proposal_expires_at=None)
    assert (d0.at, d0.action, d0.to_group) == (T0 + timedelta(hours=24), "escalate", "b")
    d1 = next_deadline(p, stage_started_at=d0.at, escalation_level=1, proposal_expires_at=None)
    assert (d1.action, d1.to_group) == ("escalate", "c")
    d2 = next_deadline(p, stage_started_at=d1.at, escalation_level=2, proposal_expires_at=None)
    assert (d2.action, d2.to_group) == ("expire", None)


def test_expire_policy_and_proposal_expiry() -> None:
    p = Policy(decision_type="x", timeout_hours=24, on_timeout="expire")
    assert (
        next_deadline(p, stage_started_at=T0, escalation_level=0, proposal_expires_at=None).action == "expire"
    )
    soon = T0 + timedelta(hours=2)
    esc = p.model_copy(update={"on_timeout": "escalate"})
    d = next_deadline(esc, stage_started_at=T0, escalation_level=0, proposal_expires_at=soon)
    assert (d.at, d.action) == (soon, "expire")
    later = T0 + timedelta(days=9)
    assert (
        next_deadline(esc, stage_started_at=T0, escalation_level=0, proposal_expires_at=later).action
        == "escalate"
    )


def test_check_decide() -> None:
    ok = {"status": "pending", "version": 2, "action": "approve", "expected_version": 2}
    assert check_decide(role="approver", **ok) is None
    assert check_decide(role="admin", **ok) is None
    assert check_decide(role="viewer", **ok).code == "forbidden"  # type: ignore[union-attr]
    assert check_decide(role="operator", **ok).code == "forbidden"  # type: ignore[union-attr]
    stale = check_decide(role="approver", **{**ok, "expected_version": 1})
    assert stale is not None and stale.code == "conflict" and "now version 2" in stale.message
    done = check_decide(role="approver", **{**ok, "status": "approved"}, decided_by="alice", decided_at=T0)
    assert done is not None and done.message == "already approved by alice at 2026-01-05 09:00 UTC"
    assert check_decide(role="approver", **{**ok, "action": "delete"}).code == "invalid"  # type: ignore[union-attr]


def test_apply_edit() -> None:
    p = price(0.5)
    assert apply_edit(p, {"price": "96.5"}) == {"price": "96.5"}
    with pytest.raises(ValueError, match="positive"):
        apply_edit(p, {"price": "0"})
    with pytest.raises(ValueError, match="not part of the proposal"):
        apply_edit(p, {"quantity": 3})


def test_state_machine() -> None:
    assert next_status("pending", "approve") == "approved"
    assert next_status("pending", "edit_approve") == "approved"
    assert next_status("approved", "premise_changed") == "pending"
    assert next_status("auto_approved", "executed") == "executed"
    assert next_status("pending", "escalate") == "pending"
    for final in FINAL_STATUSES:
        for event in TRANSITIONS:
            with pytest.raises(InvalidTransition):
                next_status(final, event)
    with pytest.raises(InvalidTransition):
        next_status("pending", "executed")  # nothing acts without an approval


@pytest.mark.parametrize(
    ("confidence", "bucket"),
    [(0.0, 0.0), (0.09, 0.0), (0.1, 0.1), (0.7, 0.7), (0.85, 0.8), (0.99, 0.9), (1.0, 0.9)],
)
def test_confidence_bucket(confidence: float, bucket: float) -> None:
    assert confidence_bucket(confidence) == bucket


def test_proposal_validation() -> None:
    with pytest.raises(ValueError):
        Proposal(decision_type="x", subject="s", confidence=1.2)
    with pytest.raises(ValueError):
        Proposal(decision_type="x", subject="s", confidence=0.5, expires_at=datetime(2026, 1, 1))


NOT_MONEY = [
    ("Infinity", "finite"),
    ("-Infinity", "finite"),
    ("NaN", "finite"),
    ("sNaN", "finite"),
    (float("inf"), "finite"),
    ("1e30", "less than 10,000,000,000"),
    (1e30, "less than 10,000,000,000"),
    ("10000000000", "less than"),
    ("1e999999999", "less than"),
    ("-5", "positive"),
    ("0", "positive"),
    ("0.00001", "more than 4 decimal places"),
    ("twelve", "must be a number"),
    (None, "must be a number"),
    (True, "must be a number"),
    ({"amount": 1}, "must be a number"),
]


@pytest.mark.parametrize(("value", "message"), NOT_MONEY)
def test_edits_keep_money_finite_positive_and_within_the_column(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        apply_edit(price(0.5), {"price": value})
    assert "InvalidOperation" not in str(caught.value) and "<class" not in str(caught.value)


def test_edited_money_is_stored_plainly() -> None:
    assert apply_edit(price(0.5), {"price": "1e1"}) == {"price": "10"}
    assert apply_edit(price(0.5), {"price": " 96.1234 "}) == {"price": "96.1234"}
    assert apply_edit(price(0.5), {"price": "9999999999.9999"}) == {"price": "9999999999.9999"}


@pytest.mark.parametrize(("value", "message"), NOT_MONEY[:-3])
def test_proposals_refuse_money_that_is_not_money(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        price(0.5, new=value)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"proposed\.unit_cost"):
        Proposal(
            decision_type="purchase",
            subject="O",
            proposed={"quantity": 3, "unit_cost": value},
            confidence=0.5,
        )


def test_current_facts_may_be_unknown_or_zero_but_never_infinite() -> None:
    unknown = Proposal(
        decision_type="price_change",
        subject="S",
        current={"price": None},
        proposed={"price": "9"},
        confidence=0.5,
    )
    assert unknown.current["price"] is None
    assert price(0.5, old="0").current["price"] == "0"
    with pytest.raises(ValueError, match=r"current\.price must be a finite number"):
        price(0.5, old="Infinity")
    with pytest.raises(ValueError, match=r"current\.cost must not be negative"):
        price(0.5, cost="-1")


def test_expected_effect_is_typed_money() -> None:
    effect = ExpectedEffect(margin_delta="-1.25", revenue_delta=3, units_change_pct=-4.5, basis="28 days")
    assert effect.margin_delta == Decimal("-1.25") and effect.revenue_delta == Decimal(3)
    for bad in ({"margin_delta": "NaN"}, {"spend": "-3"}, {"revenue_delta": "1e40"}, {"units_change_pct": float("nan")},
                {"currency": "usd"}, {"bogus": 1}):  # fmt: skip
        with pytest.raises(ValueError):
            ExpectedEffect(**bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ISO 4217"):
        Proposal(decision_type="x", subject="s", confidence=0.5, currency="XYZ")


def test_a_purchase_shows_its_total_spend() -> None:
    order = Proposal(
        decision_type="purchase",
        subject="O",
        proposed={"quantity": 400, "unit_price": "1.40", "shipping": "12.50"},
        confidence=0.5,
    )
    effect = effect_of(order)
    assert effect is not None and effect.spend == Decimal("572.50")
    # the guard rail counts the same total, shipping included
    rails = GuardRails(max_purchase_amount=Decimal("570"))
    assert evaluate(
        order, Policy(decision_type="purchase", mode="full-auto", guardrails=rails)
    ).guardrail_hits == ["purchase of 572.50 exceeds 570.00"]
    carried = ExpectedEffect(margin_delta="2")
    assert effect_of(price(0.5).model_copy(update={"expected_effect": carried})) is carried
    assert effect_of(price(0.5)) is None
