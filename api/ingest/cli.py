"""`merchflow ingest DIR`: ingest a folder of product photos, with a progress bar until every draft is ready.

The folder holds the images and, optionally, a `manifest.csv` (one row per product: `images` - file names separated
by `;` - and optional `sku`, `cost`, `currency`, `quantity`, `marketplaces`, hint columns). Without one, each image
at the top is a product and each sub-folder one product with all its images. Same checks and same batch as the
API's upload: every problem is listed and nothing is stored when there is one.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(help="Image ingest: product photos -> reviewed drafts -> live listings.")

FINISHED = ("duplicate", "refused", "drafted", "published", "rejected", "failed")


def read_folder(directory: Path, settings: Any) -> tuple[Any, dict[str, Path]]:
    from domain.ingest.manifest import MANIFEST_NAMES, folder_products, is_image_name, parse_manifest

    cfg = settings.ingest
    files = {p.relative_to(directory).as_posix(): p for p in sorted(directory.rglob("*")) if p.is_file()}
    images = {name for name in files if is_image_name(name)}
    manifest = next((files[n] for n in MANIFEST_NAMES if n in files), None)
    if manifest is not None:
        result = parse_manifest(
            manifest.read_text(encoding="utf-8-sig"),
            images,
            max_images=cfg.max_images_per_product,
            max_rows=cfg.max_products_per_batch,
        )
    else:
        result = folder_products(
            sorted(images), max_images=cfg.max_images_per_product, max_rows=cfg.max_products_per_batch
        )
    return result, files


def _print_problems(problems: list[Any]) -> None:
    for p in problems:
        where = f"row {p.row}" if p.row else "folder"
        typer.echo(f"  {where}, {p.field}: {p.message}", err=True)


async def _follow(settings: Any, engine: Any, batch_id: str, total: int, timeout: float) -> dict[str, int]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from activities.ingest import repository as repo
    from merchflow.db.engine import read_session

    deadline = time.monotonic() + timeout
    counts: dict[str, int] = {}
    with Progress(
        TextColumn("[bold]drafting[/bold]"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
        TimeElapsedColumn(), transient=False,
    ) as progress:  # fmt: skip
        task = progress.add_task("", total=total)
        while True:
            with read_session(engine) as s:
                counts = repo.status_counts(s, batch_id)
            done = sum(n for status, n in counts.items() if status in FINISHED)
            progress.update(
                task, completed=done, description=", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            )
            if done >= total or time.monotonic() > deadline:
                return counts
            await asyncio.sleep(0.5)


async def _run(directory: Path, marketplaces: str | None, wait: bool, timeout: float, user: str) -> int:
    from activities.ingest.intake import IntakeRefused, Staged, create_batch, discard
    from api.ingest.starting import start_batch
    from connectors.blobs.factory import build_blob_store
    from domain.ingest.manifest import parse_marketplaces
    from merchflow.db.engine import engine_for
    from merchflow.settings import get_settings
    from merchflow.temporal import connect

    settings = get_settings()
    engine, blobs = engine_for(settings.sqlalchemy_url), build_blob_store(settings)
    result, files = read_folder(directory, settings)
    if not result.ok:
        typer.echo(f"{directory}: {len(result.problems)} problem(s), nothing ingested:", err=True)
        _print_problems(result.problems)
        return 2
    chosen = parse_marketplaces(marketplaces) if marketplaces else []
    for spec in result.products:
        spec.marketplaces = spec.marketplaces or chosen
    staged: dict[str, Staged] = {}
    try:
        for name in sorted({n for spec in result.products for n in spec.images}):
            tmp = blobs.writer_tmp()
            await asyncio.to_thread(shutil.copyfile, files[name], tmp)
            staged[name] = Staged(name=name, tmp=tmp)
        created = await asyncio.to_thread(
            create_batch,
            engine,
            blobs,
            settings,
            specs=result.products,
            staged=staged,
            source="folder",
            created_by=user,
        )
    except IntakeRefused as exc:
        typer.echo(f"{directory}: {len(exc.problems)} problem(s), nothing ingested:", err=True)
        _print_problems(exc.problems)
        return 2
    finally:
        discard(staged)
    client = await connect(settings)
    await start_batch(client, settings, created.batch_id)
    typer.echo(f"batch {created.batch_id}: {len(created.products)} product(s)")
    if not wait:
        return 0
    counts = await _follow(settings, engine, created.batch_id, len(created.products), timeout)
    review = counts.get("drafted", 0)
    typer.echo(
        f"done: {', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}"
        + (
            f"; {review} draft(s) wait for review at {settings.base_url}/approvals?type=listing_publish"
            if review
            else ""
        )
    )
    return 0 if sum(n for s, n in counts.items() if s in FINISHED) >= len(created.products) else 1


@app.callback(invoke_without_command=True)
def ingest(
    directory: Annotated[
        Path,
        typer.Argument(
            exists=True, file_okay=False, dir_okay=True, readable=True, help="Folder of product photos"
        ),
    ],
    marketplaces: Annotated[
        str | None, typer.Option(help="e.g. amazon,ebay (default: the configured ones)")
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Follow the batch until every draft is ready")
    ] = True,
    timeout: Annotated[float, typer.Option(help="Give up following after this many seconds")] = 3600.0,
    user: Annotated[str, typer.Option(help="Recorded as the batch's creator")] = "cli",
) -> None:
    """Ingest a folder of product photos (manifest.csv optional) and follow it to the drafts."""
    from merchflow.cli import _exit, _setup

    _setup()
    _exit(asyncio.run(_run(directory, marketplaces, wait, timeout, user)))
