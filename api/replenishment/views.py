"""Request and response shapes of the replenishment API."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from activities.replenishment.tables import PurchaseOrder, Supplier
from domain.bounds import Flag, Number, Whole
from domain.decisions.rules import MAX_MONEY

# a plain shape check: the supplier's mail server is the judge of the rest
Email = Annotated[str, Field(max_length=254, pattern=r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")]


class SupplierIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    email: Email | None = None
    contact_name: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=50)
    lead_time_days: Number = Field(14.0, gt=0, le=730)
    lead_time_std_days: Number = Field(0.0, ge=0, le=365)
    moq: int = Field(1, ge=1, le=1_000_000)
    pack_size: int = Field(1, ge=1, le=1_000_000)
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    order_cost: Decimal | None = Field(None, ge=0, lt=MAX_MONEY)
    active: Flag = True


class SupplierPatch(BaseModel):
    email: Email | None = None
    contact_name: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=50)
    lead_time_days: Number | None = Field(None, gt=0, le=730)
    lead_time_std_days: Number | None = Field(None, ge=0, le=365)
    moq: int | None = Field(None, ge=1, le=1_000_000)
    pack_size: int | None = Field(None, ge=1, le=1_000_000)
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")
    order_cost: Decimal | None = Field(None, ge=0, lt=MAX_MONEY)
    active: Flag | None = None


class SupplierItemIn(BaseModel):
    sku: str = Field(min_length=1, max_length=64)
    unit_cost: Decimal = Field(ge=0, lt=MAX_MONEY)
    supplier_sku: str | None = Field(None, max_length=100)
    preferred: Flag = True


class SupplierItems(BaseModel):
    items: list[SupplierItemIn] = Field(min_length=1, max_length=5000)


class ThresholdIn(BaseModel):
    scope: Literal["sku", "category"]
    key: str = Field(min_length=1, max_length=200)
    low_stock: Whole | None = Field(None, ge=0, le=1_000_000)
    risk_days: Number | None = Field(None, ge=0, le=3650)


class Thresholds(BaseModel):
    items: list[ThresholdIn] = Field(min_length=1, max_length=5000)


class ConfirmIn(BaseModel):
    note: str | None = Field(None, max_length=1000)


class CancelIn(BaseModel):
    reason: str = Field("", max_length=1000)


class ReceiptLineIn(BaseModel):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(gt=0, le=1_000_000)


class ReceiptIn(BaseModel):
    receipt_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$",
                            description="Your delivery note number: repeating it changes nothing")  # fmt: skip
    lines: list[ReceiptLineIn] = Field(min_length=1, max_length=5000)


def supplier_view(s: Supplier) -> dict[str, Any]:
    return s.model_dump()


def po_view(po: PurchaseOrder, lines: list[Any] | None = None) -> dict[str, Any]:
    out = po.model_dump()
    out["links"] = {"self": f"/api/v1/purchase-orders/{po.id}", "csv": f"/api/v1/purchase-orders/{po.id}.csv"}
    if lines is not None:
        out["lines"] = [{"sku": x.sku, "quantity": x.quantity, "unit_cost": x.unit_cost, "received": x.received}
                        for x in lines]  # fmt: skip
    return out
