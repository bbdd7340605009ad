"""Connect flows, the engine's side: start one (a consent URL with a fresh `state`), then accept what comes back.

The state nonce is drawn here (256 bits), only its digest is stored, it expires (settings.connect.state_ttl_minutes)
and the first callback carrying it consumes it: a replayed callback, a forged one (Shopify's HMAC), a refused consent
or an expired link is refused with a message for the seller and changes nothing on the account.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Session, select

from activities.accounts import apps
from activities.accounts import repository as repo
from activities.accounts.apps import ConnectUnavailable as ConnectUnavailable  # raised by start / finish
from activities.accounts.tables import ConnectAttempt
from connectors.errors import ConnectorError
from connectors.marketplace import oauth
from connectors.marketplace.accounts import sandbox_credentials
from domain.accounts import connect as flow
from merchflow.credentials import credential_keyring
from merchflow.db.engine import session_scope
from merchflow.db.types import utcnow
from merchflow.logging import get_logger
from merchflow.settings import Settings

log = get_logger(__name__)
# secrets a sandbox-connected account needs beyond what the flow yields (webhook secrets, notification keys)
_SANDBOX_EXTRAS = {
    "amazon": ("relay_secret",),
    "ebay": ("verification_token", "notification_public_keys", "seller_username"),
    "shopify": ("webhook_secret",),
    "woocommerce": ("webhook_secret",),
}


class ConnectStarted(BaseModel):
    account_id: int
    marketplace: str
    consent_url: str
    expires_at: datetime


class ConnectOutcome(BaseModel):
    ok: bool
    marketplace: str
    account_id: int | None = None
    account_name: str | None = None
    message: str


def start(
    engine: sa.Engine, settings: Settings, *, account_id: int, actor: str, shop: str | None = None,
    store_url: str | None = None,
) -> ConnectStarted:  # fmt: skip
    now = utcnow()
    state = secrets.token_urlsafe(32)
    with session_scope(engine) as session:
        row = repo.get(session, account_id)
        app = apps.resolve_app(settings, row.marketplace)
        callback = apps.url(settings, apps.CALLBACK_PATH.format(marketplace=row.marketplace))
        if row.marketplace == "ebay":
            url = flow.ebay_consent_url(authorize_url=app.authorize_url, client_id=app.client_id, ru_name=app.extra,
                                        scopes=app.scopes, state=state)  # fmt: skip
        elif row.marketplace == "amazon":
            url = flow.amazon_consent_url(consent_base_url=app.authorize_url, application_id=app.extra,
                                          redirect_uri=callback, state=state, draft=app.sandbox or settings.connect.amazon.draft)  # fmt: skip
        elif row.marketplace == "shopify":
            shop = (
                shop
                or (row.config or {}).get("shop")
                or (apps.sandbox_host(settings, "shopify") if app.sandbox else None)
            )
            if not shop or not flow.shopify_shop_valid(
                shop, also_allowed=apps.sandbox_hosts(settings, "shopify")
            ):
                raise repo.AccountError("give the shop's domain, like my-store.myshopify.com")
            url = flow.shopify_consent_url(shop_base_url=apps.shop_base(settings, shop), client_id=app.client_id,
                                           scopes=app.scopes, redirect_uri=callback, state=state)  # fmt: skip
        else:
            store = (
                store_url
                or row.base_url
                or (settings.sandbox.base_url("woocommerce") if settings.sandbox.enabled else None)
            )
            if not store:
                raise repo.AccountError("give the store's URL, like https://shop.example.com")
            problem = flow.store_url_valid(store, allow_http_hosts=apps.loopback(settings))
            if problem:
                raise repo.AccountError(problem)
            shop = store.rstrip("/")
            url = flow.woocommerce_consent_url(store_url=store, app_name=app.client_id, scope=app.scopes[0], state=state,
                                               return_url=apps.url(settings, apps.WOO_RETURN_PATH), callback_url=apps.url(settings, apps.WOO_KEYS_PATH))  # fmt: skip
        expires = flow.expiry(now, settings.connect.state_ttl_minutes)
        session.add(
            ConnectAttempt(
                state_digest=flow.state_digest(state),
                account_id=account_id,
                marketplace=row.marketplace,
                shop=shop,
                created_by=actor,
                created_at=now,
                expires_at=expires,
            )
        )
    log.info("connect started", account_id=account_id, marketplace=row.marketplace, by=actor)
    return ConnectStarted(
        account_id=account_id, marketplace=row.marketplace, consent_url=url, expires_at=expires
    )


def _claim(session: Session, *, marketplace: str, state: str, now: datetime) -> ConnectAttempt:
    """Consume the attempt a callback's state names, once; refuses unknown, used and expired states."""
    q = select(ConnectAttempt).where(ConnectAttempt.state_digest == flow.state_digest(state or ""))
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update()
    attempt = session.exec(q).first()
    problem = flow.state_usable(
        found=attempt is not None and attempt.marketplace == marketplace,
        used=attempt is not None and attempt.used_at is not None,
        expires_at=attempt.expires_at if attempt else None,
        now=now,
    )
    if problem or attempt is None:
        raise flow.ConnectRefused(problem or "unknown connect link")
    attempt.used_at = now
    session.add(attempt)
    return attempt


