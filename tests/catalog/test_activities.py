"""Catalog activities on SQLite and PostgreSQL: retried or raced batches never double-count or duplicate."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from temporalio.testing import ActivityEnvironment

from activities.catalog import repository as catalog_repo
from activities.catalog.activities import CatalogActivities
from connectors.blobs.local import LocalBlobStore
from merchflow.settings import Settings
from workers.deps import Deps
from workflows.catalog.contract import BatchInput, BatchResult, FinishInput, PrepareInput

CSV = (
    "sku,name,cost,price,colour\n"
    "A,Alpha,1.00,2.00,red\n"
    "B,Beta,-1,2.00,red\n"  # negative cost
    "C,Gamma,3.00,1.00,red\n"  # warning: price below cost
    "A,Alpha again,1.00,2.00,red\n"  # duplicate SKU
    "D,Delta,4.00,8.00,red\n"
)


@pytest.fixture
def acts(engine: sa.Engine, tmp_path: Path) -> CatalogActivities:
    settings = Settings(_env_file=None, environment="test", data_dir=tmp_path / "data")  # type: ignore[call-arg]
    return CatalogActivities(Deps(settings=settings, engine=engine, blobs=LocalBlobStore(settings.blob_dir)))


def put(acts: CatalogActivities, key: str, text: str) -> None:
    acts.blobs.put(key, text.encode())


def prepare(acts: CatalogActivities, import_id: str, key: str) -> int:
    size = len(acts.blobs.get(key))
    result = ActivityEnvironment().run(
        acts.prepare,
        PrepareInput(
            import_id=import_id,
            blob_key=key,
            file_format="csv",
            filename=key,
            size_bytes=size,
            workflow_id=f"wf-{import_id}",
        ),
    )
    assert result.fatal_error is None, result.fatal_error
    return result.data_offset


def batch(acts: CatalogActivities, import_id: str, key: str, offset: int, row: int, size: int) -> BatchResult:
    inp = BatchInput(
        import_id=import_id,
        blob_key=key,
        file_format="csv",
        start_offset=offset,
        first_row=row,
        batch_size=size,
    )
    return ActivityEnvironment().run(acts.import_batch, inp)


def run_all(acts: CatalogActivities, import_id: str, key: str, size: int = 2) -> list[BatchResult]:
    offset, row, results = prepare(acts, import_id, key), 1, []
    while True:
        results.append(batch(acts, import_id, key, offset, row, size))
        offset, row = results[-1].next_offset, results[-1].next_row
        if results[-1].done:
            return results


def scalar(engine: sa.Engine, sql: str) -> object:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql)).scalar_one()


def test_a_retried_batch_returns_the_counts_of_the_attempt_that_committed(
    acts: CatalogActivities, engine: sa.Engine
) -> None:
    put(acts, "f.csv", CSV)
    offset = prepare(acts, "imp1", "f.csv")
    first = batch(acts, "imp1", "f.csv", offset, 1, 3)
    assert (first.counts.inserted, first.counts.invalid_rows, first.counts.warnings) == (2, 1, 1)
    issues_before = scalar(engine, "SELECT count(*) FROM catalog_import_issue")
    # the worker died after the commit: Temporal runs the same batch again
    again = batch(acts, "imp1", "f.csv", offset, 1, 3)
    assert again.replayed
    assert again.counts == first.counts  # still "2 inserted", not "2 unchanged"
    assert (again.next_offset, again.next_row) == (first.next_offset, first.next_row)
    assert scalar(engine, "SELECT count(*) FROM catalog_import_issue") == issues_before
    assert scalar(engine, "SELECT count(*) FROM product") == 2


def test_a_batch_racing_an_earlier_attempt_rolls_back_and_reports_the_winner(
    acts: CatalogActivities, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    put(acts, "f.csv", CSV)
    offset = prepare(acts, "imp2", "f.csv")
    winner = batch(acts, "imp2", "f.csv", offset, 1, 5)
    # A zombie attempt that started before the winner committed: it does not see the batch record at start.
    real = catalog_repo.stored_batch
    calls = {"n": 0}

    def stale_first(conn: sa.Connection, **kw: object) -> BatchResult | None:
        calls["n"] += 1
        return None if calls["n"] == 1 else real(conn, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(catalog_repo, "stored_batch", stale_first)
    zombie = batch(acts, "imp2", "f.csv", offset, 1, 5)
    assert zombie.replayed and zombie.counts == winner.counts
    assert scalar(engine, "SELECT count(*) FROM catalog_import_batch") == 1
    assert scalar(engine, "SELECT sum(inserted) FROM catalog_import_batch") == 3


def test_scan_is_idempotent_and_reports_header_warnings_and_duplicates(
    acts: CatalogActivities, engine: sa.Engine
) -> None:
    put(acts, "f.csv", CSV)
    prepare(acts, "imp3", "f.csv")
    prepare(acts, "imp3", "f.csv")
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT row_number, field, code, severity FROM catalog_import_issue ORDER BY row_number")
        ).all()
        total = conn.execute(sa.text("SELECT total_rows, status FROM catalog_import")).one()
    assert [tuple(r) for r in rows] == [
        (0, "colour", "unknown_column", "warning"),
        (4, "sku", "duplicate_sku", "error"),
    ]
    assert tuple(total) == (5, "running")


def test_import_then_reimport_counts_inserted_updated_unchanged(
    acts: CatalogActivities, engine: sa.Engine
) -> None:
    put(acts, "one.csv", "sku,name,cost\nA,Alpha,1\nB,Beta,2\nC,Gamma,3\n")
    results = run_all(acts, "one", "one.csv")
    assert sum(r.counts.inserted for r in results) == 3
    done = ActivityEnvironment().run(acts.finish, FinishInput(import_id="one", status="completed"))
    assert done.status == "completed" and done.counts.inserted == 3 and done.counts.processed_rows == 3
    added_at = scalar(engine, "SELECT added_at FROM product WHERE sku = 'A'")

    put(acts, "two.csv", "sku,name,cost\nA,Alpha,1.00\nB,Beta v2,2\nE,Epsilon,5\n")
    run_all(acts, "two", "two.csv")
    done = ActivityEnvironment().run(acts.finish, FinishInput(import_id="two", status="completed"))
    c = done.counts
    assert (c.inserted, c.updated, c.unchanged, c.valid_rows) == (1, 1, 1, 3)
    assert scalar(engine, "SELECT name FROM product WHERE sku = 'B'") == "Beta v2"
    assert scalar(engine, "SELECT added_at FROM product WHERE sku = 'A'") == added_at
    assert scalar(engine, "SELECT count(*) FROM product") == 4
    # finishing twice keeps the first outcome
    again = ActivityEnvironment().run(acts.finish, FinishInput(import_id="two", status="failed", error="x"))
    assert again.status == "completed"
