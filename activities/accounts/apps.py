"""The merchflow app on each marketplace, as the connect flows need it: from settings, or (not configured, sandboxes
on) the sandbox's own app; and where the engine's callbacks are."""

from __future__ import annotations

from dataclasses import dataclass

from connectors.marketplace.accounts import sandbox_credentials
from merchflow.settings import Settings

CALLBACK_PATH = "/api/v1/accounts/connect/{marketplace}/callback"
WOO_KEYS_PATH = "/api/v1/accounts/connect/woocommerce/keys"
WOO_RETURN_PATH = "/api/v1/accounts/connect/woocommerce/return"


class ConnectUnavailable(ValueError):
    """The marketplace app is not configured (and no sandbox stands in): the operator must set it up first."""


@dataclass(frozen=True)
class App:
    """The merchflow app on one marketplace, from settings or (not configured, sandboxes on) the sandbox's."""

    marketplace: str
    sandbox: bool
    client_id: str
    client_secret: str
    authorize_url: str = ""  # eBay consent page / Amazon Seller Central base
    token_url: str = ""  # Amazon LWA token URL / eBay API base URL
    extra: str = ""  # eBay RuName / Amazon application id
    scopes: tuple[str, ...] = ()


def url(settings: Settings, path: str) -> str:
    return settings.base_url.rstrip("/") + path


def resolve_app(settings: Settings, marketplace: str) -> App:
    c, sb = settings.connect, settings.sandbox
    missing = (
        f"the {marketplace} app is not configured: set MERCHFLOW_CONNECT__{marketplace.upper()}__* (README)"
    )
    if marketplace == "woocommerce":  # no app registration: the store itself issues the keys
        return App(
            marketplace,
            sandbox=False,
            client_id=c.woocommerce.app_name,
            client_secret="",
            scopes=(c.woocommerce.scope,),
        )
    configured = getattr(c, marketplace)
    if configured.client_id and configured.client_secret is not None:
        secret = configured.client_secret.get_secret_value()
        if marketplace == "ebay":
            ru = configured.ru_name or ""
            if not (ru and configured.authorize_url and configured.api_base_url):
                raise ConnectUnavailable(missing)
            return App(
                "ebay",
                False,
                configured.client_id,
                secret,
                configured.authorize_url,
                configured.api_base_url,
                ru,
                tuple(configured.scopes),
            )
        if marketplace == "amazon":
            if not (configured.application_id and configured.consent_base_url and configured.token_url):
                raise ConnectUnavailable(missing)
            return App(
                "amazon",
                False,
                configured.client_id,
                secret,
                configured.consent_base_url,
                configured.token_url,
                configured.application_id,
            )
        return App("shopify", False, configured.client_id, secret, scopes=tuple(configured.scopes))
    if not sb.enabled:
        raise ConnectUnavailable(missing)
    creds, base = sandbox_credentials(marketplace), sb.base_url(marketplace)
    if marketplace == "ebay":
        return App("ebay", True, creds["client_id"], creds["client_secret"], f"{base}/oauth2/authorize", base,
                   url(settings, CALLBACK_PATH.format(marketplace="ebay")), tuple(c.ebay.scopes))  # fmt: skip
    if marketplace == "amazon":
        from connectors.marketplace.amazon.adapter import SANDBOX_APPLICATION_ID

        return App(
            "amazon",
            True,
            creds["client_id"],
            creds["client_secret"],
            base,
            f"{base}/auth/o2/token",
            SANDBOX_APPLICATION_ID,
        )
    return App("shopify", True, creds["client_id"], creds["client_secret"], scopes=tuple(c.shopify.scopes))


def sandbox_host(settings: Settings, marketplace: str) -> str:
    return f"{settings.sandbox.host}:{settings.sandbox.port(marketplace)}"


def sandbox_hosts(settings: Settings, marketplace: str) -> set[str]:
    return {sandbox_host(settings, marketplace)} if settings.sandbox.enabled else set()


def loopback(settings: Settings) -> set[str]:
    # plain http only for the local sandbox: WooCommerce posts keys only over https
    return {settings.sandbox.host, "127.0.0.1", "localhost"} if settings.sandbox.enabled else set()


def shop_base(settings: Settings, shop: str) -> str:
    return f"http://{shop}" if shop in sandbox_hosts(settings, "shopify") else f"https://{shop}"
