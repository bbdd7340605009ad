"""POST /identity/v1/oauth2/token: refresh_token (user token) and client_credentials (application token) grants,
with eBay's OAuth error shape ({"error", "error_description"})."""

from __future__ import annotations

import base64
import binascii

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from connectors.marketplace.ebay.sandbox_defaults import SANDBOX_CREDENTIALS
from sandboxes.ebay.core import EbaySandbox


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def router(sbx: EbaySandbox) -> APIRouter:
    r = APIRouter(tags=["identity"])

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
        if grant == "refresh_token":
            if form.get("refresh_token") != SANDBOX_CREDENTIALS["refresh_token"]:
                return _oauth_error(
                    400,
                    "invalid_grant",
                    "the provided authorization refresh token is invalid or was issued to another client",
                )
            access, ttl = sbx.mint("user", client_id)
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
