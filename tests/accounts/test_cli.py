"""`merchflow accounts ...` as an operator types it, against a WooCommerce sandbox: add with keys read from stdin
(never from the command line), list (set / last 4 only), test (exit code), change, remove."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from connectors.marketplace.woocommerce.adapter import SANDBOX_CREDENTIALS
from merchflow.db.migrate import upgrade
from merchflow.settings import Settings
from sandboxes.run import load_app
from tests.support.servers import free_port, serve

ROOT = Path(__file__).resolve().parents[2]


def test_accounts_cli(tmp_path: Path) -> None:
    port, db = free_port(), tmp_path / "app.db"
    upgrade(f"sqlite:///{db}")
    env = (
        {k: v for k, v in os.environ.items() if not k.startswith("MERCHFLOW_")}
        | {
            "MERCHFLOW_ENVIRONMENT": "test",
            "MERCHFLOW_DATA_DIR": str(tmp_path / "data"),
            "MERCHFLOW_DATABASE_URL": f"sqlite:///{db}",
            "MERCHFLOW_SANDBOX__WOOCOMMERCE_PORT": str(port),
            "MERCHFLOW_TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",  # nothing there: the sync is left to the schedule
            "MERCHFLOW_LOG_LEVEL": "WARNING",
        }
    )

    def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "merchflow", "accounts", *args], env=env, cwd=ROOT,
                              input=stdin, capture_output=True, text=True, timeout=120)  # fmt: skip

    keys = "".join(f"{k}={v}\n" for k, v in SANDBOX_CREDENTIALS.items())
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", sandbox={"woocommerce_port": port})  # type: ignore[call-arg]
    with serve(load_app("woocommerce", settings), port):
        added = cli("add", "woocommerce", "mine", "--option", "sandbox=true", "--secrets-stdin", stdin=keys)
        assert added.returncode == 0, added.stderr
        assert "added: connected" in added.stdout and "listing sync not started now" in added.stderr
        account_id = added.stdout.split()[1]
        listed = cli("list")
        assert (
            "mine" in listed.stdout
            and "consumer_secret set, ends in " + SANDBOX_CREDENTIALS["consumer_secret"][-4:] in listed.stdout
        )
        assert SANDBOX_CREDENTIALS["consumer_secret"] not in listed.stdout + added.stdout + added.stderr
        tested = cli("test", account_id)
        assert tested.returncode == 0, tested.stdout + tested.stderr
        assert "Read listings: works" in tested.stdout and "Change quantities: works" in tested.stdout
        assert cli("add", "woocommerce", "mine").returncode == 2  # the name is taken
        broken = cli("update", account_id, "--secrets-stdin", stdin="consumer_secret=cs_" + "0" * 40 + "\n")
        assert broken.returncode == 0
        refused = cli("test", account_id)
        assert refused.returncode == 1 and "credentials refused" in refused.stdout
        assert "needs_reauth" in cli("list").stdout
        assert cli("remove", account_id, "--yes").returncode == 0
        assert "mine" not in cli("list").stdout  # removed accounts are not listed
