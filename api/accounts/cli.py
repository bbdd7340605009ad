"""`merchflow accounts ...`: the accounts API's operations from a shell, on the same database.

Secrets are never taken from the command line (shell history, process lists): `--secret FIELD` asks for the value
without echo, `--secrets-stdin` reads `FIELD=VALUE` lines.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated

import typer

from merchflow.settings import get_settings

app = typer.Typer(help="Marketplace accounts: add, list, connect, test, remove.", no_args_is_help=True)


def _engine():  # type: ignore[no-untyped-def]
    from merchflow.db.engine import engine_for

    return engine_for(get_settings().sqlalchemy_url)


def _secrets(fields: list[str] | None, stdin: bool) -> dict[str, str]:
    found: dict[str, str] = {}
    if stdin:
        for line in sys.stdin.read().splitlines():
            if line.strip():
                key, sep, value = line.partition("=")
                if not sep:
                    raise typer.BadParameter(f"expected FIELD=VALUE lines, got {key.strip()!r}")
                found[key.strip()] = value.strip()
    for field in fields or []:
        found[field] = typer.prompt(field, hide_input=True)
    return found


def _options(pairs: list[str] | None) -> dict[str, object]:
    out: dict[str, object] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise typer.BadParameter(f"--option takes KEY=VALUE, got {pair!r}")
        try:
            out[key] = json.loads(value)  # numbers, booleans, null (removes) as JSON; anything else as text
        except ValueError:
            out[key] = value
    return out


def _fail(message: str) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(2)


def _sync(account_id: int) -> None:
    """Start the new account's listing sync when Temporal answers; the daily schedule catches up otherwise."""
    from api.listings.start import start_listing_sync
    from merchflow.temporal import connect

    settings = get_settings()

    async def go() -> None:
        client = await asyncio.wait_for(connect(settings), 10)
        await start_listing_sync(client, settings, account_id, "connect")

    try:
        asyncio.run(go())
        typer.echo("listing sync started")
    except Exception as exc:
        typer.echo(f"listing sync not started now ({exc}); the daily schedule will run it", err=True)


@app.command("add")
def add(
    marketplace: Annotated[str, typer.Argument(help="amazon | ebay | shopify | woocommerce")],
    name: Annotated[str, typer.Argument(help="a name unique per marketplace, e.g. us")],
    base_url: Annotated[str | None, typer.Option(help="the API's base URL (default: the sandbox's)")] = None,
    region: Annotated[str | None, typer.Option()] = None,
    marketplace_id: Annotated[list[str] | None, typer.Option("--marketplace-id", help="repeatable")] = None,
    option: Annotated[list[str] | None, typer.Option("--option", help="KEY=VALUE, repeatable")] = None,
    credentials_ref: Annotated[
        str | None, typer.Option(help="secrets in MERCHFLOW_MARKETPLACE_CREDENTIALS__<REF>__*")
    ] = None,
    secret: Annotated[
        list[str] | None, typer.Option("--secret", help="a credential FIELD, asked for without echo")
    ] = None,
    secrets_stdin: Annotated[bool, typer.Option("--secrets-stdin", help="read FIELD=VALUE lines")] = False,
    safety_buffer: Annotated[int, typer.Option(min=0)] = 0,
) -> None:
    """Add an account. Without credentials it is `pending`: connect it with `merchflow accounts connect ID`."""
    from activities.accounts import repository
    from domain.accounts.rules import MARKETPLACES, unknown_credential_fields
    from merchflow.credentials import credential_keyring
    from merchflow.db.engine import session_scope

    if marketplace not in MARKETPLACES:
        _fail(f"unknown marketplace {marketplace!r}; choose one of: {', '.join(MARKETPLACES)}")
    secrets = _secrets(secret, secrets_stdin)
    unknown = unknown_credential_fields(marketplace, secrets)
    if unknown:
        _fail(f"unknown credential field(s) for {marketplace}: {', '.join(unknown)}")
    try:
        with session_scope(_engine()) as session:
            row = repository.create(
                session, marketplace=marketplace, name=name, actor="cli", ring=credential_keyring(get_settings()),
                base_url=base_url, region=region, marketplace_ids=marketplace_id or [], options=_options(option),
                credentials_ref=credentials_ref, secrets=secrets, safety_buffer=safety_buffer,
            )  # fmt: skip
            account_id, status = row.id or 0, row.status
    except repository.AccountError as exc:
        _fail(str(exc))
    typer.echo(f"account {account_id} ({marketplace} {name}) added: {status}")
    if status == "connected":
        _sync(account_id)


