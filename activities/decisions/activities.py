"""Activities of the decision mechanism: thin adapters over its store, notices, bulk path and action executor.

The action of each decision type comes from the feature that proposes it (`Feature.action_handlers`, built by the
worker's composition root into `deps.decision_handlers`); a type nobody registered fails instead of "executing".
"""

from __future__ import annotations

from pydantic import ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.common.heartbeats import kept_alive_in_thread
from activities.decisions import bulk, notifications
from activities.decisions.actions import (
    ActionFailed,
    ActionHandler,
    NoActionHandler,
    check_premise,
    execute,
    outside_effect,
)
from activities.decisions.links import make_decision_link
from activities.decisions.repository import get_policy
from activities.decisions.store import apply_transition
from domain.decisions.rules import Policy, human_time, unknown_type
from merchflow.db.engine import session_scope
from merchflow.db.types import utcnow
from merchflow.logging import get_logger
from workers.deps import Deps
from workflows.decisions.contract import (
    BatchPageInput,
    BulkCreateInput,
    BulkCreateResult,
    DeliverInput,
    DeliverResult,
    ExecuteInput,
    ExecuteResult,
    ExpireOverdueInput,
    ExpireOverdueResult,
    LoadPolicyInput,
    NotifyInput,
    NotifyResult,
    PageResult,
    TransitionInput,
    TransitionResult,
)

log = get_logger(__name__)


class DecisionActivities:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.handlers: dict[str, ActionHandler] = deps.decision_handlers

    def handler_for(self, decision_type: str) -> ActionHandler:
        return self.handlers.get(decision_type) or NoActionHandler(decision_type)

    @activity.defn(name="decision.load_policy")
    def load_policy(self, inp: LoadPolicyInput) -> Policy:
        with session_scope(self.deps.engine) as session:
            view = get_policy(session, inp.decision_type)
        try:
            return view.to_policy()
        except ValidationError as exc:  # stored before its values were bounded: no retry makes it valid
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
            raise ApplicationError(
                f"stored policy of {inp.decision_type!r} is invalid ({problems}); save it again",
                type="InvalidPolicy",
                non_retryable=True,
            ) from None

    @activity.defn(name="decision.record_transition")
    def record_transition(self, inp: TransitionInput) -> TransitionResult:
        with session_scope(self.deps.engine) as session:
            return TransitionResult(applied=apply_transition(session, inp))

    @activity.defn(name="decision.execute_action")
    def execute_action(self, inp: ExecuteInput) -> ExecuteResult:
        # an action can take long (listings published on four marketplaces): heartbeats let a killed
        # worker's action be retried elsewhere within the heartbeat timeout
        with kept_alive_in_thread():
            return self._execute_action(inp)

    def _execute_action(self, inp: ExecuteInput) -> ExecuteResult:
        handler = self.handler_for(inp.proposal.decision_type)
        outside = outside_effect(handler)
        if outside is not None:
            with session_scope(self.deps.engine) as session:
                early = check_premise(session, inp, handler)
            if early is not None:
                log.info("decision action", decision_id=inp.decision_id, outcome=early.outcome)
                return early
            try:
                outside.perform(inp)  # outside any transaction; raises to retry, ActionFailed to fail
            except ActionFailed as exc:
                log.info("decision action failed", decision_id=inp.decision_id, error=str(exc))
                return ExecuteResult(outcome="failed", message=str(exc))
        with session_scope(self.deps.engine) as session:
            result = execute(session, inp, handler)
        log.info("decision action", decision_id=inp.decision_id, outcome=result.outcome)
        return result

    @activity.defn(name="decision.enqueue_notification")
    def enqueue_notification(self, inp: NotifyInput) -> NotifyResult:
        settings = self.deps.settings
        link = make_decision_link(settings, decision_id=inp.decision_id, version=inp.version)
        subject, body = notifications.compose(
            event=inp.event,
            decision_id=inp.decision_id,
            version=inp.version,
            proposal=inp.proposal,
            link=link,
            audience=inp.audience,
            deadline=human_time(inp.deadline) if inp.deadline else None,
        )
        with session_scope(self.deps.engine) as session:
            outbox_id, created = notifications.enqueue(
                session,
                dedupe_key=f"{inp.decision_id}:{inp.event}:v{inp.version}:l{inp.escalation_level}",
                decision_id=inp.decision_id,
                event=inp.event,
                audience=inp.audience,
                subject=subject,
                body=body,
                link=link,
            )
        return NotifyResult(outbox_id=outbox_id, created=created)

    @activity.defn(name="decision.deliver_notification")
    def deliver_notification(self, inp: DeliverInput) -> DeliverResult:
        with session_scope(self.deps.engine) as session:
            row = notifications.deliver(session, self.deps.settings, inp.outbox_id)
            status, channels, error = row.status, list(row.delivered), row.last_error
        if status == "pending":
            # progress is committed; the retry only tries the channels that failed
            raise ApplicationError(f"notification {inp.outbox_id} not delivered: {error}")
        return DeliverResult(outbox_id=inp.outbox_id, status=status, channels=channels)

    @activity.defn(name="decision.create_bulk")
    def create_bulk(self, inp: BulkCreateInput) -> BulkCreateResult:
        """Many decisions as rows, no workflow each (see activities.decisions.bulk for when to use which)."""
        refused = {m for i in inp.items if (m := unknown_type(i.proposal.decision_type, self.handlers))}
        if refused:
            # a retry cannot register a feature: fail now, visibly, instead of rows nobody can ever execute
            raise ApplicationError("; ".join(sorted(refused)), type="UnknownDecisionType", non_retryable=True)
        now = utcnow()
        with session_scope(self.deps.engine) as session:
            result = bulk.create_with_policies(session, inp.items, now=now, actor=inp.actor)
            types = {i.proposal.decision_type for i in inp.items}
            pending = result.by_status.get("pending", 0)
            if inp.notify and pending and result.created:
                first = inp.items[0].decision_id
                outbox_id, _ = notifications.enqueue(
                    session,
                    dedupe_key=f"batch:{first}:{len(inp.items)}",
                    decision_id=None,
                    event="batch_pending",
                    audience="approver",
                    subject=f"[merchflow] {pending} decisions need approval",
                    body=f"{pending} new decisions ({', '.join(sorted(types))}) wait in the approval queue.",
                    link=f"{self.deps.settings.base_url.rstrip('/')}/approvals",
                )
                result.outbox_id = outbox_id
        return result

    @activity.defn(name="decision.execute_approved_page")
    def execute_approved_page(self, inp: BatchPageInput) -> PageResult:
        with session_scope(self.deps.engine) as session:
            return bulk.execute_page(
                session, after_id=inp.after_id, limit=inp.limit, handler_for=self.handler_for, now=utcnow()
            )

    @activity.defn(name="decision.expire_overdue")
    def expire_overdue(self, inp: ExpireOverdueInput) -> ExpireOverdueResult:
        with session_scope(self.deps.engine) as session:
            return ExpireOverdueResult(expired=bulk.expire_overdue(session, now=utcnow(), limit=inp.limit))
