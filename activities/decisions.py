"""Activities of the decision mechanism: thin adapters over merchflow.decisions (database, notices, actions).

Action handlers are pluggable per decision type: features register theirs with `register_action_handler`
(e.g. a listing feature registers "listing_publish"); unknown types use the record-only handler.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.decisions import Policy
from merchflow.db.engine import session_scope
from merchflow.db.types import utcnow
from merchflow.decisions import bulk, notifications
from merchflow.decisions.actions import ActionHandler, PriceChangeHandler, RecordOnlyHandler, execute
from merchflow.decisions.links import make_decision_link
from merchflow.decisions.payloads import (
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
from merchflow.decisions.repository import get_policy
from merchflow.decisions.store import apply_transition
from merchflow.logging import get_logger
from workers.deps import Deps

log = get_logger(__name__)

ACTION_HANDLERS: dict[str, ActionHandler] = {"price_change": PriceChangeHandler()}
_RECORD_ONLY = RecordOnlyHandler()


def register_action_handler(decision_type: str, handler: ActionHandler) -> None:
    ACTION_HANDLERS[decision_type] = handler


def handler_for(decision_type: str) -> ActionHandler:
    return ACTION_HANDLERS.get(decision_type, _RECORD_ONLY)


class DecisionActivities:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    @activity.defn(name="decision.load_policy")
    def load_policy(self, inp: LoadPolicyInput) -> Policy:
        with session_scope(self.deps.engine) as session:
            return get_policy(session, inp.decision_type).to_policy()

    @activity.defn(name="decision.record_transition")
    def record_transition(self, inp: TransitionInput) -> TransitionResult:
        with session_scope(self.deps.engine) as session:
            return TransitionResult(applied=apply_transition(session, inp))

    @activity.defn(name="decision.execute_action")
    def execute_action(self, inp: ExecuteInput) -> ExecuteResult:
        with session_scope(self.deps.engine) as session:
            result = execute(session, inp, handler_for(inp.proposal.decision_type))
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
            deadline=inp.deadline.isoformat(timespec="minutes") if inp.deadline else None,
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
        """Many decisions as rows, no workflow each (see merchflow.decisions.bulk for when to use which)."""
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
                session, after_id=inp.after_id, limit=inp.limit, handler_for=handler_for, now=utcnow()
            )

    @activity.defn(name="decision.expire_overdue")
    def expire_overdue(self, inp: ExpireOverdueInput) -> ExpireOverdueResult:
        with session_scope(self.deps.engine) as session:
            return ExpireOverdueResult(expired=bulk.expire_overdue(session, now=utcnow(), limit=inp.limit))


ACTIVITIES: list[type] = [DecisionActivities]
