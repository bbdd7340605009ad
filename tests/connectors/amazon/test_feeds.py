"""set_quantities / set_prices through JSON_LISTINGS_FEED feeds: per-item outcomes from the processing report."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from connectors.errors import ServerError
from connectors.marketplace.types import PriceUpdate, QuantityUpdate
from tests.connectors.amazon.conftest import AmazonEnv


async def test_set_quantities_reports_each_item(amazon: AmazonEnv) -> None:
    skus = await amazon.seed(3)
    mp, rec = amazon.adapter()
    waits: list[str] = []
    result = await mp.set_quantities(
        [
            QuantityUpdate(sku=skus[0], quantity=7),
            QuantityUpdate(sku="NO-SUCH-SKU", quantity=1),
            QuantityUpdate.model_construct(
                sku=skus[1], quantity=-2
            ),  # bypasses our own validation on purpose
            QuantityUpdate(sku=skus[2], quantity=0),
        ],
        idempotency_key="qty-1",
        on_wait=waits.append,
    )
    by_sku = {o.sku: o for o in result.outcomes}
    assert by_sku[skus[0]].status == "applied"
    assert by_sku[skus[2]].status == "applied"
    assert (by_sku["NO-SUCH-SKU"].status, by_sku["NO-SUCH-SKU"].code) == ("rejected", "NOT_FOUND")
    assert (by_sku[skus[1]].status, by_sku[skus[1]].code) == ("rejected", "90000900")
    assert "minimum of 0" in (by_sku[skus[1]].message or "")
    assert len(result.submission_ids) == 1
    assert waits and all(
        result.submission_ids[0] in w for w in waits
    )  # heartbeats while the feed was processed
    assert (await amazon.listing(skus[0]))["quantity"] == 7  # type: ignore[index]
    assert (await amazon.listing(skus[1]))["quantity"] == 5  # type: ignore[index]  # rejected: untouched
    assert (await amazon.listing(skus[2]))["quantity"] == 0  # type: ignore[index]
    # the feed went through the whole asynchronous life cycle
    statuses = [
        json.loads(e.response_body)["processingStatus"] for e in rec.calls("GET", "/feeds/2021-06-30/feeds/")
    ]
    assert statuses[-1] == "DONE" and len(statuses) >= 2


async def test_set_prices_rejects_invalid_amounts(amazon: AmazonEnv) -> None:
    skus = await amazon.seed(2)
    mp, _ = amazon.adapter()
    result = await mp.set_prices(
        [PriceUpdate(sku=skus[0], price=Decimal("12.49")), PriceUpdate(sku=skus[1], price=Decimal("9.999"))],
        idempotency_key="price-1",
    )
    by_sku = {o.sku: o for o in result.outcomes}
    assert by_sku[skus[0]].status == "applied"
    assert (by_sku[skus[1]].status, by_sku[skus[1]].code) == ("rejected", "90000900")
    assert (await amazon.listing(skus[0]))["price"] == "12.49"  # type: ignore[index]
    assert (await amazon.listing(skus[1]))["price"] == "10.00"  # type: ignore[index]


async def test_accepted_is_not_applied(amazon: AmazonEnv) -> None:
    """Like the real service, the sandbox can accept a PATCH for an unknown SKU and apply nothing: the adapter must
    not report that message as applied."""
    amazon.sbx.knobs.accept_unknown_sku_patches = True
    skus = await amazon.seed(1)
    mp, rec = amazon.adapter()
    result = await mp.set_quantities(
        [QuantityUpdate(sku=skus[0], quantity=3), QuantityUpdate(sku="GHOST", quantity=3)],
        idempotency_key="acc-1",
    )
    by_sku = {o.sku: o for o in result.outcomes}
    assert by_sku[skus[0]].status == "applied"
    assert (by_sku["GHOST"].status, by_sku["GHOST"].code) == ("failed", "NOT_CONFIRMED")
    report = next(e for e in rec.exchanges if e.path.startswith("/sandbox-s3/reports/"))
    assert (
        json.loads(report.response_body)["summary"]["messagesAccepted"] == 2
    )  # Amazon said "accepted" to both


async def test_feeds_are_chunked_at_the_batch_limit(amazon: AmazonEnv) -> None:
    amazon.sbx.knobs.report_gzip_min_bytes = 0  # every report GZIP-compressed, as Amazon often does
    skus = await amazon.seed(250)
    mp, rec = amazon.adapter(feed_max_messages=100)
    assert mp.max_batch == 100
    result = await mp.set_quantities(
        [QuantityUpdate(sku=s, quantity=i % 17) for i, s in enumerate(skus)], idempotency_key="chunks"
    )
    assert len(result.submission_ids) == 3
    assert [o.sku for o in result.outcomes] == skus
    assert all(o.status == "applied" for o in result.outcomes)
    uploads = rec.calls("PUT", "/sandbox-s3/feeds/")
    assert sorted(len(json.loads(u.request_body)["messages"]) for u in uploads) == [50, 100, 100]
    assert all(
        json.loads(d.response_body).get("compressionAlgorithm") == "GZIP"
        for d in rec.calls("GET", "/feeds/2021-06-30/documents/")
    )
    assert (await amazon.listing(skus[249]))["quantity"] == 249 % 17  # type: ignore[index]


async def test_repeated_sku_sends_the_last_value_once(amazon: AmazonEnv) -> None:
    skus = await amazon.seed(1)
    mp, rec = amazon.adapter()
    result = await mp.set_quantities(
        [QuantityUpdate(sku=skus[0], quantity=1), QuantityUpdate(sku=skus[0], quantity=9)],
        idempotency_key="dup",
    )
    assert [(o.sku, o.status) for o in result.outcomes] == [(skus[0], "applied")]
    doc = json.loads(rec.calls("PUT", "/sandbox-s3/feeds/")[0].request_body)
    assert [m["patches"][0]["value"][0]["quantity"] for m in doc["messages"]] == [9]


async def test_fatal_feed_fails_every_item_retryably(amazon: AmazonEnv) -> None:
    """A feed Amazon aborts (here: a header for another seller) leaves its items in an unknown state: failed."""
    skus = await amazon.seed(2)
    mp, _ = amazon.adapter(seller_id="A-SOMEONE-ELSE")
    result = await mp.set_quantities(
        [QuantityUpdate(sku=s, quantity=1) for s in skus], idempotency_key="fatal"
    )
    assert {(o.status, o.code) for o in result.outcomes} == {("failed", "FEED_FATAL")}
    assert all(o.retryable for o in result.outcomes)
    assert (await amazon.listing(skus[0]))["quantity"] == 5  # type: ignore[index]


async def test_lost_create_feed_is_not_resent_and_cannot_land_after_a_newer_feed(amazon: AmazonEnv) -> None:
    """createFeed is applied but its answer is lost: the adapter does not resend it (outcome unknown, retryable).
    The caller's retry carries newer values (a sale happened meanwhile); before creating its feed the adapter waits
    until the older feed has finished, so the older values can never land after the newer ones."""
    skus = await amazon.seed(3)
    amazon.sbx.knobs.feed_queue_seconds = 0.3  # the lost feed is still queued when the retry comes
    mp, rec = amazon.adapter()
    armed = {"done": False}

    def lose_first_create_feed(request: httpx.Request) -> None:
        if request.url.path == "/feeds/2021-06-30/feeds" and request.method == "POST" and not armed["done"]:
            armed["done"] = True
            amazon.faults(lost_response_rate=1.0)

    def restore(_request: httpx.Request, _response: httpx.Response | None) -> None:
        amazon.faults()

    rec.before.append(lose_first_create_feed)
    rec.after.append(restore)
    with pytest.raises(ServerError) as err:
        await mp.set_quantities([QuantityUpdate(sku=s, quantity=2) for s in skus], idempotency_key="lost-1")
    assert err.value.outcome_unknown and err.value.retryable
    assert [c.status for c in rec.calls("POST", "/feeds/2021-06-30/feeds")] == [504]
    result = await mp.set_quantities(
        [QuantityUpdate(sku=s, quantity=1) for s in skus], idempotency_key="lost-1:retry"
    )
    assert all(o.status == "applied" for o in result.outcomes)
    assert [c.status for c in rec.calls("POST", "/feeds/2021-06-30/feeds")] == [504, 202]
    assert await amazon.duplicates() == []
    async with amazon.admin() as c:
        effects = (await c.get("/_sandbox/effects", params={"entity": f"listing:{skus[0]}"})).json()
        creates = (await c.get("/_sandbox/requests", params={"path": "/feeds/2021-06-30/feeds"})).json()
    assert [(e["field"], e["new_value"]) for e in effects] == [("quantity", "2"), ("quantity", "1")]
    assert (await amazon.listing(skus[0]))["quantity"] == 1  # type: ignore[index]
    feeds = amazon.sbx.state.store.query("SELECT status, ended_at FROM az_feed ORDER BY feed_id")
    assert [f["status"] for f in feeds] == ["DONE", "DONE"]
    newer = [r for r in creates if r["method"] == "POST"][1]
    assert feeds[0]["ended_at"] <= newer["at"]  # the older feed had finished before the newer one was created
