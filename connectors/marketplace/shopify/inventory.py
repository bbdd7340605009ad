"""set_quantities through inventorySetQuantities: chunks, the compareQuantity guard, per-item outcomes.

- Items with `expected_quantity` are sent with compareQuantity (the 2025-01 name; `changeFromQuantity` only exists in
  later versions); items without it go in separate calls with ignoreCompareQuantity: true.
- The mutation is all-or-nothing: one bad item rejects the call. userErrors point at items by index
  (field ["input", "quantities", "<i>", ...]); those items get their outcome and the rest are sent again.
- COMPARE_QUANTITY_STALE becomes "conflict" unless the live quantity already equals the target (a retry of a call
  whose response was lost, on an API without idempotency keys, looks exactly like that): then "applied".
- Idempotency: 2025-01 has no idempotency argument or @idempotent directive, so each call carries an
  `Idempotency-Key` header derived from the caller's key and the chunk (the sandbox honours it; the real 2025-01 API
  ignores it, and the compare guard plus absolute quantities keep a replay harmless). The key also goes into
  referenceDocumentUri, which Shopify keeps in the inventory history.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from connectors.errors import RetryableError, ValidationError
from connectors.marketplace.port import WaitCallback
from connectors.marketplace.shopify import documents as docs
from connectors.marketplace.shopify.client import ShopifyGraphQL
from connectors.marketplace.types import ItemOutcome, QuantityUpdate

MAX_INT32 = 2**31 - 1  # GraphQL Int: larger values fail the whole document, so refuse them per item first
CONFLICT_CODES = {"COMPARE_QUANTITY_STALE"}
ROUNDS = 4


@dataclass
class _Item:
    pos: int  # position in the caller's list
    update: QuantityUpdate
    inventory_item_id: str


def _index(field: list[str] | None) -> int | None:
    if field and len(field) >= 3 and field[:2] == ["input", "quantities"] and field[2].isdigit():
        return int(field[2])
    return None


class QuantityWriter:
    def __init__(
        self,
        gql: ShopifyGraphQL,
        *,
        location_id: str,
        chunk_size: int,
        concurrency: int,
        reason: str,
        on_wait: WaitCallback | None = None,
    ):
        self.gql = gql
        self.location_id = location_id
        self.chunk_size = chunk_size
        self.reason = reason
        self._sem = asyncio.Semaphore(concurrency)
        self._on_wait = on_wait  # an activity's heartbeat: a throttled 100,000-SKU run takes a while
        self._calls = 0

    async def write(self, items: Sequence[_Item], key: str) -> dict[int, ItemOutcome]:
        guarded = [i for i in items if i.update.expected_quantity is not None]
        unguarded = [i for i in items if i.update.expected_quantity is None]
        chunks = [(c, True) for c in _chunks(guarded, self.chunk_size)]
        chunks += [(c, False) for c in _chunks(unguarded, self.chunk_size)]
        parts = await asyncio.gather(*(self._chunk(c, g, f"{key}:q{n}") for n, (c, g) in enumerate(chunks)))
        out: dict[int, ItemOutcome] = {}
        for part in parts:
            out.update(part)
        stale = [i for i in items if out[i.pos].status == "conflict"]
        if stale:
            await self._recheck(stale, out)
        return out

    def _input(self, items: Sequence[_Item], guarded: bool, key: str) -> dict[str, object]:
        quantities = []
        for i in items:
            q: dict[str, object] = {
                "inventoryItemId": i.inventory_item_id,
                "locationId": self.location_id,
                "quantity": i.update.quantity,
            }
            if guarded:
                q["compareQuantity"] = i.update.expected_quantity
            quantities.append(q)
        return {
            "name": "available",
            "reason": self.reason,
            "referenceDocumentUri": f"gid://merchflow/InventorySync/{quote(key, safe='')}",
            "ignoreCompareQuantity": not guarded,
            "quantities": quantities,
        }

    async def _chunk(self, items: list[_Item], guarded: bool, key: str) -> dict[int, ItemOutcome]:
        out: dict[int, ItemOutcome] = {}
        pending = list(items)
        for rnd in range(ROUNDS):
            if not pending:
                break
            k = key if rnd == 0 else f"{key}:r{rnd}"
            try:
                async with self._sem:
                    # a guarded call may be resent after a lost answer: if it was applied, compareQuantity refuses
                    # the replay as stale and _recheck finds the target live; an unguarded one may not (http.py)
                    data = await self.gql.execute(
                        docs.SET_QUANTITIES, {"input": self._input(pending, guarded, k)}, idempotency_key=k,
                        replay_safe=guarded,
                    )  # fmt: skip
                self._calls += 1
                if self._on_wait is not None:
                    self._on_wait(f"shopify inventorySetQuantities: {self._calls} calls answered")
            except RetryableError as exc:
                out.update(
                    {i.pos: _outcome(i, "failed", exc.code or type(exc).__name__, str(exc)) for i in pending}
                )
                return out
            except ValidationError as exc:
                out.update({i.pos: _outcome(i, "rejected", exc.code, exc.message) for i in pending})
                return out
            errors = (data.get("inventorySetQuantities") or {}).get("userErrors") or []
            if not errors:
                out.update({i.pos: _outcome(i, "applied") for i in pending})
                return out
            flagged: dict[int, dict[str, object]] = {}
            for e in errors:
                idx = _index(e.get("field"))
                if idx is not None and idx < len(pending):
                    flagged.setdefault(idx, e)
            if not flagged:  # a call-level problem (name, reason, ...): nothing will make these items pass
                e = errors[0]
                out.update(
                    {
                        i.pos: _outcome(i, "rejected", str(e.get("code")), str(e.get("message")))
                        for i in pending
                    }
                )
                return out
            for idx, e in flagged.items():
                code = str(e.get("code"))
                status = "conflict" if code in CONFLICT_CODES else "rejected"
                out[pending[idx].pos] = _outcome(pending[idx], status, code, str(e.get("message")))
            pending = [i for n, i in enumerate(pending) if n not in flagged]
        out.update(
            {
                i.pos: _outcome(i, "failed", "NOT_ATTEMPTED", "gave up after repeated partial rejections")
                for i in pending
            }
        )
        return out

    async def _recheck(self, stale: list[_Item], out: dict[int, ItemOutcome]) -> None:
        """Read the live quantity of each conflicting item: already at target means our change is live."""
        live: dict[str, int | None] = {}
        for chunk in _chunks(stale, 250):
            ids = [i.inventory_item_id for i in chunk]
            try:
                data = await self.gql.execute(
                    docs.INVENTORY_LEVELS,
                    {"ids": ids, "locationId": self.location_id},
                    cost=docs.INVENTORY_LEVELS.estimate(len(ids)),
                )
            except RetryableError:
                return  # keep "conflict": the caller re-reads anyway
            for node in data.get("nodes") or []:
                if node and node.get("__typename") == "InventoryItem":
                    qs = (node.get("inventoryLevel") or {}).get("quantities") or []
                    live[node["id"]] = next((q["quantity"] for q in qs if q["name"] == "available"), None)
        for i in stale:
            now = live.get(i.inventory_item_id)
            if now == i.update.quantity:
                out[i.pos] = _outcome(
                    i, "applied", "ALREADY_AT_TARGET", "live quantity already equals the target"
                )
            elif now is not None:
                prev = out[i.pos]
                out[i.pos] = prev.model_copy(
                    update={"message": f"expected {i.update.expected_quantity}, live quantity is {now}"}
                )


def _outcome(i: _Item, status: str, code: str | None = None, message: str | None = None) -> ItemOutcome:
    return ItemOutcome(
        sku=i.update.sku, status=status, code=code, message=message, external_id=i.inventory_item_id
    )  # type: ignore[arg-type]


def _chunks(items: list[_Item], size: int) -> list[list[_Item]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
