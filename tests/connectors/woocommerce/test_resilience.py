"""Failure handling: host rate limit (429 + Retry-After), 5xx, validation, auth fallback, lost responses."""

from __future__ import annotations

import pytest

from connectors.errors import AuthError
from connectors.marketplace.types import ListingDraft, QuantityUpdate
from connectors.ratelimit import RateLimiterRegistry
from tests.connectors.woocommerce.conftest import Sandbox


async def _seed(sandbox: Sandbox, n: int = 300) -> list[str]:
    await sandbox.seed(
        [{"sku": f"R-{i:03d}", "title": "r", "price": "2.00", "quantity": 0} for i in range(n)]
    )
    return [f"R-{i:03d}" for i in range(n)]


async def test_429_waits_the_advertised_retry_after(sandbox: Sandbox) -> None:
    await _seed(sandbox)
    await sandbox.faults(rate_limits=True)
    await sandbox.config(rate_per_second=2, burst=1)  # a strict host: 2 requests/s
    mp = sandbox.adapter()  # client-side bucket off: the host's answer is all the adapter has
    skus = [f"R-{i:03d}" for i in range(300)]
    result = await mp.set_quantities([QuantityUpdate(sku=s, quantity=7) for s in skus], idempotency_key="rl")
    assert all(o.status == "applied" for o in result.outcomes)
    reqs = [r for r in await sandbox.requests() if r["path"].endswith("/batch")]
    limited = [r for r in reqs if r["status"] == 429]
    assert limited, "the host limit was never hit: the test proves nothing"
    for r in limited:  # the next batch request came no sooner than the advertised whole second
        later = [x for x in reqs if x["id"] > r["id"]]
        assert later and later[0]["at"] - r["at"] >= 0.95
    assert all(v["quantity"] == 7 for v in (await sandbox.truth(*skus)).values())


async def test_client_bucket_keeps_under_the_host_limit(sandbox: Sandbox) -> None:
    await _seed(sandbox, 500)
    await sandbox.faults(rate_limits=True)
    await sandbox.config(rate_per_second=20, burst=5)
    mp = sandbox.adapter(
        options={"rate_per_second": 20, "rate_burst": 5}, limiter=RateLimiterRegistry(enabled=True)
    )
    skus = [f"R-{i:03d}" for i in range(500)]
    await mp.resolve_skus(skus)
    result = await mp.set_quantities(
        [QuantityUpdate(sku=s, quantity=3) for s in skus], idempotency_key="bucket"
    )
    assert all(o.ok for o in result.outcomes)
    assert not [r for r in await sandbox.requests() if r["status"] == 429]


async def test_5xx_fails_the_batch_retryably_and_the_callers_next_call_applies_it(sandbox: Sandbox) -> None:
    skus = await _seed(sandbox)
    mp = sandbox.adapter()
    await mp.resolve_skus(skus)
    await sandbox.faults(error_rate=0.5, seed=7)
    updates = [QuantityUpdate(sku=s, quantity=4) for s in skus]
    result = await mp.set_quantities(updates, idempotency_key="5xx")
    failed = {o.sku for o in result.outcomes if not o.ok}
    assert failed and all(o.retryable for o in result.outcomes if not o.ok)
    batches = [r for r in await sandbox.requests() if r["path"].endswith("/batch")]
    assert any(r["status"] == 503 for r in batches), "no 5xx was injected"
    assert len(batches) == 3  # 300 SKUs in batches of 100, none resent
    await sandbox.faults(error_rate=0.0)
    again = await mp.set_quantities([u for u in updates if u.sku in failed], idempotency_key="5xx:2")
    assert all(o.ok for o in again.outcomes)
    assert all(v["quantity"] == 4 for v in (await sandbox.truth(*skus)).values())


async def test_5xx_on_a_write_is_a_retryable_item_failure_sent_once(sandbox: Sandbox) -> None:
    await _seed(sandbox, 3)
    mp = sandbox.adapter(options={"max_retries": 1})
    await mp.resolve_skus(["R-000", "R-001"])
    await sandbox.faults(error_rate=1.0)
    result = await mp.set_quantities([QuantityUpdate(sku="R-000", quantity=1)], idempotency_key="down")
    assert result.outcomes[0].status == "failed" and result.outcomes[0].retryable
    assert len([r for r in await sandbox.requests() if r["path"].endswith("/batch")]) == 1


