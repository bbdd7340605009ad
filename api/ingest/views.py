"""Response shapes of the ingest API, built from the ingest tables (and the batch workflow's progress)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from activities.ingest.tables import IngestBatch, IngestImage, IngestListing, IngestProduct

BASE = "/api/v1/ingest"


class CreatedProductOut(BaseModel):
    id: str
    sku: str
    images: int
    row: int


class CreatedBatchOut(BaseModel):
    batch_id: str
    workflow_id: str
    products: list[CreatedProductOut]
    links: dict[str, str]


class ProductSummary(BaseModel):
    id: str
    position: int
    sku: str
    status: str
    reason: str | None
    duplicate_of: str | None
    confidence: float | None
    decision_id: str | None
    marketplaces: list[str]
    drafted_at: datetime | None
    finished_at: datetime | None
    links: dict[str, str]


class BatchOut(BaseModel):
    id: str
    source: str
    status: str
    products: int
    counts: dict[str, int]
    progress: dict[str, Any] | None = None  # the batch workflow's own count while it runs
    created_by: str | None
    created_at: datetime
    drafted_at: datetime | None
    items: list[ProductSummary]
    offset: int
    limit: int


class BatchList(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[dict[str, Any]]


class AttributeOut(BaseModel):
    name: str
    value: str
    confidence: float
    source: str
    evidence: str | None = None


class ListingOut(BaseModel):
    marketplace: str
    account_id: int
    status: str
    external_id: str | None
    price: str | None
    quantity: int | None
    message: str | None
    attempts: int


class ProductOut(ProductSummary):
    batch_id: str
    cost: str | None
    quantity: int
    hints: dict[str, Any]
    images: list[dict[str, Any]]
    attributes: list[AttributeOut] = Field(default_factory=list)
    extraction: dict[str, Any]  # barcodes, colours, OCR lines, per-step seconds
    catalog: dict[str, Any]
    draft: dict[str, Any]
    listing: dict[str, Any]
    listings: list[ListingOut]
    timings: dict[str, float]


def summary(p: IngestProduct) -> ProductSummary:
    return ProductSummary(
        id=p.id,
        position=p.position,
        sku=p.sku,
        status=p.status,
        reason=p.reason,
        duplicate_of=p.duplicate_of,
        confidence=p.confidence,
        decision_id=p.decision_id,
        marketplaces=list(p.marketplaces),
        drafted_at=p.drafted_at,
        finished_at=p.finished_at,
        links={
            "self": f"{BASE}/products/{p.id}",
            **({"review": f"/approvals/{p.decision_id}"} if p.decision_id else {}),
        },
    )


def batch(
    b: IngestBatch, counts: dict[str, int], items: list[IngestProduct], offset: int, limit: int
) -> BatchOut:
    return BatchOut(
        id=b.id,
        source=b.source,
        status=b.status,
        products=b.products,
        counts=counts,
        created_by=b.created_by,
        created_at=b.created_at,
        drafted_at=b.drafted_at,
        items=[summary(p) for p in items],
        offset=offset,
        limit=limit,
    )


def product(
    p: IngestProduct, images: list[IngestImage], attributes: list[AttributeOut], listings: list[IngestListing]
) -> ProductOut:
    timings = dict(p.extraction.get("seconds") or {})
    if p.started_at and p.drafted_at:
        timings["image_to_draft"] = round((p.drafted_at - p.started_at).total_seconds(), 4)
    return ProductOut(
        **summary(p).model_dump(),
        batch_id=p.batch_id,
        cost=None if p.cost is None else f"{p.cost:.2f}",
        quantity=p.quantity,
        hints=p.hints,
        images=[
            {
                "id": i.id,
                "filename": i.filename,
                "status": i.status,
                "reason": i.reason,
                "kind": i.kind,
                "width": i.width,
                "height": i.height,
                "duplicate_of": i.duplicate_of,
            }
            for i in images
        ],
        attributes=attributes,
        extraction=p.extraction,
        catalog=p.catalog,
        draft={k: v for k, v in p.draft.items() if k != "proposed"},
        listing=p.listing,
        listings=[
            ListingOut(
                marketplace=x.marketplace,
                account_id=x.account_id,
                status=x.status,
                external_id=x.external_id,
                price=None if x.price is None else f"{x.price:.2f}",
                quantity=x.quantity,
                message=x.message,
                attempts=x.attempts,
            )
            for x in listings
        ],
        timings=timings,
    )
