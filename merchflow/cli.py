"""The `merchflow` command: `up` runs everything; the other commands run one piece each."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Annotated, Any

import typer

from merchflow.logging import configure_logging
from merchflow.settings import Settings, get_settings

app = typer.Typer(help="merchflow: durable automation for multi-marketplace sellers.", no_args_is_help=True)
token_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")
user_app = typer.Typer(help="Manage web users of the approval pages.", no_args_is_help=True)
app.add_typer(user_app, name="user")


def _setup() -> None:
    s = get_settings()
    configure_logging(s.log_level, s.log_json)


def _exit(code: int = 0) -> None:
    # Short-lived processes that used the Temporal SDK can crash in interpreter teardown (known SDK
    # issue); leave explicitly once output is flushed.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@app.command()
def up() -> None:
    """Run the whole engine in the foreground until Ctrl-C: the Temporal dev server + UI (unless
    MERCHFLOW_TEMPORAL_ADDRESS names a cluster), migrations, demo data, registered extras, worker, API."""
    _setup()
    from merchflow.launcher import up as run_up

    _exit(run_up(get_settings()))


@app.command()
def worker(
    queue: Annotated[
        list[str] | None, typer.Option("--queue", "-q", help="Logical task queue(s); default all")
    ] = None,
) -> None:
    """Run the Temporal worker(s) against MERCHFLOW_TEMPORAL_ADDRESS (or the embedded server's address)."""
    _setup()
    from workers.build import run_workers

    # Not asyncio.run: after a bounded shutdown the workers' tasks may still be waiting on a Temporal
    # server that is gone, and asyncio.run would wait for them again while cancelling them.
    loop = asyncio.new_event_loop()
    _exit(loop.run_until_complete(run_workers(get_settings(), only=queue)))


@app.command()
def api(
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development)")] = False,
) -> None:
    """Run the REST API and approval pages with uvicorn."""
    _setup()
    import uvicorn

    from merchflow.logging import configure_temporal_logging

    configure_temporal_logging()
    uvicorn.run("api.app:create_app", factory=True, reload=reload, **uvicorn_options(get_settings()))


def uvicorn_options(s: Settings) -> dict[str, Any]:
    """How the API is served (tests start uvicorn with the same options). Body reads time out in the app itself
    (api.middleware): uvicorn has no such timeout."""
    return {
        "host": s.api_host,
        "port": s.api_port,
        "log_config": None,
        "access_log": False,
        "proxy_headers": False,
        "timeout_keep_alive": s.api_keep_alive_seconds,
    }


@app.command()
def sandboxes(
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="Sandbox(es) to serve: amazon, ebay, shopify, woocommerce; default all"),
    ] = None,
) -> None:
    """Serve the local sandbox marketplaces (ports MERCHFLOW_SANDBOX__<MP>_PORT), seeded with the demo catalog."""
    _setup()
    from sandboxes.run import serve_all

    try:
        asyncio.run(serve_all(get_settings(), only=only))
    except (ValueError, OSError) as exc:  # unknown name, port in use
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


@app.command()
def migrate(revision: Annotated[str, typer.Argument(help="Target revision")] = "head") -> None:
    """Apply database migrations (SQLite by default, PostgreSQL with MERCHFLOW_DATABASE_URL)."""
    _setup()
    from merchflow.db.migrate import upgrade

    s = get_settings()
    s.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(s.sqlalchemy_url, revision)
    typer.echo(f"database at revision {revision}")


@app.command("seed-demo")
def seed_demo() -> None:
    """Load the demo catalog (idempotent)."""
    _setup()
    from merchflow.db.engine import engine_for
    from merchflow.seed import seed_demo as run_seed

    s = get_settings()
    added = run_seed(engine_for(s.sqlalchemy_url), sandbox_accounts=s.sandbox.enabled)
    typer.echo(f"demo data loaded ({added} products added)")


@app.command("settings")
def settings_reference() -> None:
    """Print every MERCHFLOW_ environment variable with its type, default and meaning (Markdown)."""
    from merchflow.settings_doc import markdown_table

    typer.echo(markdown_table())


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option(help="admin | operator | approver | viewer")],
    user: Annotated[
        str | None, typer.Option(help="User name; created if missing (default: the role name)")
    ] = None,
    name: Annotated[str, typer.Option(help="A label to tell tokens apart")] = "cli",
) -> None:
    """Create an API token and print it once (only its digest is stored)."""
    _setup()
    from merchflow.db.engine import engine_for, session_scope
    from merchflow.tokens import ROLES, create_token, ensure_user

    if role not in ROLES:
        typer.echo(f"unknown role {role!r}; choose one of: {', '.join(ROLES)}", err=True)
        raise typer.Exit(2)
    with session_scope(engine_for(get_settings().sqlalchemy_url)) as session:
        u = ensure_user(session, username=user or role, role=role)
        if u.role != role:
            typer.echo(f"user {u.username!r} exists with role {u.role!r}", err=True)
            raise typer.Exit(2)
        token = create_token(session, user=u, name=name)
    typer.echo(token)


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Option(help="Log-in name")],
    role: Annotated[str, typer.Option(help="admin | operator | approver | viewer")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
) -> None:
    """Create a web user (argon2-hashed password); asks for the password unless --password-stdin."""
    _setup()
    from merchflow.db.engine import engine_for, session_scope
    from merchflow.users import UserError, create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with session_scope(engine_for(get_settings().sqlalchemy_url)) as session:
            create_user(session, username=username, password=password, role=role)
    except UserError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    typer.echo(f"user {username!r} created with role {role}")


def add_feature_commands() -> None:
    """Each feature's own sub-commands (`Feature.cli`), e.g. `merchflow ingest DIR`."""
    from merchflow.features import resolve
    from workers.registry import FEATURES

    present = {group.name for group in app.registered_groups}
    for feature in FEATURES:
        if feature.cli and feature.name not in present:  # once, however often called (tests, main)
            app.add_typer(resolve(feature.cli), name=feature.name)


__import__("merchflow.ops_cli", fromlist=["register"]).register(app)  # backup, restore


def main() -> None:
    add_feature_commands()
    app()


if __name__ == "__main__":
    main()
