"""The WooCommerce sandbox driven by `woocommerce`, WooCommerce's official Python client.

Pointing it at the sandbox, without patching its internals: the client's `url` argument is the store's root. Given an
http:// URL (as here) the client signs every request with OAuth 1.0a in the query string, which real stores accept
over plain http; the signature covers the store URL of the request path, so the sandbox checks it against its
configured site URL (MERCHFLOW_SANDBOX__HOST / MERCHFLOW_SANDBOX__WOOCOMMERCE_PORT), not the Host header.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from woocommerce import API
from woocommerce.oauth import OAuth

from sandboxes.woocommerce.auth import CONSUMER_KEY, CONSUMER_SECRET
from tests.fidelity.conftest import RunningSandbox


@pytest.fixture(scope="module")
def store(run_sandbox: Callable[[str], RunningSandbox]) -> RunningSandbox:
    return run_sandbox("woocommerce")


@pytest.fixture
def wc(store: RunningSandbox) -> Iterator[API]:
    store.control.put("/_sandbox/config", json={}).raise_for_status()  # default knobs
    yield API(
        url=store.url, consumer_key=CONSUMER_KEY, consumer_secret=CONSUMER_SECRET, version="wc/v3", timeout=30
    )


def seed(store: RunningSandbox, n: int) -> list[str]:
    skus = [f"WC-{i:03d}" for i in range(n)]
    store.seed([{"sku": s, "title": f"Item {s}", "price": "9.50", "quantity": 4} for s in skus])
    return skus


def product_id(wc: API, sku: str) -> int:
    found = wc.get("products", params={"sku": sku}).json()
    assert len(found) == 1, found
    return int(found[0]["id"])


def config(store: RunningSandbox, **knobs: Any) -> None:
    current = store.control.get("/_sandbox/config").json()
    store.control.put("/_sandbox/config", json={**current, **knobs}).raise_for_status()


def test_oauth1_over_http_signatures_nonces_and_keys(store: RunningSandbox, wc: API) -> None:
    assert wc.get("products", params={"per_page": 1}).status_code == 200
    forged = API(url=store.url, consumer_key=CONSUMER_KEY, consumer_secret="cs_wrong", version="wc/v3")
    denied = forged.get("products")
    assert denied.status_code == 401 and denied.json()["code"] == "woocommerce_rest_authentication_error"
    assert "signature" in denied.json()["message"]
    # the client's own signer, used twice with one nonce: the replay is refused
    signer = OAuth(url=f"{store.url}/wp-json/wc/v3/products", consumer_key=CONSUMER_KEY,
                   consumer_secret=CONSUMER_SECRET, version="wc/v3", method="GET")  # fmt: skip
    signed = signer.get_oauth_url()
    assert httpx.get(signed).status_code == 200
    replay = httpx.get(signed)
    assert replay.status_code == 401 and "nonce" in replay.json()["message"]
    # a plain-http store takes no Basic auth, only signatures
    config(store, https=False)
    basic = httpx.get(f"{store.url}/wp-json/wc/v3/products", auth=(CONSUMER_KEY, CONSUMER_SECRET))
    assert basic.status_code == 401 and basic.json()["code"] == "woocommerce_rest_cannot_view"
    assert wc.get("products", params={"per_page": 1}).status_code == 200


def test_paging_to_the_end_with_wordpress_headers(store: RunningSandbox, wc: API) -> None:
    skus = seed(store, 37)
    seen: list[str] = []
    page = 1
    while True:
        r = wc.get("products", params={"per_page": 10, "page": page, "orderby": "id", "order": "asc"})
        assert (
            r.status_code == 200 and r.headers["X-WP-Total"] == "37" and r.headers["X-WP-TotalPages"] == "4"
        )
        seen += [p["sku"] for p in r.json()]
        if page >= int(r.headers["X-WP-TotalPages"]):
            break
        page += 1
    assert seen == skus
    too_big = wc.get("products", params={"per_page": 101})
    assert too_big.status_code == 400 and too_big.json()["code"] == "rest_invalid_param"
    assert too_big.json()["data"]["details"]["per_page"]["code"] == "rest_out_of_bounds"


def test_filters(store: RunningSandbox, wc: API) -> None:
    seed(store, 6)
    both = wc.get("products", params={"sku": "WC-001,WC-004"}).json()
    assert sorted(p["sku"] for p in both) == ["WC-001", "WC-004"]
    assert wc.get("products", params={"type": "variable"}).json() == []
    bad = wc.get("products", params={"type": "bundle"})
    assert bad.status_code == 400 and bad.json()["data"]["details"]["type"]["code"] == "rest_not_in_enum"


def test_single_write_and_what_a_store_does_with_odd_values(store: RunningSandbox, wc: API) -> None:
    seed(store, 2)
    pid = product_id(wc, "WC-001")
    r = wc.put(f"products/{pid}", {"regular_price": "19.99", "stock_quantity": 11})
    assert r.status_code == 200 and (r.json()["regular_price"], r.json()["stock_quantity"]) == ("19.99", 11)
    back = wc.get(f"products/{pid}").json()
    assert (back["regular_price"], back["price"], back["stock_quantity"]) == ("19.99", "19.99", 11)
    # stock is not managed: the count is ignored, as a real store does
    off = wc.put(f"products/{pid}", {"manage_stock": False, "stock_quantity": 50}).json()
    assert (off["manage_stock"], off["stock_quantity"]) == (False, None)
    assert store.truth("WC-001")["quantity"] is None
    # a price that is no decimal is stored the way wc_format_decimal leaves it, not refused
    odd = wc.put(f"products/{pid}", {"regular_price": "abc"})
    assert odd.status_code == 200 and odd.json()["regular_price"] == "" and odd.json()["purchasable"] is False
    assert wc.put(f"products/{pid}", {"regular_price": "12,50"}).json()["regular_price"] == "1250"
    config(store, strict_prices=True)
    strict = wc.put(f"products/{pid}", {"regular_price": "abc"})
    assert strict.status_code == 400 and strict.json()["data"]["params"]["regular_price"]
    typed = wc.put(f"products/{pid}", {"manage_stock": "yes"}).json()
    assert typed["code"] == "rest_invalid_param"
    assert typed["data"]["details"]["manage_stock"] == {
        "code": "rest_invalid_type",
        "message": "manage_stock is not of type boolean.",
        "data": None,
    }


def test_batch_update_then_read_back(store: RunningSandbox, wc: API) -> None:
    skus = seed(store, 20)
    ids = {p["sku"]: p["id"] for p in wc.get("products", params={"per_page": 100}).json()}
    update = [
        {"id": ids[s], "regular_price": f"{10 + n}.25", "stock_quantity": n} for n, s in enumerate(skus)
    ]
    answer = wc.post("products/batch", {"update": update}).json()
    assert len(answer["update"]) == 20 and not any("error" in a for a in answer["update"])
    for n, s in enumerate(skus):
        truth = store.truth(s)
        assert (truth["price"], truth["quantity"]) == (f"{10 + n}.25", n)
    over = wc.post("products/batch", {"update": [{"id": ids[skus[0]]}] * 101})
    assert over.status_code == 413 and over.json()["code"] == "woocommerce_rest_request_entity_too_large"


def test_orders_page_filter_and_read_one(store: RunningSandbox, wc: API) -> None:
    seed(store, 2)
    numbers = [store.buy("WC-001")["order_id"] for _ in range(3)]
    listed: list[dict[str, Any]] = []
    page = 1
    while True:
        r = wc.get("orders", params={"per_page": 2, "page": page, "status": "processing"})
        listed += r.json()
        if page >= int(r.headers["X-WP-TotalPages"]):
            break
        page += 1
    assert len(listed) == 3 and {o["line_items"][0]["sku"] for o in listed} == {"WC-001"}
    assert sorted(str(o["number"]) for o in listed) == sorted(str(n) for n in numbers)
    assert wc.get("orders", params={"status": "completed"}).json() == []
    one = wc.get(f"orders/{listed[0]['id']}").json()
    assert one["total"] == "9.50" and one["line_items"][0]["quantity"] == 1


def test_error_shapes(store: RunningSandbox, wc: API) -> None:
    seed(store, 1)
    missing = wc.get("products/999999")
    assert missing.status_code == 404 and missing.json()["code"] == "woocommerce_rest_product_invalid_id"
    nowhere = wc.get("nowhere")
    assert nowhere.status_code == 404 and nowhere.json()["code"] == "rest_no_route"
