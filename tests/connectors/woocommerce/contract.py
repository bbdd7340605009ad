"""Contract checks against wc_rest_v3.schema.json (our reading of the WooCommerce REST v3 docs - Woo publishes no
OpenAPI document): every request the adapter sends and every answer the sandbox gives is validated here."""

from __future__ import annotations

import base64
import copy
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jsonschema

SCHEMA = json.loads((Path(__file__).parent / "wc_rest_v3.schema.json").read_text())
PREFIX = "/wp-json/wc/v3"
N = r"(\d+)"
# (method, path regex, query schema, request body schema, {status: response schema}); >= 400 is always "error"
ROUTES: list[tuple[str, str, str, str | None, dict[int, str]]] = [
    ("GET", "/products", "products_query", None, {200: "product_list"}),
    ("POST", "/products", "no_query", "product_fields", {201: "product"}),
    ("POST", "/products/batch", "no_query", "product_batch_request", {200: "product_batch_response"}),
    ("GET", f"/products/{N}", "no_query", None, {200: "product"}),
    ("PUT", f"/products/{N}", "no_query", "product_fields", {200: "product"}),
    ("DELETE", f"/products/{N}", "delete_query", None, {200: "product"}),
    ("GET", f"/products/{N}/variations", "variations_query", None, {200: "variation_list"}),
    ("POST", f"/products/{N}/variations", "no_query", "variation_fields", {201: "variation"}),
    (
        "POST",
        f"/products/{N}/variations/batch",
        "no_query",
        "variation_batch_request",
        {200: "variation_batch_response"},
    ),
    ("GET", f"/products/{N}/variations/{N}", "no_query", None, {200: "variation"}),
    ("PUT", f"/products/{N}/variations/{N}", "no_query", "variation_fields", {200: "variation"}),
    ("DELETE", f"/products/{N}/variations/{N}", "delete_query", None, {200: "variation"}),
    ("GET", "/orders", "orders_query", None, {200: "order_list"}),
    ("GET", f"/orders/{N}", "no_query", None, {200: "order"}),
    ("PUT", f"/orders/{N}", "no_query", "order_update", {200: "order"}),
]
LISTS = {"product_list", "variation_list", "order_list"}
MAX_BATCH = 100
_validators: dict[str, jsonschema.Draft202012Validator] = {}


def validator(name: str) -> jsonschema.Draft202012Validator:
    if name not in _validators:
        schema = {"$ref": f"#/$defs/{name}", "$defs": SCHEMA["$defs"]}
        _validators[name] = jsonschema.Draft202012Validator(
            schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )
    return _validators[name]


def problems(name: str, instance: Any) -> list[str]:
    return [
        f"{name}: {'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator(name).iter_errors(instance)
    ]


def problems_with_fields(name: str, instance: Any, fields: list[str]) -> list[str]:
    """With `_fields`, only the selected fields come back: require those of them the schema requires, no others."""
    item_name = name.removesuffix("_list")
    item = copy.deepcopy(SCHEMA["$defs"][item_name])
    item["required"] = [f for f in item.get("required", []) if f in fields]
    item["propertyNames"] = {"enum": fields}
    schema = {"$defs": SCHEMA["$defs"], **({"type": "array", "items": item} if name in LISTS else item)}
    v = jsonschema.Draft202012Validator(schema)
    return [
        f"{name}[_fields]: {'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in v.iter_errors(instance)
    ]


def route(method: str, path: str) -> tuple[str, str | None, dict[int, str]] | None:
    if not path.startswith(PREFIX):
        return None
    rest = path[len(PREFIX) :]
    for m, pattern, query, body, answers in ROUTES:
        if m == method and re.fullmatch(pattern, rest):
            return query, body, answers
    return None


def check_request(request: httpx.Request) -> list[str]:
    path = request.url.path
    found = route(request.method, path)
    if found is None:
        return [f"{request.method} {path}: not a route of our WooCommerce contract"]
    query_schema, body_schema, _ = found
    params = dict(request.url.params.multi_items())
    out = []
    basic = request.headers.get("authorization", "")
    if basic.startswith("Basic "):
        user, _, pw = base64.b64decode(basic[6:]).decode().partition(":")
        if not (user.startswith("ck_") and pw.startswith("cs_")):
            out.append("Basic credentials are not a consumer key / secret pair")
    elif not ("consumer_key" in params and "consumer_secret" in params):
        out.append(f"{request.method} {path}: no credentials (Basic or query string)")
    for secret in ("consumer_key", "consumer_secret"):
        params.pop(secret, None)
    out += problems(query_schema, params)
    if body_schema is None:
        if request.content:
            out.append(f"{request.method} {path}: unexpected body")
    else:
        body = json.loads(request.content)
        out += problems(body_schema, body)
        if body_schema.endswith("batch_request") and isinstance(body, dict):
            n = sum(len(v) for v in body.values() if isinstance(v, list))
            if n > MAX_BATCH:
                out.append(f"batch of {n} objects > {MAX_BATCH}")
    return out


def check_response(request: httpx.Request, response: httpx.Response) -> list[str]:
    found = route(request.method, request.url.path)
    if found is None:
        return []
    _, _, answers = found
    status = response.status_code
    where = f"{request.method} {request.url.path} -> {status}"
    try:
        body = response.json()
    except json.JSONDecodeError:
        return [f"{where}: body is not JSON"]
    if status >= 400:
        out = problems("error", body)
        if status == 429 and "retry-after" not in response.headers:
            out.append(f"{where}: 429 without Retry-After")
        return out
    name = answers.get(status)
    if name is None:
        return [f"{where}: status not in the contract"]
    fields = request.url.params.get("_fields")
    out = problems_with_fields(name, body, fields.split(",")) if fields else problems(name, body)
    if name in LISTS:
        for h in ("x-wp-total", "x-wp-totalpages"):
            if not response.headers.get(h, "").isdigit():
                out.append(f"{where}: missing paging header {h}")
    return [f"{where}: {p}" for p in out]


@dataclass
class Recorder(httpx.AsyncBaseTransport):
    """Wraps the transport an adapter (or a test's raw client) uses and checks every exchange."""

    inner: httpx.AsyncBaseTransport
    exchanges: list[tuple[str, str, int]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not request.url.path.startswith(PREFIX):  # the sandbox's own /_sandbox API is not WooCommerce's
            return await self.inner.handle_async_request(request)
        self.violations += check_request(request)
        response = await self.inner.handle_async_request(request)
        content = await response.aread()
        replay = httpx.Response(
            response.status_code, headers=response.headers, content=content, request=request
        )
        self.violations += check_response(request, replay)
        self.exchanges.append((request.method, request.url.path, response.status_code))
        return httpx.Response(response.status_code, headers=response.headers, content=content)

    @contextmanager
    def expecting_violations(self) -> Iterator[list[str]]:
        """For requests a test sends wrong on purpose: their violations are collected apart, for the test to
        assert on (which also proves the checks catch them)."""
        kept = self.violations
        self.violations = caught = []
        try:
            yield caught
        finally:
            self.violations = kept

    async def aclose(self) -> None:
        """Clients come and go (each adapter, each raw call); the fixture that made `inner` closes it."""
