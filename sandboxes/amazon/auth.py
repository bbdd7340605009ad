"""Login with Amazon token endpoint (POST /auth/o2/token, grant_type=refresh_token) in the LWA response shapes."""

from __future__ import annotations

import hmac
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sandboxes.amazon.common import AmazonSandbox


def _lwa_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def router(sbx: AmazonSandbox) -> APIRouter:
    r = APIRouter(tags=["Login with Amazon"])

    @r.post("/auth/o2/token")
    async def token(request: Request) -> JSONResponse:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode(errors="replace")).items()}
        if form.get("grant_type") != "refresh_token":
            return _lwa_error(400, "unsupported_grant_type", "The authorization grant type is not supported")
        if not (
            hmac.compare_digest(form.get("client_id", ""), sbx.client_id)
            and hmac.compare_digest(form.get("client_secret", ""), sbx.client_secret)
        ):
            return _lwa_error(401, "invalid_client", "Client authentication failed")
        if not hmac.compare_digest(form.get("refresh_token", ""), sbx.refresh_token):
            return _lwa_error(
                400, "invalid_grant", "The request has an invalid grant parameter : refresh_token"
            )
        access, expires_in = sbx.issue_token()
        return JSONResponse(
            {
                "access_token": access,
                "refresh_token": sbx.refresh_token,
                "token_type": "bearer",
                "expires_in": expires_in,
            },
            headers={"cache-control": "no-store", "pragma": "no-cache"},
        )

    return r
