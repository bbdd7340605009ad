"""Seller Central's side of the SP-API website authorization workflow: /apps/authorize/consent shows what the app
asks for; Confirm redirects to the app's redirect URI with `state`, `selling_partner_id` and `spapi_oauth_code`
(valid 5 minutes), which the app exchanges at Login with Amazon (sandboxes/amazon/auth.py) for a refresh token.
Cancel sends the seller back with `error=access_denied`."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response

from connectors.marketplace.amazon.adapter import SANDBOX_APPLICATION_ID
from sandboxes.amazon.common import AmazonSandbox
from sandboxes.common.grants import consent_page, error_page, grants_of

CODE_TTL_SECONDS = 300


def _redirect(url: str, **params: str) -> RedirectResponse:
    sep = "&" if urlsplit(url).query else "?"
    return RedirectResponse(f"{url}{sep}{urlencode(params)}", status_code=302)


def router(sbx: AmazonSandbox) -> APIRouter:
    r = APIRouter(tags=["website authorization"], include_in_schema=False)

    @r.get("/apps/authorize/consent")
    def consent(
        application_id: str = "", state: str = "", redirect_uri: str = "", version: str = ""
    ) -> Response:
        if application_id != SANDBOX_APPLICATION_ID:
            return error_page(400, "This application is not available (unknown application_id).")
        if version != "beta":
            # the sandbox app is a draft: Seller Central refuses it without version=beta
            return error_page(400, "This application is in draft status: authorize it with version=beta.")
        if urlsplit(redirect_uri).scheme not in ("http", "https"):
            return error_page(400, "The redirect_uri is not one of the application's OAuth redirect URIs.")
        return consent_page(
            title="Amazon Seller Central - Authorize application",
            heading="merchflow is requesting access to your selling account",
            lines=[
                f"Selling partner: {sbx.seller_id}",
                "Roles: Product Listing, Inventory and Order Tracking",
            ],
            action="/apps/authorize/consent/decision",
            fields={"state": state, "redirect_uri": redirect_uri},
            yes="Confirm",
            no="Cancel",
        )

    @r.post("/apps/authorize/consent/decision")
    def decide(decision: str = Form(""), state: str = Form(""), redirect_uri: str = Form("")) -> Response:
        if decision != "allow":
            return _redirect(redirect_uri, state=state, error="access_denied")
        code = grants_of(sbx.state).issue(
            "code",
            client_id=sbx.client_id,
            ttl=CODE_TTL_SECONDS,
            data={"redirect_uri": redirect_uri},
            prefix="ANDM",
        )
        return _redirect(redirect_uri, state=state, selling_partner_id=sbx.seller_id, spapi_oauth_code=code)

    return r
