"""Auth before the body: without a valid token every authenticated route answers 401 - even when its body is not
JSON, is JSON of the wrong shape, or its parameters are out of range. With a token the same requests get their 422.
And every route documents the error statuses it answers, with the one error schema."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.api.conftest import Stack


@pytest.fixture
async def client(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=stack.app), base_url="http://testserver"
    ) as c:
        yield c


def _operations(stack: Stack) -> list[tuple[str, str, dict[str, Any]]]:
    spec = stack.app.openapi()
    return [(m.upper(), path, op) for path, ops in spec["paths"].items() for m, op in ops.items()]


def _concrete(path: str) -> str:
    return (
        (
            path.replace("{import_id}", "f" * 64)
            .replace("{marketplace}", "amazon")
            .replace("{account}", "sandbox")
            .replace("{sku}", "DEMO-MUG-02")
        )
        .replace("{", "")
        .replace("}", "")
    )


BAD_BODIES = [
    ("not JSON", b"{this is not json", "application/json"),
    ("NaN", b'{"x": NaN}', "application/json"),
    ("wrong shape", b"[1, 2, 3]", "application/json"),
    ("not UTF-8", b"\xff\xfe\x00", "application/json"),
]
NO_TOKEN = [
    ("no header", {}),
    ("wrong scheme", {"Authorization": "Basic YWRtaW46YWRtaW4="}),
    ("unknown token", {"Authorization": "Bearer mf_not-a-token"}),
    ("non-ASCII token", {"Authorization": "Bearer mf_\xe9\xff"}),
]


async def test_every_route_family_answers_401_before_reading_a_bad_body(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    secured = [
        (m, p, op) for m, p, op in _operations(stack) if "401" in op["responses"] and "webhooks" not in p
    ]
    families = {p.split("/")[3] for _, p, _ in secured if p.startswith("/api/")}
    assert any(p.startswith("/codec/") for _, p, _ in secured)  # the UI's codec server too
    assert {"catalog", "decisions", "decision-policies", "stock", "repricing", "orders"} <= families
    for method, path, _ in secured:
        for who, headers in NO_TOKEN:
            for what, body, media in BAD_BODIES:
                r = await client.request(
                    method,
                    _concrete(path),
                    content=body,
                    params={"offset": "-1", "limit": "99999999999999999999"},
                    # raw latin-1 bytes, as a server hands them on (httpx refuses non-ASCII text)
                    headers=[
                        (k.encode(), v.encode("latin-1"))
                        for k, v in {**headers, "content-type": media}.items()
                    ],
                )
                assert r.status_code == 401, (method, path, who, what, r.status_code, r.text[:200])
                assert r.json()["error"]["code"] == "unauthorized"
                assert r.headers["www-authenticate"] == "Bearer"


async def test_with_a_token_the_same_bad_bodies_are_422(stack: Stack, client: httpx.AsyncClient) -> None:
    headers = {"Authorization": f"Bearer {stack.admin}"}
    posts = [(m, p) for m, p, op in _operations(stack) if m in ("POST", "PUT") and "requestBody" in op]
    assert len(posts) >= 8
    for method, path in posts:
        if "webhooks" in path or path.endswith("/imports"):
            continue  # raw bodies: a signed notification, an uploaded file
        for what, body, media in BAD_BODIES:
            r = await client.request(
                method, _concrete(path), content=body, headers={**headers, "content-type": media}
            )
            assert r.status_code == 422, (method, path, what, r.status_code, r.text[:200])


async def test_a_viewer_is_refused_with_403_even_with_a_bad_body(
    stack: Stack, client: httpx.AsyncClient
) -> None:
    headers = {"Authorization": f"Bearer {stack.viewer}", "content-type": "application/json"}
    r = await client.post("/api/v1/stock/reconciles", content=b'{"account_ids": [1]}', headers=headers)
    assert r.status_code == 403
    r = await client.post("/api/v1/stock/reconciles", content=b'{"account_ids": "x"}', headers=headers)
    assert r.status_code == 403  # the role is checked before the body's fields


def test_every_operation_documents_its_errors_with_the_one_schema(stack: Stack) -> None:
    spec = stack.app.openapi()
    assert "ErrorBody" in spec["components"]["schemas"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for method, path, op in _operations(stack):
        codes = set(op["responses"])
        takes_input = bool(op.get("parameters") or op.get("requestBody"))
        if takes_input:
            assert "422" in codes, (method, path)
        # webhooks and signed blob URLs (fetched by marketplaces) carry their proof in a signature, not a token
        signed = "webhooks" in path or path.startswith("/api/v1/blobs/")
        if path.startswith("/api/") and not signed:
            assert "401" in codes, (method, path)
            assert op.get("security"), (method, path)
        if method in ("POST", "PUT") and path.startswith("/api/") and not signed:
            assert "403" in codes, (method, path)  # writes need a role
        for code, response in op["responses"].items():
            if code.startswith(("4", "5")) and path != "/readyz":
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, code)
    webhook = spec["paths"]["/api/v1/webhooks/{marketplace}/{account}"]["post"]
    assert {"401", "404", "413", "503"} <= set(webhook["responses"])
    upload = spec["paths"]["/api/v1/catalog/imports"]["post"]
    assert {"400", "401", "403", "413", "415", "422", "503"} <= set(upload["responses"])
