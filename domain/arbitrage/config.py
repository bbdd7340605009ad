"""Arbitrage settings a seller tunes (`MERCHFLOW_ARBITRAGE__...`): channels, costs, thresholds, limits, negotiation."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from domain.arbitrage.limits import SafetyLimits
from domain.arbitrage.negotiation import NegotiationRules
from domain.arbitrage.profit import Channel, CostModel


class ArbitrageConfig(BaseModel):
    channels: tuple[Channel, ...] = ("amazon_fba", "ebay")  # where we would resell
    costs: CostModel = Field(default_factory=CostModel)
    # what we pay to ship one item to an eBay or merchant-fulfilled Amazon buyer (our carrier contract)
    ebay_shipping_cost: Decimal = Field(Decimal("8.00"), ge=0)
    mfn_shipping_cost: Decimal = Field(Decimal("8.00"), ge=0)
    # eBay's final value fee includes the sales tax it collects: the average rate of our buyers
    buyer_tax_rate: Decimal = Field(Decimal("0.07"), ge=0, le=1)
    max_days_to_sell: int = Field(120, ge=1, le=365)
    max_risk: float = Field(0.85, ge=0, le=1)
    limits: SafetyLimits = Field(default_factory=SafetyLimits)
    negotiation: NegotiationRules = Field(default_factory=NegotiationRules)
    # the listing price after receipt: landed cost + this margin + fees (the pricing engine's floor)
    target_margin: float = Field(0.25, ge=0, le=5)
    # a price estimate this old is fetched again
    quote_ttl_hours: float = Field(12.0, gt=0)
