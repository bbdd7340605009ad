"""A decision's action blocks its thread (sync activity): it must still heartbeat, so that a worker killed
mid-action has the action retried within the heartbeat timeout rather than the start-to-close timeout."""

from __future__ import annotations

import threading
import time

from temporalio import activity
from temporalio.testing import ActivityEnvironment

from activities.common.heartbeats import kept_alive_in_thread


def test_a_blocked_sync_activity_heartbeats_from_a_side_thread() -> None:
    beats: list[str] = []
    body_thread: list[int] = []

    @activity.defn
    def blocking() -> str:
        body_thread.append(threading.get_ident())
        with kept_alive_in_thread(every=0.05):
            time.sleep(0.4)  # the body never heartbeats itself
        return "done"

    env = ActivityEnvironment()
    env.on_heartbeat = lambda *details: beats.append(threading.current_thread().name)
    assert env.run(blocking) == "done"
    assert len(beats) >= 3
    count = len(beats)
    time.sleep(0.2)
    assert len(beats) == count  # the side thread stopped with the body


def test_outside_an_activity_no_thread_is_started() -> None:
    before = threading.active_count()
    with kept_alive_in_thread(every=0.01):
        assert threading.active_count() == before


def test_the_decision_action_declares_a_heartbeat_timeout() -> None:
    from workflows.decisions import decision

    assert decision.ACTION_HEARTBEAT_TIMEOUT.total_seconds() <= 30
