"""POST /identity/v1/oauth2/token: authorization_code (a seller's consent, sandboxes/ebay/consent.py), refresh_token
(user token) and client_credentials (application token) grants, with eBay's OAuth error shape
({"error", "error_description"}). Refresh tokens from a consent are grants: revoking one ends its access tokens."""

from __future__ import annotations

import base64
import binascii

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from connectors.marketplace.ebay.sandbox_defaults import SANDBOX_CREDENTIALS
from sandboxes.common.grants import grants_of
from sandboxes.ebay.consent import REFRESH_TTL_SECONDS
from sandboxes.ebay.core import EbaySandbox


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def router(sbx: EbaySandbox) -> APIRouter:
    r = APIRouter(tags=["identity"])
    grants = grants_of(sbx.state)

    def forget(tokens: list[str]) -> None:
        for token in tokens:
            sbx._tokens.pop(token, None)
        marks = ",".join("?" * len(tokens))
        sbx.db.execute(f"UPDATE ebay_token SET expires_at = 0 WHERE token IN ({marks})", tokens)

    grants.on_revoke(forget)

    @r.post("/identity/v1/oauth2/token")
    async def token(request: Request) -> JSONResponse:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            client_id, secret = "", ""
        if (
            scheme != "Basic"
            or client_id != SANDBOX_CREDENTIALS["client_id"]
            or secret != SANDBOX_CREDENTIALS["client_secret"]
        ):
            return _oauth_error(401, "invalid_client", "client authentication failed")
        sbx.throttle("identity", client_id)
        form = await request.form()
        grant = form.get("grant_type")
        if grant == "authorization_code":
            code = grants.redeem_code(
                str(form.get("code") or ""),
                client_id=client_id,
                redirect_uri=str(form.get("redirect_uri") or ""),
            )
            if code is None:
                return _oauth_error(
                    400,
                    "invalid_grant",
                    "the provided authorization grant code is invalid or was issued to another client",
                )
            refresh = grants.issue(
                "refresh", client_id=client_id, scope=code["scope"], ttl=REFRESH_TTL_SECONDS, parent=code["token"],
                prefix="v^1.1#i^1#r^",
            )  # fmt: skip
            access, ttl = sbx.mint("user", client_id)
            grants.issue("access", client_id=client_id, parent=refresh, token=access, ttl=ttl)
            return JSONResponse(
                {
                    "access_token": access,
                    "expires_in": ttl,
                    "refresh_token": refresh,
                    "refresh_token_expires_in": REFRESH_TTL_SECONDS,
                    "token_type": "User Access Token",
                }
            )
        if grant == "refresh_token":
            presented = str(form.get("refresh_token") or "")
            consented = grants.find(presented, "refresh")
            if presented != SANDBOX_CREDENTIALS["refresh_token"] and consented is None:
                return _oauth_error(
                    400,
                    "invalid_grant",
                    "the provided authorization refresh token is invalid or was issued to another client",
                )
            access, ttl = sbx.mint("user", client_id)
            if consented is not None:
                grants.issue("access", client_id=client_id, parent=presented, token=access, ttl=ttl)
            return JSONResponse(
                {"access_token": access, "expires_in": ttl, "token_type": "User Access Token"}
            )
        if grant == "client_credentials":
            access, ttl = sbx.mint("app", client_id)
            return JSONResponse(
                {"access_token": access, "expires_in": ttl, "token_type": "Application Access Token"}
            )
        return _oauth_error(
            400, "unsupported_grant_type", "grant type in request is not supported by the server"
        )

    return r
