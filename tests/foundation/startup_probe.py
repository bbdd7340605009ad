"""Registry entries a test adds to `merchflow.startup` to prove features extend `up` with one line each."""

from __future__ import annotations

import os
import sys

from merchflow.settings import Settings
from merchflow.startup import ChildSpec

PROBE_PORT_ENV = "MERCHFLOW_TEST_PROBE_PORT"  # not a settings name: only this test reads it


def step(settings: Settings) -> None:
    (settings.data_dir / "probe-step-ran").write_text("yes")


async def async_step(settings: Settings) -> None:
    (settings.data_dir / "probe-async-step-ran").write_text("yes")


def children(settings: Settings) -> list[ChildSpec]:
    port = int(os.environ[PROBE_PORT_ENV])
    argv = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    return [ChildSpec("probe", argv, ports=(port,), ready_url=f"http://127.0.0.1:{port}/", log_to_file=True)]


def links(settings: Settings) -> list[tuple[str, str]]:
    return [("Probe", f"http://127.0.0.1:{os.environ[PROBE_PORT_ENV]}/")]


def crashing_children(settings: Settings) -> list[ChildSpec]:
    """A child that exits at once every time it is started."""
    return [ChildSpec("crasher", [sys.executable, "-c", "import sys; sys.exit(3)"])]
