"""Marketplace accounts: rows in `marketplace_account` + their credentials -> adapters, cached per process.

Credentials come from the environment (`credentials_ref`, for those who keep secrets there), the sandboxes' built-in
ones (`sandbox-<marketplace>` refs), and those obtained at run time (connect flows, pasted keys), sealed in the row.
An adapter is rebuilt when its account's `revision` moves (any change of configuration, credentials or SKU links),
so the worker and the API pick changes up without a restart.
"""

from __future__ import annotations

import importlib
from typing import Any

import sqlalchemy as sa
from pydantic import SecretStr
from sqlmodel import Session, select

from connectors.errors import NonRetryableError
from connectors.marketplace.account_adapter import AccountAdapter, CallListener, SkuAliases
from connectors.marketplace.config import AccountConfig
from connectors.marketplace.factory import ADAPTERS, build_marketplace
from connectors.marketplace.port import Marketplace
from connectors.ratelimit import RateLimiterRegistry
from merchflow.credentials import credential_keyring, unseal
from merchflow.crypto.keyring import Keyring
from merchflow.db.models import MarketplaceAccount, MarketplaceListing
from merchflow.settings import Settings

SANDBOX_REF_PREFIX = "sandbox-"
# accounts the engine calls; `pending` ones were never connected, `needs_reauth` ones had their credentials refused
CALLABLE_STATUSES = ("connected",)


class AccountUnavailable(NonRetryableError):
    """The account cannot be called until someone acts (reconnect it): workflows stop retrying it."""


def sandbox_credentials(marketplace: str) -> dict[str, str]:
    """Each adapter module ships the (non-secret) credentials its local sandbox accepts."""
    module = importlib.import_module(ADAPTERS[marketplace].split(":")[0])
    return dict(getattr(module, "SANDBOX_CREDENTIALS", {}))


def account_config(row: MarketplaceAccount, settings: Settings, ring: Keyring | None = None) -> AccountConfig:
    creds: dict[str, SecretStr] = {}
    ref = row.credentials_ref
    if ref:
        # Environment variable names cannot hold "-": credentials_ref "amazon-us" reads ..._CREDENTIALS__AMAZON_US__...
        found = settings.marketplace_credentials
        creds = dict(found.get(ref.lower()) or found.get(ref.lower().replace("-", "_")) or {})
        if not creds and ref.startswith(SANDBOX_REF_PREFIX):
            creds = {k: SecretStr(v) for k, v in sandbox_credentials(row.marketplace).items()}
    if row.credentials_sealed and row.id is not None:
        # obtained at run time: newer than whatever the environment holds for the same fields
        opened = unseal(ring or credential_keyring(settings), row.id, row.credentials_sealed)
        creds.update({k: SecretStr(v) for k, v in opened.items()})
    options: dict[str, Any] = dict(row.config or {})
    # sandbox accounts follow MERCHFLOW_SANDBOX__*: built-in credentials, or connected through a sandbox's consent
    on_sandbox = (ref or "").startswith(SANDBOX_REF_PREFIX) or bool(options.pop("sandbox", False))
    base_url = row.base_url or (settings.sandbox.base_url(row.marketplace) if on_sandbox else "")
    if row.marketplace_ids and "marketplace_id" not in options:
        options["marketplace_id"] = row.marketplace_ids[0]
    if row.region and "region" not in options:
        options["region"] = row.region
    return AccountConfig(
        account_id=row.id,
        marketplace=row.marketplace,  # type: ignore[arg-type]
        name=row.name,
        base_url=base_url,
        options=options,
        credentials=creds,
        user_agent=settings.http_user_agent,
    )


def sku_aliases(engine: sa.Engine, account_id: int) -> SkuAliases:
    """The account's links whose marketplace SKU differs from the master SKU."""
    listing = MarketplaceListing.__table__  # type: ignore[attr-defined]
    q = sa.select(listing.c.sku, listing.c.marketplace_sku).where(
        listing.c.account_id == account_id,
        listing.c.marketplace_sku.is_not(None),
        listing.c.marketplace_sku != listing.c.sku,
    )
    with engine.execution_options(readonly=True).connect() as conn:
        return SkuAliases({sku: theirs for sku, theirs in conn.execute(q)})


