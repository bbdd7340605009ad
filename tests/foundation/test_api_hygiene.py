"""API server hygiene: idle keep-alive connections are closed, a stalled request body is answered 408, a client that
goes away mid-upload is one warning line (no traceback), and an unhandled error is logged exactly once."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from merchflow.cli import uvicorn_options
from merchflow.db.engine import make_engine
from merchflow.db.migrate import upgrade
from merchflow.settings import Settings
from tests.conftest import make_token
from tests.support.servers import free_port


def settings_for(tmp_path: Path, **kw: Any) -> Settings:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(url)
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=tmp_path / "data",
        database_url=url,  # type: ignore[arg-type]
        seed_demo=False,
        api_port=free_port(),
        **kw,
    )


def token_for(settings: Settings) -> str:
    engine = make_engine(settings.sqlalchemy_url)
    try:
        return make_token(engine, "operator")
    finally:
        engine.dispose()


@contextmanager
def served(app: FastAPI, settings: Settings) -> Iterator[uvicorn.Server]:
    """The app under uvicorn with the options `merchflow api` uses."""
    server = uvicorn.Server(uvicorn.Config(app, **uvicorn_options(settings)))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield server
    finally:
        server.should_exit = True
        thread.join(10)


def stall(app: FastAPI, settings: Settings, path: str, token: str, headers: str, partial: bytes) -> bytes:
    """Send the head and part of the body, then nothing more; return the server's answer."""
    with served(app, settings), socket.create_connection(("127.0.0.1", settings.api_port)) as s:
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n{headers}\r\n"
        s.sendall(head.encode() + partial)
        s.settimeout(20)
        return s.recv(65536)


def read_until_closed(sock: socket.socket, timeout: float = 20.0) -> bytes:
    sock.settimeout(timeout)
    out = b""
    while chunk := sock.recv(65536):
        out += chunk
    return out


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> pytest.LogCaptureFixture:
    """Logging as the API process configures it (structlog through stdlib), captured by pytest. The guard's logger
    is bound afresh: structlog caches a logger on first use, possibly under another configuration."""
    import api.middleware
    from merchflow.logging import configure_logging, get_logger

    configure_logging("INFO", json=True, force=True)
    monkeypatch.setattr(api.middleware, "log", get_logger("api.middleware"))
    caplog.set_level(logging.INFO)
    return caplog


def records(caplog: pytest.LogCaptureFixture, level: int) -> list[dict[str, Any]]:
    """structlog events that reached stdlib logging at exactly `level` (record.msg is the event dict)."""
    return [
        {**r.msg, "exc_info": r.exc_info}
        for r in caplog.records
        if r.levelno == level and isinstance(r.msg, dict)
    ]


def test_an_idle_keep_alive_connection_is_closed_after_the_configured_time(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, api_keep_alive_seconds=0.5)
    with (
        served(create_app(settings), settings),
        socket.create_connection(("127.0.0.1", settings.api_port)) as s,
    ):
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n")
        answered = time.monotonic()
        data = read_until_closed(s)  # the server ends the connection once it has been idle long enough
        idle = time.monotonic() - answered
    assert data.startswith(b"HTTP/1.1 200") and idle >= 0.4


@pytest.mark.parametrize(
    ("path", "headers", "partial"),
    [
        (
            "/api/v1/catalog/imports",
            "Content-Type: text/csv\r\nContent-Length: 5000\r\n",
            b"sku,name,brand,category,cost,price\r\nA-1,Mug,B,Home,1.00,2.00\r\n",
        ),
        (
            "/api/v1/stock/adjustments",
            "Content-Type: application/json\r\nContent-Length: 300\r\n",
            b'{"sku": "A',
        ),
    ],
)
async def test_a_request_body_that_stops_arriving_is_answered_408(
    tmp_path: Path,
    logs: pytest.LogCaptureFixture,
    temporal_env: WorkflowEnvironment,
    path: str,
    headers: str,
    partial: bytes,
) -> None:
    settings = settings_for(tmp_path, api_body_read_timeout_seconds=0.5)
    token = token_for(settings)
    app = create_app(settings, temporal_client=temporal_env.client)
    answer = await asyncio.to_thread(stall, app, settings, path, token, headers, partial)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b'"code":"request_timeout"' in answer.replace(b" ", b"")
    stalled = [
        r for r in records(logs, logging.WARNING) if r["event"] == "request body stalled; answering 408"
    ]
    assert len(stalled) == 1 and stalled[0]["path"] == path and stalled[0]["bytes_received"] == len(partial)
    assert records(logs, logging.ERROR) == []
    assert [
        p for p in settings.blob_dir.rglob("*") if p.is_file()
    ] == []  # nothing of the stalled upload kept


async def test_a_client_leaving_mid_upload_is_one_warning_line(
    tmp_path: Path, logs: pytest.LogCaptureFixture, temporal_env: WorkflowEnvironment
) -> None:
    """At the ASGI level, exactly what uvicorn hands the app when the socket closes mid-body: a disconnect."""
    settings = settings_for(tmp_path)
    app = create_app(settings, temporal_client=temporal_env.client)
    token = token_for(settings)
    incoming: list[dict[str, Any]] = [
        {
            "type": "http.request",
            "body": b"sku,name,brand,category,cost,price\r\nA-1,Mug,B,Home,1.00,2.00\r\n",
            "more_body": True,
        },
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/api/v1/catalog/imports", "raw_path": b"/api/v1/catalog/imports", "query_string": b"",
        "root_path": "", "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 5555),
        "headers": [(b"host", b"x"), (b"authorization", f"Bearer {token}".encode()), (b"content-type", b"text/csv"),
                    (b"content-length", b"5000")],
    }  # fmt: skip
    await asyncio.wait_for(app(scope, receive, send), 20)
    warnings = records(logs, logging.WARNING)
    assert [(w["event"], w["path"], w["exc_info"]) for w in warnings] == [
        ("client disconnected before its request was read", "/api/v1/catalog/imports", None)
    ]
    assert records(logs, logging.ERROR) == [] and not logs.text.count("Traceback")
    assert [p for p in settings.blob_dir.rglob("*") if p.is_file()] == []  # the partial upload was discarded


def test_an_unhandled_error_is_logged_exactly_once(tmp_path: Path, logs: pytest.LogCaptureFixture) -> None:
    settings = settings_for(tmp_path)
    app = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaput")

    with served(app, settings):
        r = httpx.get(f"http://127.0.0.1:{settings.api_port}/boom", timeout=20)
        assert r.status_code == 500 and r.json() == {
            "error": {"code": "internal_error", "message": "internal server error"}
        }
        ok = httpx.get(f"http://127.0.0.1:{settings.api_port}/healthz", timeout=20)  # the server is fine
    assert ok.status_code == 200
    errors = [r for r in logs.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage()[:200] for r in errors]
    assert errors[0].exc_info is not None and "kaput" in str(errors[0].exc_info[1])
    assert isinstance(errors[0].msg, dict) and errors[0].msg["path"] == "/boom"
