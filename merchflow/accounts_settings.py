"""Settings groups of marketplace accounts (issue 11): the keys that encrypt credentials obtained at run time, and
the merchflow app registered with each marketplace, which the connect flows need.

Kept beside `merchflow.settings` (which only names the groups) so the accounts' knobs stay in one module.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr


class CredentialKeySettings(BaseModel):
    """AES-GCM keys for marketplace credentials stored in the database (refresh tokens, access tokens, keys).
    A key is 32 random bytes, urlsafe-base64:
    `python -c 'import secrets,base64; print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())'`.
    Rotation: add a key, make it primary, run `merchflow accounts reseal`, then remove the old key.
    Empty: a key derived from MERCHFLOW_SECRET_KEY (key id `secret-key`), kept as long as no key is listed."""

    # key id -> key, e.g. MERCHFLOW_CREDENTIAL_KEYS__KEYS__K2026=...; key ids are lower-case
    keys: dict[str, SecretStr] = Field(default_factory=dict)
    primary_key_id: str | None = None  # the key new secrets are sealed with; default: the only key


class AmazonApp(BaseModel):
    """Your SP-API application (Seller Central > Develop Apps): website authorization workflow."""

    application_id: str | None = None  # amzn1.sp.solution.... (the app, not the LWA client)
    client_id: str | None = None  # LWA client identifier
    client_secret: SecretStr | None = None
    # Seller Central of the region; the sandbox's when empty and the sandboxes are enabled
    consent_base_url: str | None = None  # e.g. https://sellercentral.amazon.com
    token_url: str | None = None  # e.g. https://api.amazon.com/auth/o2/token
    draft: bool = True  # apps not yet published authorize with version=beta


class EbayApp(BaseModel):
    """Your eBay developer keyset: OAuth authorization code grant with your RuName."""

    client_id: str | None = None  # App ID
    client_secret: SecretStr | None = None  # Cert ID
    # The RuName whose "auth accepted URL" is <public base URL>/api/v1/accounts/connect/ebay/callback
    ru_name: str | None = None
    authorize_url: str | None = None  # e.g. https://auth.ebay.com/oauth2/authorize
    api_base_url: str | None = None  # e.g. https://api.ebay.com (the token endpoint lives there)
    scopes: list[str] = Field(
        default_factory=lambda: [
            "https://api.ebay.com/oauth/api_scope",
            "https://api.ebay.com/oauth/api_scope/sell.inventory",
            "https://api.ebay.com/oauth/api_scope/sell.fulfillment",
        ]
    )


class ShopifyApp(BaseModel):
    """Your Shopify app (Partner Dashboard): installed by the authorization code grant, offline access token."""

    client_id: str | None = None  # API key
    client_secret: SecretStr | None = None  # API secret key (also signs the callback and the webhooks)
    scopes: list[str] = Field(
        default_factory=lambda: [
            "read_products",
            "write_products",
            "read_inventory",
            "write_inventory",
            "read_orders",
            "write_orders",
            "read_locations",
        ]
    )


class WooCommerceApp(BaseModel):
    """WooCommerce's own app authentication endpoint (/wc-auth/v1/authorize): the store posts the keys back."""

    app_name: str = "merchflow"
    scope: str = "read_write"


class ConnectSettings(BaseModel):
    """Connect flows: the merchflow app registered with each marketplace. With the sandboxes enabled and a field
    left empty, the sandbox's own app is used, so `make up` connects accounts without any configuration."""

    amazon: AmazonApp = Field(default_factory=AmazonApp)
    ebay: EbayApp = Field(default_factory=EbayApp)
    shopify: ShopifyApp = Field(default_factory=ShopifyApp)
    woocommerce: WooCommerceApp = Field(default_factory=WooCommerceApp)
    state_ttl_minutes: float = Field(15.0, gt=0)  # a consent link not completed in time must be started again


class ListingSyncSettings(BaseModel):
    """Listing sync: every listing of every account read and linked to the master catalog."""

    enabled: bool = True  # the daily listing-sync schedule
    cron: str = "15 4 * * *"  # daily, in time_zone
    batch_listings: int = Field(2000, ge=1, le=50_000)  # listings read and matched per activity
    batches_per_run: int = Field(50, ge=1)  # then continue-as-new (sooner if Temporal suggests it)
