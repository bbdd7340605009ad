"""structlog configured once per process; stdlib loggers (temporalio, uvicorn, httpx) share the same chain.

JSON lines when stderr is not a TTY (services, CI), coloured console output otherwise. Every line logged
inside a Temporal activity or workflow carries its workflow / activity ids.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

_configured = False

# Never log these keys' values even if a caller passes them by mistake.
_SECRET_KEYS = frozenset({"password", "token", "secret", "authorization", "api_key", "client_secret"})


def _add_temporal_context(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    # Imported lazily: importing temporalio here at module import time would slow every CLI start.
    from temporalio import activity, workflow

    if activity.in_activity():
        info = activity.info()
        event_dict.setdefault("workflow_id", info.workflow_id)
        event_dict.setdefault("workflow_run_id", info.workflow_run_id)
        event_dict.setdefault("workflow_type", info.workflow_type)
        event_dict.setdefault("activity_id", info.activity_id)
        event_dict.setdefault("activity_type", info.activity_type)
        event_dict.setdefault("attempt", info.attempt)
    elif workflow.in_workflow():
        # structlog called from workflow code (prefer workflow.logger: it stays quiet during replay)
        winfo = workflow.info()
        event_dict.setdefault("workflow_id", winfo.workflow_id)
        event_dict.setdefault("workflow_run_id", winfo.run_id)
        event_dict.setdefault("workflow_type", winfo.workflow_type)
    record = event_dict.get("_record")
    if record is not None:
        # temporalio's workflow.logger / activity.logger attach their context as `extra`; the workflow
        # one calls the run id `run_id`, renamed so both kinds of line use the same keys.
        for attr in ("temporal_workflow", "temporal_activity"):
            ctx = getattr(record, attr, None)
            if isinstance(ctx, dict):
                for key, value in ctx.items():
                    event_dict.setdefault(_RENAMED.get(key, key), value)
    return event_dict


_RENAMED = {"run_id": "workflow_run_id"}


def _redact(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    for key in list(event_dict):
        if key.lower() in _SECRET_KEYS:
            event_dict[key] = "***"
    return event_dict


def configure_logging(level: str = "INFO", json: bool | None = None, force: bool = False) -> None:
    global _configured
    if _configured and not force:
        return
    if json is None:
        json = not sys.stderr.isatty()
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_temporal_context,
        _redact,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=True)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info if json else structlog.processors.StackInfoRenderer(),
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.captureWarnings(True)  # Python warnings become `py.warnings` log lines in the same format
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "temporalio", "httpx", "alembic"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
    # httpx logs every request line at INFO, with URLs that may carry query secrets: keep it quiet.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    _configured = True


def get_logger(name: str | None = None, **initial: Any) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name, **initial)


def configure_temporal_logging(metrics: Any = None) -> None:
    """For processes that run workers or clients: the SDK's Rust core logs go through the same chain as
    everything else, and workflow / activity loggers stop repeating their context inside the message
    (it is already merged as fields). Must run before the first Temporal client is created. `metrics`: the
    SDK's runtime metrics config (merchflow.telemetry.endpoint), None for none."""
    from temporalio import activity, workflow
    from temporalio.runtime import (
        LogForwardingConfig,
        LoggingConfig,
        Runtime,
        TelemetryConfig,
        TelemetryFilter,
    )

    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False
    runtime = Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
            ),
            metrics=metrics,
        )
    )
    try:
        Runtime.set_default(runtime, error_if_already_set=True)
    except RuntimeError:
        pass  # a client already exists in this process: its runtime keeps logging as it was set up
