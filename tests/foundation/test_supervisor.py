"""`merchflow up`'s supervisor on real (tiny) child processes: a child that dies is restarted after its backoff
and both events are logged; a child that dies again and again is a crash loop, and the supervisor gives up."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from merchflow.settings import Settings
from merchflow.startup import ChildSpec
from merchflow.supervisor import CrashLoop, Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]
CRASHER = [sys.executable, "-c", "import sys; sys.exit(3)"]


def supervisor(tmp_path: Path, **cfg: Any) -> Supervisor:
    settings = Settings(_env_file=None, data_dir=tmp_path, supervisor=cfg)  # type: ignore[call-arg,arg-type]
    return Supervisor(settings)


def run_until(sup: Supervisor, done: Any, timeout: float = 30.0) -> None:
    """Drive the supervisor's check loop (as `up` does) until `done()`; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "condition not reached"
        sup.sleep(0.05)


def test_a_killed_child_is_restarted_after_its_backoff_and_both_are_logged(tmp_path: Path) -> None:
    sup = supervisor(tmp_path, restart_backoff_seconds=0.5)
    try:
        child = sup.spawn(ChildSpec("worker", SLEEPER))
        first = child.proc.pid
        with capture_logs() as logs:
            os.kill(first, signal.SIGKILL)
            killed_at = time.monotonic()
            run_until(sup, lambda: child.proc.pid != first)
            restarted_after = time.monotonic() - killed_at
        assert child.proc.poll() is None and child.restarts == 1
        assert restarted_after >= 0.5  # the backoff was waited
        events = [(e["event"], e.get("child")) for e in logs if e.get("child") == "worker"]
        assert events == [
            ("child exited unexpectedly; restarting it", "worker"),
            ("child restarted", "worker"),
        ]
        assert logs[0]["exit_code"] == -signal.SIGKILL and logs[0]["restart_in_seconds"] == 0.5
    finally:
        sup.stop_all(timeout=5)


def test_backoff_doubles_with_each_crash_in_the_window(tmp_path: Path) -> None:
    sup = supervisor(
        tmp_path, restart_backoff_seconds=0.1, restart_backoff_max_seconds=0.3, crash_loop_restarts=9
    )
    try:
        child = sup.spawn(ChildSpec("api", CRASHER))
        with capture_logs() as logs:
            run_until(sup, lambda: child.restarts >= 4)
        delays = [e["restart_in_seconds"] for e in logs if e["event"].startswith("child exited")]
        assert delays[:4] == [0.1, 0.2, 0.3, 0.3]
    finally:
        sup.stop_all(timeout=5)


def test_a_child_that_crashes_at_once_every_time_is_a_crash_loop(tmp_path: Path) -> None:
    sup = supervisor(
        tmp_path, restart_backoff_seconds=0.05, crash_loop_restarts=3, crash_loop_window_seconds=60
    )
    others = sup.spawn(ChildSpec("temporal", SLEEPER, tier=0))
    try:
        sup.spawn(ChildSpec("sandboxes", CRASHER))
        with pytest.raises(CrashLoop) as err:
            run_until(sup, lambda: False)
        assert (
            str(err.value)
            == "sandboxes exited 4 times within 60s (last exit code 3); not restarting it again"
        )
        assert others.proc.poll() is None  # giving up is `up`'s decision: it stops everything next
    finally:
        sup.stop_all(timeout=5)
    assert others.proc.poll() is not None and sup.children == []
