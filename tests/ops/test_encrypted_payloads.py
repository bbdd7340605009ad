"""Payloads in Temporal history are encrypted when a key is configured (read back with a raw client), and the
codec server decodes them for an authenticated operator only, with CORS for the Temporal UI's origin."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():  # the workflow sandbox re-imports this module
    import httpx
    from google.protobuf import json_format
    from temporalio.api.common.v1 import Payloads
    from temporalio.client import Client, WorkflowFailureError
    from temporalio.testing import WorkflowEnvironment
    from temporalio.worker import Worker

    from merchflow.crypto.keyring import new_key_text
    from merchflow.settings import Settings
    from merchflow.temporal import connect
    from tests.conftest import make_token

SECRET = "buyer-jane@example.com cost 4.10"


@activity.defn(name="codec-probe-echo")
async def echo(text: str) -> str:
    return f"echo {text}"


@activity.defn(name="codec-probe-fail")
async def fail(text: str) -> str:
    raise RuntimeError(f"refused {text}")


@workflow.defn(name="codec-probe")
class CodecProbe:
    @workflow.run
    async def run(self, text: str) -> str:
        return await workflow.execute_activity(echo, text, start_to_close_timeout=timedelta(seconds=30))


@workflow.defn(name="codec-probe-failing")
class CodecProbeFailing:
    @workflow.run
    async def run(self, text: str) -> str:
        return await workflow.execute_activity(
            fail,
            text,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=__import__("temporalio.common", fromlist=["RetryPolicy"]).RetryPolicy(
                maximum_attempts=1
            ),
        )


def _settings(
    tmp_path: Path, db_url: str, env: WorkflowEnvironment, keys: dict[str, str], primary: str | None = None
) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        data_dir=tmp_path / "data",
        database_url=db_url,  # type: ignore[arg-type]
        temporal={"address": env.client.service_client.config.target_host},
        codec={"keys": keys, "primary_key_id": primary},
    )


def _history_payloads(history: object) -> list[object]:
    """Every Payload message anywhere in the history's events."""
    found: list[object] = []

    def walk(msg: object) -> None:
        from google.protobuf.message import Message
        from temporalio.api.common.v1 import Payload

        if isinstance(msg, Payload):
            found.append(msg)
            return
        if not isinstance(msg, Message):
            return
        for _, value in msg.ListFields():
            if isinstance(value, Message):
                walk(value)
            elif hasattr(value, "values") and callable(value.values):  # map field
                for v in value.values():
                    walk(v)
            elif isinstance(value, list | tuple) or type(value).__name__.startswith("Repeated"):
                for v in value:
                    walk(v)

    for event in history.events:  # type: ignore[attr-defined]
        walk(event)
    return found


async def _run(client: Client, wf: str, text: str) -> tuple[str, str]:
    queue = f"codec-{uuid.uuid4().hex[:8]}"
    wf_id = f"{wf}-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client, task_queue=queue, workflows=[CodecProbe, CodecProbeFailing], activities=[echo, fail]
    ):
        handle = await client.start_workflow(wf, text, id=wf_id, task_queue=queue)
        try:
            result = await handle.result()
        except WorkflowFailureError as exc:
            result = str(exc.cause.cause if exc.cause and exc.cause.cause else exc.cause)
    return wf_id, result


async def test_history_holds_only_ciphertext_and_the_codec_server_decodes_for_operators(
    tmp_path: Path, sqlite_url: str, temporal_env: WorkflowEnvironment
) -> None:
    key = new_key_text()
    settings = _settings(tmp_path, sqlite_url, temporal_env, {"k1": key})
    client = await connect(settings)
    wf_id, result = await _run(client, "codec-probe", SECRET)
    assert result == f"echo {SECRET}"  # the engine itself reads its payloads as usual

    raw = temporal_env.client  # no codec: what the server (and anyone reading its database) sees
    history = await raw.get_workflow_handle(wf_id).fetch_history()
    payloads = _history_payloads(history)
    assert len(payloads) >= 4  # workflow input, activity input, activity result, workflow result
    assert all(p.metadata["encoding"] == b"binary/encrypted" for p in payloads)  # type: ignore[attr-defined]
    assert {p.metadata["encryption-key-id"] for p in payloads} == {b"k1"}  # type: ignore[attr-defined]
    assert b"jane@example.com" not in history.to_json().encode()

    # failure messages can quote payload values: encrypted too
    failed_id, message = await _run(client, "codec-probe-failing", SECRET)
    assert "refused" in message
    failed_history = await raw.get_workflow_handle(failed_id).fetch_history()
    assert "jane@example.com" not in failed_history.to_json()

    from api.app import create_app

    app = create_app(settings, temporal_client=client)
    body = json_format.MessageToJson(Payloads(payloads=payloads[:2]))  # type: ignore[arg-type]
    ui = f"http://127.0.0.1:{settings.temporal.ui_port}"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http:
        assert (await http.post("/codec/decode", content=body)).status_code == 401
        viewer = make_token(app.state.engine, "viewer")
        r = await http.post("/codec/decode", content=body, headers={"authorization": f"Bearer {viewer}"})
        assert r.status_code == 403
        assert (
            await http.post("/codec/decode", content=body, headers={"authorization": "Bearer nope"})
        ).status_code == 401

        operator = make_token(app.state.engine, "operator")
        r = await http.post(
            "/codec/decode",
            content=body,
            headers={"authorization": f"Bearer {operator}", "origin": ui, "x-namespace": "default"},
        )
        assert r.status_code == 200, r.text
        assert r.headers["access-control-allow-origin"] == ui
        decoded = json_format.Parse(r.content, Payloads())
        assert all(p.metadata["encoding"] == b"json/plain" for p in decoded.payloads)
        assert any(SECRET.encode() in p.data for p in decoded.payloads)

        # encode is the inverse (the UI uses it for signals / queries it sends)
        r = await http.post(
            "/codec/encode",
            content=json_format.MessageToJson(decoded),
            headers={"authorization": f"Bearer {operator}"},
        )
        again = json_format.Parse(r.content, Payloads())
        assert all(p.metadata["encoding"] == b"binary/encrypted" for p in again.payloads)

        # CORS: the UI's preflight is answered without credentials, other origins get no allow header
        pre = await http.options(
            "/codec/decode",
            headers={
                "origin": ui,
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type,x-namespace",
            },
        )
        assert pre.status_code == 204 and pre.headers["access-control-allow-origin"] == ui
        assert "x-namespace" in pre.headers["access-control-allow-headers"].lower()
        evil = await http.options("/codec/decode", headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in evil.headers
    app.state.engine.dispose()


async def test_rotated_keys_still_decrypt_old_histories(
    tmp_path: Path, sqlite_url: str, temporal_env: WorkflowEnvironment
) -> None:
    old, new = new_key_text(), new_key_text()
    before = await connect(_settings(tmp_path, sqlite_url, temporal_env, {"k1": old}))
    wf_id, _ = await _run(before, "codec-probe", "before rotation")
    after = await connect(_settings(tmp_path, sqlite_url, temporal_env, {"k1": old, "k2": new}, "k2"))
    assert await after.get_workflow_handle(wf_id).result() == "echo before rotation"
    wf2, result = await _run(after, "codec-probe", "after rotation")
    assert result == "echo after rotation"
    history = await temporal_env.client.get_workflow_handle(wf2).fetch_history()
    assert {p.metadata["encryption-key-id"] for p in _history_payloads(history)} == {b"k2"}  # type: ignore[attr-defined]