class MarketplaceRegistry:
    """One adapter (one httpx client, one set of rate-limit buckets) per account per process, rebuilt when the
    account's revision moves. `listener` hears how every call ends (see connectors.marketplace.account_adapter)."""

    def __init__(
        self,
        engine: sa.Engine,
        settings: Settings,
        limiter: RateLimiterRegistry | None = None,
        listener: CallListener | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.limiter = limiter or RateLimiterRegistry(enabled=settings.marketplace_rate_limits)
        self.listener = listener
        self._ring: Keyring | None = None
        self._adapters: dict[int, Marketplace] = {}
        self._revisions: dict[int, int] = {}  # the account revision each cached adapter was built from
        self._retired: list[Marketplace] = []  # replaced adapters: in-flight calls may still use them
        self._pinned: set[int] = (
            set()
        )  # accounts served a prebuilt adapter (use()): kept whatever the revision

    @property
    def ring(self) -> Keyring:
        if self._ring is None:
            self._ring = credential_keyring(self.settings)
        return self._ring

    def accounts(self, *, marketplace: str | None = None) -> list[AccountConfig]:
        """Enabled accounts the engine may call (connected): schedules and fan-outs iterate these."""
        with Session(self.engine.execution_options(readonly=True)) as s:
            q = select(MarketplaceAccount).where(
                MarketplaceAccount.enabled == True,  # noqa: E712
                MarketplaceAccount.status.in_(CALLABLE_STATUSES),  # type: ignore[attr-defined]
            )
            if marketplace:
                q = q.where(MarketplaceAccount.marketplace == marketplace)
            rows = s.exec(q.order_by(MarketplaceAccount.id)).all()  # type: ignore[arg-type]
            return [account_config(r, self.settings, self.ring) for r in rows]

    def _row(self, account_id: int, *, full: bool) -> Any:
        acc = MarketplaceAccount.__table__  # type: ignore[attr-defined]
        cols = [acc] if full else [acc.c.id, acc.c.revision, acc.c.status, acc.c.status_reason, acc.c.name]
        with self.engine.execution_options(readonly=True).connect() as conn:
            row = conn.execute(sa.select(*cols).where(acc.c.id == account_id)).mappings().first()
        if row is None:
            raise KeyError(f"no marketplace account {account_id}")
        return row

    def get(self, account_id: int) -> Marketplace:
        """The account's adapter, in master SKUs. Raises AccountUnavailable for an account nobody may call now."""
        head = self._row(account_id, full=False)
        if head["status"] not in CALLABLE_STATUSES:
            what = "needs re-auth" if head["status"] == "needs_reauth" else "is not connected yet"
            reason = f": {head['status_reason']}" if head["status_reason"] else ""
            raise AccountUnavailable(
                f"account {head['name']!r} (id {account_id}) {what}{reason}; reconnect it",
                code=head["status"],
            )
        cached = self._adapters.get(account_id)
        if cached is not None and (
            account_id in self._pinned or self._revisions.get(account_id) == head["revision"]
        ):
            return cached
        with Session(self.engine.execution_options(readonly=True)) as s:
            row = s.get(MarketplaceAccount, account_id)
        if row is None:
            raise KeyError(f"no marketplace account {account_id}")
        inner = build_marketplace(account_config(row, self.settings, self.ring), self.limiter)
        adapter = AccountAdapter(
            inner, account_id=account_id, aliases=sku_aliases(self.engine, account_id), listener=self.listener
        )
        if cached is not None:
            self._retired.append(cached)
        self._adapters[account_id] = adapter  # type: ignore[assignment]
        self._revisions[account_id] = row.revision
        return adapter  # type: ignore[return-value]

    def fresh(self, account_id: int) -> Marketplace:
        """A new raw adapter whatever the account's status (an account test may show re-auth is no longer needed).
        Not cached: the caller closes it."""
        with Session(self.engine.execution_options(readonly=True)) as s:
            row = s.get(MarketplaceAccount, account_id)
        if row is None:
            raise KeyError(f"no marketplace account {account_id}")
        return build_marketplace(account_config(row, self.settings, self.ring), self.limiter)

    def raw(self, account_id: int) -> Marketplace:
        """The adapter as the marketplace speaks: its own SKUs (listing sync reads and links these)."""
        return self.get(account_id).inner  # type: ignore[attr-defined, no-any-return]

    def forget(self, account_id: int) -> None:
        """Drop the cached adapter (an account removed): the next get() reads the row again."""
        cached = self._adapters.pop(account_id, None)
        self._revisions.pop(account_id, None)
        self._pinned.discard(account_id)
        if cached is not None:
            self._retired.append(cached)

    def use(self, account_id: int, adapter: Marketplace) -> None:
        """Serve this prebuilt adapter (speaking the marketplace's SKUs) for the account, whatever its revision: a
        composition root or a test wiring its own transport. It is wrapped like a built one (master SKUs at the
        port, refused credentials reported); the account's status is still checked on every get()."""
        if not isinstance(adapter, AccountAdapter):
            adapter = AccountAdapter(  # type: ignore[assignment]
                adapter,
                account_id=account_id,
                aliases=sku_aliases(self.engine, account_id),
                listener=self.listener,
            )
        self._adapters[account_id] = adapter
        self._pinned.add(account_id)

    async def aclose(self) -> None:
        for adapter in [*self._adapters.values(), *self._retired]:
            await adapter.aclose()
        self._adapters.clear()
        self._revisions.clear()
        self._retired.clear()
