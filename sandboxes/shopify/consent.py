"""Shopify's side of an app installation (authorization code grant): /admin/oauth/authorize shows the scopes the app
asks for; Install redirects to the app's redirect_uri with `code`, `hmac`, `host`, `shop`, `state` and `timestamp`,
signed with the app's secret the way Shopify signs them. Cancel leaves the app unaware, as Shopify does: the
merchant is sent back to the shop's admin. The code is exchanged at /admin/oauth/access_token (sandboxes/shopify/app.py)
for an offline access token that lives until the app is uninstalled (revoked)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sandboxes.common.grants import consent_page, error_page, grants_of
from sandboxes.common.state import SandboxState

CODE_TTL_SECONDS = 600


def signed_query(params: dict[str, str], secret: str) -> str:
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return urlencode({**params, "hmac": digest})


def router(state: SandboxState, *, client_id: str, client_secret: str) -> APIRouter:
    r = APIRouter(tags=["app installation"], include_in_schema=False)

    @r.get("/admin/oauth/authorize")
    def authorize_page(request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != client_id:
            return error_page(400, "Oauth error invalid_request: The api_key provided is invalid")
        if urlsplit(q.get("redirect_uri", "")).scheme not in ("http", "https"):
            return error_page(400, "Oauth error invalid_request: The redirect_uri is not whitelisted")
        return consent_page(
            title="Install app - Shopify",
            heading=f"Install merchflow on {request.url.netloc}?",
            lines=[f"Access: {s}" for s in q.get("scope", "").split(",") if s],
            action="/admin/oauth/authorize/decision",
            fields={k: q.get(k, "") for k in ("scope", "redirect_uri", "state")},
            yes="Install app",
            no="Cancel",
        )

    @r.post("/admin/oauth/authorize/decision")
    def decide(
        request: Request, decision: str = Form(""), scope: str = Form(""), redirect_uri: str = Form(""),
        state_value: str = Form("", alias="state"),
    ) -> Response:  # fmt: skip
        shop = request.url.netloc  # the sandbox's stand-in for <name>.myshopify.com
        if decision != "allow":
            return RedirectResponse("/admin/apps?installed=false", status_code=302)
        code = grants_of(state).issue(
            "code", client_id=client_id, scope=scope, ttl=CODE_TTL_SECONDS, data={"shop": shop}
        )
        params = {
            "code": code,
            "host": base64.b64encode(f"admin.shopify.com/store/{shop}".encode()).decode(),
            "shop": shop,
            "state": state_value,
            "timestamp": str(int(time.time())),
        }
        sep = "&" if urlsplit(redirect_uri).query else "?"
        return RedirectResponse(f"{redirect_uri}{sep}{signed_query(params, client_secret)}", status_code=302)

    @r.get("/admin/apps")
    def apps_page() -> Response:
        return HTMLResponse(
            "<!doctype html><html><body><h1>Apps</h1><p id='apps'>No app was installed.</p></body></html>"
        )

    return r
