"""Sales history and the forecast run through the API, on the real stack (worker, Temporal dev server): imports
are idempotent and report bad rows; the nightly run forecasts every SKU with intervals and stores its backtest
errors; every analytics report is there as JSON and as CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from temporalio.testing import WorkflowEnvironment

from activities.forecasting.tables import SalesLine
from merchflow.db.engine import session_scope
from merchflow.db.migrate import upgrade
from tests.conftest import make_token
from tests.forecasting.sales_files import daily_sales_csv
from tests.stock.harness import open_stack


async def test_sales_imports_forecasts_and_analytics(
    tmp_path: Path, temporal_env: WorkflowEnvironment
) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(url)
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    rates = {"FC-A": 8.0, "FC-B": 3.0, "FC-C": 0.3, "FC-D": 1.0}
    stock = {"FC-A": 100, "FC-B": 5, "FC-C": 40, "FC-D": 0}
    async with open_stack(tmp_path / "data", db_url=url, client=temporal_env.client, marketplaces=("woocommerce",),
                          stock=stock) as st:  # fmt: skip
        async with st.api(make_token(st.engine, "operator")) as api:
            older = daily_sales_csv(rates, days=120, end=yesterday - timedelta(days=60), seed=1, buyers=40,
                                    channels=("amazon", "ebay"))  # fmt: skip
            newer = daily_sales_csv(
                rates, days=60, end=yesterday, seed=2, buyers=40, channels=("amazon", "ebay")
            )
            bad = "2025-02-30,FC-A,1,1.00,shop,\n2025-01-05,FC-A,two,1.00,shop,\n"

            async def upload(body: str, status: int = 202) -> dict:  # type: ignore[type-arg]
                r = await api.post(
                    "/api/v1/sales/imports", content=body, headers={"content-type": "text/csv"}
                )
                assert r.status_code == status, r.text
                if status == 202:
                    await st.client.get_workflow_handle(r.json()["workflow_id"]).result()
                return (await api.get(r.headers["location"])).json()  # type: ignore[no-any-return]

            first = await upload(older + bad)
            assert first["status"] == "completed" and first["invalid_rows"] == 2
            assert first["inserted"] == first["valid_rows"] > 100
            report = first["report"]["items"]
            assert {(i["field"], i["code"]) for i in report} == {
                ("date", "invalid_value"),
                ("quantity", "invalid_value"),
            }
            assert (await upload(older + bad, status=200))["id"] == first[
                "id"
            ]  # the same file: the same import
            # a later export repeating the first one: only the new rows are added
            both = await upload(older + newer.split("\n", 1)[1])
            assert both["duplicates"] == first["valid_rows"] and both["inserted"] > 50
            jsonl = (
                json.dumps({"date": yesterday.isoformat(), "sku": "FC-D", "qty": 2, "buyer": "x@y.z"}) + "\n"
            )
            r = await api.post(
                "/api/v1/sales/imports", content=jsonl, headers={"content-type": "application/x-ndjson"}
            )
            await st.client.get_workflow_handle(r.json()["workflow_id"]).result()
            r = await api.post(
                "/api/v1/sales/imports", content="day,sku\n1,2\n", headers={"content-type": "text/csv"}
            )
            assert r.status_code == 422 and "quantity" in r.json()["error"]["message"]
            with session_scope(st.engine) as s:
                buyers = set(s.execute(sa.select(SalesLine.buyer)).scalars())
            assert buyers and all(
                b is None or (len(b) == 32 and "@" not in b) for b in buyers
            )  # never in clear

            # an order on the sandbox is sales history too
            await st.sbx.buy("woocommerce", "FC-A", 2, order_id="fc-order-1")

            async def order_copied() -> bool:
                r = await api.get("/api/v1/orders?sku=FC-A")
                return any(o["status"] == "allocated" for o in r.json()["items"])

            from tests.stock.waiting import eventually

            await eventually(order_copied, bool, what="order allocated")
            r = await api.post("/api/v1/forecasting/runs", json={"retrain": True, "replenish": False})
            result = await st.client.get_workflow_handle(r.json()["id"]).result()
            summary = result["summary"]
            assert summary["status"] == "completed" and summary["totals"]["skus"] == 4
            assert summary["wape"] is not None and summary["naive_wape"] is not None
            with session_scope(st.engine) as s:
                assert (
                    s.execute(sa.select(sa.func.count()).where(SalesLine.source == "order")).scalar_one() == 1
                )
            run = (await api.get(f"/api/v1/forecasting/runs/{r.json()['id']}")).json()
            assert run["status"] == "completed" and run["metrics"]["improvement_vs_naive"] is not None

            fc = (await api.get("/api/v1/forecasting/skus/FC-A")).json()
            assert fc["backtest"]["wape"] is not None and fc["seasonal_naive"]["mae"] is not None
            days = fc["forecast"]["days"]
            assert len(days) == 30 and days[0]["date"] == (yesterday + timedelta(days=1)).isoformat()
            assert all(d["lo95"] <= d["lo80"] <= d["yhat"] <= d["hi80"] <= d["hi95"] for d in days)
            assert 5 < sum(d["yhat"] for d in days) / 30 < 11  # about 8 a day
            listed = (await api.get("/api/v1/forecasting/skus?limit=2")).json()
            assert [m["sku"] for m in listed["items"]] == ["FC-A", "FC-B"] and listed["next_after"] == "FC-B"
            assert (await api.get("/api/v1/forecasting/skus/NOPE")).status_code == 404

            for report in ("aging", "top-worst", "projection", "channels", "customers"):
                j = await api.get(f"/api/v1/analytics/{report}")
                assert j.status_code == 200, (report, j.text)
                c = await api.get(f"/api/v1/analytics/{report}.csv")
                assert c.status_code == 200 and c.headers["content-type"].startswith("text/csv")
                assert len(list(csv.reader(io.StringIO(c.text)))) > 1, report
            top = (await api.get("/api/v1/analytics/top-worst")).json()
            assert top["revenue"]["top"][0]["sku"] == "FC-A"
            channels = {
                c["channel"] for c in (await api.get("/api/v1/analytics/channels")).json()["channels"]
            }
            assert {"amazon", "ebay", "(none)"} == channels  # the order of today counts from tomorrow on
            proj = (await api.get("/api/v1/analytics/projection")).json()
            assert proj["low"] < proj["expected"] < proj["high"] and len(proj["daily"]) == 30
            aging = (await api.get("/api/v1/analytics/aging")).json()
            assert [b["bucket"] for b in aging["buckets"]] == ["0-30", "31-60", "61-90", "91-180", "180+"]
            segments = (await api.get("/api/v1/analytics/customers")).json()
            assert sum(s["buyers"] for s in segments["segments"]) == segments["buyers"] > 10
            skus = (await api.get("/api/v1/analytics/skus")).json()["items"]
            assert {s["sku"] for s in skus} == set(stock)
            per_sku = await api.get("/api/v1/analytics/skus.csv")
            assert per_sku.text.startswith("sku,units,revenue") and per_sku.text.count("\n") == 5
