"""The accounts admin page: every account with its status, add one, connect it (the marketplace's consent page),
test it, sync its listings. Administrators only; every POST carries the session's CSRF token."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from activities.accounts import connect, repository
from api.listings.start import start_listing_sync
from api.web.render import render
from api.web.session import AdminUser, WebError, WebRoute
from domain.accounts.rules import MARKETPLACES, AccountTestReport
from merchflow.credentials import credential_keyring
from merchflow.db.engine import read_session, session_scope
from workflows.accounts.contract import TASK_QUEUE, TEST_WORKFLOW, AccountTestInput, test_workflow_id

router = APIRouter(prefix="/admin/accounts", route_class=WebRoute, include_in_schema=False)
FLASH = {
    "created": "Account added: connect it next.",
    "sync": "Listing sync started.",
    "removed": "Account removed.",
}


def _page(
    request: Request,
    *,
    flash: str | None = None,
    kind: str = "ok",
    status: int = 200,
    extra: dict[str, Any] | None = None,
) -> Response:
    with read_session(request.app.state.engine) as session:
        accounts = repository.listed(session)
    ctx = {
        "accounts": accounts,
        "marketplaces": MARKETPLACES,
        "flash": flash,
        "flash_kind": kind,
        **(extra or {}),
    }
    return render(request, "accounts/accounts.html", ctx, status=status)


@router.get("", response_class=HTMLResponse)
def accounts_page(request: Request, user: AdminUser, done: str | None = None) -> Response:
    return _page(request, flash=FLASH.get(done or ""))


@router.post("", response_class=HTMLResponse)
def add_account(
    request: Request,
    user: AdminUser,
    marketplace: Annotated[str, Form()],
    name: Annotated[str, Form(max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")],
) -> Response:
    if marketplace not in MARKETPLACES:
        raise WebError(400, "Unknown marketplace", f"Choose one of: {', '.join(MARKETPLACES)}.")
    try:
        with session_scope(request.app.state.engine) as session:
            repository.create(session, marketplace=marketplace, name=name, actor=user.username,
                              ring=credential_keyring(request.app.state.settings))  # fmt: skip
    except repository.AccountError as exc:
        return _page(request, flash=str(exc), kind="bad", status=exc.status)
    return RedirectResponse("/admin/accounts?done=created", status_code=303)


@router.post("/{account_id}/connect", response_class=HTMLResponse)
def connect_account(
    request: Request,
    user: AdminUser,
    account_id: int,
    shop: Annotated[str | None, Form(max_length=255)] = None,
    store_url: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    try:
        started = connect.start(request.app.state.engine, request.app.state.settings, account_id=account_id,
                                actor=user.username, shop=shop or None, store_url=store_url or None)  # fmt: skip
    except (repository.AccountError, connect.ConnectUnavailable) as exc:
        return _page(request, flash=str(exc), kind="bad", status=400)
    # a link, not a redirect: the page's form-action policy keeps form posts on this site
    return render(request, "accounts/connect_go.html", {"started": started})


@router.post("/{account_id}/test", response_class=HTMLResponse)
async def test_account(request: Request, user: AdminUser, account_id: int) -> Response:
    client = await request.app.state.temporal.get()
    if client is None:
        return _page(request, flash="Temporal is not reachable: try again shortly.", kind="bad", status=503)
    settings = request.app.state.settings
    try:
        report: AccountTestReport = await client.execute_workflow(
            TEST_WORKFLOW, AccountTestInput(account_id=account_id), id=test_workflow_id(account_id, uuid.uuid4().hex[:12]),
            task_queue=settings.task_queue(TASK_QUEUE), result_type=AccountTestReport,
        )  # fmt: skip
    except Exception as exc:
        return _page(request, flash=f"The test did not complete: {exc}", kind="bad", status=503)
    return _page(request, flash=f"{report.marketplace} {report.name}: {'all good' if report.ok else 'problems'}",
                 kind="ok" if report.ok else "bad", extra={"report": report})  # fmt: skip


@router.post("/{account_id}/sync", response_class=HTMLResponse)
async def sync_listings(request: Request, user: AdminUser, account_id: int) -> Response:
    client = await request.app.state.temporal.get()
    if client is None:
        return _page(request, flash="Temporal is not reachable: try again shortly.", kind="bad", status=503)
    await start_listing_sync(client, request.app.state.settings, account_id, "manual")
    return RedirectResponse("/admin/accounts?done=sync", status_code=303)
