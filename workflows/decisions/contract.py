"""The decisions mechanism's contract: workflow names and ids, task queue, update / query / signal names, payloads.

A leaf: pydantic and the pure domain only. The API, the workflows and the activities take their types from here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from domain.bounds import Version
from domain.decisions.rules import Proposal

TASK_QUEUE = "main"  # logical name; the real queue is settings.task_queue(TASK_QUEUE)

DECISION_WORKFLOW = "decision"
BATCH_WORKFLOW = "decision-batch-execute"
BATCH_EXECUTOR_ID = "decision-batch-executor"  # + "-<task queue>": one executor per deployment
BATCH_SIGNAL = "more"

DECIDE_UPDATE = "decide"
STATE_QUERY = "state"


def decision_workflow_id(decision_id: str) -> str:
    return f"decision-{decision_id}"


def action_key(decision_id: str, version: int) -> str:
    """The idempotency key of a decision version's action: the workflow and the bulk path use the same."""
    return f"{decision_id}:v{version}"


class DecisionInput(BaseModel):
    decision_id: str = Field(min_length=1, max_length=64)
    proposal: Proposal
    notify: bool = True


class DecideRequest(BaseModel):
    action: Literal["approve", "reject", "edit_approve"]
    actor: str
    role: str
    expected_version: int
    edited_value: dict[str, Any] | None = None
    comment: str | None = Field(default=None, max_length=2000)


class DecideResult(BaseModel):
    decision_id: str
    status: str
    version: int
    message: str


class DecisionState(BaseModel):
    decision_id: str
    status: str
    version: int
    decision_type: str
    mode: str
    proposed: dict[str, Any]
    current: dict[str, Any]
    escalation_level: int
    waiting_on: str | None  # approver group currently asked
    deadline: datetime | None
    approver: str | None
    decided_at: datetime | None
    comment: str | None


class DecisionResult(BaseModel):
    """What the child workflow tells its parent."""

    decision_id: str
    status: str  # recommended | executed | rejected | expired | failed
    version: int
    approver: str | None
    executed: bool
    action_result: dict[str, Any] = Field(default_factory=dict)
    message: str = ""


# ---------------------------------------------------------------- activities
class LoadPolicyInput(BaseModel):
    decision_type: str


class TransitionInput(BaseModel):
    """One state change: row update + audit line (+ outcome label), applied once per event_id."""

    event_id: str
    decision_id: str
    action: str  # proposed | auto_approved | approved | edited | rejected | expired | escalated | ...
    actor: str
    at: datetime
    status: str
    version: int
    proposal: Proposal
    workflow_id: str | None = None
    approver: str | None = None
    comment: str | None = None
    decided_at: datetime | None = None
    executed_at: datetime | None = None
    expires_at: datetime | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    outcome: str | None = None  # label for calibration: approved | edited | rejected | expired


class TransitionResult(BaseModel):
    applied: bool  # False: this event was applied before (activity retry)


class ExecuteInput(BaseModel):
    decision_id: str
    version: int
    idempotency_key: str
    proposal: Proposal
    approver: str | None = None


class ExecuteResult(BaseModel):
    outcome: Literal["executed", "premise_changed", "already_executed", "failed"]
    current: dict[str, Any] = Field(default_factory=dict)  # the facts found when the premise failed
    result: dict[str, Any] = Field(default_factory=dict)
    message: str = ""


class NotifyInput(BaseModel):
    decision_id: str
    version: int
    event: Literal["needs_approval", "escalated", "premise_changed"]
    audience: str
    escalation_level: int = 0
    proposal: Proposal
    deadline: datetime | None = None


class NotifyResult(BaseModel):
    outbox_id: int
    created: bool


class DeliverInput(BaseModel):
    outbox_id: int


class DeliverResult(BaseModel):
    outbox_id: int
    status: str  # sent | logged | failed
    channels: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------- bulk path
class BatchKick(BaseModel):
    reason: str = "approved"


class BatchExecuteWorkflowInput(BaseModel):
    page_size: int = Field(default=500, ge=1, le=5000)
    after_id: str = ""  # cursor carried over continue-as-new
    rescan: bool = False  # a nudge arrived before continue-as-new: scan from the start once more
    executed: int = 0
    premise_changed: int = 0
    failed: int = 0
    expired: int = 0


class BatchExecuteWorkflowResult(BaseModel):
    executed: int
    premise_changed: int
    failed: int
    expired: int


class BatchPageInput(BaseModel):
    after_id: str
    limit: int


class FollowUp(BaseModel):
    """A workflow an executed action asks for (e.g. a listing price change: the account's price publish). The
    batch executor starts it once the page has committed, or signals it when it already runs."""

    workflow: str
    workflow_id: str
    arg: dict[str, Any] = Field(default_factory=dict)
    signal: str = "more"


class PageResult(BaseModel):
    next_cursor: str
    done: bool
    executed: int = 0
    premise_changed: int = 0
    failed: int = 0
    follow_ups: list[FollowUp] = Field(default_factory=list)


class ExpireOverdueInput(BaseModel):
    limit: int = 5000


class ExpireOverdueResult(BaseModel):
    expired: int


class BulkItem(BaseModel):
    decision_id: str = Field(min_length=1, max_length=64)
    proposal: Proposal


class BulkCreateResult(BaseModel):
    created: int
    skipped: int  # ids that already existed (a retried activity)
    by_status: dict[str, int]
    outbox_id: int | None = None  # the batch's summary notice, for deliver_notification


class BulkCreateInput(BaseModel):
    """At most a few thousand proposals per call: payloads above ~2 MB fail. Larger jobs call
    activities.decisions.bulk.create_pending from their own activity."""

    items: list[BulkItem]
    actor: str = "system"
    notify: bool = True


# ---------------------------------------------------------------- deciding many at once
class BulkDecideItem(BaseModel):
    decision_id: str = Field(min_length=1, max_length=64)
    expected_version: Version


class BulkDecideOutcome(BaseModel):
    decision_id: str
    ok: bool
    status: str | None = None
    version: int | None = None
    code: str | None = None
    message: str
