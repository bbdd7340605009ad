"""Stock from a catalog file's `quantity` column, through the ledger like any other movement.

A SKU the master keeps no stock for gets its opening stock as a receipt. One it already stocks keeps its stock
(`stock=ignore`, the default: re-importing a catalog must not undo the sales since) unless the import asks
`stock=set`, which records the difference as an adjustment. One ledger entry per SKU and import (idempotency key
`catalog-import:<import>:<sku>`), written in the batch's own transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from activities.stock.tables import StockLedgerEntry
from domain.catalog.rows import ProductRow
from merchflow.db.models import StockLevel

_S = StockLevel.__table__  # type: ignore[attr-defined]
_LEDGER = StockLedgerEntry.__table__  # type: ignore[attr-defined]
_CHUNK = 2000


def apply_stock(
    conn: sa.Connection,
    *,
    import_id: str,
    products: Sequence[ProductRow],
    mode: str,
    actor: str | None,
    now: datetime,
) -> int:
    """Returns how many SKUs' on-hand the file set."""
    wanted = {p.sku: p.quantity for p in products if p.quantity is not None}
    if not wanted:
        return 0
    skus = sorted(wanted)
    levels: dict[str, tuple[int, int]] = {}
    for i in range(0, len(skus), _CHUNK):
        q = (
            sa.select(_S.c.sku, _S.c.on_hand, _S.c.version)
            .where(_S.c.sku.in_(skus[i : i + _CHUNK]))
            .order_by(_S.c.sku)
        )
        if conn.dialect.name == "postgresql":
            q = q.with_for_update()  # in SKU order, like the stock process: no deadlock with order allocation
        levels.update({sku: (on_hand, version) for sku, on_hand, version in conn.execute(q)})
    new = [sku for sku in skus if sku not in levels]
    changed = [sku for sku in skus if sku in levels and mode == "set" and levels[sku][0] != wanted[sku]]
    if new:
        conn.execute(
            sa.insert(_S),
            [{"sku": s, "on_hand": wanted[s], "reserved": 0, "version": 1, "updated_at": now} for s in new],
        )
    if changed:
        conn.execute(
            sa.update(_S).where(_S.c.sku == sa.bindparam("b_sku")).values(
                on_hand=sa.bindparam("b_on_hand"), version=_S.c.version + 1, updated_at=now
            ),
            [{"b_sku": s, "b_on_hand": wanted[s]} for s in changed],
        )  # fmt: skip
    entries = [
        {
            "sku": s,
            "kind": "receipt",
            "quantity": wanted[s],
            "reserved_delta": 0,
            "reason": "opening stock (catalog import)",
        }
        for s in new
        if wanted[s] > 0
    ] + [
        {
            "sku": s,
            "kind": "adjustment",
            "quantity": wanted[s] - levels[s][0],
            "reserved_delta": 0,
            "reason": "stock set by catalog import",
        }
        for s in changed
    ]
    if entries:
        conn.execute(
            sa.insert(_LEDGER),
            [
                {
                    **e,
                    "idempotency_key": f"catalog-import:{import_id}:{e['sku']}",
                    "external_ref": import_id,
                    "created_by": actor or "catalog-import",
                    "created_at": now,
                }
                for e in entries
            ],
        )
    return len(new) + len(changed)
