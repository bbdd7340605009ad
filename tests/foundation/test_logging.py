"""One logging chain per process: JSON off a TTY, console on one, stdlib loggers through the same chain,
secrets redacted, and Temporal workflow / activity ids merged into lines logged inside them."""

from __future__ import annotations

import io
import json
import logging
import os
import pty
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta

from temporalio import activity, workflow

# The sandbox re-imports this module to validate the workflow below: keep its imports out of it.
with workflow.unsafe.imports_passed_through():
    import pytest
    import structlog
    from pydantic import BaseModel
    from temporalio.testing import WorkflowEnvironment
    from temporalio.worker import Worker

    from merchflow import logging as mf_logging

SCRIPT = """
import logging
from merchflow.logging import configure_logging, get_logger
configure_logging("INFO")
get_logger("merchflow.test").info("structlog line", sku="SKU-1", token="mf_secret_value")
logging.getLogger("temporalio.worker._workflow").warning("temporal line %s", 42)
logging.getLogger("uvicorn.error").info("uvicorn line")
logging.getLogger("httpx").info("hidden: httpx INFO is quiet")
import warnings
warnings.warn("a python warning")
"""


def _run_script(*, tty: bool) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MERCHFLOW_")}
    if not tty:
        proc = subprocess.run(
            [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=60
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stderr
    primary, secondary = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-c", SCRIPT], stderr=secondary, stdout=subprocess.DEVNULL, env=env, timeout=60
        )
        os.close(secondary)
        chunks = []
        while True:
            try:
                data = os.read(primary, 65536)
            except OSError:  # EIO once the pty is drained
                break
            if not data:
                break
            chunks.append(data)
        assert proc.returncode == 0
        return b"".join(chunks).decode(errors="replace")
    finally:
        os.close(primary)


def test_json_lines_when_stderr_is_not_a_tty_and_stdlib_loggers_share_the_chain() -> None:
    lines = [json.loads(line) for line in _run_script(tty=False).splitlines() if line.strip()]
    warning_lines = [line for line in lines if line["logger"] == "py.warnings"]
    assert len(warning_lines) == 1 and "a python warning" in warning_lines[0]["event"]
    by_event = {line["event"]: line for line in lines if line not in warning_lines}
    assert set(by_event) == {"structlog line", "temporal line 42", "uvicorn line"}  # httpx INFO dropped
    ours = by_event["structlog line"]
    assert ours["sku"] == "SKU-1" and ours["level"] == "info" and ours["logger"] == "merchflow.test"
    assert ours["token"] == "***"  # never the secret itself
    assert by_event["temporal line 42"]["level"] == "warning"
    assert by_event["temporal line 42"]["logger"] == "temporalio.worker._workflow"
    assert by_event["uvicorn line"]["logger"] == "uvicorn.error"
    for line in lines:  # same processors for both kinds: timestamps in UTC ISO format
        assert line["timestamp"].endswith("Z")


def test_console_output_on_a_tty() -> None:
    out = _run_script(tty=True)
    assert "structlog line" in out and "uvicorn line" in out
    assert not out.lstrip().startswith("{")
    assert "mf_secret_value" not in out


# ---------------------------------------------------------------- inside Temporal
class LogProbeInput(BaseModel):
    sku: str


class LogProbeResult(BaseModel):
    logged: bool


class LogProbeActivities:
    @activity.defn(name="log-probe-activity")
    async def log_in_activity(self, data: LogProbeInput) -> LogProbeResult:
        mf_logging.get_logger("merchflow.test.activity").info("structlog in activity", sku=data.sku)
        activity.logger.info("activity.logger in activity")
        return LogProbeResult(logged=True)


@workflow.defn(name="log-probe")
class LogProbeWorkflow:
    @workflow.run
    async def run(self, data: LogProbeInput) -> LogProbeResult:
        workflow.logger.info("workflow.logger in workflow")
        return await workflow.execute_activity_method(
            LogProbeActivities.log_in_activity, data, start_to_close_timeout=timedelta(seconds=30)
        )


@pytest.fixture
def captured_json_logs() -> Iterator[io.StringIO]:
    """Configure the real chain (JSON) into a buffer; restore the process's logging afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, structlog.get_config(), mf_logging._configured)
    buffer = io.StringIO()
    mf_logging.configure_logging("INFO", json=True, force=True)
    root.handlers[0].setStream(buffer)  # type: ignore[attr-defined]
    # what worker processes do (the Runtime part is a no-op here: the test client already exists)
    mf_logging.configure_temporal_logging()
    yield buffer
    root.handlers[:], level, config, mf_logging._configured = saved[0], saved[1], saved[2], saved[3]
    root.setLevel(level)
    structlog.configure(**config)
    logging.captureWarnings(False)


async def test_workflow_and_activity_ids_are_merged_into_lines(
    temporal_env: WorkflowEnvironment, task_queue: str, captured_json_logs: io.StringIO
) -> None:
    wf_id = f"log-probe-{uuid.uuid4().hex[:8]}"
    async with Worker(
        temporal_env.client,
        task_queue=task_queue,
        workflows=[LogProbeWorkflow],
        activities=[LogProbeActivities().log_in_activity],
    ):
        handle = await temporal_env.client.start_workflow(
            LogProbeWorkflow.run, LogProbeInput(sku="SKU-9"), id=wf_id, task_queue=task_queue
        )
        assert (await handle.result()).logged
    lines = [json.loads(x) for x in captured_json_logs.getvalue().splitlines() if x.startswith("{")]
    by_event = {line["event"]: line for line in lines}

    wf_line = by_event["workflow.logger in workflow"]  # no "({...})" context appended to the message
    assert wf_line["workflow_id"] == wf_id and wf_line["workflow_type"] == "log-probe"
    assert wf_line["workflow_run_id"] == handle.result_run_id

    for event in ("structlog in activity", "activity.logger in activity"):
        line = by_event[event]
        assert line["workflow_id"] == wf_id, line
        assert line["activity_type"] == "log-probe-activity"
        assert line["activity_id"] and line["attempt"] == 1
        assert line["workflow_run_id"] == handle.result_run_id
    assert by_event["structlog in activity"]["sku"] == "SKU-9"
