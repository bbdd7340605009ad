"""`merchflow up`: the whole engine in the foreground on embedded defaults, until Ctrl-C.

Children run in their own sessions so a terminal Ctrl-C reaches only this process, which then stops them
in order (API and workers first, Temporal last). PR_SET_PDEATHSIG makes the kernel stop them too if this
process is killed outright, so no `temporal` process is ever orphaned.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from merchflow.logging import get_logger
from merchflow.settings import Settings
from merchflow.temporal import DevServer, wait_for_port

log = get_logger(__name__)

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    log_file: IO[bytes] | None = None


@dataclass
class Supervisor:
    settings: Settings
    children: list[Child] = field(default_factory=list)

    def spawn(self, name: str, cmd: list[str], *, env: dict[str, str] | None = None) -> Child:
        logs = self.settings.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        # Temporal's own chatter goes to a file; our processes log to the terminal like the parent.
        out: IO[bytes] | None = open(logs / f"{name}.log", "ab") if name == "temporal" else None
        proc = subprocess.Popen(  # noqa: S603 - fixed argv built by us
            cmd,
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        child = Child(name, proc, out)
        self.children.append(child)
        return child

    def failed(self) -> Child | None:
        return next((c for c in self.children if c.proc.poll() is not None), None)

    def stop_all(self, timeout: float = 15.0) -> None:
        # reverse start order: API and workers stop before the server they talk to
        for child in reversed(self.children):
            if child.proc.poll() is None:
                child.proc.send_signal(signal.SIGTERM)
                try:
                    child.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    log.warning("child did not stop in time; killing", child=child.name)
                    child.proc.kill()
                    child.proc.wait(5)
            if child.log_file:
                child.log_file.close()
        self.children.clear()


def _merchflow(*args: str) -> list[str]:
    return [sys.executable, "-m", "merchflow", *args]


def _port_free(host: str, port: int) -> bool:
    import socket

    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _wait_ready(url: str, sup: Supervisor, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dead = sup.failed()
        if dead:
            raise RuntimeError(f"{dead.name} exited with code {dead.proc.returncode} during start-up")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} did not become ready in {timeout:.0f}s")


def first_token(settings: Settings) -> str:
    """The admin token created on the first `up`, kept (0600) in the data dir so later runs can show it."""
    from merchflow.db.engine import engine_for, session_scope
    from merchflow.tokens import create_token, ensure_user

    path = settings.data_dir / "admin-token"
    if path.exists():
        return path.read_text().strip()
    with session_scope(engine_for(settings.sqlalchemy_url)) as session:
        user = ensure_user(session, username="admin", role="admin")
        token = create_token(session, user=user, name="first token (merchflow up)")
    path.touch(mode=0o600)
    path.write_text(token + "\n")
    return token


def prepare(settings: Settings) -> None:
    """Migrations, demo data, and whatever features register as start-up steps (schedules, sandboxes)."""
    from merchflow.db.engine import engine_for
    from merchflow.db.migrate import upgrade
    from merchflow.seed import seed_demo

    upgrade(settings.sqlalchemy_url)
    if settings.seed_demo:
        added = seed_demo(engine_for(settings.sqlalchemy_url))
        log.info("demo data ready", products_added=added)


def extra_children() -> list[tuple[str, list[str]]]:
    """Processes started beside the worker and the API (features append here, e.g. the sandboxes)."""
    return []


def up(settings: Settings) -> int:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    sup = Supervisor(settings)
    stopping = False

    def on_signal(signum: int, _: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    t = settings.temporal
    try:
        if settings.embedded_temporal:
            for port, what in ((t.port, "Temporal gRPC"), (t.ui_port, "Temporal UI")):
                if not _port_free(t.host, port):
                    log.error(f"port {port} ({what}) is in use; stop the other process or change the port")
                    return 2
            server = DevServer(
                db_file=(settings.data_dir / "temporal.db").resolve(),
                host=t.host,
                port=t.port,
                ui_port=t.ui_port,
                namespace=t.namespace,
            )
            sup.spawn("temporal", server.command())
            wait_for_port(t.host, t.port, timeout=60)
        if not _port_free(settings.api_host, settings.api_port):
            log.error(f"port {settings.api_port} (API) is in use; set MERCHFLOW_API_PORT")
            return 2
        prepare(settings)
        token = first_token(settings)
        for name, cmd in extra_children():
            sup.spawn(name, cmd)
        sup.spawn("worker", _merchflow("worker"))
        sup.spawn("api", _merchflow("api"))
        _wait_ready(f"http://{settings.api_host}:{settings.api_port}/readyz", sup)
        ui = f"http://{t.host}:{t.ui_port}" if settings.embedded_temporal else "(your Temporal cluster's UI)"
        banner = (
            "\nmerchflow is running  (Ctrl-C stops everything)\n"
            f"  API           http://{settings.api_host}:{settings.api_port}   docs: /docs\n"
            f"  Approvals     http://{settings.api_host}:{settings.api_port}/approvals\n"
            f"  Temporal UI   {ui}\n"
            f"  Temporal gRPC {settings.temporal_target}  namespace {t.namespace}\n"
            f"  Data dir      {settings.data_dir.resolve()}\n"
            f"  API token     {token}\n"
            f"  try: curl -H 'Authorization: Bearer {token}' "
            f"http://{settings.api_host}:{settings.api_port}/api/v1/catalog/imports\n"
        )
        print(banner, flush=True)
        while not stopping:
            dead = sup.failed()
            if dead:
                log.error(
                    "a process stopped unexpectedly; shutting down",
                    child=dead.name,
                    code=dead.proc.returncode,
                )
                return 1
            time.sleep(0.5)
        return 0
    except (RuntimeError, TimeoutError) as exc:
        log.error("start-up failed", error=str(exc), logs=str(Path(settings.data_dir, "logs")))
        return 1
    finally:
        print("stopping merchflow...", flush=True)
        sup.stop_all()
        print("stopped.", flush=True)
