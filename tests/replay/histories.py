"""Committed workflow histories (GUIDE rule 9): record one from a real run, replay all of them in CI.

Files live in tests/replay/histories/<workflow-type>/<workflow-id>.json, in the same JSON format as
`temporal workflow show --output json` and the UI's "Download" button, so either can produce one too.

Record from a running engine (e.g. `make up`, after the workflow has run):

    .venv/bin/python -m tests.replay.histories --workflow-id catalog-import-<id> [--address 127.0.0.1:7233]

Histories are stored as the server keeps them: encrypted when the engine ran with a payload codec key. The replay
test decrypts with the public test key in tests/replay/codec_key.py, so record encrypted ones from an engine run
with `MERCHFLOW_CODEC__KEYS__REPLAY=<that key>` (the ops-* histories are), never with a real key.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
from pathlib import Path

from temporalio.client import Client, WorkflowHistory

HISTORIES_DIR = Path(__file__).resolve().parent / "histories"
_SAFE = re.compile(r"^[A-Za-z0-9._@=+-]+$")


def registry_workflows() -> list[type]:
    """Every workflow class any worker runs: a history must replay on what would be deployed."""
    from workers.registry import workflow_classes

    return workflow_classes()


def history_path(workflow_type: str, workflow_id: str, root: Path = HISTORIES_DIR) -> Path:
    for part in (workflow_type, workflow_id):
        if not _SAFE.match(part):
            raise ValueError(f"{part!r} cannot be used as a file name; start the workflow with a simpler id")
    return root / workflow_type / f"{workflow_id}.json"


async def record_history(
    client: Client, workflow_id: str, *, run_id: str | None = None, root: Path = HISTORIES_DIR
) -> Path:
    """Fetch a closed workflow's history and write it under `root`. Returns the file written."""
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    description = await handle.describe()
    if description.close_time is None:
        raise ValueError(f"{workflow_id} is still running: record histories of finished workflows")
    history = await handle.fetch_history()
    path = history_path(description.workflow_type, workflow_id, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(history.to_json_dict(), indent=1, sort_keys=True) + "\n")
    return path


def load_histories(root: Path = HISTORIES_DIR) -> list[tuple[Path, WorkflowHistory]]:
    return [
        (path, WorkflowHistory.from_json(path.stem, path.read_text()))
        for path in sorted(root.glob("*/*.json"))
    ]


async def _main() -> None:
    from merchflow.settings import Settings
    from merchflow.temporal import connect

    parser = argparse.ArgumentParser(description="Record a finished workflow's history for replay tests.")
    parser.add_argument("--workflow-id", required=True)
    parser.add_argument("--run-id")
    parser.add_argument("--address", help="default: MERCHFLOW_TEMPORAL_ADDRESS or the embedded server")
    parser.add_argument("--namespace")
    args = parser.parse_args()
    settings = Settings()
    client = await connect(settings, target=args.address, namespace=args.namespace)
    path = await record_history(client, args.workflow_id, run_id=args.run_id)
    print(f"recorded {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")


if __name__ == "__main__":
    asyncio.run(_main())
    os._exit(0)  # short-lived SDK processes can crash in interpreter teardown (GUIDE)