def _close(engine: sa.Engine, digest: str, outcome: str, error: str | None = None) -> None:
    with session_scope(engine) as session:
        attempt = session.get(ConnectAttempt, digest)
        if attempt is not None:
            attempt.outcome, attempt.error = outcome, (error or None) and error[:1000]
            session.add(attempt)


def refuse(engine: sa.Engine, *, marketplace: str, state: str, message: str) -> ConnectOutcome:
    """The seller declined (or the marketplace reported an error): the link is used up, the account unchanged."""
    with session_scope(engine) as session:
        attempt = _claim(session, marketplace=marketplace, state=state, now=utcnow())
        account = repo.get(session, attempt.account_id)
        digest, account_id, name = attempt.state_digest, attempt.account_id, account.name
    _close(engine, digest, "refused", message)
    return ConnectOutcome(
        ok=False, marketplace=marketplace, account_id=account_id, account_name=name, message=message
    )


async def finish(
    engine: sa.Engine, settings: Settings, *, marketplace: str, params: list[tuple[str, str]]
) -> ConnectOutcome:
    """The OAuth callback of eBay, Amazon or Shopify: check it, consume its state, exchange the code, store the
    credentials sealed, mark the account connected."""
    q = dict(params)
    state = q.get("state", "")
    if q.get("error"):
        what = q.get("error_description") or q["error"]
        return refuse(
            engine, marketplace=marketplace, state=state, message=f"the seller did not grant access ({what})"
        )
    app = apps.resolve_app(settings, marketplace)
    if marketplace == "shopify":
        # before anything else: a forged callback must not even consume the state
        if not flow.shopify_hmac_valid(params, app.client_secret):
            raise flow.ConnectRefused("the callback's signature (hmac) is not Shopify's: refused")
        if not flow.shopify_shop_valid(
            q.get("shop", ""), also_allowed=apps.sandbox_hosts(settings, "shopify")
        ):
            raise flow.ConnectRefused("the callback names no valid shop domain")
    now = utcnow()
    with session_scope(engine) as session:
        attempt = _claim(session, marketplace=marketplace, state=state, now=now)
        if marketplace == "shopify" and attempt.shop != q.get("shop"):
            raise flow.ConnectRefused("the shop in the callback is not the shop the consent was asked on")
        digest, account_id, shop = attempt.state_digest, attempt.account_id, attempt.shop
    try:
        secrets_, options, base_url = await _exchange(settings, app, marketplace, q, shop)
    except ConnectorError as exc:
        _close(engine, digest, "failed", str(exc))
        return ConnectOutcome(
            ok=False,
            marketplace=marketplace,
            account_id=account_id,
            message=f"the marketplace refused the code: {exc}",
        )
    return _store(engine, settings, digest=digest, account_id=account_id, marketplace=marketplace, app=app,
                  secrets_=secrets_, options=options, base_url=base_url)  # fmt: skip


