"""Contract checking against eBay's published Sell Inventory OpenAPI document (read in place, never copied).

Stricter than the document itself: every object schema that lists its properties gets additionalProperties=false,
so a misspelt field in a request body (which eBay would silently ignore) fails the test. The document's server URL
is `https://api.ebay.com{basePath}`; it is replaced in memory by the relative base path so that requests to the
sandbox's http://127.0.0.1:<port>/sell/inventory/v1/... match.
"""

from __future__ import annotations

import copy
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from openapi_core import OpenAPI
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource

BASE_PATH = "/sell/inventory/v1"
SPEC_FILE = Path("ebay") / "sell_inventory_v1_oas3.json"
# Calls the adapter makes to eBay APIs whose descriptions are not in ../shared/specs (no contract test possible)
UNSPECIFIED_PREFIXES = (
    "/identity/v1/oauth2/token",
    "/sell/fulfillment/v1/",
    "/buy/browse/v1/",
    "/post-order/v2/",
)


def _strict(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for v in node.values():
            _strict(v)
    elif isinstance(node, list):
        for v in node:
            _strict(v)


@dataclass
class Exchange:
    request: httpx.Request
    body: bytes
    response: httpx.Response
    content: bytes


@dataclass
class Violation:
    where: str
    problem: str


@dataclass
class SpecValidator:
    spec: dict[str, Any]
    api: OpenAPI = field(init=False)
    error_validator: OAS30Validator = field(init=False)
    operations: dict[tuple[str, str], str] = field(init=False)

    @classmethod
    def load(cls, specs_dir: Path) -> SpecValidator:
        return cls(json.loads((specs_dir / SPEC_FILE).read_text()))

    def __post_init__(self) -> None:
        spec = copy.deepcopy(self.spec)
        spec["servers"] = [{"url": BASE_PATH}]
        _strict(spec["components"])
        self.api = OpenAPI.from_dict(spec)
        # {"errors": [Error]}: eBay's error envelope, for statuses the document does not list (401, 429, 503, 504)
        registry = Registry().with_resource("urn:ebay", Resource.opaque(spec))
        envelope = {
            "type": "object",
            "required": ["errors"],
            "additionalProperties": False,
            "properties": {
                "errors": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"$ref": "urn:ebay#/components/schemas/Error"},
                }
            },
        }
        self.error_validator = OAS30Validator(envelope, registry=registry)
        self.operations = {
            (method.upper(), path): op["operationId"]
            for path, ops in spec["paths"].items()
            for method, op in ops.items()
            if isinstance(op, dict) and "operationId" in op
        }

    def covers(self, request: httpx.Request) -> bool:
        return request.url.path.startswith(BASE_PATH + "/")

    def operation_of(self, request: httpx.Request) -> str | None:
        path = request.url.path[len(BASE_PATH) :]
        for (method, template), op in self.operations.items():
            if method == request.method and _matches(template, path):
                return op
        return None

    def _mock_request(self, ex: Exchange) -> MockRequest:
        url = urlsplit(str(ex.request.url))
        return MockRequest(
            f"{url.scheme}://{url.netloc}",
            ex.request.method,
            url.path,
            args=parse_qs(url.query),
            headers=dict(ex.request.headers),
            data=ex.body or None,
            content_type=ex.request.headers.get("content-type", "application/json").split(";")[0],
        )

    def check(self, ex: Exchange) -> list[Violation]:
        where = f"{ex.request.method} {ex.request.url.path} -> {ex.response.status_code}"
        out: list[Violation] = []
        if not ex.request.headers.get("authorization", "").startswith("Bearer "):
            out.append(Violation(where, "no OAuth bearer token (api_auth security scheme)"))
        req = self._mock_request(ex)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openapi-core does not evaluate oauth2 schemes (checked above)
            try:
                self.api.validate_request(req)
            except Exception as exc:
                out.append(Violation(where, f"request: {_describe(exc)}"))
                return out
            status = ex.response.status_code
            ctype = ex.response.headers.get("content-type", "").split(";")[0]
            try:
                self.api.validate_response(
                    req, MockResponse(ex.content, status_code=status, content_type=ctype)
                )
            except ResponseNotFound:
                out.extend(self._check_error_envelope(where, ex.content))
                return out
            except Exception as exc:
                out.append(Violation(where, f"response: {_describe(exc)}"))
                return out
            if (
                status == 207
            ):  # the document gives 207 no schema; its body is the 200 body with per-item statuses
                try:
                    self.api.validate_response(
                        req, MockResponse(ex.content, status_code=200, content_type=ctype)
                    )
                except Exception as exc:
                    out.append(Violation(where, f"207 body: {_describe(exc)}"))
            if status >= 400 and ex.content:
                out.extend(self._check_error_envelope(where, ex.content))
        return out

    def _check_error_envelope(self, where: str, content: bytes) -> list[Violation]:
        try:
            body = json.loads(content)
        except ValueError:
            return [Violation(where, "error response is not JSON")]
        return [Violation(where, f"error body: {e.message}") for e in self.error_validator.iter_errors(body)]


def _matches(template: str, path: str) -> bool:
    t, p = template.strip("/").split("/"), path.strip("/").split("/")
    if len(t) != len(p) or template.endswith("/") != path.endswith("/"):
        return False
    return all(a == b or (a.startswith("{") and a.endswith("}")) for a, b in zip(t, p, strict=True))


def _describe(exc: Exception) -> str:
    parts = [str(exc)]
    cause = exc.__cause__
    for err in getattr(cause, "schema_errors", None) or []:
        parts.append(f"{list(err.absolute_path)}: {err.message}")
    return "; ".join(parts)


class CapturingTransport(httpx.AsyncBaseTransport):
    """Wraps the adapter's real transport (ASGI or TCP) and keeps every exchange, bodies included."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.exchanges: list[Exchange] = []
        self.on_response: Any = None  # optional hook(exchange) for tests that flip sandbox faults

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        response = await self.inner.handle_async_request(request)
        content = await response.aread()
        await response.aclose()
        # the body is already decoded: drop the framing headers that describe the wire form
        headers = [
            (k, v)
            for k, v in response.headers.multi_items()
            if k.lower() not in ("content-encoding", "transfer-encoding", "content-length")
        ]
        copy_ = httpx.Response(response.status_code, headers=headers, content=content, request=request)
        ex = Exchange(request, body, copy_, content)
        self.exchanges.append(ex)
        if self.on_response is not None:
            self.on_response(ex)
        return copy_

    async def aclose(self) -> None:
        """Shared by several adapters in one test: the fixture closes the inner transport once, at the end."""
