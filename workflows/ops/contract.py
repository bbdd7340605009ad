"""Payloads, names and ids of the operators' workflows: alerts, housekeeping, the outbox re-sender."""

from __future__ import annotations

from pydantic import BaseModel

ALERTS_WORKFLOW = "ops-alerts"
HOUSEKEEPING_WORKFLOW = "ops-housekeeping"
RESEND_WORKFLOW = "ops-outbox-resend"


class AlertCheckInput(BaseModel):
    pass


class AlertCheckResult(BaseModel):
    firing: list[str] = []  # keys firing after this check
    fired: list[str] = []  # keys that started firing now
    recovered: list[str] = []
    outbox_ids: list[int] = []  # notices queued by this check, delivered by the workflow


class DeliverNoticeInput(BaseModel):
    outbox_id: int


class DeliverNoticeResult(BaseModel):
    outbox_id: int
    status: str  # sent | logged | pending | failed


class HousekeepingInput(BaseModel):
    pass


class LogRotationResult(BaseModel):
    rotated: list[str] = []
    deleted: list[str] = []


class PurgeResult(BaseModel):
    deleted: int = 0
    kept: int = 0


class HousekeepingResult(BaseModel):
    logs: LogRotationResult = LogRotationResult()
    uploads: PurgeResult = PurgeResult()
    sandbox_requests: PurgeResult = PurgeResult()


class ResendInput(BaseModel):
    pass


class ResendPlan(BaseModel):
    outbox_ids: list[int] = []  # notices to try again
    given_up: list[int] = []  # marked failed: too many attempts


class ResendResult(BaseModel):
    delivered: list[int] = []
    still_pending: list[int] = []
    given_up: list[int] = []
