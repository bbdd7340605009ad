"""The `llm_budget` action: a person raised an LLM cost cap (for one batch, or for the day) by the approved amount.

The batch that reached the cap asked through this decision instead of failing; its waiting products go on with
the LLM when it is executed, and with the offline drafter when it is rejected or expires.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from sqlmodel import Session

from activities.decisions.actions import ActionFailed
from activities.ingest.llm_store import raise_cap
from workers.deps import Deps
from workflows.decisions.contract import ExecuteInput

MAX_RAISE = Decimal("100000")


def scope_of(req: ExecuteInput) -> str:
    scope = req.proposal.current.get("scope")
    if not isinstance(scope, str) or not scope.startswith(("run:", "day:")):
        raise ActionFailed("the proposal names no cost cap")
    return scope


def amount_of(req: ExecuteInput) -> Decimal:
    raw = req.proposal.proposed.get("amount")
    try:
        amount = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise ActionFailed(f"amount must be a number, not {str(raw)[:30]!r}") from None
    if not amount.is_finite() or amount <= 0 or amount > MAX_RAISE:
        raise ActionFailed(f"amount must be above 0 and at most {MAX_RAISE}")
    return amount.quantize(Decimal("0.0001"))


class LlmBudgetHandler:
    def __init__(self, deps: Deps | None = None) -> None:
        self.deps = deps

    def lock(self, session: Session, req: ExecuteInput) -> None:
        return None

    def changed_premise(self, session: Session, req: ExecuteInput) -> dict[str, Any] | None:
        scope_of(req)
        amount_of(req)
        return None

    def act(self, session: Session, req: ExecuteInput) -> dict[str, Any]:
        scope, amount = scope_of(req), amount_of(req)
        extra = raise_cap(session, scope=scope, amount=amount)
        return {"scope": scope, "raised_by": str(amount), "extra": str(extra)}
