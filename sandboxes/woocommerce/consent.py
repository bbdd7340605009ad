"""WooCommerce's app authentication endpoint, /wc-auth/v1/authorize: the store owner (logged in) approves or denies;
on approval the store creates REST API keys, POSTs them as JSON to the app's `callback_url` (server to server) and
only then sends the browser to `return_url?success=1&user_id=...`; on denial to `return_url?success=0&user_id=...`.
If the callback does not answer 2xx, no keys are kept and the owner sees the store's error page.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode, urlsplit

import httpx
from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response

from sandboxes.common.grants import consent_page, error_page, grants_of
from sandboxes.common.state import SandboxState

SCOPES = ("read", "write", "read_write")


def approved_keys(state: SandboxState):  # type: ignore[no-untyped-def]
    """consumer key -> (secret, permissions) for keys approved here and not revoked."""
    grants = grants_of(state)

    def lookup(key: str) -> tuple[str, str] | None:
        row = grants.find(key, "keys")
        if row is None:
            return None
        data = grants.data(row)
        return str(data["consumer_secret"]), str(data["key_permissions"])

    return lookup


def _back(url: str, **params: str) -> RedirectResponse:
    sep = "&" if urlsplit(url).query else "?"
    return RedirectResponse(f"{url}{sep}{urlencode(params)}", status_code=302)


def router(state: SandboxState) -> APIRouter:
    r = APIRouter(tags=["wc-auth"], include_in_schema=False)
    grants = grants_of(state)

    @r.get("/wc-auth/v1/authorize")
    def authorize(
        app_name: str = "", scope: str = "", user_id: str = "", return_url: str = "", callback_url: str = ""
    ) -> Response:
        if not app_name or scope not in SCOPES or not user_id or not return_url or not callback_url:
            return error_page(400, "Error: Invalid app_name, scope, user_id, return_url or callback_url.")
        for url in (return_url, callback_url):
            if urlsplit(url).scheme not in ("http", "https"):
                return error_page(400, "Error: The callback_url needs to be over SSL.")
        return consent_page(
            title="WooCommerce - App authentication",
            heading=f"{app_name} would like to connect to your store",
            lines=[f"Access: {scope.replace('_', '/')}", "Logged in as: admin"],
            action="/wc-auth/v1/access_granted",
            fields={
                "app_name": app_name,
                "scope": scope,
                "user_id": user_id,
                "return_url": return_url,
                "callback_url": callback_url,
            },
            yes="Approve",
            no="Deny",
        )

    @r.post("/wc-auth/v1/access_granted")
    async def decide(
        decision: str = Form(""), app_name: str = Form(""), scope: str = Form(""), user_id: str = Form(""),
        return_url: str = Form(""), callback_url: str = Form(""),
    ) -> Response:  # fmt: skip
        if decision != "allow":
            return _back(return_url, success="0", user_id=user_id)
        key, secret = "ck_" + secrets.token_hex(20), "cs_" + secrets.token_hex(20)
        grants.issue(
            "keys",
            client_id=app_name,
            scope=scope,
            token=key,
            data={"key_permissions": scope, "consumer_secret": secret},
        )
        key_id = len(state.store.query("SELECT token FROM sbx_grant WHERE kind = 'keys'"))
        payload = {
            "key_id": key_id,
            "user_id": user_id,
            "consumer_key": key,
            "consumer_secret": secret,
            "key_permissions": scope,
        }
        try:
            async with httpx.AsyncClient(timeout=30) as client:
                answer = await client.post(callback_url, json=payload)
            delivered = answer.is_success
        except httpx.HTTPError:
            delivered = False
        if not delivered:
            grants.revoke_tree([key])
            return error_page(
                400,
                "Error: An error occurred in the request and at the time were unable to send the consumer data.",
            )
        return _back(return_url, success="1", user_id=user_id)

    return r
