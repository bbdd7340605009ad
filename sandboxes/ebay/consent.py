"""eBay's consent side of the OAuth authorization code grant (auth.ebay.com/oauth2/authorize in production): the
seller signs in, agrees or declines, and eBay redirects to the app's RuName with `code` + `expires_in` + `state`
(or `error=access_denied`). The code is exchanged at /identity/v1/oauth2/token (sandboxes/ebay/identity.py).

The sandbox has no RuName registry: `redirect_uri` is taken as the accept URL itself.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from connectors.marketplace.ebay.sandbox_defaults import SANDBOX_CREDENTIALS
from sandboxes.common.grants import consent_page, error_page, grants_of
from sandboxes.ebay.core import EbaySandbox

CODE_TTL_SECONDS = 299  # eBay's authorization codes live about 5 minutes
REFRESH_TTL_SECONDS = 47_304_000  # 18 months


def _redirect(url: str, **params: str) -> RedirectResponse:
    sep = "&" if urlsplit(url).query else "?"
    return RedirectResponse(f"{url}{sep}{urlencode(params)}", status_code=302)


def router(sbx: EbaySandbox) -> APIRouter:
    r = APIRouter(tags=["oauth consent"], include_in_schema=False)

    @r.get("/oauth2/authorize")
    def authorize(
        request: Request, client_id: str = "", redirect_uri: str = "", response_type: str = "", scope: str = "",
        state: str = "",
    ) -> Response:  # fmt: skip
        if client_id != SANDBOX_CREDENTIALS["client_id"]:
            return error_page(400, "invalid_client: unknown client_id")
        if response_type != "code":
            return error_page(400, "unsupported_response_type: response_type must be code")
        if urlsplit(redirect_uri).scheme not in ("http", "https"):
            return error_page(400, "invalid_request: redirect_uri (RuName) is not registered")
        return consent_page(
            title="eBay - Grant application access",
            heading="merchflow would like to access your eBay account",
            lines=[f"Scope: {s}" for s in scope.split()] or ["Scope: (default)"],
            action="/oauth2/authorize/decision",
            fields={"client_id": client_id, "redirect_uri": redirect_uri, "scope": scope, "state": state},
            yes="I agree",
            no="No thanks",
        )

    @r.post("/oauth2/authorize/decision")
    def decide(
        decision: str = Form(""), client_id: str = Form(""), redirect_uri: str = Form(""), scope: str = Form(""),
        state: str = Form(""),
    ) -> Response:  # fmt: skip
        if decision != "allow":
            return _redirect(
                redirect_uri, error="access_denied", error_description="the user declined", state=state
            )
        code = grants_of(sbx.state).issue(
            "code",
            client_id=client_id,
            scope=scope,
            ttl=CODE_TTL_SECONDS,
            data={"redirect_uri": redirect_uri},
            prefix="v^1.1#i^1#c^",
        )
        return _redirect(redirect_uri, state=state, code=code, expires_in=str(CODE_TTL_SECONDS))

    return r
