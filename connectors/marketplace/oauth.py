"""Token exchanges that finish a connect flow: the authorization code a marketplace handed back becomes the seller's
long-lived credential. One call each, no retries: codes are single-use, a failed exchange starts the flow again.

- eBay: POST <api>/identity/v1/oauth2/token, Basic client auth, grant_type=authorization_code, redirect_uri=RuName;
- Amazon: POST https://api.amazon.com/auth/o2/token, grant_type=authorization_code with the spapi_oauth_code;
- Shopify: POST https://<shop>/admin/oauth/access_token {client_id, client_secret, code} -> offline access token.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx

from connectors.errors import AuthError, ServerError, TransportError, ValidationError

TIMEOUT = httpx.Timeout(30.0)


def _fail(marketplace: str, response: httpx.Response) -> Exception:
    try:
        body: Any = response.json()
    except ValueError:
        body = {}
    error = str(body.get("error") or "") if isinstance(body, dict) else ""
    described = (body.get("error_description") if isinstance(body, dict) else None) or response.text[:300]
    kw: dict[str, Any] = {
        "marketplace": marketplace,
        "operation": "authorization_code",
        "status": response.status_code,
    }
    if response.status_code >= 500:
        return ServerError(f"token exchange failed: {described}", **kw, code=error or None)
    if error in ("invalid_client", "unauthorized_client") or response.status_code == 401:
        return AuthError(f"the app's credentials were refused: {described}", **kw, code=error or None)
    return ValidationError(f"the authorization was refused: {described}", **kw, code=error or None)


async def _post(marketplace: str, url: str, *, user_agent: str, **kwargs: Any) -> dict[str, Any]:
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT, headers={"user-agent": user_agent}) as client:
            response = await client.post(url, **kwargs)
    except httpx.HTTPError as exc:
        raise TransportError(f"token exchange failed: {exc}", marketplace=marketplace) from exc
    if response.status_code != 200:
        raise _fail(marketplace, response)
    try:
        body = response.json()
    except ValueError:
        raise ValidationError("the token endpoint answered without JSON", marketplace=marketplace) from None
    if not isinstance(body, dict):
        raise ValidationError(
            "the token endpoint answered with something else than an object", marketplace=marketplace
        )
    return body


async def ebay_exchange(
    *, api_base_url: str, client_id: str, client_secret: str, code: str, ru_name: str, user_agent: str
) -> dict[str, str]:
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    body = await _post(
        "ebay",
        f"{api_base_url.rstrip('/')}/identity/v1/oauth2/token",
        user_agent=user_agent,
        headers={"authorization": f"Basic {basic}"},
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": ru_name},
    )
    if not body.get("refresh_token"):
        raise ValidationError("eBay answered without a refresh token", marketplace="ebay")
    return {"refresh_token": str(body["refresh_token"])}


async def amazon_exchange(
    *, token_url: str, client_id: str, client_secret: str, code: str, redirect_uri: str, user_agent: str
) -> dict[str, str]:
    body = await _post(
        "amazon",
        token_url,
        user_agent=user_agent,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "client_secret": client_secret,
        },
    )
    if not body.get("refresh_token"):
        raise ValidationError("Login with Amazon answered without a refresh token", marketplace="amazon")
    return {"refresh_token": str(body["refresh_token"])}


async def shopify_exchange(
    *, shop_base_url: str, client_id: str, client_secret: str, code: str, user_agent: str
) -> dict[str, str]:
    body = await _post(
        "shopify",
        f"{shop_base_url.rstrip('/')}/admin/oauth/access_token",
        user_agent=user_agent,
        json={"client_id": client_id, "client_secret": client_secret, "code": code},
    )
    if not body.get("access_token"):
        raise ValidationError("Shopify answered without an access token", marketplace="shopify")
    return {"access_token": str(body["access_token"]), "scope": str(body.get("scope") or "")}