@app.command("list")
def list_accounts() -> None:
    """Every account with its status, credentials (set / last 4), last successful call and listing sync."""
    from activities.accounts import repository
    from domain.accounts.rules import shown_status
    from merchflow.db.engine import read_session

    with read_session(_engine()) as session:
        rows = repository.listed(session)
    for r in rows:
        creds = ", ".join(f"{k} {v}" for k, v in (r.credentials_hint or {}).items()) or (
            r.credentials_ref or "-"
        )
        sync = (r.listing_sync or {}).get("status", "-")
        last = r.last_success_at.isoformat(timespec="seconds") if r.last_success_at else "-"
        typer.echo(f"{r.id:>5}  {r.marketplace:<11} {r.name:<20} {shown_status(enabled=r.enabled, status=r.status):<12} "
                   f"last ok {last:<25} listings {sync:<10} credentials: {creds}")  # fmt: skip


@app.command("connect")
def connect_account(
    account_id: int,
    shop: Annotated[str | None, typer.Option(help="Shopify: my-store.myshopify.com")] = None,
    store_url: Annotated[str | None, typer.Option(help="WooCommerce: https://shop.example.com")] = None,
) -> None:
    """Print the consent URL to open in a browser (valid once, for a few minutes)."""
    from activities.accounts import connect, repository

    try:
        started = connect.start(
            _engine(), get_settings(), account_id=account_id, actor="cli", shop=shop, store_url=store_url
        )
    except (repository.AccountError, connect.ConnectUnavailable) as exc:
        _fail(str(exc))
    typer.echo(
        f"open this link as the seller (valid until {started.expires_at:%H:%M} UTC):\n{started.consent_url}"
    )


@app.command("update")
def update(
    account_id: int,
    secret: Annotated[
        list[str] | None, typer.Option("--secret", help="a credential FIELD, asked for without echo")
    ] = None,
    secrets_stdin: Annotated[bool, typer.Option("--secrets-stdin")] = False,
    option: Annotated[
        list[str] | None, typer.Option("--option", help="KEY=VALUE (null removes), repeatable")
    ] = None,
    safety_buffer: Annotated[int | None, typer.Option(min=0)] = None,
    enabled: Annotated[bool | None, typer.Option("--enable/--disable")] = None,
) -> None:
    """Paste new keys, change options, the channel's safety buffer, or switch the account on / off."""
    from activities.accounts import repository
    from merchflow.credentials import credential_keyring
    from merchflow.db.engine import session_scope

    changes: dict[str, object] = {}
    if option:
        changes["options"] = _options(option)
    if safety_buffer is not None:
        changes["safety_buffer"] = safety_buffer
    if enabled is not None:
        changes["enabled"] = enabled
    secrets = _secrets(secret, secrets_stdin)
    try:
        with session_scope(_engine()) as session:
            row = repository.get(session, account_id, lock=True)
            was = row.status
            repository.update(
                session,
                row,
                actor="cli",
                ring=credential_keyring(get_settings()),
                changes=changes,
                secrets=secrets,
            )
            status = row.status
    except repository.AccountError as exc:
        _fail(str(exc))
    typer.echo(f"account {account_id} updated: {status}")
    if status == "connected" and was != "connected":
        _sync(account_id)


@app.command("test")
def test_account(account_id: int) -> None:
    """The cheapest authenticated call per capability, from this machine; exits 1 when something does not work."""
    from activities.accounts.health import AccountHealth
    from activities.accounts.testing import run_test
    from connectors.marketplace.accounts import MarketplaceRegistry

    settings, engine = get_settings(), _engine()

    async def go():  # type: ignore[no-untyped-def]
        health = AccountHealth(engine, settings)
        registry = MarketplaceRegistry(engine, settings, listener=health)
        try:
            return await run_test(registry, health, account_id)
        finally:
            await registry.aclose()

    try:
        report = asyncio.run(go())
    except KeyError as exc:
        _fail(str(exc).strip("'\""))
    typer.echo(f"{report.marketplace} {report.name}:\n{report.summary}")
    raise typer.Exit(0 if report.ok else 1)


@app.command("remove")
def remove(account_id: int, yes: Annotated[bool, typer.Option("--yes", help="do not ask")] = False) -> None:
    """Remove an account: its credentials are destroyed; orders and reports that name it stay."""
    from activities.accounts import repository
    from merchflow.db.engine import session_scope

    if not yes and not typer.confirm(f"remove account {account_id} and destroy its credentials?"):
        raise typer.Exit(1)
    try:
        with session_scope(_engine()) as session:
            repository.remove(session, repository.get(session, account_id, lock=True), actor="cli")
    except repository.AccountError as exc:
        _fail(str(exc))
    typer.echo(f"account {account_id} removed")


@app.command("reseal")
def reseal() -> None:
    """Re-encrypt every account's credentials with the primary key (the last step of a key rotation)."""
    from activities.accounts import repository
    from merchflow.credentials import credential_keyring
    from merchflow.db.engine import session_scope

    ring = credential_keyring(get_settings())
    done = 0
    with session_scope(_engine()) as session:
        for row in repository.listed(session):
            if row.credentials_sealed and ring.needs_rotation(row.credentials_sealed):
                repository.store_secrets(session, row, repository.secrets_of(row, ring), ring, replace=True)
                done += 1
    typer.echo(f"{done} account(s) resealed with key {ring.primary!r}")
