"""The webhook receivers, per marketplace, against what an attacker controls: headers and body. A non-ASCII byte or
garbage in a signature header is a 401 (never an unauthenticated 500); a body past 1 MiB is a 413 while it streams,
before the account is even looked up; nothing is parsed before the signature matched."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from api.stock.webhooks import MAX_WEBHOOK_BYTES
from tests.api.conftest import Stack

SIGNATURE_HEADERS = {
    "amazon": "x-merchflow-relay-signature",
    "ebay": "x-ebay-signature",
    "shopify": "x-shopify-hmac-sha256",
    "woocommerce": "x-wc-webhook-signature",
}
BAD_SIGNATURES = [
    b"\xff\xfe\xe9",  # non-ASCII bytes (compare_digest on str raised TypeError: a 500)
    b"t=1700000000,v1=\xe9\xe9",
    b"t=" + b"9" * 5000 + b",v1=00",  # a timestamp too large to compare with the clock
    b"t=-1,v1=zz",
    b"eyJraWQiOiAxLCAic2lnbmF0dXJlIjogMTIzfQ==",  # base64 JSON with a number where the signature goes
    b"bm90IGpzb24=",
    b"",
    b"=" * 300,
]
ORDERISH = b'{"NotificationType": "ORDER_CHANGE", "id": 1, "metadata": {"topic": "ORDER_CONFIRMATION"}}'


@pytest.fixture
async def client(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=stack.app), base_url="http://testserver"
    ) as c:
        yield c


@pytest.mark.parametrize("marketplace", sorted(SIGNATURE_HEADERS))
async def test_attacker_controlled_signature_headers_are_401_never_500(
    client: httpx.AsyncClient, marketplace: str
) -> None:
    header = SIGNATURE_HEADERS[marketplace].encode()
    for value in BAD_SIGNATURES:
        headers = [(header, value), (b"content-type", b"application/json"), (b"x-wc-webhook-topic", b"\xff")]
        r = await client.post(f"/api/v1/webhooks/{marketplace}/sandbox", content=ORDERISH, headers=headers)
        assert r.status_code == 401, (marketplace, value[:40], r.status_code, r.text[:300])
        assert r.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("marketplace", sorted(SIGNATURE_HEADERS))
async def test_a_body_past_one_mebibyte_is_413_while_streaming(
    client: httpx.AsyncClient, marketplace: str
) -> None:
    chunks_sent = 0

    async def body():  # no Content-Length: the receiver has to count as the bytes arrive
        nonlocal chunks_sent
        for _ in range(64):
            chunks_sent += 1
            yield b"x" * (64 * 1024)

    # an account that does not exist: the size is refused before anyone looks it up
    for account in ("sandbox", "no-such-account"):
        chunks_sent = 0
        r = await client.post(f"/api/v1/webhooks/{marketplace}/{account}", content=body())
        assert r.status_code == 413, (account, r.text[:200])
        assert r.json()["error"]["details"] == {"limit_bytes": MAX_WEBHOOK_BYTES}
        assert chunks_sent <= MAX_WEBHOOK_BYTES // (64 * 1024) + 2  # stopped reading once past the limit


@pytest.mark.parametrize("marketplace", sorted(SIGNATURE_HEADERS))
async def test_a_declared_length_past_the_limit_is_refused_unread(
    client: httpx.AsyncClient, marketplace: str
) -> None:
    r = await client.post(
        f"/api/v1/webhooks/{marketplace}/sandbox",
        content=b"{}",
        headers={"content-length": str(MAX_WEBHOOK_BYTES + 1)},
    )
    assert r.status_code == 413


@pytest.mark.parametrize("marketplace", sorted(SIGNATURE_HEADERS))
async def test_exactly_the_limit_is_read_and_then_judged_by_its_signature(
    client: httpx.AsyncClient, marketplace: str
) -> None:
    r = await client.post(f"/api/v1/webhooks/{marketplace}/sandbox", content=b" " * MAX_WEBHOOK_BYTES)
    assert r.status_code == 401  # unsigned


async def test_an_unknown_account_is_404_for_a_small_body(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/webhooks/shopify/no-such-account", content=b"{}")
    assert r.status_code == 404


def test_each_verifier_refuses_hostile_headers_itself() -> None:
    """Below the receiver's own safety net: each marketplace's check answers WebhookRejected, not a TypeError."""
    from connectors.errors import WebhookRejected
    from connectors.marketplace.amazon.webhooks import verify_signature as amazon
    from connectors.marketplace.ebay.webhooks import verify_signature as ebay
    from connectors.marketplace.woocommerce.webhooks import verify as woo

    latin = "\xe9\xff"  # what a server hands on for the bytes e9 ff (headers are decoded as latin-1)
    checks = [
        lambda: amazon("secret", {SIGNATURE_HEADERS["amazon"]: f"t=1700000000,v1={latin}"}, b"{}"),
        lambda: amazon("secret", {SIGNATURE_HEADERS["amazon"]: "t=" + "9" * 5000 + ",v1=00"}, b"{}"),
        lambda: woo({SIGNATURE_HEADERS["woocommerce"]: latin}, b"{}", secret="s", account="a"),
        lambda: ebay(
            {SIGNATURE_HEADERS["ebay"]: "eyJraWQiOiAxLCAic2lnbmF0dXJlIjogMTIzfQ=="}, b"{}", {"1": "x"}
        ),
        lambda: ebay({SIGNATURE_HEADERS["ebay"]: latin}, b"{}", {}),
    ]
    for check in checks:
        with pytest.raises(WebhookRejected):
            check()