async def _exchange(
    settings: Settings, app: apps.App, marketplace: str, q: dict[str, str], shop: str | None
) -> tuple[dict[str, str], dict[str, Any], str | None]:
    ua = settings.http_user_agent
    if marketplace == "ebay":
        got = await oauth.ebay_exchange(api_base_url=app.token_url, client_id=app.client_id, client_secret=app.client_secret,
                                        code=q.get("code", ""), ru_name=app.extra, user_agent=ua)  # fmt: skip
        return {**got, "client_id": app.client_id, "client_secret": app.client_secret}, {}, None
    if marketplace == "amazon":
        got = await oauth.amazon_exchange(token_url=app.token_url, client_id=app.client_id, client_secret=app.client_secret,
                                          code=q.get("spapi_oauth_code", ""), user_agent=ua,
                                          redirect_uri=apps.url(settings, apps.CALLBACK_PATH.format(marketplace="amazon")))  # fmt: skip
        options = {"seller_id": q["selling_partner_id"]} if q.get("selling_partner_id") else {}
        return {**got, "client_id": app.client_id, "client_secret": app.client_secret}, options, None
    assert shop is not None
    base = apps.shop_base(settings, shop)
    got = await oauth.shopify_exchange(shop_base_url=base, client_id=app.client_id, client_secret=app.client_secret,
                                       code=q.get("code", ""), user_agent=ua)  # fmt: skip
    # the offline token is the credential; the app secret signs the shop's webhooks
    secrets_ = {"access_token": got["access_token"], "webhook_secret": app.client_secret}
    return secrets_, {"shop": shop, "granted_scopes": got["scope"]}, None if app.sandbox else base


def _store(
    engine: sa.Engine, settings: Settings, *, digest: str, account_id: int, marketplace: str, app: apps.App,
    secrets_: dict[str, str], options: dict[str, Any], base_url: str | None,
) -> ConnectOutcome:  # fmt: skip
    if app.sandbox:
        extras = sandbox_credentials(marketplace)
        secrets_ = {**{k: extras[k] for k in _SANDBOX_EXTRAS[marketplace] if k in extras}, **secrets_}
        options = {**options, "sandbox": True}
    with session_scope(engine) as session:
        row = repo.get(session, account_id)
        repo.connected(session, row, actor="connect", ring=credential_keyring(settings), secrets=secrets_,
                       options=options, base_url=base_url, how=f"{marketplace} consent")  # fmt: skip
        name = row.name
    _close(engine, digest, "connected")
    log.info("account connected", account_id=account_id, marketplace=marketplace)
    return ConnectOutcome(ok=True, marketplace=marketplace, account_id=account_id, account_name=name,
                          message=f"{marketplace} account {name!r} is connected")  # fmt: skip


def woo_keys(engine: sa.Engine, settings: Settings, payload: dict[str, Any]) -> ConnectOutcome:
    """WooCommerce posts the keys it created (server to server) before the browser comes back."""
    state = str(payload.get("user_id") or "")
    key, secret = str(payload.get("consumer_key") or ""), str(payload.get("consumer_secret") or "")
    if not key.startswith("ck_") or not secret.startswith("cs_"):
        raise flow.ConnectRefused("the store sent no consumer key / secret")
    with session_scope(engine) as session:
        attempt = _claim(session, marketplace="woocommerce", state=state, now=utcnow())
        digest, account_id, store = attempt.state_digest, attempt.account_id, attempt.shop
    sandbox = settings.sandbox.enabled and store == settings.sandbox.base_url("woocommerce").rstrip("/")
    app = apps.App("woocommerce", sandbox, "", "")
    options = {"key_permissions": str(payload.get("key_permissions") or "")}
    return _store(engine, settings, digest=digest, account_id=account_id, marketplace="woocommerce", app=app,
                  secrets_={"consumer_key": key, "consumer_secret": secret}, options=options,
                  base_url=None if sandbox else store)  # fmt: skip


def woo_return(engine: sa.Engine, *, state: str, success: bool) -> ConnectOutcome:
    """The browser is back from the store: with success=1 the keys have arrived already (or they never will)."""
    if not success:
        return refuse(engine, marketplace="woocommerce", state=state, message="the store owner denied access")
    with session_scope(engine) as session:
        attempt = session.get(ConnectAttempt, flow.state_digest(state))
        if attempt is None or attempt.marketplace != "woocommerce":
            raise flow.ConnectRefused("this connect link is unknown: start connecting again")
        row = repo.get(session, attempt.account_id)
        outcome, name, account_id = attempt.outcome, row.name, row.id
    if outcome != "connected":
        raise flow.ConnectRefused("the store did not send the keys: start connecting again")
    return ConnectOutcome(ok=True, marketplace="woocommerce", account_id=account_id, account_name=name,
                          message=f"woocommerce account {name!r} is connected")  # fmt: skip
