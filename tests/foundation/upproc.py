"""Drive `python -m merchflow up` as a real subprocess on temporary ports and a temporary data dir."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from merchflow.settings import Settings
from merchflow.temporal import free_port

START_TIMEOUT = 180.0
STOP_TIMEOUT = 60.0


@dataclass
class UpProcess:
    data_dir: Path
    api_port: int
    temporal_port: int
    ui_port: int
    extra_env: dict[str, str] = field(default_factory=dict)
    argv: list[str] | None = None  # default: python -m merchflow up
    proc: subprocess.Popen[bytes] | None = None
    known: dict[int, psutil.Process] = field(default_factory=dict)
    output_file_name: str = "up-output.log"
    # the sandbox marketplaces `up` starts: free ports too, so a developer's own `make up` never collides
    sandbox_ports: dict[str, int] = field(
        default_factory=lambda: {mp: free_port() for mp in ("amazon", "ebay", "shopify", "woocommerce")}
    )

    @classmethod
    def on_free_ports(cls, data_dir: Path, **kwargs: object) -> UpProcess:
        return cls(data_dir, free_port(), free_port(), free_port(), **kwargs)  # type: ignore[arg-type]

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def output_file(self) -> Path:
        return self.data_dir.parent / self.output_file_name

    def env(self) -> dict[str, str]:
        # Nothing from the developer's own MERCHFLOW_ settings may leak into the run under test.
        env = {k: v for k, v in os.environ.items() if not k.startswith("MERCHFLOW_")}
        env.update(
            MERCHFLOW_DATA_DIR=str(self.data_dir),
            MERCHFLOW_API_PORT=str(self.api_port),
            MERCHFLOW_TEMPORAL__PORT=str(self.temporal_port),
            MERCHFLOW_TEMPORAL__UI_PORT=str(self.ui_port),
            MERCHFLOW_LOG_JSON="true",
            **{f"MERCHFLOW_SANDBOX__{mp.upper()}_PORT": str(p) for mp, p in self.sandbox_ports.items()},
            **self.extra_env,
        )
        return env

    def settings(self) -> Settings:
        return Settings(
            _env_file=None,  # type: ignore[call-arg]
            data_dir=self.data_dir,
            api_port=self.api_port,
            temporal={"port": self.temporal_port, "ui_port": self.ui_port},  # type: ignore[arg-type]
        )

    def start(self) -> UpProcess:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        out = open(self.output_file, "ab")
        self.proc = subprocess.Popen(
            self.argv or [sys.executable, "-m", "merchflow", "up"],
            env=self.env(),
            cwd=self.data_dir.parent,  # no .env from the repository is picked up
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # like a terminal: signals reach it only when we send them
        )
        out.close()
        return self

    def output(self) -> str:
        return self.output_file.read_text(errors="replace") if self.output_file.exists() else ""

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Until the banner is printed and /readyz answers 200; fails with the output if `up` exits."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"`merchflow up` exited with {self.proc.returncode}:\n{self.output()}")
            if "merchflow is running" in self.output():
                try:
                    if httpx.get(f"{self.api}/readyz", timeout=3).status_code == 200:
                        self.remember()
                        return
                except httpx.HTTPError:
                    pass
            time.sleep(0.3)
        raise AssertionError(f"`merchflow up` not ready after {timeout:.0f}s:\n{self.output()}")

    def token(self) -> str:
        found = re.findall(r"API token\s+(mf_\S+)", self.output())
        assert found, f"no token in the banner:\n{self.output()}"
        return found[-1]

    def remember(self) -> None:
        assert self.proc is not None
        self.known.update({p.pid: p for p in [psutil.Process(self.proc.pid), *self.descendants()]})

    def descendants(self) -> list[psutil.Process]:
        assert self.proc is not None
        try:
            return psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def send(self, sig: int, timeout: float = STOP_TIMEOUT) -> int:
        assert self.proc is not None
        self.remember()
        self.proc.send_signal(sig)
        return self.proc.wait(timeout)

    def stop(self) -> int:
        return self.send(signal.SIGINT)

    def leftovers(self, settle: float = 15.0) -> list[str]:
        """Live processes this run started: by remembered pid, and any process whose command line or
        environment mentions the data dir. Waits up to `settle` seconds for dying ones to go."""
        deadline = time.monotonic() + settle
        while True:
            alive = self._alive()
            if not alive or time.monotonic() > deadline:
                return [f"{p.pid} {' '.join(p.cmdline())}" for p in alive]
            time.sleep(0.2)

    def _alive(self) -> list[psutil.Process]:
        marker = str(self.data_dir.resolve())
        found: dict[int, psutil.Process] = {}
        for pid, p in self.known.items():
            try:  # is_running() also compares the start time, so a recycled pid does not count
                if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                    found[pid] = p
            except psutil.NoSuchProcess:
                pass
        me = os.getpid()
        for p in psutil.process_iter(["pid", "cmdline", "status"]):
            if p.pid == me or p.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            try:
                if marker in " ".join(p.info["cmdline"] or []) or marker in p.environ().get(
                    "MERCHFLOW_DATA_DIR", ""
                ):
                    found[p.pid] = p
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return list(found.values())

    def kill_everything(self) -> None:
        """Test clean-up whatever happened: never leave a server behind for the next test."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for p in self._alive():
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
