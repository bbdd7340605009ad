"""Every numeric input has a declared range: the OpenAPI shows both bounds, and a value past them (or 2**64, which
SQLite cannot store, or a float that is not finite) is a 422 naming the field - never a 500 or a started workflow."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from tests.api.conftest import Stack


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=stack.app)
    headers = {"Authorization": f"Bearer {stack.admin}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers=headers
    ) as client:
        yield client


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _numeric_leaves(
    spec: dict[str, Any], schema: dict[str, Any], where: str, seen: set[str]
) -> Iterator[tuple[str, dict]]:
    """Every integer / number schema reachable from `schema`, with a readable location."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name in seen:
            return
        seen = seen | {name}
    schema = _resolve(spec, schema)
    if schema.get("type") in ("integer", "number"):
        yield where, schema
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            yield from _numeric_leaves(spec, sub, where, seen)
    for name, sub in schema.get("properties", {}).items():
        yield from _numeric_leaves(spec, sub, f"{where}.{name}", seen)
    if isinstance(schema.get("items"), dict):
        yield from _numeric_leaves(spec, schema["items"], f"{where}[]", seen)
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _numeric_leaves(spec, schema["additionalProperties"], f"{where}{{}}", seen)


def _inputs(spec: dict[str, Any]) -> list[tuple[str, str, str, dict]]:
    out = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for p in op.get("parameters", []):
                for where, leaf in _numeric_leaves(spec, p["schema"], f"{p['in']}.{p['name']}", set()):
                    out.append((method.upper(), path, where, leaf))
            for media in op.get("requestBody", {}).get("content", {}).values():
                for where, leaf in _numeric_leaves(spec, media["schema"], "body", set()):
                    out.append((method.upper(), path, where, leaf))
    return out


def test_every_numeric_input_declares_both_bounds(stack: Stack) -> None:
    spec = stack.app.openapi()
    inputs = _inputs(spec)
    assert len(inputs) > 20  # offsets, limits, ids, versions, quantities, policy numbers, confidences...
    unbounded = [
        f"{m} {p} {w}"
        for m, p, w, leaf in inputs
        if not (
            {"minimum", "exclusiveMinimum"} & leaf.keys() and {"maximum", "exclusiveMaximum"} & leaf.keys()
        )
    ]
    assert not unbounded, unbounded


def _query_numbers(spec: dict[str, Any]) -> list[tuple[str, str, dict]]:
    return [
        (path, where.split(".", 1)[1], leaf)
        for m, path, where, leaf in _inputs(spec)
        if m == "GET" and where.startswith("query.")
    ]


def _sample_path(path: str) -> str:
    return (
        path.replace("{sku}", "DEMO-MUG-02")
        .replace("{import_id}", "0" * 64)
        .replace("{reconcile_id}", "r1")
        .replace("{run_id}", "run1")
    )


async def test_every_numeric_query_parameter_refuses_values_past_its_bounds(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    params = _query_numbers(stack.app.openapi())
    names = {f"{p}?{n}" for p, n, _ in params}
    for must in (
        "/api/v1/decisions?offset",
        "/api/v1/stock/{sku}/ledger?before_id",
        "/api/v1/decisions?older_than_hours",
    ):
        assert must in names
    checked = 0
    for path, name, leaf in params:
        top = leaf.get("maximum", leaf.get("exclusiveMaximum"))
        bottom = leaf.get("minimum", leaf.get("exclusiveMinimum"))
        bad = [2**64, -(2**64), top + 1, bottom - 1]
        if leaf.get("type") == "number":
            bad += ["1e308", "inf", "nan", "-Infinity"]
        for value in bad:
            r = await api.get(_sample_path(path), params={name: value})
            assert r.status_code == 422, (path, name, value, r.status_code, r.text[:200])
            details = r.json()["error"]["details"]
            assert any(d["location"] == f"query.{name}" for d in details), (path, name, details)
            checked += 1
    assert checked >= 40


BODIES = [
    # (method, path, body, the field that must be named)
    (
        "POST",
        "/api/v1/stock/adjustments",
        {
            "sku": "DEMO-MUG-02",
            "kind": "adjustment",
            "quantity": 2**64,
            "reason": "x",
            "idempotency_key": "bounds-0001",
        },
        "body.quantity",
    ),
    (
        "POST",
        "/api/v1/stock/adjustments",
        {
            "sku": "DEMO-MUG-02",
            "kind": "receipt",
            "quantity": 1_000_001,
            "reason": "x",
            "idempotency_key": "bounds-0002",
        },
        "body.quantity",
    ),
    ("POST", "/api/v1/stock/reconciles", {"account_ids": [2**64]}, "body.account_ids.0"),
    ("POST", "/api/v1/stock/reconciles", {"account_ids": [0]}, "body.account_ids.0"),
    ("POST", "/api/v1/repricing/runs", {"account_ids": [2**64]}, "body.account_ids.0"),
    ("POST", "/api/v1/repricing/runs", {"batch_size": 10**9}, "body.batch_size"),
    ("POST", "/api/v1/decisions/d1/approve", {"expected_version": 2**64}, "body.expected_version"),
    (
        "POST",
        "/api/v1/decisions/bulk/decide",
        {"action": "approve", "items": [{"decision_id": "d", "expected_version": 2**64}]},
        "body.items.0.expected_version",
    ),
    (
        "PUT",
        "/api/v1/decision-policies",
        {"decision_type": "price_change", "mode": "manual", "timeout_hours": 1e308},
        "body.timeout_hours",
    ),
    (
        "PUT",
        "/api/v1/decision-policies",
        {"decision_type": "price_change", "mode": "manual", "timeout_hours": 24 * 366},
        "body.timeout_hours",
    ),
    (
        "PUT",
        "/api/v1/decision-policies",
        {"decision_type": "price_change", "mode": "manual", "threshold": "Infinity"},
        "body.threshold",
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), BODIES, ids=[f"{b[1]} {b[3]}" for b in BODIES])
async def test_numbers_in_bodies_out_of_range_are_422_naming_the_field(
    api: httpx.AsyncClient, method: str, path: str, body: dict, field: str
) -> None:
    r = await api.request(method, path, json=body)
    assert r.status_code == 422, r.text
    assert field in [d["location"] for d in r.json()["error"]["details"]], r.json()


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
async def test_json_numbers_that_are_not_finite_are_invalid_json(
    api: httpx.AsyncClient, literal: str
) -> None:
    rails = '{"max_price_change_pct": ' + literal + "}"
    body = '{"decision_type": "price_change", "mode": "manual", "guardrails": ' + rails + "}"
    r = await api.put("/api/v1/decision-policies", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "validation_error"
