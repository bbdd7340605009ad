"""The contract machinery itself, and the artefacts the adapter builds, against the SP-API models in place."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest

from connectors.marketplace.amazon.adapter import AmazonMarketplace
from connectors.marketplace.amazon.feeds import FeedMessage, FeedRunner
from connectors.marketplace.amazon.limits import RATE_LIMITS, UNSPECIFIED_OPERATIONS
from connectors.marketplace.amazon.listings import price_value, quantity_value
from connectors.marketplace.amazon.options import AmazonOptions
from connectors.marketplace.amazon.webhooks import parse_notification
from connectors.marketplace.types import QuantityUpdate
from sandboxes.amazon import orders as sandbox_orders
from tests.connectors.amazon.conftest import AmazonEnv
from tests.connectors.amazon.recorder import Exchange, contract_violations
from tests.connectors.amazon.spec import SpApiContract

USAGE_PLAN = re.compile(r"\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|")


def test_rate_limits_match_the_usage_plans_in_the_models(require_contract: SpApiContract) -> None:
    published = {}
    for op in require_contract.operations:
        m = USAGE_PLAN.search(op.op.get("description", ""))
        if m:
            published[op.operation_id] = (float(m.group(1)), float(m.group(2)))
    for operation, limit in RATE_LIMITS.items():
        if operation in UNSPECIFIED_OPERATIONS:
            assert operation not in published
            continue
        assert published[operation] == limit, operation


def test_feed_documents_match_the_listings_feed_schema(require_contract: SpApiContract) -> None:
    opts = AmazonOptions()
    runner = FeedRunner(api=None, options=opts, seller_id="A2MERCHFLOWSBX")  # type: ignore[arg-type]
    messages = [
        FeedMessage("SKU-1", "fulfillment_availability", quantity_value(4, opts), 4),
        FeedMessage(
            "SKU-2",
            "purchasable_offer",
            price_value(Decimal("19.99"), "USD", opts),
            (Decimal("19.99"), "USD"),
        ),
    ]
    doc = runner.document(messages)
    assert require_contract.check_feed_document(doc) == []
    parsed = json.loads(doc)
    assert parsed["header"]["report"]["includedData"] == ["fulfillmentAvailability", "offers"]
    # negative control: the schema really bites (a PATCH message without patches is invalid)
    del parsed["messages"][0]["patches"]
    assert require_contract.check_feed_document(json.dumps(parsed).encode())


def test_contract_checker_flags_bad_requests_and_responses(require_contract: SpApiContract) -> None:
    token = {"x-amz-access-token": "Atza|x"}
    bad = [
        Exchange(
            "GET",
            "http://x/listings/2021-08-01/items/A1?marketplaceIds=M&pageSize=50",
            "/listings/2021-08-01/items/A1",
            token,
            b"",
            0.0,
            200,
            {},
            b'{"numberOfResults": 0, "items": []}',
        ),
        Exchange(
            "GET",
            "http://x/fba/inventory/v1/summaries?granularityType=Marketplace&granularityId=M"
            "&marketplaceIds=M&colour=red",
            "/fba/inventory/v1/summaries",
            token,
            b"",
            0.0,
            200,
            {},
            b"{}",
        ),
        Exchange(
            "POST",
            "http://x/feeds/2021-06-30/feeds",
            "/feeds/2021-06-30/feeds",
            token,
            b'{"feedType": "JSON_LISTINGS_FEED"}',
            0.0,
            202,
            {},
            b'{"feedId": 1}',
        ),
        Exchange(
            "GET",
            "http://x/feeds/2021-06-30/feeds/1",
            "/feeds/2021-06-30/feeds/1",
            {},
            b"",
            0.0,
            418,
            {},
            b"",
        ),
        Exchange("GET", "http://x/nowhere", "/nowhere", token, b"", 0.0, 200, {}, b"{}"),
    ]
    errors, _ = contract_violations(require_contract, bad)
    text = "\n".join(errors)
    assert "pageSize=50 above maximum 20" in text
    assert "query parameter colour is not in the spec" in text
    assert "'marketplaceIds' is a required property" in text and "inputFeedDocumentId" in text
    assert "response at /feedId" in text  # feedId must be a string
    assert "status 418 is not declared" in text and "no x-amz-access-token" in text
    assert "/nowhere: no such operation" in text


def test_sandbox_notifications_match_the_notification_schemas(require_contract: SpApiContract) -> None:
    class Seller:
        seller_id, marketplace_id = "A2MERCHFLOWSBX", "ATVPDKIKX0DER"

    note = sandbox_orders._quantity_change(Seller(), "SKU-1", 4, 1_700_000_000.0)  # type: ignore[arg-type]
    assert require_contract.check_notification(note) == []
    event = parse_notification(json.dumps(note).encode(), account="a")
    assert (event.kind, event.sku, event.quantity) == ("quantity_changed", "SKU-1", 4)
    broken = {**note, "Payload": {**note["Payload"], "Quantity": "four"}}
    assert require_contract.check_notification(broken)


@pytest.mark.parametrize("notification_type", ["LISTINGS_ITEM_MFN_QUANTITY_CHANGE", "ANY_OFFER_CHANGED"])
def test_schema_examples_parse(require_contract: SpApiContract, notification_type: str) -> None:
    example = require_contract.notification_schemas[notification_type]["examples"][0]
    event = parse_notification(json.dumps(example).encode(), account="a")
    assert event.event_id == example["NotificationMetadata"]["NotificationId"]
    assert event.kind == ("quantity_changed" if notification_type.startswith("LISTINGS") else "other")


async def test_every_exchange_of_a_session_is_checked(
    amazon: AmazonEnv, require_contract: SpApiContract
) -> None:
    """The fixture checks all traffic at teardown; here we look at it directly to be sure it covers every kind of
    call of a bulk update (token, SP-API operations, document upload and download)."""
    skus = await amazon.seed(2)
    mp, rec = amazon.adapter()
    assert isinstance(mp, AmazonMarketplace)
    await mp.set_quantities([QuantityUpdate(sku=s, quantity=1) for s in skus], idempotency_key="k")
    kinds = {e.path.split("/")[1] for e in rec.exchanges}
    assert {"auth", "feeds", "sandbox-s3"} <= kinds
    errors, _ = contract_violations(require_contract, rec.exchanges)
    assert errors == []
