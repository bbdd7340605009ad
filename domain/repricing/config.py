"""Pricing settings. Every number a seller may want to tune lives here, with the seed documents' defaults."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator


class Band(BaseModel):
    """A percentage range applied proportionally to how far a SKU is into the rule's trigger range."""

    low: float = Field(ge=0, le=0.9)
    high: float = Field(ge=0, le=0.9)

    @model_validator(mode="after")
    def _ordered(self) -> Band:
        if self.high < self.low:
            raise ValueError("band high must be >= low")
        return self


class PricingRules(BaseModel):
    # inventory age markdowns: >90 days 10-20 %, >180 days 20-40 % (scaled with age up to full_age_days)
    aged_days: int = 90
    aged_markdown: Band = Band(low=0.10, high=0.20)
    old_days: int = 180
    old_markdown: Band = Band(low=0.20, high=0.40)
    full_age_days: int = 365
    # stock level: low stock (<10) 5-10 % markup; high stock (>100) 5-15 % markdown, saturating at high_stock_full
    low_stock: int = 10
    low_stock_markup: Band = Band(low=0.05, high=0.10)
    high_stock: int = 100
    high_stock_full: int = 500
    high_stock_markdown: Band = Band(low=0.05, high=0.15)
    # a competitor below our price: match, or beat by this fraction (max 5 %)
    competitor_beat: float = Field(0.01, ge=0, le=0.05)
    # seasonal multipliers: category -> 12 monthly factors (1.0 = neutral)
    seasonal: dict[str, list[float]] = Field(default_factory=dict)


class PricingConstraints(BaseModel):
    min_margin: float = Field(0.10, ge=0, le=5)  # net proceeds >= cost * (1 + min_margin)
    competitor_ceiling: float = Field(0.95, gt=0, le=1)  # never above 0.95 x the highest competitor price
    max_change: float = Field(0.15, gt=0, le=1)  # per run, relative to the current price
    price_ending: float | None = 0.99  # round to x.99 when it keeps every constraint; None = cents
    deadband: float = Field(0.005, ge=0, le=0.1)  # smaller relative moves are not worth a change


class ModelBlend(BaseModel):
    # weight of the demand model's profit-maximising price at full model confidence
    max_model_weight: float = Field(0.5, ge=0, le=1)
    # elasticities are clipped to this range: outside it the fit is noise or the product is a Giffen good
    min_elasticity: float = -6.0
    max_elasticity: float = -1.05


class PricingConfig(BaseModel):
    rules: PricingRules = PricingRules()
    constraints: PricingConstraints = PricingConstraints()
    blend: ModelBlend = ModelBlend()
