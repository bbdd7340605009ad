"""The bulk decision path at repricing scale: N price-change decisions created as rows, approved through the
guarded row update, and executed page by page (what the `decision-batch-execute` workflow's activities do).

    .venv/bin/python benchmarks/decisions_bulk.py [--decisions 100000] [--page 500] [--postgres-url URL]

Database only (SQLite file in a temp dir by default): Temporal adds one activity round trip per page on top.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from activities.decisions import bulk
from activities.repricing.price_change import PriceChangeHandler
from domain.decisions.rules import Proposal, default_policy
from merchflow.db.engine import make_engine, session_scope
from merchflow.db.migrate import upgrade
from merchflow.db.models import Product
from merchflow.db.types import utcnow
from workflows.decisions.contract import (
    BulkDecideItem,
    BulkItem,
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--decisions", type=int, default=100_000)
    ap.add_argument("--page", type=int, default=500)
    ap.add_argument("--postgres-url", default=None)
    args = ap.parse_args()
    n = args.decisions
    tmp = tempfile.mkdtemp(prefix="mf-bulk-")
    url = args.postgres_url or f"sqlite:///{tmp}/bench.db"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as s:
        s.execute(
            sa.insert(Product),
            [
                {
                    "sku": f"B-{i:06d}",
                    "name": f"bench {i}",
                    "cost": Decimal("5"),
                    "price": Decimal("20.00"),
                    "currency": "USD",
                    "attributes": {},
                    "image_refs": [],
                    "added_at": utcnow(),
                    "updated_at": utcnow(),
                }
                for i in range(n)
            ],
        )
    items = [
        BulkItem(
            decision_id=f"bulk-{i:06d}",
            proposal=Proposal(
                decision_type="price_change",
                subject=f"B-{i:06d}",
                current={"price": "20.00", "cost": "5"},
                proposed={"price": "19.00"},
                confidence=0.7,
                reasoning="benchmark",
            ),
        )
        for i in range(n)
    ]
    figures: dict[str, float | int | str] = {
        "decisions": n,
        "db": "postgresql" if args.postgres_url else "sqlite",
    }

    t = time.perf_counter()
    with session_scope(engine) as s:
        created = bulk.create_pending(
            s, items, policies={"price_change": default_policy("price_change")}, now=utcnow()
        )
    figures["create_s"] = round(time.perf_counter() - t, 2)
    assert created.created == n

    t = time.perf_counter()
    outcomes = bulk.decide_rows(
        engine,
        [BulkDecideItem(decision_id=i.decision_id, expected_version=1) for i in items],
        action="approve",
        actor="bench",
        role="approver",
    )
    figures["approve_s"] = round(time.perf_counter() - t, 2)
    assert all(o.ok for o in outcomes)

    t, cursor, executed, pages = time.perf_counter(), "", 0, 0
    handler = PriceChangeHandler()
    while True:
        with session_scope(engine) as s:
            page = bulk.execute_page(
                s, after_id=cursor, limit=args.page, handler_for=lambda _: handler, now=utcnow()
            )
        executed, cursor, pages = executed + page.executed, page.next_cursor, pages + 1
        if page.done:
            break
    figures["execute_s"] = round(time.perf_counter() - t, 2)
    figures["pages"] = pages
    assert executed == n
    for key in ("create", "approve", "execute"):
        figures[f"{key}_per_s"] = round(n / max(float(figures[f"{key}_s"]), 1e-9))
    engine.dispose()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