async def test_validation_errors_are_not_retried(sandbox: Sandbox) -> None:
    mp = sandbox.adapter()
    await sandbox.faults(error_rate=0.0)
    # the UPC belongs to DEMO-HEADPHONES-01 already: WooCommerce refuses a duplicated global_unique_id
    draft = ListingDraft(sku="NEW-HP", title="HP", price="9.99", identifiers={"upc": "012345678905"})  # type: ignore[arg-type]
    result = await mp.create_listing(draft, idempotency_key="v1")
    assert (result.status, result.code) == ("rejected", "product_invalid_global_unique_id")
    missing = await mp.cancel_order("424242", reason="test", idempotency_key="v2")
    assert (missing.status, missing.code) == ("rejected", "woocommerce_rest_shop_order_invalid_id")
    sent = [(r["method"], r["path"], r["status"]) for r in await sandbox.requests()]
    assert sent == [("POST", "/wp-json/wc/v3/products", 400), ("PUT", "/wp-json/wc/v3/orders/424242", 400)]
    assert "NEW-HP" not in await sandbox.truth("NEW-HP")


async def test_auth_falls_back_to_query_string_when_the_host_strips_authorization(sandbox: Sandbox) -> None:
    await sandbox.config(strip_authorization=True)
    mp = sandbox.adapter()
    page = await mp.list_listings()
    assert len(page.items) == 12
    reqs = [e for e in sandbox.recorder.exchanges if e[1].startswith("/wp-json")]
    assert [status for _, _, status in reqs] == [401, 200]  # one refusal, then query-string keys, then sticky
    await mp.list_listings()
    assert mp.client.auth.use_query


async def test_basic_only_mode_does_not_fall_back(sandbox: Sandbox) -> None:
    await sandbox.config(strip_authorization=True)
    mp = sandbox.adapter(options={"auth": "basic"})
    with pytest.raises(AuthError) as err:
        await mp.list_listings()
    assert err.value.code == "woocommerce_rest_cannot_view"


async def test_wrong_secret_is_an_auth_error_after_one_fallback_try(sandbox: Sandbox) -> None:
    mp = sandbox.adapter(credentials={"consumer_secret": "cs_wrong"})
    with pytest.raises(AuthError) as err:
        await mp.set_quantities([QuantityUpdate(sku="DEMO-MUG-02", quantity=1)], idempotency_key="auth")
    assert err.value.code == "woocommerce_rest_authentication_error"
    assert "Consumer secret is invalid." in str(err.value)
    assert not mp.client.auth.use_query  # the fallback did not help, so it was undone
    assert [e[2] for e in sandbox.recorder.exchanges if e[1].startswith("/wp-json")] == [401, 401]


async def test_lost_responses_are_not_resent_and_nothing_applies_twice(sandbox: Sandbox) -> None:
    skus = await _seed(sandbox)
    mp = sandbox.adapter()
    await mp.resolve_skus(skus)
    await sandbox.faults(lost_response_rate=0.5, seed=3)
    updates = [QuantityUpdate(sku=s, quantity=11) for s in skus]
    result = await mp.set_quantities(updates, idempotency_key="lost")
    reqs = await sandbox.requests()
    assert any(r["fault"] == "lost_response" for r in reqs), "no response was lost"
    assert len([r for r in reqs if r["path"].endswith("/batch")]) == 3  # none resent
    unknown = {o.sku for o in result.outcomes if not o.ok}
    assert unknown and {o.status for o in result.outcomes if not o.ok} == {"failed"}
    await sandbox.faults(lost_response_rate=0.0)
    again = await mp.set_quantities([u for u in updates if u.sku in unknown], idempotency_key="lost:2")
    assert all(o.ok for o in again.outcomes)
    assert await sandbox.duplicates() == []
    effects = [e for e in await sandbox.effects() if e["field"] == "stock_quantity"]
    assert len(effects) == len(
        skus
    )  # each SKU changed exactly once: the lost batches were applied, not resent
    # creating a listing whose first answer is lost: the retry finds the SKU taken and converges, no 2nd product
    await sandbox.faults(lost_response_rate=1.0)
    draft = ListingDraft(sku="NEW-1", title="New", price="5.00", quantity=2)  # type: ignore[arg-type]
    mp2 = sandbox.adapter(options={"max_retries": 1})
    first = await mp2.create_listing(draft, idempotency_key="create-1")
    assert first.status == "failed"  # every answer lost: the caller will retry
    await sandbox.faults(lost_response_rate=0.0)
    again = await mp2.create_listing(draft, idempotency_key="create-1")
    assert again.status == "applied" and again.message == "SKU already existed: updated"
    assert len(await sandbox.truth("NEW-1")) == 1
    assert await sandbox.duplicates() == []
