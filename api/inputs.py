"""Inputs shared by the API routes: query parameters with their declared ranges (domain/bounds.py), so FastAPI answers
422 for a value out of range and the OpenAPI shows the bounds; checks of ids against the database."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import Query, Request
from fastapi.concurrency import run_in_threadpool

from api.errors import ApiError
from domain.bounds import MAX_OFFSET, MAX_ROW_ID
from merchflow.db.engine import read_session
from merchflow.db.models import MarketplaceAccount

Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip")]
AccountFilter = Annotated[int | None, Query(ge=1, le=MAX_ROW_ID, description="only this account")]
BeforeId = Annotated[
    int | None, Query(ge=1, le=MAX_ROW_ID, description="cursor: rows older than this id (`next_before_id`)")
]


def declared_length(request: Request) -> int | None:
    """The Content-Length the client declared, when it is a plain decimal number (anything else: unknown)."""
    raw = request.headers.get("content-length", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 20 else None


def _account_problems(engine: sa.Engine, ids: list[int]) -> list[str]:
    wanted = sorted(set(ids))
    with read_session(engine) as session:
        rows = session.execute(
            sa.select(MarketplaceAccount.id, MarketplaceAccount.enabled).where(  # type: ignore[call-overload]
                MarketplaceAccount.id.in_(wanted)  # type: ignore[union-attr]
            )
        ).all()
    enabled = {row[0]: row[1] for row in rows}
    unknown = [i for i in wanted if i not in enabled]
    disabled = [i for i in wanted if enabled.get(i) is False]
    problems = []
    if unknown:
        problems.append(f"no marketplace account with id {', '.join(map(str, unknown))}")
    if disabled:
        problems.append(f"account {', '.join(map(str, disabled))} is disabled")
    return problems


async def check_accounts(request: Request, ids: list[int] | None, *, field: str = "account_ids") -> None:
    """Refuses (422, naming them) account ids that do not exist or are disabled: a workflow started with them would
    do nothing, or fail where nobody is looking."""
    if not ids:
        return
    problems = await run_in_threadpool(_account_problems, request.app.state.engine, ids)
    if problems:
        raise ApiError(
            422,
            f"{field}: {'; '.join(problems)}",
            details=[{"location": f"body.{field}", "message": p} for p in problems],
        )
