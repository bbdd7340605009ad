"""Marketplace accounts: add, list, change, remove (admin changes, operators read), test, start a connect flow."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlmodel import Session
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError

from activities.accounts import connect, repository
from api.accounts.views import (
    AccountCreate,
    AccountList,
    AccountOut,
    AccountUpdate,
    ConnectOut,
    ConnectRequest,
    account_out,
)
from api.deps import Admin, AppSettings, Operator, Temporal, get_engine
from api.errors import ApiError, error_responses
from api.listings.start import start_listing_sync
from api.routing import ApiRoute
from domain.accounts.rules import AccountTestReport, unknown_credential_fields
from domain.bounds import MAX_ROW_ID
from merchflow.credentials import credential_keyring
from merchflow.db.engine import read_session, session_scope
from merchflow.logging import get_logger
from workflows.accounts.contract import TASK_QUEUE, TEST_WORKFLOW, AccountTestInput, test_workflow_id

router = APIRouter(prefix="/api/v1/accounts", tags=["accounts"], route_class=ApiRoute)
log = get_logger(__name__)
AccountId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
TEST_TIMEOUT = timedelta(seconds=120)


def _check_credentials(marketplace: str, fields: list[str]) -> None:
    unknown = unknown_credential_fields(marketplace, fields)
    if unknown:
        from domain.accounts.rules import CREDENTIAL_FIELDS

        raise ApiError(
            422,
            f"unknown credential field(s) for {marketplace}: {', '.join(unknown)}",
            code="unknown_credential",
            details={"known": list(CREDENTIAL_FIELDS[marketplace])},
        )


def _run(engine: sa.Engine, fn: Any) -> Any:
    try:
        with session_scope(engine) as session:
            return fn(session)
    except repository.AccountError as exc:
        raise ApiError(exc.status, str(exc)) from None


async def _sync_on_connect(request: Request, settings: Any, account_id: int) -> None:
    client = await request.app.state.temporal.get()
    if client is None:
        log.warning(
            "temporal unreachable: the new account's listings sync with the daily schedule",
            account_id=account_id,
        )
        return
    await start_listing_sync(client, settings, account_id, "connect")


@router.post(
    "",
    status_code=201,
    response_model=AccountOut,
    summary="Add a marketplace account",
    responses=error_responses(409),
)
async def create_account(
    request: Request, body: AccountCreate, caller: Admin, settings: AppSettings
) -> AccountOut:
    _check_credentials(body.marketplace, list(body.credentials))
    ring = credential_keyring(settings)
    secrets = {k: v.get_secret_value() for k, v in body.credentials.items()}

    def make(session: Session) -> AccountOut:
        row = repository.create(
            session, marketplace=body.marketplace, name=body.name, actor=caller.username, ring=ring,
            base_url=body.base_url, region=body.region, marketplace_ids=body.marketplace_ids, options=body.options,
            credentials_ref=body.credentials_ref, secrets=secrets, safety_buffer=body.safety_buffer,
            enabled=body.enabled,
        )  # fmt: skip
        return account_out(row)

    out: AccountOut = await asyncio.to_thread(_run, get_engine(request), make)
    if out.status == "connected":
        await _sync_on_connect(request, settings, out.id)
    return out


@router.get("", response_model=AccountList, summary="Marketplace accounts")
async def list_accounts(
    request: Request, _: Operator, marketplace: Annotated[str | None, Query(max_length=32)] = None
) -> AccountList:
    def read() -> AccountList:
        with read_session(get_engine(request)) as session:
            return AccountList(
                items=[account_out(r) for r in repository.listed(session, marketplace=marketplace)]
            )

    return await asyncio.to_thread(read)


@router.get("/{account_id}", response_model=AccountOut, summary="One marketplace account")
async def get_account(request: Request, _: Operator, account_id: AccountId) -> AccountOut:
    def read() -> AccountOut:
        with read_session(get_engine(request)) as session:
            try:
                return account_out(repository.get(session, account_id))
            except repository.AccountError as exc:
                raise ApiError(exc.status, str(exc)) from None

    return await asyncio.to_thread(read)


@router.patch(
    "/{account_id}",
    response_model=AccountOut,
    summary="Change an account (options merge; keys merge)",
    responses=error_responses(409),
)
async def update_account(
    request: Request, account_id: AccountId, body: AccountUpdate, caller: Admin, settings: AppSettings
) -> AccountOut:
    changes = body.model_dump(exclude_unset=True, exclude={"credentials"})
    for field in ("name", "enabled", "safety_buffer"):
        if field in changes and changes[field] is None:
            raise ApiError(422, f"{field} cannot be null")
    secrets = {k: v.get_secret_value() for k, v in (body.credentials or {}).items()}
    ring = credential_keyring(settings)
    before: dict[str, str] = {}

    def change(session: Session) -> AccountOut:
        row = repository.get(session, account_id, lock=True)
        _check_credentials(row.marketplace, list(secrets))
        before["status"] = row.status
        return account_out(
            repository.update(
                session, row, actor=caller.username, ring=ring, changes=changes, secrets=secrets
            )
        )

    out: AccountOut = await asyncio.to_thread(_run, get_engine(request), change)
    if out.status == "connected" and before.get("status") != "connected":
        await _sync_on_connect(request, settings, out.id)
    return out


@router.delete("/{account_id}", status_code=204, summary="Remove an account (its secrets are destroyed)")
async def remove_account(request: Request, account_id: AccountId, caller: Admin) -> Response:
    def gone(session: Session) -> None:
        repository.remove(session, repository.get(session, account_id, lock=True), actor=caller.username)

    await asyncio.to_thread(_run, get_engine(request), gone)
    return Response(status_code=204)


class AccountTestStarted(BaseModel):
    """The test did not finish within the wait: it goes on on a worker; its report is at `report_url`."""

    id: str
    status: str = "running"
    report_url: str


# Long enough for the usual few calls; a slow marketplace (or no worker) gets a 202 instead of a request held open
TEST_WAIT_SECONDS = 8.0


@router.post(
    "/{account_id}/test",
    response_model=AccountTestReport,
    summary="The cheapest authenticated call per capability, reported in plain words (run on a worker)",
    responses={202: {"model": AccountTestStarted, "description": "Still running; the report follows"}},
)
async def test_account(
    request: Request, account_id: AccountId, _: Operator, settings: AppSettings, temporal: Temporal
) -> Any:
    await get_account(request, _, account_id)  # 404 before anything starts
    wid = test_workflow_id(account_id, uuid.uuid4().hex[:12])
    try:
        handle = await temporal.start_workflow(
            TEST_WORKFLOW,
            AccountTestInput(account_id=account_id),
            id=wid,
            task_queue=settings.task_queue(TASK_QUEUE),
            result_type=AccountTestReport,
            execution_timeout=TEST_TIMEOUT,
        )
        return await asyncio.wait_for(asyncio.shield(handle.result()), TEST_WAIT_SECONDS)
    except TimeoutError:
        started = AccountTestStarted(id=wid, report_url=f"/api/v1/accounts/{account_id}/tests/{wid}")
        return JSONResponse(started.model_dump(), status_code=202)
    except Exception as exc:  # the test itself failed: say so, do not pretend
        raise ApiError(503, f"the account test did not complete: {exc}") from None


@router.get(
    "/{account_id}/tests/{test_id}",
    response_model=AccountTestReport,
    summary="The report of an account test that outlived its request",
    responses={202: {"model": AccountTestStarted, "description": "Still running"}, **error_responses(404)},
)
async def account_test_report(
    request: Request,
    account_id: AccountId,
    test_id: Annotated[str, Path(max_length=200)],
    caller: Operator,
    temporal: Temporal,
) -> Any:
    await get_account(request, caller, account_id)
    if not test_id.startswith(test_workflow_id(account_id, "")):
        raise ApiError(404, f"no test {test_id!r} of account {account_id}")
    handle = temporal.get_workflow_handle(test_id, result_type=AccountTestReport)
    try:
        desc = await handle.describe()
    except RPCError:
        raise ApiError(404, f"no test {test_id!r} of account {account_id}") from None
    if desc.status == WorkflowExecutionStatus.RUNNING:
        started = AccountTestStarted(id=test_id, report_url=f"/api/v1/accounts/{account_id}/tests/{test_id}")
        return JSONResponse(started.model_dump(), status_code=202)
    try:
        return await handle.result()
    except Exception as exc:
        raise ApiError(503, f"the account test did not complete: {exc}") from None


@router.post(
    "/{account_id}/connect",
    response_model=ConnectOut,
    summary="Start a connect flow: the consent URL",
    responses=error_responses(409),
)
async def start_connect(
    request: Request,
    account_id: AccountId,
    caller: Admin,
    settings: AppSettings,
    body: ConnectRequest | None = None,
) -> ConnectOut:
    body = body or ConnectRequest()
    try:
        started = await asyncio.to_thread(
            connect.start, get_engine(request), settings, account_id=account_id, actor=caller.username,
            shop=body.shop, store_url=body.store_url,
        )  # fmt: skip
    except repository.AccountError as exc:
        raise ApiError(exc.status, str(exc)) from None
    except connect.ConnectUnavailable as exc:
        raise ApiError(409, str(exc), code="app_not_configured") from None
    return ConnectOut(**started.model_dump())
