"""A throwaway PostgreSQL cluster on 127.0.0.1 for the test run (works as root, unlike a plain initdb)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = "install the PostgreSQL server (Debian/Ubuntu: `apt-get install postgresql`)"


def find_pg_bin() -> Path | None:
    for candidate in [
        shutil.which("pg_ctl"),
        *sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True),
    ]:
        if candidate and Path(candidate).exists():
            return Path(os.path.realpath(candidate)).parent
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgCluster:
    bindir: Path
    root: Path
    port: int
    run_as: str | None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def url_for(self, db: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{db}"

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.run_as:
            cmd = ["runuser", "-u", self.run_as, "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True)

    @classmethod
    def start(cls) -> PgCluster:
        bindir = find_pg_bin()
        if bindir is None:
            raise FileNotFoundError(INSTALL_HINT)
        root = Path(tempfile.mkdtemp(prefix="merchflow-pg-"))
        run_as = None
        if os.geteuid() == 0:  # initdb refuses to run as root
            run_as = "postgres" if _user_exists("postgres") else "nobody"
            pw = pwd.getpwnam(run_as)
            os.chown(root, pw.pw_uid, pw.pw_gid)
        cluster = cls(bindir, root, _free_port(), run_as)
        data = root / "data"
        cluster._run("initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        opts = (
            f"-p {cluster.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        cluster._run("pg_ctl", "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w", "start")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", cluster.port)) == 0:
                    break
            time.sleep(0.1)
        return cluster

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False
