"""Activities of the ingest process: thin adapters over its services, one typed input and result each.

CPU-heavy steps (decoding and hashing images, barcodes, colours, OCR) are sync `def` activities on the worker's
thread pool; the marketplace and LLM steps are async. Every step writes what it found onto the product row and is
idempotent: a retried step (a killed worker, a timeout) finds its own result and returns it.
"""

from __future__ import annotations

from typing import Any

from temporalio import activity

from activities.common.errors import to_application_error
from activities.common.heartbeats import heartbeat, kept_alive
from activities.ingest import repository as repo
from activities.ingest.analyse import analyse_product
from activities.ingest.catalogs import categorize, identify
from activities.ingest.drafting import draft_product
from activities.ingest.listing import best_attributes, price_and_check
from activities.ingest.llm_store import SqlCostLedger, SqlDraftCache
from activities.ingest.vision import OcrPool, read_text
from connectors.errors import ConnectorError
from connectors.llm.factory import build_drafter
from domain.ingest.draft import ListingCopy
from domain.ingest.image_rules import ImageLimits
from domain.ingest.review import MarketplaceDraft, ReviewInput, build_proposal
from merchflow.db.engine import session_scope
from merchflow.db.types import utcnow
from merchflow.logging import get_logger
from workers.deps import Deps
from workflows.decisions.contract import decision_workflow_id
from workflows.ingest.contract import (
    AnalyseResult,
    BatchPage,
    BatchPageInput,
    BatchStatusInput,
    BatchStatusResult,
    DraftInput,
    DraftStepResult,
    IdentifyResult,
    OutcomeInput,
    OutcomeResult,
    PriceResult,
    ProductRef,
    ReadTextInput,
    ReadTextResult,
    SaveDraftResult,
    publish_decision_id,
)

log = get_logger(__name__)


def _ocr_engine(deps: Deps) -> Any:
    from connectors.vision.rapid import RapidOcrEngine  # ONNX Runtime: loaded by workers only, on first use

    cfg = deps.settings.ingest
    return RapidOcrEngine(threads=cfg.ocr_threads, detection_side=cfg.ocr_detection_side)


