"""Login with Amazon token endpoint (POST /auth/o2/token) in the LWA response shapes: grant_type=authorization_code
(an `spapi_oauth_code` from the website authorization workflow, sandboxes/amazon/consent.py) and refresh_token.
Refresh tokens from a consent are grants: revoking one (the seller removing the app) ends its access tokens."""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sandboxes.amazon.common import AmazonSandbox
from sandboxes.common.grants import grants_of

_NO_STORE = {"cache-control": "no-store", "pragma": "no-cache"}


def _lwa_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def router(sbx: AmazonSandbox) -> APIRouter:
    r = APIRouter(tags=["Login with Amazon"])
    grants = grants_of(sbx.state)
    grants.on_revoke(lambda tokens: [sbx.tokens.pop(t, None) for t in tokens])

    @r.post("/auth/o2/token")
    async def token(request: Request) -> JSONResponse:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode(errors="replace")).items()}
        grant = form.get("grant_type")
        if grant not in ("refresh_token", "authorization_code"):
            return _lwa_error(400, "unsupported_grant_type", "The authorization grant type is not supported")
        if not (
            hmac.compare_digest(form.get("client_id", ""), sbx.client_id)
            and hmac.compare_digest(form.get("client_secret", ""), sbx.client_secret)
        ):
            return _lwa_error(401, "invalid_client", "Client authentication failed")
        if grant == "authorization_code":
            code = grants.redeem_code(
                form.get("code", ""), client_id=sbx.client_id, redirect_uri=form.get("redirect_uri")
            )
            if code is None:
                return _lwa_error(400, "invalid_grant", "The request has an invalid grant parameter : code")
            refresh = grants.issue("refresh", client_id=sbx.client_id, parent=code["token"], prefix="Atzr|")
            access, expires_in = sbx.issue_token()
            grants.issue("access", client_id=sbx.client_id, parent=refresh, token=access, ttl=expires_in)
            body = {
                "access_token": access,
                "refresh_token": refresh,
                "token_type": "bearer",
                "expires_in": expires_in,
            }
            return JSONResponse(body, headers=_NO_STORE)
        presented = form.get("refresh_token", "")
        consented = grants.find(presented, "refresh")
        if not hmac.compare_digest(presented, sbx.refresh_token) and consented is None:
            return _lwa_error(
                400, "invalid_grant", "The request has an invalid grant parameter : refresh_token"
            )
        access, expires_in = sbx.issue_token()
        if consented is not None:
            grants.issue("access", client_id=sbx.client_id, parent=presented, token=access, ttl=expires_in)
        return JSONResponse(
            {
                "access_token": access,
                "refresh_token": presented,
                "token_type": "bearer",
                "expires_in": expires_in,
            },
            headers=_NO_STORE,
        )

    return r
