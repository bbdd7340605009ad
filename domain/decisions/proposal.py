"""What a process proposes: the typed proposal (values, reasoning, factors, evidence, expected effect) and the
amounts read from it. Pure; money keys are checked by domain.money wherever they appear."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator, model_validator

from domain.bounds import Number, iso_timestamp
from domain.currencies import ISO_4217
from domain.money import MONEY_MAX, check_money_fields, parse_money

# a factor's value is shown to people; any magnitude a pricing model produces fits
_FactorNumber = Annotated[Number, Field(ge=-1e15, le=1e15)]
_FactorInt = Annotated[StrictInt, Field(ge=-(2**53), le=2**53)]


class Factor(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False)  # stored as JSON, which has no NaN or infinity

    name: str
    value: str | _FactorNumber | _FactorInt | None = None
    weight: Annotated[Number, Field(ge=-1e6, le=1e6)] | None = None
    detail: str | None = None
    # how the value reads: money in the proposal's currency, a percentage, days, a count; None: plain
    unit: Literal["money", "percent", "days", "count"] | None = None


class Evidence(BaseModel):
    kind: str = "note"  # competitor_price | image | link | note ...
    label: str
    value: str | None = None
    url: str | None = None
    image_url: str | None = None


def _currency(v: str | None) -> str | None:
    if v is not None and v not in ISO_4217:
        raise ValueError(f"currency must be an ISO 4217 code such as USD or EUR, not {v[:10]!r}")
    return v


class ExpectedEffect(BaseModel):
    """What approving is expected to do, in money, shown to the approver beside the proposal.

    `margin_delta` / `revenue_delta` are signed changes per `period` on the stated `basis` (repricing: per day at
    the listing's recent sales rate); `spend` is a one-off outlay (a purchase: quantity x unit price + shipping).
    """

    model_config = ConfigDict(extra="forbid")

    currency: str | None = None  # None: the proposal's currency
    period: Literal["day", "week", "month"] = "day"
    basis: str | None = Field(default=None, max_length=200)
    margin_delta: Decimal | None = Field(default=None, ge=-MONEY_MAX, le=MONEY_MAX)
    revenue_delta: Decimal | None = Field(default=None, ge=-MONEY_MAX, le=MONEY_MAX)
    units_change_pct: float | None = Field(default=None, allow_inf_nan=False, ge=-100, le=1e6)
    spend: Decimal | None = Field(default=None, ge=0, le=MONEY_MAX)

    _check_currency = field_validator("currency")(_currency)

    @field_validator("margin_delta", "revenue_delta", "spend", mode="before")
    @classmethod
    def _money(cls, v: Any, info: Any) -> Any:
        if v is None:
            return None
        return parse_money(v, field=info.field_name, minimum="zero" if info.field_name == "spend" else "any")


class Proposal(BaseModel):
    """What a process proposes. Values are JSON-friendly dicts; money travels as decimal strings and must be
    valid money (finite, within NUMERIC(14, 4), a price above zero) wherever a money key appears."""

    decision_type: str = Field(min_length=1, max_length=40)
    subject: str = Field(min_length=1, max_length=200)  # SKU / opportunity id
    marketplace: str | None = None
    currency: str | None = None  # of every amount in current / proposed; None: the seller's default
    current: dict[str, Any] = Field(default_factory=dict)
    proposed: dict[str, Any] = Field(default_factory=dict)
    confidence: Number = Field(ge=0.0, le=1.0)
    reasoning: str = ""
    factors: list[Factor] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    expected_effect: ExpectedEffect | None = None
    expires_at: datetime | None = None  # hard deadline of the proposal itself (e.g. a deal ends)
    requested_by: str | None = None

    _check_currency = field_validator("currency")(_currency)
    _iso = field_validator("expires_at", mode="before")(iso_timestamp)

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("expires_at must carry a time zone")
        return v

    @model_validator(mode="after")
    def _money(self) -> Proposal:
        # proposed amounts are what would be executed: strict. Current ones are facts: None means unknown.
        check_money_fields(self.proposed, where="proposed", allow_missing=False)
        check_money_fields(self.current, where="current", allow_missing=True)
        return self


def as_decimal(value: Any) -> Decimal | None:
    """A finite number, or None (never NaN / Infinity: comparisons with those raise or lie)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def price_change_pct(proposal: Proposal) -> float | None:
    """Relative size of a price change in percent (absolute), None when either price is unknown."""
    old, new = as_decimal(proposal.current.get("price")), as_decimal(proposal.proposed.get("price"))
    if old is None or new is None or old == 0:
        return None
    return float(abs(new - old) / old * 100)


def unit_price(values: dict[str, Any]) -> Decimal | None:
    return as_decimal(values.get("unit_price", values.get("unit_cost")))


def purchase_amount(proposal: Proposal) -> Decimal | None:
    """Total spend of a purchase: quantity x unit price + shipping (or the stated amount)."""
    amount = as_decimal(proposal.proposed.get("amount"))
    if amount is not None:
        return amount
    qty, unit = as_decimal(proposal.proposed.get("quantity")), unit_price(proposal.proposed)
    if qty is None or unit is None:
        return None
    return qty * unit + (as_decimal(proposal.proposed.get("shipping")) or Decimal(0))


def effect_of(proposal: Proposal) -> ExpectedEffect | None:
    """The expected effect to show: the one the proposal carries, else the spend of a purchase-shaped proposal
    (quantity and unit price), else None."""
    if proposal.expected_effect is not None:
        return proposal.expected_effect
    if proposal.proposed.get("quantity") is None or unit_price(proposal.proposed) is None:
        return None
    spend = purchase_amount(proposal)
    return None if spend is None else ExpectedEffect(spend=spend)