class IngestActivities:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.engine = deps.engine
        self.blobs = deps.blobs
        self.settings = deps.settings
        cfg = deps.settings.ingest
        # tests and benchmarks may wire their own vision engines or drafter (deps.services)
        if "barcodes" in deps.services:
            self.barcodes = deps.services["barcodes"]
        else:
            from connectors.vision.zxing import ZxingBarcodeReader

            self.barcodes = ZxingBarcodeReader()
        self.ocr = deps.services.get("ocr") or OcrPool(lambda: _ocr_engine(deps), cfg.ocr_engines)
        llm = deps.settings.llm
        self.drafter = deps.services.get("llm_drafter") or build_drafter(
            llm,
            ledger=SqlCostLedger(deps.engine, run_cap=llm.run_cost_cap, day_cap=llm.day_cost_cap),
            cache=SqlDraftCache(deps.engine),
        )
        self.limits = ImageLimits(max_bytes=cfg.max_image_bytes)

    @property
    def marketplaces(self) -> Any:
        return self.deps.services["marketplaces"]

    # ---------------------------------------------------------------- the batch
    @activity.defn(name="ingest.batch_page")
    def batch_page(self, inp: BatchPageInput) -> BatchPage:
        with session_scope(self.engine) as s:
            ids, last = repo.batch_page(
                s, batch_id=inp.batch_id, after_position=inp.after_position, limit=inp.limit
            )
            total = repo.count_products(s, inp.batch_id)
        return BatchPage(product_ids=ids, last_position=last, total=total)

    @activity.defn(name="ingest.batch_status")
    def batch_status(self, inp: BatchStatusInput) -> BatchStatusResult:
        with session_scope(self.engine) as s:
            batch = repo.set_batch_status(s, batch_id=inp.batch_id, status=inp.status, now=utcnow())
            if inp.status == "running" and batch.workflow_id is None:
                batch.workflow_id = activity.info().workflow_id
            return BatchStatusResult(products=batch.products)

    # ---------------------------------------------------------------- one product
    @activity.defn(name="ingest.analyse")
    def analyse(self, inp: ProductRef) -> AnalyseResult:
        return analyse_product(
            self.engine,
            self.blobs,
            self.barcodes,
            product_id=inp.product_id,
            limits=self.limits,
            max_distance=self.settings.ingest.duplicate_max_distance,
            heartbeat=heartbeat,
        )

    @activity.defn(name="ingest.identify")
    async def identify(self, inp: ProductRef) -> IdentifyResult:
        try:
            async with kept_alive():
                identified, sources = await identify(
                    self.engine, self.marketplaces, product_id=inp.product_id
                )
        except ConnectorError as exc:
            raise to_application_error(exc) from exc
        return IdentifyResult(identified=identified, sources=sources)

    @activity.defn(name="ingest.read_text")
    def read_text(self, inp: ReadTextInput) -> ReadTextResult:
        skip = inp.identified and self.settings.ingest.skip_ocr_when_identified
        return read_text(
            self.engine, self.blobs, self.ocr, product_id=inp.product_id, skip=skip, heartbeat=heartbeat
        )

    @activity.defn(name="ingest.draft")
    async def draft(self, inp: DraftInput) -> DraftStepResult:
        async def categories(request: Any) -> Any:
            return await categorize(
                self.engine, self.marketplaces, product_id=inp.product_id, request=request
            )

        try:
            async with kept_alive():
                return await draft_product(
                    self.engine,
                    self.blobs,
                    self.drafter,
                    product_id=inp.product_id,
                    batch_id=inp.batch_id,
                    offline_only=inp.offline_only,
                    vision=self.settings.llm.vision,
                    categorize=categories,
                )
        except ConnectorError as exc:
            raise to_application_error(exc) from exc

    @activity.defn(name="ingest.price")
    async def price(self, inp: ProductRef) -> PriceResult:
        try:
            async with kept_alive():
                found = await price_and_check(
                    self.engine, self.marketplaces, self.settings, product_id=inp.product_id
                )
        except ConnectorError as exc:
            raise to_application_error(exc) from exc
        return PriceResult(
            prices={mp: "" if m.price is None else f"{m.price:.2f}" for mp, m in found.items()},
            gaps={mp: len(m.gaps) for mp, m in found.items()},
        )

    @activity.defn(name="ingest.save_draft")
    def save_draft(self, inp: ProductRef) -> SaveDraftResult:
        with session_scope(self.engine) as s:
            product = repo.product(s, inp.product_id, lock=True)
            images = [r.id for r in repo.images(s, inp.product_id) if r.status == "ok"]
            duplicates = [r.id for r in repo.images(s, inp.product_id) if r.status == "duplicate"]
            proposal = build_proposal(
                ReviewInput(
                    product_id=product.id,
                    batch_id=inp.batch_id,
                    sku=product.sku,
                    cost=product.cost,
                    currency=product.currency,
                    quantity=product.quantity,
                    copy=ListingCopy.model_validate(product.draft["copy"]),
                    attributes=best_attributes(product),
                    marketplaces=[MarketplaceDraft.model_validate(v) for v in product.listing.values()],
                    images=images,
                    draft_source=str(product.draft.get("source")),
                    draft_confidence=float(product.draft.get("confidence") or 0.0),
                    duplicates=duplicates,
                )
            )
            decision_id = publish_decision_id(product.id)
            if product.status in ("analysing", "pending"):
                product.status, product.drafted_at = "drafted", utcnow()
                product.decision_id = decision_id
                product.workflow_id = activity.info().workflow_id
                product.confidence = proposal.confidence
                product.draft = {**product.draft, "proposed": proposal.proposed}
                s.add(product)
        log.info("listing drafted", product_id=inp.product_id, decision=decision_workflow_id(decision_id))
        return SaveDraftResult(decision_id=decision_id, proposal=proposal)

    @activity.defn(name="ingest.record_outcome")
    def record_outcome(self, inp: OutcomeInput) -> OutcomeResult:
        with session_scope(self.engine) as s:
            product = repo.product(s, inp.product_id, lock=True)
            if inp.executed:
                product.status = "published"
            elif inp.decision_status in ("rejected", "expired", "recommended"):
                product.status = "rejected"
                product.reason = inp.message[:2000] or inp.decision_status
            elif product.status != "published":
                product.status = "failed"
                product.reason = product.reason or inp.message[:2000]
            product.finished_at = product.finished_at or utcnow()
            s.add(product)
            return OutcomeResult(status=product.status)  # type: ignore[arg-type]
