"""`purchase-order`: one PO from proposal to delivery.

decision (the `decision` child workflow: autonomy policy, approvers) -> sent to the supplier by email (PDF + CSV;
retried, then waiting for a `resend` signal once the supplier's address or the mail server is fixed) -> confirmed
(update) -> receipts (update, partial allowed: each enters the stock ledger and starts `stock-publish` for its
SKUs, so every marketplace shows the new stock) -> received; `cancel` (update) closes it at any point before.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.replenishment.activities import ReplenishmentActivities
    from workflows.common.retries import ACT, DELIVERY, FAST
    from workflows.decisions.contract import (
        DECISION_WORKFLOW,
        DecisionInput,
        DecisionResult,
        decision_workflow_id,
    )
    from workflows.replenishment.contract import (
        CANCEL_UPDATE,
        CONFIRM_UPDATE,
        FINAL_STATUSES,
        PO_WORKFLOW,
        RECEIVE_UPDATE,
        RESEND_SIGNAL,
        STATE_QUERY,
        CancelRequest,
        ConfirmRequest,
        PoState,
        PoStatusInput,
        PurchaseOrderInput,
        ReceiveInput,
        ReceiveRequest,
        ReceiveResult,
        SendPoInput,
        po_decision_id,
    )
    from workflows.stock.contract import PUBLISH_WORKFLOW, PublishInput

_DB = {"start_to_close_timeout": timedelta(seconds=60), "retry_policy": FAST}
_DECIDED = {"rejected": "rejected", "expired": "expired", "failed": "failed", "recommended": "cancelled"}


@workflow.defn(name=PO_WORKFLOW)
class PurchaseOrderWorkflow:
    @workflow.init
    def __init__(self, inp: PurchaseOrderInput) -> None:
        self._state = PoState(po_id=inp.po_id, status="approved" if inp.decided else "proposed")
        self._resend = False
        self._busy = 0

    @workflow.query(name=STATE_QUERY)
    def state(self) -> PoState:
        return self._state

    @workflow.run
    async def run(self, inp: PurchaseOrderInput) -> PoState:
        st = self._state
        if not inp.decided:
            did = po_decision_id(inp.po_id)
            try:
                decision: DecisionResult = await workflow.execute_child_workflow(
                    DECISION_WORKFLOW, DecisionInput(decision_id=did, proposal=inp.proposal),
                    id=decision_workflow_id(did), result_type=DecisionResult,
                    parent_close_policy=ParentClosePolicy.ABANDON,
                )  # fmt: skip
            except ChildWorkflowError as exc:
                decision = DecisionResult(decision_id=did, status="failed", version=0, approver=None, executed=False,
                                          message=str(exc.cause or exc))  # fmt: skip
            st.decision_status = decision.status
            if not decision.executed:
                if st.status not in FINAL_STATUSES:  # cancelled while the decision waited: stays cancelled
                    await self._set(_DECIDED.get(decision.status, "cancelled"), decision.message)
                return st
            if st.status == "proposed":
                st.status = "approved"
        while st.status == "approved":
            try:
                await workflow.execute_activity_method(
                    ReplenishmentActivities.send, SendPoInput(po_id=inp.po_id),
                    start_to_close_timeout=timedelta(minutes=2), retry_policy=DELIVERY,
                )  # fmt: skip
                st.send_attempts += 1
                if st.status == "approved":
                    st.status = "sent"
                st.last_error = None
            except ActivityError as exc:
                st.send_attempts += 1
                st.last_error = str(exc.cause or exc)
                workflow.logger.warning("PO %s not sent: %s", inp.po_id, st.last_error)
                self._resend = False
                await workflow.wait_condition(lambda: self._resend or st.status != "approved")
        await workflow.wait_condition(lambda: st.status in FINAL_STATUSES and self._busy == 0)
        return st

    async def _set(self, status: str, note: str | None = None) -> str:
        r = await workflow.execute_activity_method(
            ReplenishmentActivities.set_status,
            PoStatusInput(po_id=self._state.po_id, status=status, note=note),
            **_DB,
        )
        self._state.status = r.status
        return r.status

    @workflow.signal(name=RESEND_SIGNAL)
    def resend(self) -> None:
        self._resend = True

    @workflow.update(name=CONFIRM_UPDATE)
    async def confirm(self, req: ConfirmRequest) -> PoState:
        self._busy += 1
        try:
            await self._set("confirmed", f"confirmed by {req.actor}" + (f": {req.note}" if req.note else ""))
        finally:
            self._busy -= 1
        return self._state

    @confirm.validator
    def _check_confirm(self, req: ConfirmRequest) -> None:
        if self._state.status not in ("approved", "sent", "confirmed"):
            raise ApplicationError(f"purchase order is {self._state.status}: only a sent PO can be confirmed",
                                   type="PoConflict", non_retryable=True)  # fmt: skip

    @workflow.update(name=RECEIVE_UPDATE)
    async def receive(self, req: ReceiveRequest) -> ReceiveResult:
        self._busy += 1
        try:
            r: ReceiveResult = await workflow.execute_activity_method(
                ReplenishmentActivities.receive, ReceiveInput(po_id=self._state.po_id, **req.model_dump()),
                start_to_close_timeout=timedelta(minutes=2), retry_policy=ACT,
            )  # fmt: skip
            self._state.status = r.status
            if r.applied and r.skus:
                wid = f"stock-publish-{self._state.po_id}-{req.receipt_id}"
                await workflow.start_child_workflow(
                    PUBLISH_WORKFLOW, PublishInput(skus=r.skus, reason=f"receipt {req.receipt_id} of {self._state.po_id}"),
                    id=wid, parent_close_policy=ParentClosePolicy.ABANDON,
                )  # fmt: skip
                r.publish_workflow_id = wid
        except ActivityError as exc:
            cause = exc.cause
            message = cause.message if isinstance(cause, ApplicationError) else str(cause or exc)
            raise ApplicationError(message, type="PoConflict", non_retryable=True) from None
        finally:
            self._busy -= 1
        return r

    @receive.validator
    def _check_receive(self, req: ReceiveRequest) -> None:
        if self._state.status in ("proposed", *FINAL_STATUSES) and self._state.status != "received":
            raise ApplicationError(f"purchase order is {self._state.status}: nothing can be received against it",
                                   type="PoConflict", non_retryable=True)  # fmt: skip

    @workflow.update(name=CANCEL_UPDATE)
    async def cancel(self, req: CancelRequest) -> PoState:
        self._busy += 1
        try:
            await self._set(
                "cancelled", f"cancelled by {req.actor}" + (f": {req.reason}" if req.reason else "")
            )
        finally:
            self._busy -= 1
        return self._state

    @cancel.validator
    def _check_cancel(self, req: CancelRequest) -> None:
        if self._state.status in FINAL_STATUSES:
            raise ApplicationError(f"purchase order is already {self._state.status}", type="PoConflict",
                                   non_retryable=True)  # fmt: skip
