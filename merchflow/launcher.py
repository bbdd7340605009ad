"""`merchflow up`: the whole engine in the foreground on embedded defaults, until Ctrl-C.

Children run in their own sessions so a terminal Ctrl-C reaches only this process, which then stops them
in tiers (API and worker first, the services they call next, Temporal last). PR_SET_PDEATHSIG makes the
kernel stop them too if this process is killed outright, so no `temporal` process is ever orphaned.
Features extend start-up through the registry in `merchflow.startup`, not here.
"""

from __future__ import annotations

import asyncio
import ctypes
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import IO, Any

import httpx

from merchflow.logging import get_logger
from merchflow.settings import Settings
from merchflow.startup import ChildSpec, extra_children, extra_links, merchflow_argv, run_steps
from merchflow.temporal import DevServer

log = get_logger(__name__)

STOP_TIMEOUT = 20.0  # seconds a child gets to stop after SIGTERM before SIGKILL
START_TIMEOUT = 90.0

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
        proc = subprocess.Popen(  # noqa: S603 - argv built by us and the feature registry
            spec.argv,
            env={**os.environ, **self.env, **spec.env},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            start_new_session=True,
            preexec_fn=_die_with_parent(os.getpid()),
        )
        child = Child(spec, proc, out)
        self.children.append(child)
        log.debug("started", child=spec.name, pid=proc.pid)
        return child

    def check(self) -> None:
        """Raise if Ctrl-C arrived or a child died; called from every wait loop."""
        if self.stopping:
            raise Interrupted
        for c in self.children:
            if c.proc.poll() is not None:
                raise ChildFailed(f"{c.name} exited with code {c.proc.returncode}")

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


