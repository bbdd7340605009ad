"""Alert evaluation without I/O: each alert notifies once when it fires and once when it recovers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.ops.alerts import (
    AccountHealthFact,
    AlertRules,
    AlertState,
    RunFact,
    account_signals,
    evaluate,
    failed_signals,
    order_sync_signal,
    outbox_signal,
    percentile,
    stuck_signals,
)

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
RULES = AlertRules(
    account_failing=timedelta(minutes=15),
    order_sync_p95_seconds=2.0,
    order_sync_min_runs=5,
    expected={"order-sync": timedelta(minutes=30)},
    default_expected=timedelta(hours=6),
    never_stuck=frozenset({"decision"}),
    outbox_backlog=10,
)


def _states(changed: list[AlertState], before: dict[str, AlertState] | None = None) -> dict[str, AlertState]:
    return {**(before or {}), **{s.key: s for s in changed}}


def test_an_alert_fires_once_recovers_once_and_fires_again_as_a_new_episode() -> None:
    sig = outbox_signal(12, RULES)
    changed, notices = evaluate(sig, {})
    assert [(n.event, n.episode) for n in notices] == [("fired", 1)]
    states = _states(changed)
    for _ in range(3):  # still firing: no repeat notice
        changed, notices = evaluate(outbox_signal(30, RULES), states)
        assert notices == [] and changed == []
    changed, notices = evaluate(outbox_signal(0, RULES), states)
    assert [(n.event, n.episode) for n in notices] == [("recovered", 1)]
    states = _states(changed, states)
    assert evaluate([], states) == ([], [])  # recovered stays quiet
    _, notices = evaluate(outbox_signal(11, RULES), states)
    assert [(n.event, n.episode) for n in notices] == [("fired", 2)]
    assert notices[0].dedupe_key == "alert:outbox-backlog:2:fired"


def test_account_failing_only_after_n_minutes_and_only_while_still_failing() -> None:
    def fact(since: timedelta | None, success_after_failure: bool = False) -> AccountHealthFact:
        last_failure = NOW - timedelta(seconds=30)
        return AccountHealthFact(
            "ebay",
            "us",
            NOW - since if since else None,
            last_failure,
            NOW if success_after_failure else None,
            "HTTP 503",
        )

    assert account_signals([fact(timedelta(minutes=14))], RULES, NOW) == []
    [sig] = account_signals([fact(timedelta(minutes=16))], RULES, NOW)
    assert sig.key == "account:ebay:us" and "16 min" in sig.summary and "503" in sig.detail
    assert account_signals([fact(timedelta(minutes=16), success_after_failure=True)], RULES, NOW) == []
    assert account_signals([fact(None)], RULES, NOW) == []


def test_order_sync_p95_needs_enough_runs() -> None:
    assert percentile([1, 2, 3, 4, 100], 95) == 100
    assert order_sync_signal([0.5, 0.6, 9.0], RULES) == []  # too few runs to judge
    assert order_sync_signal([0.5] * 19 + [9.0], RULES) == []  # p95 of 20 runs is the 19th
    [sig] = order_sync_signal([0.5] * 18 + [9.0, 9.0], RULES)
    assert sig.key == "order-sync-p95" and "9.0 s" in sig.summary


def test_failed_and_stuck_runs_alert_per_workflow_type() -> None:
    start = NOW - timedelta(hours=1)
    failed = [RunFact(f"order-{i}", "order-sync", start, NOW, "FAILED") for i in range(12)]
    [sig] = failed_signals(failed)
    assert sig.key == "workflow-failed:order-sync" and "12" in sig.summary and sig.detail.endswith("...")
    running = [
        RunFact("order-a", "order-sync", NOW - timedelta(minutes=31)),
        RunFact("order-b", "order-sync", NOW - timedelta(minutes=5)),
        RunFact("decision-1", "decision", NOW - timedelta(days=3)),  # waits for people by design
        RunFact("import-1", "catalog-import", NOW - timedelta(hours=7)),
    ]
    sigs = {s.key: s for s in stuck_signals(running, RULES, NOW)}
    assert set(sigs) == {"workflow-stuck:order-sync", "workflow-stuck:catalog-import"}
    assert "order-a" in sigs["workflow-stuck:order-sync"].detail
    assert "order-b" not in sigs["workflow-stuck:order-sync"].detail
