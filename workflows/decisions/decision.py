"""The reusable `decision` child workflow: propose → (policy) → wait for a human → act → report.

Any process starts it with a typed Proposal (as a child workflow on the main task queue, workflow id
`decision-<id>`). The policy may record the proposal only (manual), act at once (full-auto above the
threshold, no guard rail hit) or wait. Waiting is a durable timer per approver group: on timeout the
decision escalates to the next group or expires. People answer through the `decide` update; the approved
action runs as an activity that re-checks its premise and is keyed by decision id + version.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import NoReturn

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.decisions.activities import DecisionActivities
    from domain.decisions.rules import (
        APPROVED,
        AUTO_APPROVED,
        FAILED,
        PENDING,
        RECOMMENDED,
        Deadline,
        Policy,
        Proposal,
        apply_edit,
        check_decide,
        evaluate,
        next_deadline,
        next_status,
    )
    from merchflow.temporal import DECISION_STATUS
    from workflows.common.retries import ACT, DELIVERY, FAST
    from workflows.decisions.contract import (
        DECIDE_UPDATE,
        DECISION_WORKFLOW,
        STATE_QUERY,
        DecideRequest,
        DecideResult,
        DecisionInput,
        DecisionResult,
        DecisionState,
        DeliverInput,
        ExecuteInput,
        ExecuteResult,
        FollowUp,
        LoadPolicyInput,
        NotifyInput,
        TransitionInput,
        action_key,
    )
    from workflows.decisions.follow_ups import start_or_nudge

_DB = {"start_to_close_timeout": timedelta(seconds=30), "retry_policy": FAST}
# the action heartbeats a few times within this (kept_alive_in_thread), so a dead worker's action is retried soon
ACTION_HEARTBEAT_TIMEOUT = timedelta(seconds=20)
_ERROR_TYPES = {
    "forbidden": "DecisionForbidden",
    "conflict": "DecisionConflict",
    "invalid": "DecisionInvalid",
}
_VERBS = {"approve": "approved", "edit_approve": "edited", "reject": "rejected"}
NEW = "new"  # before the proposal is recorded


@workflow.defn(name=DECISION_WORKFLOW)
class DecisionWorkflow:
    @workflow.init
    def __init__(self, inp: DecisionInput) -> None:
        self._id = inp.decision_id
        self._proposal: Proposal = inp.proposal
        self._notify = inp.notify
        self._status = NEW
        self._version = 1
        self._policy: Policy | None = None
        self._escalation = 0
        self._deadline: datetime | None = None
        self._approver: str | None = None
        self._decided_at: datetime | None = None
        self._comment: str | None = None
        self._recording = 0  # update handlers still writing their state change
        self._message = ""
        self._notices: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------ run
    @workflow.run
    async def run(self, inp: DecisionInput) -> DecisionResult:
        try:
            self._policy = await workflow.execute_activity_method(
                DecisionActivities.load_policy,
                LoadPolicyInput(decision_type=self._proposal.decision_type),
                **_DB,
            )
            self._next_deadline(workflow.now())  # a policy whose deadline is no date can never be waited on
        except (ActivityError, OverflowError, ValueError) as exc:
            why = exc.cause if isinstance(exc, ActivityError) else exc
            await self._fail_unusable(f"the {self._proposal.decision_type!r} policy cannot be used: {why}")
        verdict = evaluate(self._proposal, self._policy)
        self._status = verdict.initial_status
        self._deadline = self._next_deadline(workflow.now()).at if self._status == PENDING else None
        await self._record(
            "proposed",
            actor=self._proposal.requested_by or "system",
            details={
                "verdict": verdict.model_dump(),
                "mode": self._policy.mode,
                "threshold": self._policy.threshold,
            },
        )
        if self._status == RECOMMENDED:
            return self._result(executed=False, message="recorded as a recommendation (manual mode)")
        if self._status == AUTO_APPROVED:
            self._approver, self._decided_at = "policy", workflow.now()
            await self._record("auto_approved", actor="policy", details={"reasons": verdict.reasons})
        event = "needs_approval"
        while True:
            if self._status == PENDING:
                self._start_notice(event)
                await self._wait_for_human()
            # a person may have decided while "proposed" was still being recorded, before the wait began:
            # only an approval acts, a rejection made that early ends the decision like any other
            if self._status not in (APPROVED, AUTO_APPROVED):
                break
            outcome = await self._act()
            if outcome is not None:
                await workflow.wait_condition(workflow.all_handlers_finished)
                return outcome
            event = "premise_changed"
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._result(executed=False, message=self._message)

    async def _wait_for_human(self) -> str:
        stage_started = workflow.now()
        while True:
            deadline = self._next_deadline(stage_started)
            self._deadline = deadline.at
            # at least a second: a zero timer is not a timer on every server
            remaining = max(deadline.at - workflow.now(), timedelta(seconds=1))
            try:
                await workflow.wait_condition(lambda: self._status != PENDING, timeout=remaining)
            except TimeoutError:
                if self._status != PENDING:  # a decision and the timer landed together: the decision wins
                    pass
                elif deadline.action == "escalate":
                    self._escalation += 1
                    stage_started = workflow.now()
                    self._deadline = self._next_deadline(stage_started).at
                    await self._record(
                        "escalated",
                        actor="system",
                        details={"level": self._escalation, "to_group": deadline.to_group},
                    )
                    self._start_notice("escalated")
                    continue
                else:
                    self._status = next_status(self._status, "expire")
                    self._message = "expired without a decision"
                    await self._record("expired", actor="system", outcome="expired")
            # let the update handler finish recording before anything else is written
            await workflow.wait_condition(lambda: self._recording == 0)
            return self._status

    async def _act(self) -> DecisionResult | None:
        """Executes; None means the premise moved and the decision is pending again."""
        req = ExecuteInput(
            decision_id=self._id,
            version=self._version,
            # derived from decision id and version: a second approval of the same version finds the first
            idempotency_key=action_key(self._id, self._version),
            proposal=self._proposal,
            approver=self._approver,
        )
        try:
            res = await workflow.execute_activity_method(
                DecisionActivities.execute_action,
                req,
                start_to_close_timeout=timedelta(minutes=2),
                heartbeat_timeout=ACTION_HEARTBEAT_TIMEOUT,
                retry_policy=ACT,
            )
        except ActivityError as exc:
            res = ExecuteResult(outcome="failed", message=str(exc.cause or exc))
        if res.outcome in ("executed", "already_executed"):
            self._status = next_status(self._status, "executed")
            await self._record("executed", actor="system", details={"result": res.result}, executed=True)
            # e.g. a listing's new price: the account's price publish, as the bulk executor starts it (patched:
            # histories recorded before decisions started follow-ups replay without the child workflow)
            follow = res.result.get("follow_up")
            if follow and workflow.patched("decision-follow-up"):
                await start_or_nudge(FollowUp.model_validate(follow))
            return self._result(executed=True, action_result=res.result, message=res.message)
        if res.outcome == "failed":
            self._status = FAILED
            await self._record("failed", actor="system", details={"error": res.message})
            return self._result(executed=False, message=res.message)
        # premise changed: new facts, new version; whoever approved the old facts did not approve these
        self._status = next_status(self._status, "premise_changed")
        self._version += 1
        self._proposal = self._proposal.model_copy(update={"current": res.current})
        self._approver = self._decided_at = self._comment = None
        self._escalation = 0
        self._deadline = self._next_deadline(workflow.now()).at
        await self._record("premise_changed", actor="system", details={"current": res.current})
        return None

    # ------------------------------------------------------------ the update
    def _refusal(self, req: DecideRequest) -> ApplicationError | None:
        if self._status == NEW:
            return ApplicationError(
                "not ready yet; try again in a moment", type="DecisionConflict", non_retryable=True
            )
        refusal = check_decide(
            status=self._status,
            version=self._version,
            role=req.role,
            action=req.action,
            expected_version=req.expected_version,
            decided_by=self._approver,
            decided_at=self._decided_at,
        )
        if refusal is None and req.action == "edit_approve":
            try:
                apply_edit(self._proposal, req.edited_value or {})
            except ValueError as exc:
                return ApplicationError(str(exc), type="DecisionInvalid", non_retryable=True)
        if refusal is None:
            return None
        return ApplicationError(refusal.message, type=_ERROR_TYPES[refusal.code], non_retryable=True)

    @workflow.update(name=DECIDE_UPDATE)
    async def decide(self, req: DecideRequest) -> DecideResult:
        # validators of updates delivered together all pass before any handler runs: check again here,
        # synchronously, so of two concurrent approvals exactly one changes the state
        refusal = self._refusal(req)
        if refusal is not None:
            raise refusal
        details: dict[str, object] = {}
        if req.action == "edit_approve":
            edited = apply_edit(self._proposal, req.edited_value or {})
            details = {"previous_value": self._proposal.proposed, "edited_value": req.edited_value}
            self._proposal = self._proposal.model_copy(update={"proposed": edited})
        self._status = next_status(self._status, req.action)
        self._approver, self._decided_at, self._comment = req.actor, workflow.now(), req.comment
        verb = _VERBS[req.action]
        self._message = f"{verb} by {req.actor}"
        self._recording += 1
        try:
            await self._record(verb, actor=req.actor, details=details, outcome=verb)
        finally:
            self._recording -= 1
        return DecideResult(
            decision_id=self._id, status=self._status, version=self._version, message=self._message
        )

    @decide.validator
    def _validate_decide(self, req: DecideRequest) -> None:
        refusal = self._refusal(req)
        if refusal is not None:
            raise refusal

    @workflow.query(name=STATE_QUERY)
    def state(self) -> DecisionState:
        groups = self._policy.escalation_groups if self._policy else []
        return DecisionState(
            decision_id=self._id,
            status=self._status,
            version=self._version,
            decision_type=self._proposal.decision_type,
            mode=self._policy.mode if self._policy else "",
            proposed=self._proposal.proposed,
            current=self._proposal.current,
            escalation_level=self._escalation,
            waiting_on=groups[min(self._escalation, len(groups) - 1)]
            if groups and self._status == PENDING
            else None,
            deadline=self._deadline if self._status == PENDING else None,
            approver=self._approver,
            decided_at=self._decided_at,
            comment=self._comment,
        )

    # ------------------------------------------------------------ helpers
    async def _fail_unusable(self, reason: str) -> NoReturn:
        """Input no retry can heal: recorded as failed with the reason (the API and pages show it), and the workflow
        fails with it - instead of a workflow task failing on every retry, forever, with nothing recorded."""
        self._status, self._message = FAILED, reason
        await self._record("failed", actor="system", details={"error": reason})
        raise ApplicationError(reason, type="UnusablePolicy", non_retryable=True)

    def _next_deadline(self, stage_started: datetime) -> Deadline:
        assert self._policy is not None
        return next_deadline(
            self._policy,
            stage_started_at=stage_started,
            escalation_level=self._escalation,
            proposal_expires_at=self._proposal.expires_at,
        )

    async def _record(
        self,
        action: str,
        *,
        actor: str,
        details: dict | None = None,
        outcome: str | None = None,
        executed: bool = False,
    ) -> None:
        await workflow.execute_activity_method(
            DecisionActivities.record_transition,
            TransitionInput(
                event_id=str(workflow.uuid4()),
                decision_id=self._id,
                action=action,
                actor=actor,
                at=workflow.now(),
                status=self._status,
                version=self._version,
                proposal=self._proposal,
                workflow_id=workflow.info().workflow_id,
                approver=self._approver,
                comment=self._comment,
                decided_at=self._decided_at,
                executed_at=workflow.now() if executed else None,
                expires_at=self._deadline if self._status == PENDING else self._proposal.expires_at,
                details=details or {},
                outcome=outcome,
            ),
            **_DB,
        )
        workflow.upsert_search_attributes([DECISION_STATUS.value_set(self._status)])

    def _start_notice(self, event: str) -> None:
        if not self._notify or self._policy is None:
            return
        groups = self._policy.escalation_groups or ["approver"]
        notice = NotifyInput(
            decision_id=self._id,
            version=self._version,
            event=event,  # type: ignore[arg-type]
            audience=groups[min(self._escalation, len(groups) - 1)],
            escalation_level=self._escalation,
            proposal=self._proposal,
            deadline=self._deadline,
        )
        # in the background: a slow mail server must not hold up a decision that is already being made
        task = asyncio.create_task(self._send(notice))
        self._notices.add(task)
        task.add_done_callback(self._notices.discard)

    async def _send(self, notice: NotifyInput) -> None:
        try:
            queued = await workflow.execute_activity_method(
                DecisionActivities.enqueue_notification, notice, **_DB
            )
            await workflow.execute_activity_method(
                DecisionActivities.deliver_notification,
                DeliverInput(outbox_id=queued.outbox_id),
                start_to_close_timeout=timedelta(minutes=1),
                retry_policy=DELIVERY,
            )
        except ActivityError as exc:
            workflow.logger.warning(
                "notification not delivered; it stays in the outbox: %s", exc.cause or exc
            )

    def _result(
        self, *, executed: bool, action_result: dict | None = None, message: str = ""
    ) -> DecisionResult:
        return DecisionResult(
            decision_id=self._id,
            status=self._status,
            version=self._version,
            approver=self._approver,
            executed=executed,
            action_result=action_result or {},
            message=message or self._message,
        )
