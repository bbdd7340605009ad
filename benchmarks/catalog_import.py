"""Catalog import throughput through the real stack: Temporal dev server, `merchflow worker` and `merchflow api`
as subprocesses on a SQLite database, the file uploaded over HTTP.

    .venv/bin/python benchmarks/catalog_import.py [--rows 100000] [--batch-size 5000] [--postgres-url URL] [--keep]

Prints rows/s for a first import (all rows new) and for a re-import of an edited copy (10% of rows changed,
the rest skipped by content hash). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.stack_start import spawn, wait_ready
from merchflow.db.engine import make_engine
from merchflow.db.migrate import upgrade
from merchflow.temporal import DevServer, free_port, wait_for_port
from tests.conftest import make_token


def _upc(n: int) -> str:
    body = f"{n % 10**11:011d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def write_catalog(path: Path, rows: int, *, seed: int, changed_every: int = 0) -> None:
    rng = random.Random(seed)
    brands = [f"Brand {i}" for i in range(80)]
    categories = ["Electronics", "Home & Kitchen", "Sports", "Toys & Games", "Books", "Garden", "Beauty"]
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("sku,name,brand,category,cost,price,min_price,max_price,currency,upc,attributes,image_refs\n")
        for i in range(rows):
            cost = 1 + (i * 7919 % 20000) / 100
            if changed_every and i % changed_every == 0:
                cost += 0.5
            price = round(cost * 1.8, 2)
            attrs = json.dumps(
                {"color": rng.choice(["red", "blue", "black"]), "size": i % 12, "weight_g": i % 900}
            )
            f.write(
                f'SKU-{i:08d},"Product {i} with a reasonably descriptive title, {i % 17} pack",'
                f"{brands[i % 80]},{categories[i % 7]},{cost:.2f},{price:.2f},{cost * 1.2:.2f},"
                f'{price * 2:.2f},USD,{_upc(i + 10**6)},"{attrs.replace(chr(34), chr(34) * 2)}",'
                f"img/{i}/front.jpg|img/{i}/back.jpg\n"
            )


def import_file(http: httpx.Client, token: str, path: Path, rows: int) -> dict[str, float | str]:
    auth = {"Authorization": f"Bearer {token}"}
    start = time.perf_counter()
    with path.open("rb") as f:
        created = http.post(
            "/api/v1/catalog/imports", content=f, headers={**auth, "Content-Type": "text/csv"}
        )
    uploaded = time.perf_counter()
    created.raise_for_status()
    url = created.json()["links"]["self"]
    while True:
        body = http.get(url, headers=auth, params={"limit": 1}).json()
        if body["status"] in ("completed", "failed"):
            break
        time.sleep(0.25)
    done = time.perf_counter()
    if body["status"] != "completed" or body["counts"]["processed_rows"] != rows:
        raise RuntimeError(f"import did not complete cleanly: {json.dumps(body)[:2000]}")
    return {
        "seconds": round(done - start, 2),
        "upload_seconds": round(uploaded - start, 2),
        "rows_per_s": round(rows / (done - start)),
        "inserted": body["counts"]["inserted"],
        "updated": body["counts"]["updated"],
        "unchanged": body["counts"]["unchanged"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--batch-size", type=int, default=5000)
    ap.add_argument(
        "--postgres-url", help="import into this (empty, migrated here) database instead of SQLite"
    )
    ap.add_argument("--keep", action="store_true", help="keep the work dir (files, databases, logs)")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="merchflow-bench-"))
    data = work / "data"
    db_url = args.postgres_url or f"sqlite:///{data / 'bench.db'}"
    data.mkdir(parents=True)
    first, second = work / "catalog.csv", work / "catalog-edited.csv"
    t = time.perf_counter()
    write_catalog(first, args.rows, seed=1)
    write_catalog(second, args.rows, seed=1, changed_every=10)
    print(
        f"generated 2 x {args.rows} rows ({first.stat().st_size / 1e6:.1f} MB each) in "
        f"{time.perf_counter() - t:.1f}s",
        flush=True,
    )

    upgrade(db_url)
    engine = make_engine(db_url)
    token = make_token(engine, "operator", "bench")
    engine.dispose()

    tport, api_port = free_port(), free_port()
    server = DevServer(db_file=work / "temporal.db", port=tport, ui_port=free_port(), headless=True)
    procs: list[subprocess.Popen[bytes]] = [
        server.start(stdout=(work / "temporal.log").open("wb"), stderr=subprocess.STDOUT)
    ]
    try:
        wait_for_port("127.0.0.1", tport, timeout=60)
        env = {
            **os.environ,
            "MERCHFLOW_ENVIRONMENT": "test",
            "MERCHFLOW_TEMPORAL_ADDRESS": f"127.0.0.1:{tport}",
            "MERCHFLOW_DATABASE_URL": db_url,
            "MERCHFLOW_DATA_DIR": str(data),
            "MERCHFLOW_API_PORT": str(api_port),
            "MERCHFLOW_CATALOG_IMPORT_BATCH_SIZE": str(args.batch_size),
            "MERCHFLOW_SEED_DEMO": "false",
            "MERCHFLOW_LOG_LEVEL": "WARNING",
        }
        procs.append(spawn(["worker"], env, work / "worker.log"))
        procs.append(spawn(["api"], env, work / "api.log"))
        base = f"http://127.0.0.1:{api_port}"
        wait_ready(f"{base}/readyz", procs)
        with httpx.Client(base_url=base, timeout=600) as http:
            fresh = import_file(http, token, first, args.rows)
            print(f"first import (all new):      {fresh['rows_per_s']:>7} rows/s  {fresh}", flush=True)
            edited = import_file(http, token, second, args.rows)
            print(f"re-import, 10% rows changed: {edited['rows_per_s']:>7} rows/s  {edited}", flush=True)
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    result = {
        "benchmark": "catalog_import",
        "rows": args.rows,
        "batch_size": args.batch_size,
        "database": "postgresql" if args.postgres_url else "sqlite",
        "rows_per_s": fresh["rows_per_s"],
        "seconds": fresh["seconds"],
        "reimport_rows_per_s": edited["rows_per_s"],
        "reimport_seconds": edited["seconds"],
        "cpus": os.cpu_count(),
        "work_dir": str(work) if args.keep else None,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
