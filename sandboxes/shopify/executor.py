"""Executes Admin GraphQL requests for real (graphql-core on the subset schema) with Shopify's cost accounting.

Per request: parse + validate (cached per document text), compute the requested cost, refuse above 1,000
(MAX_COST_EXCEEDED) or when the bucket cannot cover it (THROTTLED, nothing executed, HTTP 200), execute, charge the
actual cost, and answer `extensions.cost` with the bucket's throttleStatus like Shopify does.
"""

from __future__ import annotations

import re
from typing import Any, cast

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLObjectType,
    execute_sync,
    get_operation_ast,
    parse,
    validate,
)

from sandboxes.common.state import SandboxState
from sandboxes.common.store import SandboxStore
from sandboxes.shopify import adjust, bulk, catalog, inventory, mutations, queries
from sandboxes.shopify.coercion import literal_errors, variable_errors
from sandboxes.shopify.cost import MAX_QUERY_COST, LeakyBucket, QueryCost
from sandboxes.shopify.objects import Ctx
from sandboxes.shopify.schema import subset_schema

_MUTATION = re.compile(r"^\s*(?:#[^\n]*\n\s*)*mutation\b")
_attached = False


_schema: Any = None


def schema_with_resolvers() -> Any:
    global _attached, _schema
    if _schema is None:
        _schema = bulk.extended(subset_schema())  # + bulk operations (sandboxes/shopify/bulk.py)
    schema = _schema
    if not _attached:  # resolvers read everything from the per-request context: attaching once is enough
        queries.attach(schema)
        catalog.attach(schema)
        mutations.attach(schema)
        adjust.attach(schema)
        bulk.attach(schema)
        group = cast(GraphQLObjectType, schema.type_map["InventoryAdjustmentGroup"])
        group.fields["changes"].resolve = inventory.resolve_changes
        _attached = True
    return schema


def is_mutation(query: str) -> bool:
    return bool(_MUTATION.match(query))


class Executor:
    def __init__(self, store: SandboxStore, state: SandboxState) -> None:
        self.store = store
        self.state = state
        self.schema = schema_with_resolvers()
        self.bucket = LeakyBucket()
        self._documents: dict[str, tuple[DocumentNode | None, list[dict[str, Any]]]] = {}

    def _document(self, query: str) -> tuple[DocumentNode | None, list[dict[str, Any]]]:
        hit = self._documents.get(query)
        if hit is None:
            doc: DocumentNode | None
            try:
                doc = parse(query)
                errors = [dict(e.formatted) for e in validate(self.schema, doc)]
                if not errors:
                    errors = literal_errors(self.schema, doc)
            except GraphQLError as exc:
                doc, errors = None, [dict(exc.formatted)]
            for e in errors:
                e.setdefault("extensions", {"code": "GRAPHQL_VALIDATION_FAILED"})
            hit = (doc if not errors else None, errors)
            if len(self._documents) > 512:
                self._documents.clear()
            self._documents[query] = hit
        return hit

    def cost_extension(self, requested: int, actual: int | None) -> dict[str, Any]:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": self.bucket.status(self.state.faults.rate_limits),
            }
        }

    def run(
        self, query: str, variables: dict[str, Any] | None, operation_name: str | None
    ) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
        """Returns (response body, webhooks to emit)."""
        doc, errors = self._document(query)
        if doc is None:
            return {"errors": errors}, []
        op = get_operation_ast(doc, operation_name)
        if op is None:
            return {
                "errors": [
                    {"message": "An operation name is required", "extensions": {"code": "BAD_REQUEST"}}
                ]
            }, []
        coercion = variable_errors(self.schema, op, variables or {})
        if coercion:
            return {"errors": coercion}, []
        fragments = {d.name.value: d for d in doc.definitions if isinstance(d, FragmentDefinitionNode)}
        coster = QueryCost(self.schema, op, fragments, variables or {})
        requested = coster.requested()
        if requested > MAX_QUERY_COST:
            err = {
                "message": f"Query cost is {requested}, which exceeds the single query max cost limit ({MAX_QUERY_COST}).",
                "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": MAX_QUERY_COST},
            }
            return {"errors": [err], "extensions": self.cost_extension(requested, None)}, []
        enforced = self.state.faults.rate_limits
        if enforced and self.bucket.available() < requested:
            err = {
                "message": "Throttled",
                "extensions": {
                    "code": "THROTTLED",
                    "documentation": "https://shopify.dev/api/usage/rate-limits",
                },
            }
            return {"errors": [err], "extensions": self.cost_extension(requested, None)}, []
        ctx = Ctx(store=self.store, state=self.state)
        result = execute_sync(
            self.schema, doc, context_value=ctx, variable_values=variables, operation_name=operation_name
        )
        actual = coster.actual(result.data)
        if enforced:
            self.bucket.charge(actual)
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [_shopify_error(e) for e in result.errors]
        if result.data is not None or not result.errors:
            body["data"] = result.data
        body["extensions"] = self.cost_extension(requested, actual)
        return body, ctx.events


def _shopify_error(e: GraphQLError) -> dict[str, Any]:
    out: dict[str, Any] = dict(e.formatted)
    if not isinstance(e.original_error, GraphQLError) and e.original_error is not None and not e.path:
        out.setdefault("extensions", {"code": "INTERNAL_SERVER_ERROR"})
    elif e.path is None:
        out.setdefault("extensions", {"code": "INVALID_VARIABLE"})
    return out
