"""Account rows + settings -> adapter configuration: the README's way of pointing an account at the real
marketplace (credentials from MERCHFLOW_MARKETPLACE_CREDENTIALS__<REF>__<FIELD>, base URL on the row)."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.marketplace.accounts import account_config, sandbox_credentials
from merchflow.db.models import MarketplaceAccount
from merchflow.settings import Settings


@pytest.mark.parametrize("ref", ["amazon-us", "amazon_us", "AMAZON_US"])
def test_credentials_come_from_the_environment_under_the_accounts_ref(
    ref: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MERCHFLOW_MARKETPLACE_CREDENTIALS__AMAZON_US__REFRESH_TOKEN", "Atzr|real")
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    row = MarketplaceAccount(
        id=7,
        marketplace="amazon",
        name="us",
        credentials_ref=ref,  # env names cannot hold "-": amazon-us reads AMAZON_US
        base_url="https://sellingpartnerapi-na.amazon.com",
        config={"seller_id": "A1REAL"},
    )
    cfg = account_config(row, settings)
    assert cfg.secret("refresh_token") == "Atzr|real"
    assert cfg.base_url == "https://sellingpartnerapi-na.amazon.com" and cfg.options == {
        "seller_id": "A1REAL"
    }
    assert "Atzr|real" not in repr(cfg)  # secrets stay SecretStr


def test_sandbox_accounts_default_to_the_sandbox_and_its_credentials(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, sandbox={"ebay_port": 9123})  # type: ignore[call-arg]
    row = MarketplaceAccount(id=1, marketplace="ebay", name="sandbox", credentials_ref="sandbox-ebay")
    cfg = account_config(row, settings)
    assert cfg.base_url == "http://127.0.0.1:9123"
    assert {k: v.get_secret_value() for k, v in cfg.credentials.items()} == sandbox_credentials("ebay")
