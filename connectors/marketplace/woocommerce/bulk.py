"""Bulk writes through Woo's batch endpoints: POST <collection>/batch {"update": [{"id": ..., ...}]}, at most 100
objects per request, answered per item - a failed item carries {"id", "error": {"code", "message", "data"}}.

Every write sets absolute values (stock_quantity, regular_price), so resending a batch whose answer was lost is
harmless: Woo has no idempotency keys, and none are needed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from connectors.errors import AuthError, ConnectorError, NotFoundError
from connectors.marketplace.port import WaitCallback
from connectors.marketplace.types import ItemOutcome, PriceUpdate, QuantityUpdate
from connectors.marketplace.woocommerce.client import WooClient
from connectors.marketplace.woocommerce.skus import Ref, SkuIndex

MAX_BATCH = 100  # WooCommerce refuses more than 100 objects per batch request (413)

U = TypeVar("U", QuantityUpdate, PriceUpdate)
# (update) -> fields of the batch item besides "id"
BuildItem = Callable[[Any], dict[str, Any]]
# (update, answered object) -> None when the answer shows the change, else (code, message)
CheckItem = Callable[[Any, dict[str, Any]], tuple[str, str] | None]


@dataclass(slots=True)
class _Job(Generic[U]):
    update: U
    ref: Ref


def _outcome(
    sku: str, status: str, *, ref: Ref | None = None, code: str | None = None, msg: str | None = None
) -> ItemOutcome:
    return ItemOutcome(
        sku=sku,
        status=status,  # type: ignore[arg-type]
        code=code,
        message=msg,
        external_id=str(ref.object_id) if ref else None,
    )


class BatchWriter:
    def __init__(
        self, client: WooClient, index: SkuIndex, *, batch_size: int = MAX_BATCH, concurrency: int = 4
    ) -> None:
        self.client = client
        self.index = index
        self.batch_size = max(1, min(MAX_BATCH, batch_size))
        self.concurrency = max(1, concurrency)

    async def write(
        self,
        updates: Sequence[U],
        *,
        build: BuildItem,
        check: CheckItem,
        idempotency_key: str,
        operation: str,
        on_wait: WaitCallback | None = None,
    ) -> list[ItemOutcome]:
        latest: dict[str, U] = {u.sku: u for u in updates}  # a SKU twice in one call: the last value wins
        results: dict[str, ItemOutcome] = {}
        jobs: list[_Job[U]] = []
        unresolved: list[U] = []
        for u in latest.values():
            if u.external_id:
                given = Ref.from_ids(u.external_id, u.external_variant_id)
                self.index.remember(u.sku, given)
                jobs.append(_Job(u, given))
            elif (cached := self.index.get(u.sku)) is not None:
                jobs.append(_Job(u, cached))
            else:
                unresolved.append(u)
        if unresolved:
            if on_wait:
                on_wait(f"resolving {len(unresolved)} SKUs")
            jobs += self._attach(unresolved, await self.index.resolve(u.sku for u in unresolved), results)
        stale = await self._send(jobs, build, check, f"{idempotency_key}:", operation, results, on_wait)
        if (
            stale
        ):  # ids we had were wrong (product re-created, variation moved): resolve once more, resend once
            refs = await self.index.resolve((j.update.sku for j in stale), refresh=True)
            retry = self._attach([j.update for j in stale], refs, results)
            for job in await self._send(
                retry, build, check, f"{idempotency_key}:r", operation, results, on_wait
            ):
                results[job.update.sku] = _outcome(
                    job.update.sku, "rejected", ref=job.ref, code="woocommerce_rest_invalid_id"
                )
        return [results[u.sku] for u in updates]

    def _attach(
        self, updates: list[U], refs: dict[str, Ref], results: dict[str, ItemOutcome]
    ) -> list[_Job[U]]:
        jobs = []
        for u in updates:
            ref = refs.get(u.sku)
            if ref is None:
                results[u.sku] = _outcome(
                    u.sku, "rejected", code="sku_not_found", msg="no product or variation has this SKU"
                )
            else:
                jobs.append(_Job(u, ref))
        return jobs

    async def _send(
        self,
        jobs: list[_Job[U]],
        build: BuildItem,
        check: CheckItem,
        key_prefix: str,
        operation: str,
        results: dict[str, ItemOutcome],
        on_wait: WaitCallback | None,
    ) -> list[_Job[U]]:
        """Send all jobs grouped by collection in chunks; fill `results`; return jobs whose id was invalid."""
        groups: dict[str, list[_Job[U]]] = {}
        for job in jobs:
            groups.setdefault(job.ref.collection, []).append(job)
        chunks = [
            (collection, group[i : i + self.batch_size])
            for collection, group in groups.items()
            for i in range(0, len(group), self.batch_size)
        ]
        sem = asyncio.Semaphore(self.concurrency)
        stale: list[_Job[U]] = []

        async def run(n: int, collection: str, chunk: list[_Job[U]]) -> None:
            async with sem:
                stale.extend(
                    await self._chunk(collection, chunk, build, check, f"{key_prefix}{n}", operation, results)
                )
            if on_wait and n % 50 == 49:
                on_wait(f"{operation}: {n + 1}/{len(chunks)} batches")

        await asyncio.gather(*(run(n, c, ch) for n, (c, ch) in enumerate(chunks)))
        return stale

    async def _chunk(
        self,
        collection: str,
        chunk: list[_Job[U]],
        build: BuildItem,
        check: CheckItem,
        key: str,
        operation: str,
        results: dict[str, ItemOutcome],
    ) -> list[_Job[U]]:
        body = {"update": [{"id": j.ref.object_id, **build(j.update)} for j in chunk]}
        try:
            response = await self.client.call(
                "POST", collection + "/batch", operation=operation, body=body, idempotency_key=key
            )
            answered = response.json().get("update") or []
        except AuthError:
            raise  # nothing of this call can work
        except NotFoundError:
            return list(
                chunk
            )  # the parent product is gone: resolve these SKUs again, they may live elsewhere now
        except ConnectorError as exc:
            status = "failed" if exc.retryable else "rejected"
            for j in chunk:
                results[j.update.sku] = _outcome(
                    j.update.sku, status, ref=j.ref, code=exc.code, msg=exc.message
                )
            return []
        stale: list[_Job[U]] = []
        for pos, job in enumerate(chunk):
            item = _answer_for(answered, pos, job.ref.object_id)
            sku = job.update.sku
            if item is None:
                results[sku] = _outcome(sku, "failed", ref=job.ref, code="missing_in_response")
            elif isinstance(err := item.get("error"), dict):
                code = str(err.get("code") or "")
                status_code = (err.get("data") or {}).get("status") or 400
                if code.endswith("_invalid_id"):
                    stale.append(job)
                else:
                    status = "failed" if int(status_code) >= 500 else "rejected"
                    results[sku] = _outcome(
                        sku, status, ref=job.ref, code=code or None, msg=err.get("message")
                    )
            elif (problem := check(job.update, item)) is not None:
                results[sku] = _outcome(sku, "rejected", ref=job.ref, code=problem[0], msg=problem[1])
            else:
                results[sku] = _outcome(sku, "applied", ref=job.ref)
        return stale


def _answer_for(answered: list[Any], pos: int, object_id: int) -> dict[str, Any] | None:
    """Woo answers in request order; check the id anyway, and search if a proxy reordered anything."""
    if pos < len(answered) and isinstance(answered[pos], dict) and answered[pos].get("id") == object_id:
        return answered[pos]
    return next((a for a in answered if isinstance(a, dict) and a.get("id") == object_id), None)
