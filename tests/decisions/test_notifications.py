"""Notification outbox and delivery: SMTP (a real local SMTP server), a Slack-style webhook (a local HTTP
server), the offline default, partial failures, and the signed link each message carries."""

from __future__ import annotations

import asyncio
import re

import pytest
from sqlmodel import select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from activities.decisions import notifications
from activities.decisions.activities import DecisionActivities
from activities.decisions.links import verify_decision_link
from activities.decisions.service import decide
from activities.decisions.tables import NotificationOutbox
from merchflow.db.engine import read_session, session_scope
from merchflow.settings import NotificationSettings
from tests.decisions.conftest import add_product, make_worker, new_id, price_proposal, with_handlers
from tests.decisions.helpers import wait_state
from tests.decisions.servers import smtp_server, webhook_server
from workers.deps import Deps
from workflows.decisions.contract import (
    DecisionInput,
    DecisionResult,
    DeliverInput,
    NotifyInput,
    decision_workflow_id,
)


def _configure(deps: Deps, **notif: object) -> Deps:
    cfg = NotificationSettings.model_validate({**deps.settings.notifications.model_dump(), **notif})
    settings = deps.settings.model_copy(update={"notifications": cfg})
    return with_handlers(Deps(settings=settings, engine=deps.engine, blobs=deps.blobs))


def _queue(deps: Deps, did: str, event: str = "needs_approval", audience: str = "approver") -> int:
    acts = DecisionActivities(deps)
    notice = NotifyInput(
        decision_id=did, version=1, event=event, audience=audience, proposal=price_proposal("SKU-N")
    )  # type: ignore[arg-type]
    first = ActivityEnvironment().run(acts.enqueue_notification, notice)
    again = ActivityEnvironment().run(acts.enqueue_notification, notice)
    assert first.created and not again.created and again.outbox_id == first.outbox_id
    return first.outbox_id


def test_smtp_and_webhook_carry_a_working_signed_link(deps: Deps) -> None:
    did = new_id()
    with smtp_server() as (port, mails), webhook_server() as (url, hook):
        d = _configure(
            deps,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
            smtp_to=["team@example.com"],
            recipients_by_group={"admin": ["owner@example.com"]},
            webhook_url=url,
        )
        outbox_id = _queue(d, did)
        escalated_id = _queue(d, did, event="escalated", audience="admin")
        acts = DecisionActivities(d)
        result = ActivityEnvironment().run(acts.deliver_notification, DeliverInput(outbox_id=outbox_id))
        ActivityEnvironment().run(acts.deliver_notification, DeliverInput(outbox_id=escalated_id))
    assert (result.status, sorted(result.channels)) == ("sent", ["smtp", "webhook"])
    assert [to for to, _ in mails] == [["team@example.com"], ["owner@example.com"]]
    _, mail = mails[0]
    assert "price change for SKU-N" in mail["Subject"] and mail["From"] == "merchflow@localhost"
    body = mail.get_payload(decode=True).decode()
    link = re.search(r"Open: (\S+)", body).group(1)  # type: ignore[union-attr]
    assert link.startswith("http://127.0.0.1:8000/approvals/link/")
    assert f"<{link}|Open the decision>" in hook.received[0]["text"]
    with read_session(deps.engine) as s:
        claims = verify_decision_link(d.settings, s, link.rsplit("/", 1)[1])
    assert (claims.decision_id, claims.version) == (did, 1)


def test_partial_failure_retries_only_the_failed_channel(deps: Deps) -> None:
    with smtp_server() as (port, mails), webhook_server(fail_first=1) as (url, hook):
        d = _configure(
            deps,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
            smtp_to=["a@x"],
            webhook_url=url,
        )
        outbox_id = _queue(d, new_id())
        acts = DecisionActivities(d)
        with pytest.raises(ApplicationError, match="not delivered"):
            ActivityEnvironment().run(acts.deliver_notification, DeliverInput(outbox_id=outbox_id))
        with read_session(deps.engine) as s:
            row = s.get(NotificationOutbox, outbox_id)
            assert row is not None and (row.status, row.delivered, row.attempts) == ("pending", ["smtp"], 1)
            assert "500" in (row.last_error or "")
        retried = ActivityEnvironment().run(acts.deliver_notification, DeliverInput(outbox_id=outbox_id))
        # delivered rows are not sent again
        ActivityEnvironment().run(acts.deliver_notification, DeliverInput(outbox_id=outbox_id))
    assert retried.status == "sent"
    assert len(mails) == 1 and len(hook.received) == 1 and hook.attempts == 2


def test_offline_default_logs_and_marks_the_outbox(deps: Deps) -> None:
    outbox_id = _queue(deps, new_id())
    result = ActivityEnvironment().run(
        DecisionActivities(deps).deliver_notification, DeliverInput(outbox_id=outbox_id)
    )
    assert (result.status, result.channels) == ("logged", [])
    with session_scope(deps.engine) as s:
        notifications.mark_failed(s, outbox_id, "ignored: already logged")
    with read_session(deps.engine) as s:
        row = s.get(NotificationOutbox, outbox_id)
        assert row is not None and row.status == "logged" and row.sent_at is not None


def test_smtp_down_is_retried_by_the_activity(deps: Deps) -> None:
    from merchflow.temporal import free_port

    d = _configure(
        deps,
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        smtp_security="none",
        smtp_to=["a@x"],
        timeout_seconds=2,
    )
    outbox_id = _queue(d, new_id())
    with pytest.raises(ApplicationError):
        ActivityEnvironment().run(
            DecisionActivities(d).deliver_notification, DeliverInput(outbox_id=outbox_id)
        )


async def test_workflow_notifies_the_webhook_when_waiting(
    ts_env: WorkflowEnvironment, deps: Deps, dec_engine, task_queue: str
) -> None:
    client = ts_env.client
    sku, did = new_id("SKU"), new_id()
    add_product(dec_engine, sku)
    with webhook_server() as (url, hook):
        d = _configure(deps, webhook_url=url)
        async with make_worker(client, d, task_queue):
            handle = await client.start_workflow(
                "decision",
                DecisionInput(decision_id=did, proposal=price_proposal(sku)),
                id=decision_workflow_id(did),
                task_queue=task_queue,
                result_type=DecisionResult,
            )
            await wait_state(handle, lambda s: s.status == "pending")
            for _ in range(200):
                with read_session(dec_engine) as s:
                    row = s.exec(
                        select(NotificationOutbox).where(NotificationOutbox.decision_id == did)
                    ).first()
                if row is not None and row.status == "sent":
                    break
                await asyncio.sleep(0.05)
            await decide(
                client, decision_id=did, action="approve", actor="a", role="approver", expected_version=1
            )
            assert (await handle.result()).status == "executed"
    assert len(hook.received) == 1
    text = hook.received[0]["text"]
    assert f"Decision {did} (version 1)" in text and "/approvals/link/" in text