# ---------------------------------------------------------------- helpers
def port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _wait_http(url: str, sup: Supervisor, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sup.check()
        try:
            if httpx.get(url, timeout=2).is_success:
                return
        except httpx.HTTPError:
            pass
        sup.sleep(0.3)
    raise TimeoutError(f"{url} did not become ready in {timeout:.0f}s")


def _wait_temporal(settings: Settings, sup: Supervisor, timeout: float = START_TIMEOUT) -> None:
    from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

    from merchflow.temporal import connect

    async def probe() -> None:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            sup.check()
            try:
                client = await asyncio.wait_for(connect(settings), 5)
                await asyncio.wait_for(client.workflow_service.get_system_info(GetSystemInfoRequest()), 5)
                return
            except Exception as exc:  # still starting, or unreachable
                last = exc
                await asyncio.sleep(0.3)
        raise TimeoutError(
            f"Temporal at {settings.temporal_target} not reachable after {timeout:.0f}s: {last}"
        )

    asyncio.run(probe())


def child_env(settings: Settings) -> dict[str, str]:
    """Pin what the children must agree on with this process, whatever their working directory or .env."""
    t = settings.temporal
    env = {
        "MERCHFLOW_DATA_DIR": str(settings.data_dir.resolve()),
        "MERCHFLOW_TEMPORAL__ADDRESS": settings.temporal_target,
        "MERCHFLOW_TEMPORAL__NAMESPACE": t.namespace,
        "MERCHFLOW_API_HOST": settings.api_host,
        "MERCHFLOW_API_PORT": str(settings.api_port),
    }
    if settings.database_url is not None:
        env["MERCHFLOW_DATABASE_URL"] = settings.database_url.get_secret_value()
    return env


def first_token(settings: Settings) -> str:
    """The admin token created on the first `up`, kept (0600) in the data dir so later runs can show it.
    A new one is made if the database no longer knows it (fresh database, switched to PostgreSQL)."""
    from merchflow.db.engine import engine_for, session_scope
    from merchflow.tokens import create_token, ensure_user, lookup_token

    path = settings.data_dir / "admin-token"
    engine = engine_for(settings.sqlalchemy_url)
    with session_scope(engine) as session:
        if path.exists():
            token = path.read_text().strip()
            if lookup_token(session, token) is not None:
                return token
        user = ensure_user(session, username="admin", role="admin")
        token = create_token(session, user=user, name="first token (merchflow up)")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return token


def planned_children(settings: Settings) -> list[ChildSpec]:
    """Every process `up` starts, in start order."""
    t = settings.temporal
    specs: list[ChildSpec] = []
    if settings.embedded_temporal:
        server = DevServer(
            db_file=(settings.data_dir / "temporal.db").resolve(),
            host=t.host,
            port=t.port,
            ui_port=t.ui_port,
            namespace=t.namespace,
        )
        specs.append(
            ChildSpec("temporal", server.command(), ports=(t.port, t.ui_port), tier=0, log_to_file=True)
        )
    specs += extra_children(settings)
    specs.append(ChildSpec("worker", merchflow_argv("worker"), tier=2))
    specs.append(
        ChildSpec(
            "api",
            merchflow_argv("api"),
            ports=(settings.api_port,),
            ready_url=f"http://{settings.api_host}:{settings.api_port}/readyz",
            tier=2,
        )
    )
    return specs


def banner(settings: Settings, token: str) -> str:
    t = settings.temporal
    rows: list[tuple[str, str]] = list(extra_links(settings))
    if settings.embedded_temporal:
        rows.append(("Temporal UI", f"http://{t.host}:{t.ui_port}"))
    rows += [
        ("Temporal gRPC", f"{settings.temporal_target}  (namespace {t.namespace})"),
        ("Data dir", str(settings.data_dir.resolve())),
        ("Logs", str((settings.data_dir / "logs").resolve())),
        ("API token", token),
    ]
    width = max(len(label) for label, _ in rows)
    lines = [f"  {label.ljust(width)}  {value}" for label, value in rows]
    example = (
        f"  try: curl -H 'Authorization: Bearer {token}' -F file=@products.csv "
        f"{settings.base_url}/api/v1/catalog/imports"
    )
    return "\n".join(["", "merchflow is running  (Ctrl-C stops everything)", *lines, example, ""])


# ---------------------------------------------------------------- up
def _lock_data_dir(settings: Settings) -> IO[str] | None:
    """Two `up`s on one data dir would run two Temporal servers on one SQLite file: hold a lock.
    The kernel drops it when this process ends, however it ends."""
    f = open(settings.data_dir / "up.lock", "a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        return None
    f.seek(0)
    f.truncate()
    f.write(f"{os.getpid()}\n")
    f.flush()
    return f


def up(settings: Settings) -> int:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    lock = _lock_data_dir(settings)
    if lock is None:
        log.error(
            "another `merchflow up` is running on this data dir", data_dir=str(settings.data_dir.resolve())
        )
        return 2
    sup = Supervisor(settings, env=child_env(settings))
    sup.install_signal_handlers()
    specs = planned_children(settings)
    host_of = {"api": settings.api_host, "temporal": settings.temporal.host}
    for spec in specs:
        busy = [p for p in spec.ports if not port_free(host_of.get(spec.name, "127.0.0.1"), p)]
        if busy:
            log.error(
                "port in use; stop the other process or change the port in settings",
                child=spec.name,
                ports=busy,
            )
            return 2
    try:
        rest = specs
        if settings.embedded_temporal:
            sup.spawn(specs[0])
            rest = specs[1:]
        _wait_temporal(settings, sup)
        run_steps(settings)
        token = first_token(settings)
        for spec in rest:
            sup.check()  # Ctrl-C during a step: start nothing more
            sup.spawn(spec)
            if spec.ready_url:
                _wait_http(spec.ready_url, sup)
        print(banner(settings, token), flush=True)
        while True:
            sup.sleep(0.5)
    except Interrupted:
        return 0
    except ChildFailed as exc:
        log.error(
            "a process stopped unexpectedly; shutting everything down",
            error=str(exc),
            logs=str((settings.data_dir / "logs").resolve()),
        )
        return 1
    except TimeoutError as exc:
        log.error("start-up failed", error=str(exc), logs=str((settings.data_dir / "logs").resolve()))
        return 1
    finally:
        print("stopping merchflow...", file=sys.stderr, flush=True)
        sup.stop_all()
        lock.close()  # only now may another `up` take this data dir
        print("stopped.", file=sys.stderr, flush=True)
