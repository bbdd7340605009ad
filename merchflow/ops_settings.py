"""Settings groups of the operators' tooling: metrics, payload encryption, alerts, retention.

Kept beside `merchflow.settings` (which only names the groups) so the tooling stays in its own modules.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr


class MetricsSettings(BaseModel):
    """Prometheus metrics: `/metrics` on the API, and a small HTTP server per worker process."""

    # /metrics on the API and the workers, and the Temporal SDK's runtime metrics
    enabled: bool = True
    # each worker binds the first free port of [worker_port, worker_port + worker_port_span): several workers on
    # one machine do not collide, and Prometheus scrapes the whole range. 0 turns the worker endpoint off.
    worker_port: int = Field(9464, ge=0, le=65535)
    worker_port_span: int = Field(8, ge=1, le=1000)  # how many ports from worker_port the workers may take
    worker_host: str = "127.0.0.1"  # interface of the workers' /metrics (0.0.0.0 in containers)
    # true: the API's /metrics needs an API token (Prometheus: `authorization: {credentials: <token>}`)
    api_requires_token: bool = False


class CodecSettings(BaseModel):
    """AES-GCM encryption of every Temporal payload. Keys are 32 random bytes, urlsafe-base64:
    `python -c 'import secrets,base64; print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())'`.
    Rotation: add a new key, make it primary; keep the old one as long as histories encrypted with it exist."""

    # key id -> key, e.g. MERCHFLOW_CODEC__KEYS__K2026=...; key ids are lower-case. Empty: payloads in clear
    keys: dict[str, SecretStr] = Field(default_factory=dict)
    primary_key_id: str | None = None  # the key new payloads are encrypted with; default: the only key
    # the Temporal Web UI's origin, allowed to call the codec server from the browser (CORS)
    ui_origins: list[str] = Field(default_factory=list)  # empty: the embedded UI's http://host:ui_port


class AlertSettings(BaseModel):
    """Operational alerts, checked by the `ops-alerts` schedule and sent through the notification channels."""

    enabled: bool = True  # the ops-alerts schedule
    check_every_minutes: int = Field(1, ge=1)  # how often ops-alerts checks
    account_failing_minutes: float = Field(15.0, gt=0)  # a marketplace account failing this long alerts
    order_sync_p95_seconds: float = Field(10.0, gt=0)  # p95 of order-sync runs closed in the window
    order_sync_window_minutes: int = Field(15, ge=1)  # the p95 covers runs closed this recently
    order_sync_min_runs: int = Field(5, ge=1)  # fewer closed runs in the window: no verdict
    # longest a run of a workflow type may take before it counts as stuck; types not listed: default
    expected_minutes: dict[str, float] = Field(
        default_factory=lambda: {"order-sync": 30.0, "stock-publish": 30.0, "catalog-import": 240.0}
    )
    default_expected_minutes: float = Field(360.0, gt=0)  # stuck threshold of the other types
    # long-lived by design (waiting for people, continue-as-new loops): never stuck
    never_stuck: list[str] = Field(default_factory=lambda: ["decision", "decision-batch"])
    failed_window_minutes: int = Field(60, ge=1)  # failed / timed-out runs closed this recently alert
    outbox_backlog: int = Field(50, ge=1)  # undelivered notices older than outbox_age_minutes
    outbox_age_minutes: float = Field(15.0, gt=0)  # pending longer than this counts as backlog


class RetentionSettings(BaseModel):
    """Housekeeping schedules: what is deleted when (the source documents ask 30-90 days for logs)."""

    enabled: bool = True  # the ops-housekeeping and ops-outbox-resend schedules
    housekeeping_cron: str = "17 3 * * *"  # daily, in time_zone
    log_retention_days: int = Field(30, ge=1, le=3650)  # rotated logs are kept this long (30-90 asked)
    # 0: rotate every live log each run; >0: only logs at least this big
    log_rotate_bytes: int = Field(0, ge=0)
    upload_retention_days: int = Field(30, ge=1)  # uploaded files (catalog imports) of finished imports
    sandbox_request_days: int = Field(7, ge=1)  # the sandbox marketplaces' request logs
    resend_every_minutes: int = Field(30, ge=1)  # outbox re-sender for notices that failed every retry
    # a notice still pending this long has outlived the workflow's own delivery retries (about an hour)
    resend_after_minutes: float = Field(120.0, gt=0)
    resend_max_attempts: int = Field(20, ge=1)  # then the notice is marked failed for good
    backup_dir: str = "backups"  # relative to data_dir unless absolute
