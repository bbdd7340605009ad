"""Acting on an approved decision: pluggable handlers per decision type, run under an idempotency key.

Features register a handler per decision type they propose (`Feature.action_handlers`); the mechanism knows none
of them. A type without a handler cannot be executed: its decision fails with that reason, it is never shown as
"executed" for an action that did not run.

Every handler first locks and re-reads the facts the proposal assumed (its premise). If they moved, nothing
acts and the caller sends the decision back to a human with the new facts. The action and its idempotency
row commit in one transaction, so a duplicated or retried approval finds the row and does not act twice.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlmodel import Session

from activities.decisions.tables import DecisionAction
from workflows.decisions.contract import ExecuteInput, ExecuteResult


class ActionFailed(Exception):
    """A business reason the action cannot be done (not retried): the decision ends as failed."""


class NoActionHandler:
    """What the executor uses for a type no feature acts on: the decision fails, visibly, with the reason."""

    def __init__(self, decision_type: str) -> None:
        self.decision_type = decision_type

    def lock(self, session: Session, req: ExecuteInput) -> None:
        return None

    def changed_premise(self, session: Session, req: ExecuteInput) -> dict[str, Any] | None:
        raise ActionFailed(f"no action is registered for decision type {self.decision_type!r}")

    def act(self, session: Session, req: ExecuteInput) -> dict[str, Any]:
        raise ActionFailed(f"no action is registered for decision type {self.decision_type!r}")


class ActionHandler(Protocol):
    def lock(self, session: Session, req: ExecuteInput) -> None:
        """Take the locks the premise check and the action need (FOR UPDATE on PostgreSQL)."""

    def changed_premise(self, session: Session, req: ExecuteInput) -> dict[str, Any] | None:
        """None when the facts are still what the proposal assumed, else the facts as they are now."""

    def act(self, session: Session, req: ExecuteInput) -> dict[str, Any]:
        """Do it; return what was done (stored with the idempotency key and shown in the audit)."""


class OutsideEffect(Protocol):
    """A handler whose action lies outside the database (e.g. publishing listings on marketplaces) adds `perform`.

    The executor then checks the premise in a short transaction, calls `perform(req)` outside any transaction (a
    slow remote call must not hold a database lock), and only then runs `execute` as usual, where `act` records
    what `perform` achieved. `perform` must be idempotent under `req.idempotency_key` (a retried activity calls it
    again); it raises ActionFailed for a business reason, anything else to have the activity retried. The decision
    is "executed" only once `act` has run, i.e. once the outside effect is done."""

    def perform(self, req: ExecuteInput) -> dict[str, Any]: ...


def outside_effect(handler: Any) -> OutsideEffect | None:
    return handler if callable(getattr(handler, "perform", None)) else None


def check_premise(session: Session, req: ExecuteInput, handler: ActionHandler) -> ExecuteResult | None:
    """Before an outside effect: None when it may go ahead, else the result to report instead."""
    handler.lock(session, req)
    done = session.get(DecisionAction, req.idempotency_key)
    if done is not None:
        return ExecuteResult(outcome="already_executed", result=done.result, message="executed before")
    try:
        changed = handler.changed_premise(session, req)
    except ActionFailed as exc:
        return ExecuteResult(outcome="failed", message=str(exc))
    if changed is not None:
        return ExecuteResult(
            outcome="premise_changed", current=changed, message="facts changed since the proposal"
        )
    return None


def execute(session: Session, req: ExecuteInput, handler: ActionHandler) -> ExecuteResult:
    """Lock, then look for the idempotency row (so a concurrent duplicate that waited on the lock sees the
    first one's row), re-check the premise, act, and record the key — all in the caller's transaction."""
    handler.lock(session, req)
    done = session.get(DecisionAction, req.idempotency_key)
    if done is not None:
        return ExecuteResult(outcome="already_executed", result=done.result, message="executed before")
    try:
        changed = handler.changed_premise(session, req)
        if changed is not None:
            return ExecuteResult(
                outcome="premise_changed", current=changed, message="facts changed since the proposal"
            )
        result = handler.act(session, req)
    except ActionFailed as exc:
        return ExecuteResult(outcome="failed", message=str(exc))
    session.add(
        DecisionAction(
            idempotency_key=req.idempotency_key,
            decision_id=req.decision_id,
            decision_type=req.proposal.decision_type,
            result=result,
        )
    )
    # no flush here: the caller's commit (or savepoint release) writes it; a duplicate key fails there
    return ExecuteResult(outcome="executed", result=result, message="done")
