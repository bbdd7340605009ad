"""Child processes of `merchflow up`: spawned in their own process groups, bound to the parent's life by
PR_SET_PDEATHSIG, watched while running, restarted when they die, and stopped in tiers.

A child that exits on its own (a worker killed by the OOM killer, an API that crashed, Temporal itself) is started
again after a delay that doubles with each of its recent crashes (settings.supervisor), and both the exit and the
restart are logged. Temporal is restarted like the others: its state is in <data_dir>/temporal.db, so a restart
loses no workflow, and the worker and the API reconnect. Only a crash loop - more crashes of one child than
`crash_loop_restarts` within `crash_loop_window_seconds` - makes `up` give up (CrashLoop): a restart would not help.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from typing import IO, Any

from merchflow.logging import get_logger
from merchflow.settings import Settings
from merchflow.startup import ChildSpec

log = get_logger(__name__)

STOP_TIMEOUT = 20.0  # seconds a child gets to stop after SIGTERM before SIGKILL

# Resolved once here: the function pointer is all the forked child calls before exec (no dlopen there).
try:
    _prctl: Any = ctypes.CDLL("libc.so.6", use_errno=True).prctl if sys.platform.startswith("linux") else None
except OSError:  # musl or no libc.so.6: rely on the orderly shutdown only
    _prctl = None
_PR_SET_PDEATHSIG = 1


class Interrupted(Exception):
    """Ctrl-C / SIGTERM arrived while starting."""


class ChildFailed(RuntimeError):
    pass


class CrashLoop(ChildFailed):
    """One child keeps dying right after each restart."""


def _die_with_parent(parent: int) -> Any:
    def preexec() -> None:  # runs in the child between fork and exec
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec if _prctl is not None else None


@dataclass
class Child:
    spec: ChildSpec
    proc: subprocess.Popen[bytes]
    log_file: IO[bytes] | None = None
    crashes: deque[float] = field(default_factory=deque)  # monotonic times of its exits within the window
    restart_at: float | None = None  # set while it waits for its restart
    restarts: int = 0

    @property
    def name(self) -> str:
        return self.spec.name

    def signal_group(self, sig: int) -> None:
        # The child leads its own process group: signal the group so its own sub-processes stop too.
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


@dataclass
class Supervisor:
    settings: Settings
    env: dict[str, str] = field(default_factory=dict)
    children: list[Child] = field(default_factory=list)
    stopping: bool = False
    force: bool = False

    # ---- signals
    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)

    def _on_signal(self, signum: int, _: object) -> None:
        if self.stopping:
            self.force = True  # a second Ctrl-C: stop waiting for graceful shutdowns
        self.stopping = True

    # ---- children
    def spawn(self, spec: ChildSpec) -> Child:
        out: IO[bytes] | None = None
        if spec.log_to_file:
            logs = self.settings.data_dir / "logs"
            logs.mkdir(parents=True, exist_ok=True)
            out = open(logs / f"{spec.name}.log", "ab")  # closed in stop_all
        child = Child(spec, self._popen(spec, out), out)
        self.children.append(child)
        log.debug("started", child=spec.name, pid=child.proc.pid)
        return child

    def _popen(self, spec: ChildSpec, out: IO[bytes] | None) -> subprocess.Popen[bytes]:
        return subprocess.Popen(  # noqa: S603 - argv built by us and the feature registry
            spec.argv,
            env={**os.environ, **self.env, **spec.env},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            start_new_session=True,
            preexec_fn=_die_with_parent(os.getpid()),
        )

    def check(self) -> None:
        """Raise if Ctrl-C arrived or a child is in a crash loop; restart children that died (after their backoff).
        Called from every wait loop."""
        if self.stopping:
            raise Interrupted
        now = time.monotonic()
        for c in self.children:
            if c.restart_at is not None:
                if now >= c.restart_at:
                    self._restart(c)
            elif c.proc.poll() is not None:
                self._crashed(c, now)

    def _crashed(self, c: Child, now: float) -> None:
        cfg = self.settings.supervisor
        c.signal_group(
            signal.SIGKILL
        )  # whatever the dead child left running in its group would hold its ports
        c.crashes.append(now)
        while c.crashes and now - c.crashes[0] > cfg.crash_loop_window_seconds:
            c.crashes.popleft()
        code = c.proc.returncode
        if len(c.crashes) > cfg.crash_loop_restarts:
            raise CrashLoop(
                f"{c.name} exited {len(c.crashes)} times within {cfg.crash_loop_window_seconds:.0f}s "
                f"(last exit code {code}); not restarting it again"
            )
        delay = min(cfg.restart_backoff_max_seconds, cfg.restart_backoff_seconds * 2 ** (len(c.crashes) - 1))
        c.restart_at = now + delay
        log.warning(
            "child exited unexpectedly; restarting it",
            child=c.name,
            pid=c.proc.pid,
            exit_code=code,
            restart_in_seconds=round(delay, 2),
            crashes_in_window=len(c.crashes),
        )

    def _restart(self, c: Child) -> None:
        c.proc = self._popen(c.spec, c.log_file)
        c.restart_at = None
        c.restarts += 1
        log.warning("child restarted", child=c.name, pid=c.proc.pid, restarts=c.restarts)

    def sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.check()
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    def stop_all(self, timeout: float = STOP_TIMEOUT) -> None:
        for tier in sorted({c.spec.tier for c in self.children}, reverse=True):
            group = [c for c in self.children if c.spec.tier == tier]
            for c in group:
                if c.proc.poll() is None:
                    c.signal_group(signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while (
                any(c.proc.poll() is None for c in group) and time.monotonic() < deadline and not self.force
            ):
                time.sleep(0.1)
            for c in group:
                if c.proc.poll() is None:
                    log.warning("child did not stop in time; killing it", child=c.name)
                c.signal_group(signal.SIGKILL)  # also reaps anything the child left in its group
                c.proc.wait()
                if c.log_file:
                    c.log_file.close()
        self.children.clear()


def port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True
