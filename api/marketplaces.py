"""The API process's marketplace registry (webhook verification, connect flows): one per app, built on first use
with the same account-health listener as the workers'."""

from __future__ import annotations

from fastapi import Request

from activities.accounts.health import AccountHealth
from connectors.marketplace.accounts import MarketplaceRegistry


def registry(request: Request) -> MarketplaceRegistry:
    state = request.app.state
    reg = getattr(state, "marketplaces", None)
    if reg is None:
        reg = MarketplaceRegistry(
            state.engine, state.settings, listener=AccountHealth(state.engine, state.settings)
        )
        state.marketplaces = reg
    return reg  # type: ignore[no-any-return]
