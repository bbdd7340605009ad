"""CLI commands of the operators' tooling: `merchflow backup`, `merchflow restore`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from merchflow.settings import get_settings


def register(app: typer.Typer) -> None:
    @app.command("backup")
    def backup_cmd(
        output: Annotated[
            Path | None, typer.Option(help="Directory to write (default <data_dir>/backups/<time>)")
        ] = None,
        blobs: Annotated[bool, typer.Option(help="Also archive the uploaded files")] = False,
    ) -> None:
        """Back up the database (SQLite online backup or pg_dump) and the embedded Temporal database."""
        from merchflow.backup import BackupError, backup

        try:
            result = backup(get_settings(), output, blobs=blobs)
        except (BackupError, OSError) as exc:
            typer.echo(f"backup failed: {exc}", err=True)
            raise typer.Exit(1) from None
        typer.echo(str(result.directory))

    @app.command("restore")
    def restore_cmd(
        directory: Annotated[Path, typer.Argument(help="A directory written by `merchflow backup`")],
        temporal: Annotated[bool, typer.Option(help="Also restore the embedded Temporal database")] = False,
        blobs: Annotated[bool, typer.Option(help="Also restore the uploaded files")] = False,
        yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
    ) -> None:
        """Replace the database (and optionally Temporal's and the uploads) with a backup. Stop `up` first."""
        from merchflow.backup import BackupError, restore

        if not yes:
            typer.confirm("This replaces the current database with the backup. Continue?", abort=True)
        try:
            done = restore(get_settings(), directory, temporal=temporal, blobs=blobs)
        except (BackupError, OSError) as exc:
            typer.echo(f"restore failed: {exc}", err=True)
            raise typer.Exit(1) from None
        typer.echo("restored: " + ", ".join(done))
