"""How an adapter is configured: one account of one marketplace. Built from the marketplace_account row plus the
credentials in settings (never stored in the database)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, SecretStr

from connectors.marketplace.types import MarketplaceName


class AccountConfig(BaseModel):
    account_id: int | None = None
    marketplace: MarketplaceName
    name: str
    base_url: str
    # Non-secret knobs (Amazon marketplaceId / sellerId / region / LWA token URL, Shopify location id, eBay
    # marketplace id, ...). Each adapter documents the keys it reads.
    options: dict[str, Any] = Field(default_factory=dict)
    credentials: dict[str, SecretStr] = Field(default_factory=dict)
    timeout_seconds: float = 30.0
    user_agent: str = "merchflow/0.1"

    def secret(self, key: str) -> str:
        try:
            return self.credentials[key].get_secret_value()
        except KeyError:
            raise KeyError(
                f"credential {key!r} missing for {self.marketplace} account {self.name!r}: set "
                f"MERCHFLOW_MARKETPLACE_CREDENTIALS__<REF>__{key.upper()}"
            ) from None
