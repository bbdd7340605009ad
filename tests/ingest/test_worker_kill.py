"""Acceptance: SIGKILL the worker (`python -m merchflow worker`, a real subprocess, real OCR) in the middle of a
batch, start a new one, and every product ends drafted and published exactly once: one decision each, one stock
receipt each, one listing per marketplace, no change applied twice on any sandbox."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from temporalio.testing import WorkflowEnvironment

from activities.decisions.repository import set_policy
from merchflow.db.engine import session_scope
from tests.ingest import photos
from tests.ingest.stack import Stack, ingest_stack, manifest_zip
from tests.stock.harness import MARKETPLACES, settings_env
from workflows.ingest.contract import ProductResult, product_workflow_id

PHOTOS = [
    photos.red_mug(), photos.green_tshirt(), photos.navy_book(), photos.yellow_lamp(), photos.rotated_orange(),
    photos.heic_purple(), photos.webp_black(), photos.metadata_jpeg(),
]  # fmt: skip


def suffix(data: bytes) -> str:
    """The file name's extension for the photo's real format (the generated photos are named without one)."""
    if data.startswith(b"\xff\xd8"):
        return ".jpg"
    if data.startswith(b"\x89PNG"):
        return ".png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return ".heic"


def spawn_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "merchflow", "worker"],
        env=env,
        cwd=log.parent,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def statuses(st: Stack) -> dict[str, int]:
    with st.engine.connect() as c:
        return dict(c.execute(sa.text("SELECT status, count(*) FROM ingest_product GROUP BY status")).all())  # type: ignore[arg-type]


@pytest.mark.slow
async def test_killing_the_worker_mid_batch_ends_with_every_product_done_once(
    tmp_path: Path, temporal_env: WorkflowEnvironment
) -> None:
    target = temporal_env.client.service_client.config.target_host
    temporal = {"address": target, "task_queue_prefix": f"ikill-{uuid.uuid4().hex[:8]}"}
    rows = [
        {
            "images": f"p{i}{suffix(p.data)}",
            "sku": f"KILL-{i}",
            "cost": "5",
            "quantity": str(i + 1),
        }
        for i, p in enumerate(PHOTOS)
    ]
    files = {r["images"]: p.data for r, p in zip(rows, PHOTOS, strict=True)}
    async with ingest_stack(tmp_path / "s", temporal_env.client, worker=False, temporal=temporal) as st:
        with session_scope(st.engine) as s:  # publish without waiting for a person: the whole path runs
            set_policy(
                s,
                decision_type="listing_publish",
                mode="full-auto",
                threshold=0.0,
                guardrails={},
                actor="test",
            )
        env = {
            **settings_env(st.settings, MARKETPLACES),
            "MERCHFLOW_LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
        env["MERCHFLOW_SANDBOX__WEBHOOK_BASE_URL"] = st.settings.sandbox.webhook_base_url or ""
        log = tmp_path / "worker.log"
        workers = [spawn_worker(env, log)]
        try:
            created = await st.upload_zip(manifest_zip(rows, files))
            deadline = time.monotonic() + 300
            while statuses(st).get("published", 0) < 1:
                assert workers[0].poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, f"nothing published: {statuses(st)}"
                await asyncio.sleep(0.1)
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait(timeout=10)
            at_kill = statuses(st)
            assert at_kill.get("published", 0) < len(PHOTOS), "the batch finished before the kill"

            workers.append(spawn_worker(env, log))
            deadline = time.monotonic() + 420  # under pytest's 600 s, so a failure says where each product is
            while statuses(st).get("published", 0) < len(PHOTOS):
                assert workers[1].poll() is None, log.read_text()[-3000:]
                assert time.monotonic() < deadline, (
                    f"not every product was published: {statuses(st)} (at the kill: {at_kill})"
                )
                await asyncio.sleep(0.25)
            # published is set inside the action; each product workflow ends once its decision is recorded executed
            ids = [p["id"] for p in created["products"]]
            for pid in ids:
                handle = st.client.get_workflow_handle(product_workflow_id(pid), result_type=ProductResult)
                done = await asyncio.wait_for(handle.result(), timeout=max(1.0, deadline - time.monotonic()))
                assert done.status == "published", done
        finally:
            for w in workers:
                if w.poll() is None:
                    w.terminate()
                    try:
                        w.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        w.kill()

        with st.engine.connect() as c:
            q = lambda sql, **kw: c.execute(sa.text(sql), kw).all()  # noqa: E731
            assert q("SELECT count(*) FROM ingest_image WHERE status = 'ok'") == [(len(PHOTOS),)]
            decisions = q(
                "SELECT subject, status FROM decision WHERE decision_type = 'listing_publish' ORDER BY subject"
            )
            assert decisions == [(f"KILL-{i}", "executed") for i in range(len(PHOTOS))]
            receipts = q("SELECT sku, quantity FROM stock_ledger WHERE kind = 'receipt' ORDER BY sku")
            assert receipts == [(f"KILL-{i}", i + 1) for i in range(len(PHOTOS))]
            outcomes = q(
                "SELECT product_id, count(*), min(status), max(status) FROM ingest_listing GROUP BY product_id"
            )
            assert sorted(o[0] for o in outcomes) == sorted(ids)
            assert all(o[1:] == (4, "live", "live") for o in outcomes), outcomes
            links = q("SELECT count(*), count(DISTINCT account_id || ':' || sku) FROM marketplace_listing")
            assert links == [(4 * len(PHOTOS), 4 * len(PHOTOS))]
        for mp in MARKETPLACES:
            for i in range(len(PHOTOS)):
                live = await st.listing(mp, f"KILL-{i}")
                assert live is not None and live["quantity"] == i + 1, (mp, i, live)
            dup = (await st.sandbox(mp, "GET", "/_sandbox/effects/duplicates")).json()
            assert not (dup.get("duplicates") if isinstance(dup, dict) else dup), (mp, dup)
        assert os.path.exists(log)
