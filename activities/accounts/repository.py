"""Marketplace accounts in the database: create, change, seal credentials, record health, remove.

Every function takes the session explicitly; callers own the transaction. Every change of what an adapter is built
from bumps `revision`, which makes the registries of the worker and the API rebuild that account's adapter.
Secrets are sealed here and never leave as clear text: callers get `credentials_hint` (set / last 4).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from domain.accounts.rules import merge_options, missing_credentials
from merchflow.credentials import hints, seal, unseal
from merchflow.crypto.keyring import Keyring
from merchflow.db.models import AuditLog, MarketplaceAccount
from merchflow.db.types import utcnow


class AccountError(ValueError):
    """A request about an account that cannot be done (duplicate name, unknown account): told to the caller."""

    def __init__(self, message: str, *, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def get(session: Session, account_id: int, *, lock: bool = False) -> MarketplaceAccount:
    q = select(MarketplaceAccount).where(MarketplaceAccount.id == account_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update()
    row = session.exec(q).first()
    if row is None or row.status == "removed":
        raise AccountError(f"no marketplace account {account_id}", status=404)
    return row


def by_name(session: Session, marketplace: str, name: str) -> MarketplaceAccount | None:
    return session.exec(
        select(MarketplaceAccount).where(
            MarketplaceAccount.marketplace == marketplace, MarketplaceAccount.name == name
        )
    ).first()


def listed(
    session: Session, *, marketplace: str | None = None, include_removed: bool = False
) -> list[MarketplaceAccount]:
    q = select(MarketplaceAccount)
    if marketplace:
        q = q.where(MarketplaceAccount.marketplace == marketplace)
    if not include_removed:
        q = q.where(MarketplaceAccount.status != "removed")
    return list(session.exec(q.order_by(col(MarketplaceAccount.id))).all())


def _audit(
    session: Session, row: MarketplaceAccount, action: str, actor: str, details: dict[str, Any]
) -> None:
    session.add(
        AuditLog(
            actor=actor,
            action=action,
            entity_type="marketplace_account",
            entity_id=str(row.id),
            details={"marketplace": row.marketplace, "name": row.name, **details},
        )
    )


def _touch(row: MarketplaceAccount, now: datetime) -> None:
    row.revision = (row.revision or 0) + 1
    row.updated_at = now


def secrets_of(row: MarketplaceAccount, ring: Keyring) -> dict[str, str]:
    return unseal(ring, row.id or 0, row.credentials_sealed) if row.credentials_sealed else {}


def store_secrets(
    session: Session,
    row: MarketplaceAccount,
    secrets: Mapping[str, str],
    ring: Keyring,
    *,
    replace: bool = False,
) -> None:
    """Seal `secrets` into the row (merged with those stored unless `replace`); empty values remove a field."""
    current = {} if replace else secrets_of(row, ring)
    merged = {k: v for k, v in {**current, **secrets}.items() if v}
    row.credentials_sealed = seal(ring, row.id or 0, merged) if merged else None
    row.credentials_hint = hints(merged)
    session.add(row)


def can_authenticate(row: MarketplaceAccount, secrets: Mapping[str, str]) -> bool:
    """Enough to build an adapter: an environment reference (trusted as given) or a complete set of secrets."""
    return bool(row.credentials_ref) or not missing_credentials(row.marketplace, secrets)


def create(
    session: Session,
    *,
    marketplace: str,
    name: str,
    actor: str,
    ring: Keyring,
    base_url: str | None = None,
    region: str | None = None,
    marketplace_ids: list[str] | None = None,
    options: Mapping[str, Any] | None = None,
    credentials_ref: str | None = None,
    secrets: Mapping[str, str] | None = None,
    safety_buffer: int = 0,
    enabled: bool = True,
) -> MarketplaceAccount:
    existing = by_name(session, marketplace, name)
    if existing is not None and existing.status != "removed":
        raise AccountError(
            f"a {marketplace} account named {name!r} exists already (id {existing.id})", status=409
        )
    now = utcnow()
    row = MarketplaceAccount(
        marketplace=marketplace,
        name=name,
        base_url=base_url,
        region=region,
        marketplace_ids=list(marketplace_ids or []),
        config=dict(options or {}),
        credentials_ref=credentials_ref,
        safety_buffer=safety_buffer,
        enabled=enabled,
        status="pending",
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()  # the id seals the credentials: a sealed value only opens on its own account
    if secrets:
        store_secrets(session, row, secrets, ring, replace=True)
    if can_authenticate(row, secrets or {}):
        row.status = "connected"
    _audit(
        session,
        row,
        "account_created",
        actor,
        {"status": row.status, "credentials": sorted(row.credentials_hint)},
    )
    session.flush()
    return row


def update(
    session: Session,
    row: MarketplaceAccount,
    *,
    actor: str,
    ring: Keyring,
    changes: Mapping[str, Any],
    secrets: Mapping[str, str] | None = None,
) -> MarketplaceAccount:
    """`changes`: name, base_url, region, marketplace_ids, options (merged; null removes a key), credentials_ref,
    safety_buffer, enabled. New secrets (pasted keys) are merged with the stored ones and reconnect the account."""
    now = utcnow()
    if "name" in changes and changes["name"] != row.name:
        other = by_name(session, row.marketplace, changes["name"])
        if other is not None and other.id != row.id:
            raise AccountError(
                f"a {row.marketplace} account named {changes['name']!r} exists already", status=409
            )
    for field in ("name", "base_url", "region", "credentials_ref", "safety_buffer", "enabled"):
        if field in changes:
            setattr(row, field, changes[field])
    if "marketplace_ids" in changes:
        row.marketplace_ids = list(changes["marketplace_ids"] or [])
    if "options" in changes:
        row.config = merge_options(row.config or {}, changes["options"] or {})
    if secrets:
        store_secrets(session, row, secrets, ring)
    if (secrets or "credentials_ref" in changes) and can_authenticate(row, secrets_of(row, ring)):
        row.status, row.status_reason = "connected", None  # new credentials: worth trying again
    _touch(row, now)
    details = {k: v for k, v in changes.items() if k != "options"} | (
        {"options": sorted((changes.get("options") or {}).keys())} if "options" in changes else {}
    )
    if secrets:
        details["credentials"] = sorted(secrets)
    _audit(session, row, "account_changed", actor, details)
    session.add(row)
    session.flush()
    return row


def connected(
    session: Session, row: MarketplaceAccount, *, actor: str, ring: Keyring, secrets: Mapping[str, str],
    options: Mapping[str, Any] | None = None, base_url: str | None = None, how: str,
) -> MarketplaceAccount:  # fmt: skip
    """A connect flow finished: the new credentials replace the flow's fields, the account is callable again."""
    store_secrets(session, row, secrets, ring)
    if options:
        row.config = merge_options(row.config or {}, options)
    if base_url is not None:
        row.base_url = base_url
    row.status, row.status_reason = "connected", None
    _touch(row, utcnow())
    _audit(session, row, "account_connected", actor, {"how": how, "credentials": sorted(secrets)})
    session.add(row)
    session.flush()
    return row


