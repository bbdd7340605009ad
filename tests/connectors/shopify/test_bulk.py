"""Listing sync's Shopify documents (bulk operation over variants) against the official 2025-01 schema and the
sandbox's schema with bulk operations; the sandbox's bulk extension uses the official names and types."""

from __future__ import annotations

from graphql import build_schema

from connectors.marketplace.shopify import bulk
from sandboxes.shopify.bulk import extended
from sandboxes.shopify.executor import schema_with_resolvers
from sandboxes.shopify.schema import subset_schema
from tests.connectors.shopify import contract
from tests.connectors.shopify.test_contract import require_spec

DOCUMENTS = (bulk.RUN, bulk.CURRENT)


def test_bulk_documents_are_valid_on_the_sandbox() -> None:
    for doc in DOCUMENTS:
        assert contract.validation_errors(schema_with_resolvers(), doc.text) == [], doc.name
    assert contract.validation_errors(schema_with_resolvers(), bulk.VARIANTS_QUERY) == []


def test_bulk_documents_and_extension_match_the_official_schema() -> None:
    require_spec()
    official = contract.official_schema()
    for doc in DOCUMENTS:
        assert contract.validation_errors(official, doc.text) == [], doc.name
    assert contract.validation_errors(official, bulk.VARIANTS_QUERY) == []
    assert contract.subset_incompatibilities(extended(subset_schema()), official) == []


def test_the_extension_check_is_not_vacuous() -> None:
    require_spec()
    from graphql import print_schema

    wrong = build_schema(
        print_schema(extended(subset_schema())).replace("objectCount: UnsignedInt64!", "objectCount: Int!")
    )
    assert any(
        "BulkOperation.objectCount" in p
        for p in contract.subset_incompatibilities(wrong, contract.official_schema())
    )
