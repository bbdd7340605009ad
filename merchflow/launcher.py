"""`merchflow up`: the whole engine in the foreground on embedded defaults, until Ctrl-C.

Children run in their own sessions so a terminal Ctrl-C reaches only this process, which then stops them
in tiers (API and worker first, the services they call next, Temporal last). PR_SET_PDEATHSIG makes the
kernel stop them too if this process is killed outright, so no `temporal` process is ever orphaned.
A child that dies is restarted with backoff; only a crash loop stops everything (exit 1, with the reason).
Process supervision lives in `merchflow.supervisor`; features extend start-up through the registry in
`merchflow.startup`, not here.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sys
import time
from typing import IO

import httpx

from merchflow.logging import get_logger
from merchflow.settings import Settings
from merchflow.startup import ChildSpec, extra_children, extra_links, merchflow_argv, run_steps
from merchflow.supervisor import CrashLoop, Interrupted, Supervisor, port_free
from merchflow.temporal import DevServer

log = get_logger(__name__)

START_TIMEOUT = 90.0  # seconds for Temporal, then each child with a ready URL, to answer


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
        from merchflow.ops_links import codec_endpoint

        server = DevServer(
            db_file=(settings.data_dir / "temporal.db").resolve(),
            host=t.host,
            port=t.port,
            ui_port=t.ui_port,
            namespace=t.namespace,
            ui_codec_endpoint=codec_endpoint(settings),  # the UI decodes encrypted payloads
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
    except CrashLoop as exc:
        log.error(
            "a process keeps crashing; giving up and shutting everything down",
            error=str(exc),
            logs=str((settings.data_dir / "logs").resolve()),
        )
        print(f"merchflow up: giving up: {exc}", file=sys.stderr, flush=True)
        return 1
    except TimeoutError as exc:
        log.error("start-up failed", error=str(exc), logs=str((settings.data_dir / "logs").resolve()))
        return 1
    finally:
        print("stopping merchflow...", file=sys.stderr, flush=True)
        sup.stop_all()
        lock.close()  # only now may another `up` take this data dir
        print("stopped.", file=sys.stderr, flush=True)
