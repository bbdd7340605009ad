"""Start-up helpers for the benchmarks that run the real stack (`merchflow worker` / `merchflow api` as
subprocesses): benchmarks/catalog_import.py and benchmarks/decisions.py."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`python -m merchflow <args>` in the log's folder, stdout and stderr into the log."""
    return subprocess.Popen(
        [sys.executable, "-m", "merchflow", *args],
        env=env,
        cwd=log.parent,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def wait_ready(url: str, procs: list[subprocess.Popen[bytes]], timeout: float = 90) -> None:
    """Until url answers 200; a child that exits meanwhile fails fast instead of waiting out the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("a child process exited during start-up; see the logs in the work dir")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} not ready after {timeout}s")
