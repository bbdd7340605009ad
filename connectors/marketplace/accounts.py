"""Marketplace accounts: rows in `marketplace_account` + credentials from settings -> adapters, cached per process."""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from pydantic import SecretStr
from sqlmodel import Session, select

from connectors.marketplace.config import AccountConfig
from connectors.marketplace.factory import ADAPTERS, build_marketplace
from connectors.marketplace.port import Marketplace
from connectors.ratelimit import RateLimiterRegistry
from merchflow.db.models import MarketplaceAccount
from merchflow.settings import Settings

SANDBOX_REF_PREFIX = "sandbox-"


def sandbox_credentials(marketplace: str) -> dict[str, str]:
    """Each adapter module ships the (non-secret) credentials its local sandbox accepts."""
    module = importlib.import_module(ADAPTERS[marketplace].split(":")[0])
    return dict(getattr(module, "SANDBOX_CREDENTIALS", {}))


def account_config(row: MarketplaceAccount, settings: Settings) -> AccountConfig:
    creds: dict[str, SecretStr] = {}
    ref = row.credentials_ref
    if ref:
        # Environment variable names cannot hold "-": credentials_ref "amazon-us" reads ..._CREDENTIALS__AMAZON_US__...
        found = settings.marketplace_credentials
        creds = dict(found.get(ref.lower()) or found.get(ref.lower().replace("-", "_")) or {})
        if not creds and ref.startswith(SANDBOX_REF_PREFIX):
            creds = {k: SecretStr(v) for k, v in sandbox_credentials(row.marketplace).items()}
    base_url = row.base_url or (
        settings.sandbox.base_url(row.marketplace) if (ref or "").startswith(SANDBOX_REF_PREFIX) else ""
    )
    return AccountConfig(
        account_id=row.id,
        marketplace=row.marketplace,  # type: ignore[arg-type]
        name=row.name,
        base_url=base_url,
        options=dict(row.config or {}),
        credentials=creds,
        user_agent=settings.http_user_agent,
    )


class MarketplaceRegistry:
    """One adapter (one httpx client, one set of rate-limit buckets) per account per worker process."""

    def __init__(
        self, engine: sa.Engine, settings: Settings, limiter: RateLimiterRegistry | None = None
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.limiter = limiter or RateLimiterRegistry(enabled=settings.marketplace_rate_limits)
        self._adapters: dict[int, Marketplace] = {}

    def accounts(self, *, marketplace: str | None = None) -> list[AccountConfig]:
        with Session(self.engine) as s:
            q = select(MarketplaceAccount).where(MarketplaceAccount.enabled == True)  # noqa: E712
            if marketplace:
                q = q.where(MarketplaceAccount.marketplace == marketplace)
            return [account_config(r, self.settings) for r in s.exec(q.order_by(MarketplaceAccount.id)).all()]

    def get(self, account_id: int) -> Marketplace:
        adapter = self._adapters.get(account_id)
        if adapter is None:
            with Session(self.engine) as s:
                row = s.get(MarketplaceAccount, account_id)
            if row is None:
                raise KeyError(f"no marketplace account {account_id}")
            adapter = build_marketplace(account_config(row, self.settings), self.limiter)
            self._adapters[account_id] = adapter
        return adapter

    async def aclose(self) -> None:
        for adapter in self._adapters.values():
            await adapter.aclose()
        self._adapters.clear()
