"""The ingest process's contract: workflow names and ids, signals, decision types, and every payload.

A leaf: pydantic and the pure domain only. Only ids, counters and small summaries travel through Temporal: the
images stay in the blob store, the extraction and the draft in the ingest tables.

One durable workflow per product (`ingest-product`), a parent per batch (`ingest-batch`) that starts them with a
bounded fan-out and continues as new on big batches. A product's workflow proposes a `listing_publish` decision
(a child `decision` workflow) whose action publishes; when the LLM cost cap is reached the batch asks once,
through an `llm_budget` decision, for every product that waits.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from domain.decisions.rules import Proposal

TASK_QUEUE = "main"  # logical name; the real queue is settings.task_queue(TASK_QUEUE)

BATCH_WORKFLOW = "ingest-batch"
PRODUCT_WORKFLOW = "ingest-product"
PROGRESS_QUERY = "progress"
DRAFTED_SIGNAL = "product-drafted"  # product -> batch: its slot is free
BUDGET_SIGNAL = "budget-needed"  # product -> batch: the LLM cost cap stops its draft
BUDGET_ANSWER_SIGNAL = "budget-answer"  # batch -> product: go on (cap raised) or draft offline

LISTING_PUBLISH = "listing_publish"
LLM_BUDGET = "llm_budget"

MARKETPLACES = ("amazon", "ebay", "shopify", "woocommerce")
Marketplace = Literal["amazon", "ebay", "shopify", "woocommerce"]


def batch_workflow_id(batch_id: str) -> str:
    return f"ingest-batch-{batch_id}"


def product_workflow_id(product_id: str) -> str:
    """One workflow per product, ever: a retried start, a restarted batch or a replay finds the same one."""
    return f"ingest-product-{product_id}"


def publish_decision_id(product_id: str) -> str:
    return f"ingest-{product_id}"


def budget_decision_id(batch_id: str, round_no: int) -> str:
    return f"llmcap-{batch_id}-{round_no}"


ProductStatus = Literal[
    "pending",  # uploaded, not looked at yet
    "analysing",
    "duplicate",  # an image already ingested: reported, not processed again
    "refused",  # no usable image (not an image, too big, a decompression bomb)
    "drafted",  # the draft is saved; a listing_publish decision asks for review
    "published",  # every chosen marketplace shows the listing
    "rejected",  # the approver said no (or the decision expired / stayed a recommendation)
    "failed",  # publishing did not finish (see the per-marketplace outcome)
]


# ---------------------------------------------------------------- workflows
class BatchInput(BaseModel):
    batch_id: str
    max_parallel: int = Field(4, ge=1)
    products_per_run: int = Field(500, ge=1)
    # carried across continue-as-new
    cursor: int = -1  # position of the last product started
    started: int = 0
    finished: int = 0  # products that reported their draft (or that they were not drafted)
    active: list[str] = Field(default_factory=list)  # started, not reported yet (at most max_parallel)
    budget_round: int = 0


class BatchProgress(BaseModel):
    batch_id: str
    started: int
    finished: int
    active: int
    waiting_for_budget: int
    done: bool = False


class BatchResult(BaseModel):
    batch_id: str
    products: int
    finished: int


class ProductInput(BaseModel):
    product_id: str
    batch_id: str


class ProductResult(BaseModel):
    product_id: str
    status: ProductStatus
    decision_status: str | None = None
    message: str = ""


class ProductDrafted(BaseModel):
    product_id: str
    status: ProductStatus


class BudgetNeeded(BaseModel):
    product_id: str
    scope: Literal["run", "day"]
    key: str  # the run (batch) id or the day (YYYY-MM-DD) the cap is about
    spent: str
    cap: str


class BudgetAnswer(BaseModel):
    approved: bool
    message: str = ""


# ---------------------------------------------------------------- activities
class BatchPageInput(BaseModel):
    batch_id: str
    after_position: int
    limit: int = Field(ge=1, le=5000)


class BatchPage(BaseModel):
    product_ids: list[str]
    last_position: int
    total: int


class BatchStatusInput(BaseModel):
    batch_id: str
    status: Literal["running", "drafted"]


class BatchStatusResult(BaseModel):
    products: int


class ProductRef(BaseModel):
    product_id: str
    batch_id: str


class AnalyseResult(BaseModel):
    status: Literal["ok", "duplicate", "refused"]
    images: int = 0
    duplicate_of: str | None = None
    reason: str | None = None
    # a GTIN / ISBN read from a barcode (or printed): the catalogs are asked first
    identifiers: dict[str, str] = Field(default_factory=dict)
    in_our_catalog: bool = False


class IdentifyResult(BaseModel):
    identified: bool  # a catalog (ours or a marketplace's) knows the product
    sources: list[str] = Field(default_factory=list)


class ReadTextInput(BaseModel):
    product_id: str
    identified: bool


class ReadTextResult(BaseModel):
    lines: int
    skipped: bool
    attributes: int


class DraftInput(BaseModel):
    product_id: str
    batch_id: str
    offline_only: bool = False  # the cost cap was reached and not raised


class DraftStepResult(BaseModel):
    status: Literal["drafted", "budget"]
    source: str | None = None  # llm | offline
    confidence: float | None = None
    budget: BudgetNeeded | None = None


class PriceResult(BaseModel):
    prices: dict[str, str] = Field(default_factory=dict)  # marketplace -> list price (empty: none found)
    gaps: dict[str, int] = Field(default_factory=dict)  # marketplace -> required attributes still missing


class SaveDraftResult(BaseModel):
    decision_id: str
    proposal: Proposal


class OutcomeInput(BaseModel):
    product_id: str
    decision_status: str
    executed: bool
    message: str = ""


class OutcomeResult(BaseModel):
    status: ProductStatus
