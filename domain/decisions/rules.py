"""Decision policy: what an AI proposal may do on its own, and the life cycle of a decision.

Pure: no clock, no I/O. Callers pass `now` and the stored policy; this module answers with verdicts,
deadlines and next states, and the shell (workflow / activities / bulk path) applies them.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.bounds import MAX_TIMEOUT_HOURS

# the proposal is part of this module's vocabulary: callers import it from here too
from domain.decisions.proposal import (  # noqa: F401
    Evidence,
    ExpectedEffect,
    Factor,
    Proposal,
    as_decimal,
    effect_of,
    price_change_pct,
    purchase_amount,
    unit_price,
)
from domain.money import MONEY_KEYS, POSITIVE_KEYS, money_text, parse_money

# Decision types with a default policy. Which types may be proposed is not decided here: only those some feature
# registers an action for (workers.registry.decision_types()); listing_publish and purchase wait for theirs.
PRICE_CHANGE = "price_change"
LISTING_PUBLISH = "listing_publish"
PURCHASE = "purchase"  # buying stock to resell (the arbitrage loop)
PURCHASE_ORDER = "purchase_order"  # a purchase order to a supplier (replenishment)

Mode = Literal["manual", "semi-auto", "full-auto"]
OnTimeout = Literal["expire", "escalate"]
Action = Literal["approve", "reject", "edit_approve"]
DECIDER_ROLES = frozenset({"approver", "admin"})
DEFAULT_THRESHOLD = 0.85
MAX_MONEY = Decimal("1e9")  # above any real purchase, and inside the Numeric(14, 4) columns that hold money

# ---------------------------------------------------------------- states
PENDING = "pending"  # waits for a human
RECOMMENDED = "recommended"  # manual mode: recorded as a recommendation, nothing acts
AUTO_APPROVED = "auto_approved"
APPROVED = "approved"  # by a human, possibly with an edited value
REJECTED = "rejected"
EXPIRED = "expired"
EXECUTED = "executed"
FAILED = "failed"

STATUSES = (PENDING, RECOMMENDED, AUTO_APPROVED, APPROVED, REJECTED, EXPIRED, EXECUTED, FAILED)
FINAL_STATUSES = frozenset({RECOMMENDED, REJECTED, EXPIRED, EXECUTED, FAILED})

# event -> {from status: to status}. Anything not listed is an illegal transition.
TRANSITIONS: dict[str, dict[str, str]] = {
    "approve": {PENDING: APPROVED},
    "edit_approve": {PENDING: APPROVED},
    "reject": {PENDING: REJECTED},
    "expire": {PENDING: EXPIRED},
    "escalate": {PENDING: PENDING},
    # the premise (price, stock) moved between proposal and action: a human must look again
    "premise_changed": {APPROVED: PENDING, AUTO_APPROVED: PENDING},
    "executed": {APPROVED: EXECUTED, AUTO_APPROVED: EXECUTED},
    "failed": {APPROVED: FAILED, AUTO_APPROVED: FAILED},
}


def unknown_type(decision_type: str, known: Collection[str]) -> str | None:
    """Why a proposal of this type is refused (no feature acts on it), or None. Types are a closed set: the
    caller passes the registered ones, so a typo like "price-change" never waits for an approval that does nothing."""
    if decision_type in known:
        return None
    listed = ", ".join(sorted(known)) or "none"
    shown = decision_type if len(decision_type) <= 40 else decision_type[:39] + "…"
    return f"unknown decision type {shown!r}: no feature acts on it (known types: {listed})"


class InvalidTransition(ValueError):
    pass


def next_status(status: str, event: str) -> str:
    try:
        return TRANSITIONS[event][status]
    except KeyError:
        raise InvalidTransition(f"cannot {event} a decision that is {status}") from None


# ---------------------------------------------------------------- policy
class GuardRails(BaseModel):
    """Limits above which a human must always decide, whatever the mode and confidence."""

    # a misspelt rail must be an error, not silently no rail; an infinite limit is no limit either
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    max_price_change_pct: float | None = Field(default=None, ge=0, le=10_000, allow_inf_nan=False)
    max_purchase_amount: Decimal | None = Field(default=None, ge=0, le=MAX_MONEY, allow_inf_nan=False)
    # price changes that would go below cost always need a human
    block_below_cost: bool = True


class Policy(BaseModel):
    decision_type: str
    mode: Mode = "semi-auto"
    threshold: float = Field(default=DEFAULT_THRESHOLD, ge=0.0, le=1.0)
    guardrails: GuardRails = Field(default_factory=GuardRails)
    # how long one approver group has before the decision escalates or expires; bounded, so a deadline is always
    # a date (1e308 hours overflowed datetime and failed every workflow task of the type, forever)
    timeout_hours: float = Field(default=72.0, gt=0, le=MAX_TIMEOUT_HOURS, allow_inf_nan=False)
    on_timeout: OnTimeout = "expire"
    # escalation order: group 0 is asked first, the next one on each timeout
    escalation_groups: list[str] = Field(default_factory=lambda: ["approver", "admin"])


DEFAULT_POLICIES: dict[str, Policy] = {
    PRICE_CHANGE: Policy(
        decision_type=PRICE_CHANGE,
        mode="semi-auto",
        guardrails=GuardRails(max_price_change_pct=20.0),
        timeout_hours=24,
        on_timeout="escalate",
    ),
    LISTING_PUBLISH: Policy(decision_type=LISTING_PUBLISH, mode="semi-auto"),
    PURCHASE: Policy(
        decision_type=PURCHASE, mode="semi-auto", guardrails=GuardRails(max_purchase_amount=Decimal("500"))
    ),
    PURCHASE_ORDER: Policy(
        decision_type=PURCHASE_ORDER,
        mode="semi-auto",
        guardrails=GuardRails(max_purchase_amount=Decimal("500")),
    ),
}


def default_policy(decision_type: str) -> Policy:
    found = DEFAULT_POLICIES.get(decision_type)
    return found.model_copy(deep=True) if found else Policy(decision_type=decision_type)


Outcome = Literal["record_only", "wait", "auto_approve"]


class Verdict(BaseModel):
    outcome: Outcome
    reasons: list[str]
    guardrail_hits: list[str] = Field(default_factory=list)

    @property
    def initial_status(self) -> str:
        return {"record_only": RECOMMENDED, "wait": PENDING, "auto_approve": AUTO_APPROVED}[self.outcome]


def _amount(d: Decimal) -> str:
    """An amount in a sentence: cents when that is exact ("8.00", not "8.0000"), else every digit."""
    cents = d.quantize(Decimal("0.01"))
    return f"{cents:,.2f}" if cents == d else f"{d.normalize():,f}"


def guardrail_hits(proposal: Proposal, rails: GuardRails) -> list[str]:
    hits = []
    pct = price_change_pct(proposal)
    if rails.max_price_change_pct is not None and pct is not None and pct > rails.max_price_change_pct:
        hits.append(f"price change {pct:.1f}% exceeds {rails.max_price_change_pct:g}%")
    new_price, cost = as_decimal(proposal.proposed.get("price")), as_decimal(proposal.current.get("cost"))
    if rails.block_below_cost and new_price is not None and cost is not None and new_price < cost:
        hits.append(f"new price {_amount(new_price)} is below cost {_amount(cost)}")
    amount = purchase_amount(proposal)
    if rails.max_purchase_amount is not None and amount is not None and amount > rails.max_purchase_amount:
        hits.append(f"purchase of {_amount(amount)} exceeds {_amount(rails.max_purchase_amount)}")
    return hits


def evaluate(proposal: Proposal, policy: Policy) -> Verdict:
    """The autonomy decision: record only, wait for a human, or act now."""
    if policy.mode == "manual":
        return Verdict(outcome="record_only", reasons=["manual mode: recorded as a recommendation"])
    hits = guardrail_hits(proposal, policy.guardrails)
    if policy.mode == "semi-auto":
        return Verdict(
            outcome="wait", reasons=["semi-auto mode: always waits for approval"], guardrail_hits=hits
        )
    if hits:
        return Verdict(outcome="wait", reasons=["guard rail needs a human", *hits], guardrail_hits=hits)
    if proposal.confidence >= policy.threshold:
        return Verdict(
            outcome="auto_approve",
            reasons=[f"confidence {proposal.confidence:.2f} ≥ threshold {policy.threshold:.2f}"],
        )
    return Verdict(
        outcome="wait", reasons=[f"confidence {proposal.confidence:.2f} < threshold {policy.threshold:.2f}"]
    )


# ---------------------------------------------------------------- waiting: escalation and expiry
class Deadline(BaseModel):
    at: datetime
    action: Literal["escalate", "expire"]
    to_group: str | None = None


def next_deadline(
    policy: Policy, *, stage_started_at: datetime, escalation_level: int, proposal_expires_at: datetime | None
) -> Deadline:
    """When the current approver group's wait ends and what happens then.

    The proposal's own expiry always wins: a deal that ends in two hours does not wait for escalation.
    """
    at = stage_started_at + timedelta(hours=policy.timeout_hours)
    groups = policy.escalation_groups
    can_escalate = policy.on_timeout == "escalate" and escalation_level + 1 < len(groups)
    deadline = (
        Deadline(at=at, action="escalate", to_group=groups[escalation_level + 1])
        if can_escalate
        else Deadline(at=at, action="expire")
    )
    if proposal_expires_at is not None and proposal_expires_at <= deadline.at:
        return Deadline(at=proposal_expires_at, action="expire")
    return deadline


# ---------------------------------------------------------------- deciding
class Refusal(BaseModel):
    code: Literal["forbidden", "conflict", "invalid"]
    message: str


def check_decide(
    *,
    status: str,
    version: int,
    role: str,
    action: str,
    expected_version: int,
    decided_by: str | None = None,
    decided_at: datetime | None = None,
) -> Refusal | None:
    """Why a decide request must be refused, or None. Messages are shown to people as they are."""
    if role not in DECIDER_ROLES:
        return Refusal(code="forbidden", message=f"role '{role}' may not decide; approvers and admins can")
    if action not in ("approve", "reject", "edit_approve"):
        return Refusal(code="invalid", message=f"unknown action {action!r}")
    if status != PENDING:
        who = f" by {decided_by}" if decided_by else ""
        when = f" at {human_time(decided_at)}" if decided_at else ""
        return Refusal(code="conflict", message=f"already {status.replace('_', ' ')}{who}{when}")
    if version != expected_version:
        return Refusal(
            code="conflict",
            message=f"changed since you opened it: now version {version} (you saw version {expected_version})",
        )
    return None


def human_time(at: datetime) -> str:
    """A moment in messages people read (not ISO): "2026-12-03 10:15 UTC"."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if at.tzinfo else at.strftime("%Y-%m-%d %H:%M")


def clean_edit(edited: dict[str, Any]) -> dict[str, Any]:
    """The edited values with every money key checked and written plainly ("1e1" -> "10"). Callers check at the
    edge with this too, before the value travels as JSON (where a non-finite float would turn into null)."""
    cleaned = dict(edited)
    for key in MONEY_KEYS & cleaned.keys():
        minimum = "positive" if key in POSITIVE_KEYS else "zero"
        cleaned[key] = money_text(parse_money(cleaned[key], field=key, minimum=minimum))
    return cleaned


def apply_edit(proposal: Proposal, edited: dict[str, Any]) -> dict[str, Any]:
    """The proposed value after a human edit. Only keys the proposal has may change; money stays valid money
    (finite, within the column's scale, prices above zero). ValueError (MoneyError) with a message for people."""
    unknown = set(edited) - set(proposal.proposed)
    if unknown:
        raise ValueError(f"cannot edit {', '.join(sorted(unknown))}: not part of the proposal")
    return {**proposal.proposed, **clean_edit(edited)}


def confidence_bucket(confidence: float) -> float:
    """Lower edge of the 0.1-wide bucket; 1.0 falls into the top bucket [0.9, 1.0]."""
    return min(round(confidence * 1000) // 100, 9) / 10
