"""Alert checks: read the facts (database, Temporal visibility), let domain/ops/alerts.py decide, store the
states and queue the notices in the notifications outbox (delivered by the workflow through the same channels
as decision notices: SMTP and / or the chat webhook, or the log when neither is configured)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from activities.decisions import notifications
from domain.ops.alerts import (
    AlertRules,
    RunFact,
    Signal,
    account_signals,
    evaluate,
    failed_signals,
    order_sync_signal,
    outbox_signal,
    stuck_signals,
)
from merchflow.db.engine import read_session, session_scope
from merchflow.db.types import utcnow
from merchflow.logging import get_logger
from merchflow.ops_settings import AlertSettings
from merchflow.telemetry.metrics import ALERTS_FIRING
from workers.deps import Deps
from workflows.ops.contract import AlertCheckInput, AlertCheckResult, DeliverNoticeInput, DeliverNoticeResult

from . import repository as repo

log = get_logger(__name__)

MAX_RUNS = 2000  # visibility rows read per query: enough for a p95, bounded for a busy cluster


def rules_from(cfg: AlertSettings) -> AlertRules:
    return AlertRules(
        account_failing=timedelta(minutes=cfg.account_failing_minutes),
        order_sync_p95_seconds=cfg.order_sync_p95_seconds,
        order_sync_min_runs=cfg.order_sync_min_runs,
        expected={k: timedelta(minutes=v) for k, v in cfg.expected_minutes.items()},
        default_expected=timedelta(minutes=cfg.default_expected_minutes),
        never_stuck=frozenset(cfg.never_stuck),
        outbox_backlog=cfg.outbox_backlog,
    )


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


async def list_runs(client: Client, query: str, limit: int = MAX_RUNS) -> list[RunFact]:
    out: list[RunFact] = []
    async for wf in client.list_workflows(query, limit=limit):
        out.append(
            RunFact(
                workflow_id=wf.id,
                workflow_type=wf.workflow_type,
                start_time=wf.start_time,
                close_time=wf.close_time,
                status=wf.status.name if wf.status is not None else "UNKNOWN",
            )
        )
    return out


async def workflow_signals(
    client: Client, cfg: AlertSettings, rules: AlertRules, now: datetime
) -> list[Signal]:
    window = now - timedelta(minutes=cfg.order_sync_window_minutes)
    synced = await list_runs(
        client,
        f"WorkflowType = 'order-sync' AND ExecutionStatus = 'Completed' AND CloseTime > '{_ts(window)}'",
    )
    durations = [(r.close_time - r.start_time).total_seconds() for r in synced if r.close_time]
    failed_since = now - timedelta(minutes=cfg.failed_window_minutes)
    failed = await list_runs(
        client,
        f"(ExecutionStatus = 'Failed' OR ExecutionStatus = 'TimedOut') AND CloseTime > '{_ts(failed_since)}'",
    )
    shortest = min([rules.default_expected, *rules.expected.values()])
    running = await list_runs(client, f"ExecutionStatus = 'Running' AND StartTime < '{_ts(now - shortest)}'")
    return [
        *order_sync_signal(durations, rules),
        *failed_signals(failed),
        *stuck_signals(running, rules, now),
    ]


class AlertActivities:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.engine = deps.engine

    @activity.defn(name="ops.check_alerts")
    async def check_alerts(self, inp: AlertCheckInput) -> AlertCheckResult:
        cfg = self.deps.settings.alerts
        rules = rules_from(cfg)
        now = utcnow()
        signals = await workflow_signals(activity.client(), cfg, rules, now)
        return await asyncio.to_thread(self._decide, signals, rules, now)

    def _decide(self, signals: list[Signal], rules: AlertRules, now: datetime) -> AlertCheckResult:
        cfg = self.deps.settings.alerts
        with read_session(self.engine) as s:
            health = repo.account_health(s)
            backlog = repo.outbox_backlog(s, older_than=now - timedelta(minutes=cfg.outbox_age_minutes))
        signals = [*signals, *account_signals(health, rules, now), *outbox_signal(backlog, rules)]
        result = AlertCheckResult(firing=sorted({sig.key for sig in signals}))
        with session_scope(self.engine) as s:
            changed, notices = evaluate(signals, repo.alert_states(s))
            repo.save_alert_states(s, changed, now=now)
            for n in notices:
                outbox_id, _ = notifications.enqueue(
                    s,
                    dedupe_key=n.dedupe_key,
                    decision_id=None,
                    event=f"alert_{n.event}",
                    audience="operator",
                    subject=f"[merchflow] {'ALERT' if n.event == 'fired' else 'RECOVERED'}: {n.summary}"[
                        :300
                    ],
                    body="\n".join(
                        line
                        for line in (
                            f"{'Alert' if n.event == 'fired' else 'Recovered'} ({n.kind}): {n.summary}",
                            n.detail,
                            f"At: {now.isoformat(timespec='seconds')}",
                        )
                        if line
                    ),
                    link=None,
                )
                result.outbox_ids.append(outbox_id)
                (result.fired if n.event == "fired" else result.recovered).append(n.key)
        kinds: dict[str, int] = {}
        for sig in signals:
            kinds[sig.kind] = kinds.get(sig.kind, 0) + 1
        for kind in (
            "account_failing",
            "order_sync_slow",
            "workflow_failed",
            "workflow_stuck",
            "outbox_backlog",
        ):
            ALERTS_FIRING.labels(kind).set(kinds.get(kind, 0))
        if result.fired or result.recovered:
            log.warning("alerts changed", fired=result.fired, recovered=result.recovered)
        return result

    @activity.defn(name="ops.deliver_notice")
    def deliver_notice(self, inp: DeliverNoticeInput) -> DeliverNoticeResult:
        with session_scope(self.engine) as s:
            row = notifications.deliver(s, self.deps.settings, inp.outbox_id)
            status, error = row.status, row.last_error
        if status == "pending":
            raise ApplicationError(f"notice {inp.outbox_id} not delivered: {error}")
        return DeliverNoticeResult(outbox_id=inp.outbox_id, status=status)