def remove(session: Session, row: MarketplaceAccount, *, actor: str) -> None:
    """Removal keeps the row for the orders, ledgers and reports that name it, but destroys its secrets, switches it
    off for good and frees its name."""
    now = utcnow()
    _audit(session, row, "account_removed", actor, {})
    row.status, row.enabled = "removed", False
    row.credentials_sealed, row.credentials_hint, row.credentials_ref = None, {}, None
    row.name = f"{row.name}~removed-{row.id}"[:100]
    _touch(row, now)
    session.add(row)
    session.flush()


# ---------------------------------------------------------------- health (called from the marketplace registry)
_A = MarketplaceAccount.__table__  # type: ignore[attr-defined]


def mark_needs_reauth(
    conn: sa.Connection, *, account_id: int, reason: str, now: datetime
) -> dict[str, Any] | None:
    """Connected -> needs_reauth, once. Returns the account (marketplace, name, revision) when this call changed it."""
    res = conn.execute(
        sa.update(_A)
        .where(_A.c.id == account_id, _A.c.status == "connected")
        .values(
            status="needs_reauth", status_reason=reason[:1000], last_error=reason[:2000], last_error_at=now
        )
    )
    if not res.rowcount:
        return None
    row = conn.execute(
        sa.select(_A.c.marketplace, _A.c.name, _A.c.revision).where(_A.c.id == account_id)
    ).one()
    conn.execute(
        sa.insert(AuditLog.__table__).values(  # type: ignore[attr-defined]
            at=now,
            actor="system",
            action="account_needs_reauth",
            entity_type="marketplace_account",
            entity_id=str(account_id),
            details={"marketplace": row.marketplace, "name": row.name, "reason": reason[:500]},
        )
    )
    return dict(row._mapping)


def record_success(conn: sa.Connection, *, account_id: int, now: datetime) -> None:
    conn.execute(sa.update(_A).where(_A.c.id == account_id).values(last_success_at=now))


def record_error(conn: sa.Connection, *, account_id: int, error: str, now: datetime) -> None:
    conn.execute(
        sa.update(_A).where(_A.c.id == account_id).values(last_error=error[:2000], last_error_at=now)
    )
