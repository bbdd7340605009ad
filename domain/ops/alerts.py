"""Alert evaluation: facts in, firing signals out, then transitions against the stored states.

An alert notifies twice per episode: when it starts firing and when it recovers. A signal that stops appearing
(the account answers again, the stuck run closed) is a recovery. The shell reads the facts and the states,
`evaluate` decides, the shell stores the states and queues the notices.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Signal:
    key: str
    kind: str
    summary: str
    detail: str = ""


@dataclass(frozen=True)
class AlertState:
    key: str
    kind: str
    status: str  # firing | ok
    episode: int
    summary: str = ""


@dataclass(frozen=True)
class Transition:
    key: str
    kind: str
    event: str  # fired | recovered
    episode: int
    summary: str
    detail: str = ""

    @property
    def dedupe_key(self) -> str:
        return f"alert:{self.key}:{self.episode}:{self.event}"


@dataclass(frozen=True)
class AccountHealthFact:
    marketplace: str
    account: str
    failing_since: datetime | None
    last_failure_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None = None


@dataclass(frozen=True)
class RunFact:
    workflow_id: str
    workflow_type: str
    start_time: datetime
    close_time: datetime | None = None
    status: str = "Running"


@dataclass(frozen=True)
class AlertRules:
    account_failing: timedelta
    order_sync_p95_seconds: float
    order_sync_min_runs: int
    expected: Mapping[str, timedelta] = field(default_factory=dict)
    default_expected: timedelta = timedelta(hours=6)
    never_stuck: frozenset[str] = frozenset()
    outbox_backlog: int = 50


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def account_signals(facts: Iterable[AccountHealthFact], rules: AlertRules, now: datetime) -> list[Signal]:
    out = []
    for f in facts:
        still_failing = f.failing_since is not None and (
            f.last_success_at is None or f.last_failure_at is None or f.last_success_at < f.last_failure_at
        )
        if still_failing and f.failing_since is not None and now - f.failing_since >= rules.account_failing:
            minutes = int((now - f.failing_since).total_seconds() // 60)
            out.append(
                Signal(
                    key=f"account:{f.marketplace}:{f.account}",
                    kind="account_failing",
                    summary=f"{f.marketplace} account {f.account!r} failing for {minutes} min",
                    detail=f"last error: {f.last_error or 'unknown'}",
                )
            )
    return out


def order_sync_signal(durations: Sequence[float], rules: AlertRules) -> list[Signal]:
    if len(durations) < rules.order_sync_min_runs:
        return []  # too few runs to say anything
    p95 = percentile(durations, 95)
    if p95 <= rules.order_sync_p95_seconds:
        return []
    return [
        Signal(
            key="order-sync-p95",
            kind="order_sync_slow",
            summary=f"order sync p95 {p95:.1f} s over {len(durations)} runs (threshold {rules.order_sync_p95_seconds:g} s)",
        )
    ]


def _by_type(runs: Iterable[RunFact]) -> dict[str, list[RunFact]]:
    grouped: dict[str, list[RunFact]] = {}
    for r in runs:
        grouped.setdefault(r.workflow_type, []).append(r)
    return grouped


def failed_signals(failed: Iterable[RunFact]) -> list[Signal]:
    """One alert per workflow type with failed or timed-out runs in the window (not one per run: no flood)."""
    out = []
    for wf_type, runs in sorted(_by_type(failed).items()):
        ids = ", ".join(r.workflow_id for r in runs[:10]) + (" ..." if len(runs) > 10 else "")
        out.append(
            Signal(
                key=f"workflow-failed:{wf_type}",
                kind="workflow_failed",
                summary=f"{len(runs)} {wf_type} run(s) failed recently",
                detail=f"runs: {ids}",
            )
        )
    return out


def stuck_signals(running: Iterable[RunFact], rules: AlertRules, now: datetime) -> list[Signal]:
    stuck = [
        r
        for r in running
        if r.workflow_type not in rules.never_stuck
        and now - r.start_time > rules.expected.get(r.workflow_type, rules.default_expected)
    ]
    out = []
    for wf_type, runs in sorted(_by_type(stuck).items()):
        limit = rules.expected.get(wf_type, rules.default_expected)
        ids = ", ".join(r.workflow_id for r in runs[:10]) + (" ..." if len(runs) > 10 else "")
        out.append(
            Signal(
                key=f"workflow-stuck:{wf_type}",
                kind="workflow_stuck",
                summary=f"{len(runs)} {wf_type} run(s) running longer than {limit}",
                detail=f"runs: {ids}",
            )
        )
    return out


def outbox_signal(backlog: int, rules: AlertRules) -> list[Signal]:
    if backlog < rules.outbox_backlog:
        return []
    return [
        Signal(
            key="outbox-backlog",
            kind="outbox_backlog",
            summary=f"{backlog} notifications waiting to be delivered",
        )
    ]


def evaluate(
    signals: Sequence[Signal], states: Mapping[str, AlertState]
) -> tuple[list[AlertState], list[Transition]]:
    """New states for every key that changed, and the notices to send."""
    changed: list[AlertState] = []
    notices: list[Transition] = []
    firing = {s.key: s for s in signals}
    for key, s in firing.items():
        old = states.get(key)
        if old is not None and old.status == "firing":
            continue  # already notified for this episode
        episode = (old.episode if old else 0) + 1
        changed.append(AlertState(key, s.kind, "firing", episode, s.summary))
        notices.append(Transition(key, s.kind, "fired", episode, s.summary, s.detail))
    for key, old in states.items():
        if old.status == "firing" and key not in firing:
            changed.append(AlertState(key, old.kind, "ok", old.episode, old.summary))
            notices.append(Transition(key, old.kind, "recovered", old.episode, f"recovered: {old.summary}"))
    return changed, notices
