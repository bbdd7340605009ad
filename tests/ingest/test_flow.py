"""The ingest process on the real stack (sandboxes, Temporal, worker, API): photos in, drafts for review,
approval, live listings; duplicates reported, not processed again."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from tests.ingest import photos
from tests.ingest.stack import ingest_stack, manifest_zip


async def test_photos_become_drafts_and_an_approval_publishes_them(
    tmp_path: Path, temporal_env: WorkflowEnvironment
) -> None:
    mug, tee, flask = photos.red_mug(), photos.green_tshirt(), photos.webp_black()
    data = manifest_zip(
        [
            {"images": "mug.jpg", "sku": "MUG-1", "cost": "4.00", "quantity": "5"},
            {"images": "tee.jpg", "sku": "TEE-1", "cost": "3.00", "quantity": "2"},
            {
                "images": "flask.webp",
                "cost": "6.00",
                "quantity": "1",
                "marketplaces": "amazon;shopify",
                "title": "Insulated flask",
            },
        ],
        {"mug.jpg": mug.data, "tee.jpg": tee.data, "flask.webp": flask.data},
    )
    async with ingest_stack(tmp_path / "s", temporal_env.client) as st:
        created = await st.upload_zip(data)
        assert [p["sku"] for p in created["products"]][:2] == ["MUG-1", "TEE-1"]
        batch = await st.wait_batch(created["batch_id"])
        assert batch["counts"] == {"drafted": 3}, batch
        mug_id = created["products"][0]["id"]
        p = await st.product(mug_id)
        attrs = {a["name"]: a for a in p["attributes"]}
        assert attrs["ean"]["value"] == "4006381333931" and attrs["ean"]["source"] == "barcode"
        assert attrs["title"]["source"] == "catalog"
        assert p["catalog"]["categories"]["ebay"]["id"] == "20625"
        assert p["extraction"]["ocr"]["skipped"] is True  # the barcode named it: no OCR
        assert set(p["listing"]) == {"amazon", "ebay", "shopify", "woocommerce"}
        prices = {mp: Decimal(x["price"]) for mp, x in p["listing"].items()}
        assert all(price > Decimal("4.00") for price in prices.values())

        decision = await st.wait_decision(p["decision_id"], {"pending"})
        r = await st.api.post(
            f"/api/v1/decisions/{p['decision_id']}/approve",
            headers=st.auth,
            json={"expected_version": decision["version"]},
        )
        assert r.status_code == 200, r.text
        done = await st.wait_product(mug_id, {"published", "failed"})
        assert done["status"] == "published", done
        for mp in ("amazon", "ebay", "shopify", "woocommerce"):
            live = await st.listing(mp, "MUG-1")
            assert live is not None, mp
            assert live["quantity"] == 5, (mp, live)
            assert Decimal(str(live["price"])) == prices[mp], (mp, live)
        await st.wait_decision(p["decision_id"], {"executed"})

        # an approver may change a price, but not below that marketplace's floor (cost + minimum margin after its
        # fees): the decision fails naming the lowest price allowed, and nothing is created anywhere
        tee = await st.product(created["products"][1]["id"])
        floor = Decimal(tee["listing"]["ebay"]["floor"])
        assert Decimal("3.00") < floor <= Decimal(tee["listing"]["ebay"]["price"])
        decision = await st.wait_decision(tee["decision_id"], {"pending"})
        r = await st.api.post(
            f"/api/v1/decisions/{tee['decision_id']}/edit",
            headers=st.auth,
            json={"expected_version": decision["version"], "value": {"price.ebay": "1.00"}},
        )
        assert r.status_code == 200, r.text
        failed = await st.wait_decision(tee["decision_id"], {"failed"})
        assert f"{floor:.2f}" in json.dumps(failed), failed
        for mp in ("amazon", "ebay", "shopify", "woocommerce"):
            assert await st.listing(mp, "TEE-1") is None, mp

        again = await st.upload_zip(
            manifest_zip([{"images": "m.jpg"}], {"m.jpg": photos.near_duplicate_of_red_mug().data})
        )
        b2 = await st.wait_batch(again["batch_id"])
        assert b2["counts"] == {"duplicate": 1}
        dup = await st.product(again["products"][0]["id"])
        assert dup["duplicate_of"] == mug_id and "ingested before" in dup["reason"]
