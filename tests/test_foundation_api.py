"""API skeleton: health, readiness, bearer auth with roles, one JSON error shape."""

from __future__ import annotations

import httpx
from fastapi import Depends

from api.deps import Admin, require_role
from tests.conftest import make_token


async def test_healthz_and_readyz(api_client: httpx.AsyncClient) -> None:
    assert (await api_client.get("/healthz")).json() == {"status": "ok"}
    r = await api_client.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json()["checks"] == {"database": "ok", "temporal": "ok"}


async def test_openapi_docs_are_served(api_client: httpx.AsyncClient) -> None:
    assert (await api_client.get("/docs")).status_code == 200
    spec = (await api_client.get("/openapi.json")).json()
    assert "/readyz" in spec["paths"]


async def test_auth_and_roles(api_client: httpx.AsyncClient) -> None:
    app = api_client.app  # type: ignore[attr-defined]

    @app.get("/api/v1/_probe/admin")
    async def admin_only(caller: Admin) -> dict[str, str]:
        return {"user": caller.username}

    @app.get("/api/v1/_probe/operator", dependencies=[Depends(require_role("operator"))])
    async def operator_only() -> dict[str, bool]:
        return {"ok": True}

    r = await api_client.get("/api/v1/_probe/admin")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
    r = await api_client.get("/api/v1/_probe/admin", headers={"Authorization": "Bearer mf_wrong"})
    assert r.status_code == 401

    engine = app.state.engine
    viewer = make_token(engine, "viewer")
    admin = make_token(engine, "admin", "root")
    operator = make_token(engine, "operator")
    r = await api_client.get("/api/v1/_probe/admin", headers={"Authorization": f"Bearer {viewer}"})
    assert r.status_code == 403 and "viewer" in r.json()["error"]["message"]
    r = await api_client.get("/api/v1/_probe/admin", headers={"Authorization": f"Bearer {admin}"})
    assert r.json() == {"user": "root"}
    r = await api_client.get("/api/v1/_probe/operator", headers={"Authorization": f"Bearer {operator}"})
    assert r.status_code == 200
    r = await api_client.get("/api/v1/_probe/operator", headers={"Authorization": f"Bearer {admin}"})
    assert r.status_code == 200  # admin may do everything


async def test_unknown_route_has_json_error(api_client: httpx.AsyncClient) -> None:
    r = await api_client.get("/nope")
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "not_found", "message": "Not Found"}}
