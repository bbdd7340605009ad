"""How marketplace calls end, per account: the listener the composition root gives every MarketplaceRegistry.

- Credentials refused: the account becomes "needs re-auth" at once (nothing calls it any more: the registry
  refuses it, schedules skip it, workflows fail its steps as non-retryable) and the operator is notified once per
  connection through the notification outbox (mail / Slack-compatible webhook).
- Success: "last successful call" moves (written at most once a minute per account).
- Other account-level failures (5xx, throttling, unreachable): "last error", at most once a minute.
"""

from __future__ import annotations

import asyncio
import time

import sqlalchemy as sa

from activities.accounts import repository as repo
from connectors.errors import ConnectorError
from connectors.marketplace.account_adapter import credentials_refused
from merchflow.db.types import utcnow
from merchflow.logging import get_logger
from merchflow.notify import notify_operator
from merchflow.settings import Settings

log = get_logger(__name__)
WRITE_EVERY_SECONDS = 60.0


def reauth_notice(
    settings: Settings, *, account_id: int, marketplace: str, name: str, reason: str
) -> tuple[str, str, str]:
    link = f"{settings.base_url.rstrip('/')}/admin/accounts"
    subject = f"[merchflow] {marketplace} account {name!r} needs to be reconnected"
    body = "\n".join(
        [
            f"{marketplace} refused the credentials of account {name!r} (id {account_id}).",
            f"What it said: {reason}",
            "Until it is reconnected, nothing is sent to or read from this account: stock and price updates, order",
            "polls, reconciles and listing syncs for it stop (they are reported as failed, not retried).",
            "The other accounts go on as usual.",
            f"Reconnect: open {link} and click Connect, or run `merchflow accounts connect {account_id}`,",
            "or paste new keys with `merchflow accounts update` / PATCH /api/v1/accounts/{id}.",
        ]
    )
    return subject, body, link


class AccountHealth:
    def __init__(self, engine: sa.Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self._written: dict[tuple[int, str], float] = {}

    def _due(self, account_id: int, what: str) -> bool:
        now = time.monotonic()
        if now - self._written.get((account_id, what), -1e9) < WRITE_EVERY_SECONDS:
            return False
        self._written[(account_id, what)] = now
        return True

    async def __call__(self, account_id: int, error: ConnectorError | None) -> None:
        try:
            if error is None:
                if self._due(account_id, "ok"):
                    await asyncio.to_thread(self._write, repo.record_success, account_id=account_id)
            elif credentials_refused(error):
                await asyncio.to_thread(self.refused, account_id, str(error))
            elif self._due(account_id, "error"):
                await asyncio.to_thread(
                    self._write, repo.record_error, account_id=account_id, error=str(error)
                )
        except Exception as exc:  # bookkeeping must never turn a marketplace answer into a failure
            log.warning("account health not recorded", account_id=account_id, error=str(exc))

    def _write(self, fn, **kwargs) -> None:  # type: ignore[no-untyped-def]
        with self.engine.begin() as conn:
            fn(conn, now=utcnow(), **kwargs)

    def refused(self, account_id: int, reason: str) -> bool:
        """Mark the account and notify; False when it was not connected any more (someone else marked it)."""
        with self.engine.begin() as conn:
            changed = repo.mark_needs_reauth(conn, account_id=account_id, reason=reason, now=utcnow())
        if changed is None:
            return False
        log.warning(
            "marketplace credentials refused: account needs re-auth", account_id=account_id, reason=reason
        )
        subject, body, link = reauth_notice(
            self.settings,
            account_id=account_id,
            marketplace=changed["marketplace"],
            name=changed["name"],
            reason=reason,
        )
        notify_operator(
            self.engine,
            self.settings,
            dedupe_key=f"account:{account_id}:needs_reauth:r{changed['revision']}",
            event="account_needs_reauth",
            subject=subject,
            body=body,
            link=link,
        )
        return True
