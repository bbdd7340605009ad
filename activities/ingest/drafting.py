"""The draft: everything read so far (barcodes, OCR, colours, catalogs, categories, the seller's hints) goes to the
configured drafter: the vision LLM with the metadata-free image, or the offline drafter. Untrusted text (OCR,
catalog titles, hints) reaches a model only as quoted data (connectors/llm/prompts.py).

A cost cap that stops the call comes back as `budget` instead of an error: the batch asks a person (an
llm_budget decision) and the product waits, then goes on with the raised cap or the offline draft.
"""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from activities.ingest import repository as repo
from activities.ingest.llm_store import CALL_CONTEXT, call_rows
from connectors.blobs.port import BlobStore
from connectors.llm.costs import CostCapReached
from connectors.llm.port import ListingDrafter
from connectors.llm.service import OfflineDrafter
from domain.ingest.attributes import Attribute
from domain.ingest.draft import DraftRequest, ImageInput
from merchflow.db.engine import session_scope
from workflows.ingest.contract import BudgetNeeded, DraftStepResult


def candidates(extraction: dict[str, Any], catalog: dict[str, Any]) -> list[Attribute]:
    """Every attribute read so far, from every source (best_by_name picks one per name)."""
    raw = [
        *extraction.get("attributes", []),
        *(extraction.get("ocr") or {}).get("attributes", []),
        *catalog.get("attributes", []),
    ]
    return [Attribute.model_validate(a) for a in raw]


def draft_request(
    blobs: BlobStore, *, product: Any, images: list[Any], batch_id: str, with_image: bool
) -> DraftRequest:
    main = images[0]
    image = None
    if with_image:
        image = ImageInput(
            media_type="image/jpeg", data_b64=base64.b64encode(blobs.get(main.stripped_key)).decode()
        )
    hints = {k: str(v) for k, v in product.hints.items()}
    for mp, cat in (product.catalog.get("categories") or {}).items():
        if isinstance(cat, dict) and cat.get("name"):
            hints.setdefault(f"{mp}_category", str(cat["name"]))
    ocr = (product.extraction.get("ocr") or {}).get("lines", [])
    return DraftRequest(
        product_key=product.sku,
        run_id=batch_id,
        image_sha256=main.sha256 or "",
        image=image,
        attributes=candidates(product.extraction, product.catalog),
        ocr_lines=[ln["text"] for ln in ocr],
        hints=hints,
        marketplaces=list(product.marketplaces),
    )


async def draft_product(
    engine: sa.Engine,
    blobs: BlobStore,
    drafter: ListingDrafter,
    *,
    product_id: str,
    batch_id: str,
    offline_only: bool,
    vision: bool,
    categorize: Any,
) -> DraftStepResult:
    with session_scope(engine) as s:
        product = repo.product(s, product_id)
        if product.draft.get("copy"):  # an earlier attempt drafted it
            return DraftStepResult(
                status="drafted",
                source=product.draft.get("source"),
                confidence=product.draft.get("confidence"),
            )
        images = [r for r in repo.images(s, product_id) if r.status == "ok"]
    use = OfflineDrafter() if offline_only else drafter
    live = not isinstance(use, OfflineDrafter)
    request = draft_request(
        blobs, product=product, images=images, batch_id=batch_id, with_image=live and vision
    )
    await categorize(request)
    with session_scope(engine) as s:  # the categories are hints now
        product = repo.product(s, product_id)
    request = draft_request(
        blobs, product=product, images=images, batch_id=batch_id, with_image=live and vision
    )
    started = time.perf_counter()
    token = CALL_CONTEXT.set((batch_id, product_id))
    try:
        result = await use.draft_listing(request)
    except CostCapReached as exc:
        key = batch_id if exc.scope == "run" else datetime.now(UTC).date().isoformat()
        return DraftStepResult(
            status="budget",
            budget=BudgetNeeded(
                product_id=product_id, scope=exc.scope, key=key, spent=str(exc.spent), cap=str(exc.cap)
            ),  # type: ignore[arg-type]
        )
    finally:
        CALL_CONTEXT.reset(token)
    with session_scope(engine) as s:
        product = repo.product(s, product_id)
        if result.cached:
            s.add_all(
                call_rows(result.calls, cache_key=None, context=(batch_id, product_id))
            )  # the hit, free
        seconds = dict(product.extraction.get("seconds") or {})
        seconds["draft"] = round(time.perf_counter() - started, 4)
        product.extraction = {**product.extraction, "seconds": seconds}
        product.draft = {
            "copy": result.listing.model_dump(),
            "attributes": [a.model_dump(mode="json") for a in result.attributes],
            "product_type": result.product_type,
            "confidence": result.confidence,
            "source": result.source,
            "provider": result.provider,
            "model": result.model,
            "prompt_version": result.prompt_version,
            "cached": result.cached,
            "fallback_reason": result.fallback_reason
            or ("cost cap reached, not raised" if offline_only else None),
            "cost": str(result.cost),
            "tokens": {"input": result.input_tokens, "output": result.output_tokens},
        }
        product.confidence = result.confidence
        s.add(product)
    return DraftStepResult(status="drafted", source=result.source, confidence=result.confidence)
