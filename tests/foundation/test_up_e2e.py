"""README command 1's code path for real: `python -m merchflow up` in a subprocess on temporary ports and a
temporary data dir. It must serve the API and the Temporal UI, run a catalog import end to end, stop every
child on Ctrl-C (SIGINT), keep workflows across restarts, and take its children down even when killed."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from merchflow.settings import Settings
from merchflow.temporal import connect, free_port
from tests.foundation.startup_probe import PROBE_PORT_ENV
from tests.foundation.upproc import UpProcess

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
CSV = (
    "sku,name,brand,category,cost,price\n"
    "E2E-MUG-1,Enamel Mug,Hearth,Home & Kitchen,3.10,12.99\n"
    "E2E-LAMP-2,Desk Lamp,Lumio,Home & Kitchen,14.20,34.90\n"
    "E2E-CABLE-3,USB-C Cable,Voltline,Electronics,1.40,9.99\n"
)
PROBE_WORKFLOW = "persistence-probe-1"
TERMINAL = {"completed", "failed", "cancelled", "canceled", "terminated"}


@dataclass
class FirstRun:
    """What the first `up` on a fresh data dir showed, collected once for the tests below."""

    up: UpProcess
    readyz: dict[str, Any] = field(default_factory=dict)
    ui_status: int = 0
    ui_body: str = ""
    child_cmdlines: list[str] = field(default_factory=list)
    token: str = ""
    created: httpx.Response | None = None
    final: dict[str, Any] = field(default_factory=dict)
    workflows: dict[str, WorkflowExecutionStatus] = field(default_factory=dict)
    exit_code: int | None = None
    leftovers: list[str] = field(default_factory=list)

    @property
    def import_id(self) -> str | None:
        ok = self.created is not None and self.created.status_code == 202
        return str(self.created.json()["id"]) if ok and self.created else None


@dataclass
class SecondRun:
    up: UpProcess
    token: str = ""
    workflows: dict[str, WorkflowExecutionStatus] = field(default_factory=dict)
    earlier_import: httpx.Response | None = None
    exit_code: int | None = None
    leftovers: list[str] = field(default_factory=list)


async def _temporal(up: UpProcess) -> Client:
    return await connect(Settings(_env_file=None, temporal={"address": f"127.0.0.1:{up.temporal_port}"}))  # type: ignore[call-arg,arg-type]


async def _list_workflows(
    client: Client, *, expect: tuple[str, ...] = ()
) -> dict[str, WorkflowExecutionStatus]:
    """Workflow id -> status, from each run's history (the list itself is the visibility store, which
    trails the history by a moment: poll until every id fragment in `expect` shows up)."""
    deadline = time.monotonic() + 30
    while True:
        ids = [wf.id async for wf in client.list_workflows()]
        if all(any(e in i for i in ids) for e in expect) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.3)
    out = {}
    for wid in ids:
        status = (await client.get_workflow_handle(wid).describe()).status
        assert status is not None
        out[wid] = status
    return out


async def _import_csv(http: httpx.AsyncClient, token: str) -> tuple[httpx.Response, dict[str, Any]]:
    auth = {"Authorization": f"Bearer {token}"}
    created = await http.post(
        "/api/v1/catalog/imports", files={"file": ("products.csv", CSV.encode(), "text/csv")}, headers=auth
    )
    if created.status_code != 202:
        return created, {}
    import_id = created.json()["id"]
    deadline = time.monotonic() + 120
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        r = await http.get(f"/api/v1/catalog/imports/{import_id}", headers=auth)
        body = r.json()
        if str(body.get("status", "")).lower() in TERMINAL:
            break
        await asyncio.sleep(0.3)
    return created, body


@pytest.fixture(scope="module")
async def first_run(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FirstRun]:
    up = UpProcess.on_free_ports(tmp_path_factory.mktemp("up-first") / "data")
    run = FirstRun(up)
    try:
        up.start()
        await asyncio.to_thread(up.wait_ready)
        run.child_cmdlines = [" ".join(p.cmdline()) for p in up.descendants()]
        run.token = up.token()
        async with httpx.AsyncClient(base_url=up.api, timeout=30) as http:
            run.readyz = (await http.get("/readyz")).json()
            ui = await http.get(f"http://127.0.0.1:{up.ui_port}/")
            run.ui_status, run.ui_body = ui.status_code, ui.text
            run.created, run.final = await _import_csv(http, run.token)
        client = await _temporal(up)
        # A workflow nobody works on stays Running: it must survive the restart whatever the features do.
        await client.start_workflow("persistence-probe", id=PROBE_WORKFLOW, task_queue="nobody-polls-this")
        run.workflows = await _list_workflows(
            client, expect=(PROBE_WORKFLOW, run.import_id) if run.import_id else (PROBE_WORKFLOW,)
        )
        run.exit_code = await asyncio.to_thread(up.stop)
        run.leftovers = await asyncio.to_thread(up.leftovers)
        yield run
    finally:
        up.kill_everything()


async def test_up_starts_temporal_worker_and_api_and_serves_the_ui(first_run: FirstRun) -> None:
    assert first_run.readyz == {"status": "ready", "checks": {"database": "ok", "temporal": "ok"}}
    assert first_run.ui_status == 200 and "<html" in first_run.ui_body.lower()
    cmds = first_run.child_cmdlines
    temporal = [c for c in cmds if "server start-dev" in c]
    assert len(temporal) == 1, cmds
    # persistence in <data_dir>/temporal.db with the WAL pragmas
    assert f"--db-filename {first_run.up.data_dir.resolve() / 'temporal.db'}" in temporal[0]
    assert "journal_mode=WAL" in temporal[0]
    assert any(c.endswith("merchflow worker") for c in cmds), cmds
    assert any(c.endswith("merchflow api") for c in cmds), cmds
    assert first_run.token.startswith("mf_")
    assert (first_run.up.data_dir / "temporal.db").is_file()


async def test_up_imports_a_csv_through_the_api_and_the_workflow_is_in_temporal(first_run: FirstRun) -> None:
    created = first_run.created
    assert created is not None
    assert created.status_code == 202, created.text
    import_id = first_run.import_id
    assert str(first_run.final.get("status")).lower() == "completed", first_run.final
    runs = {wid: status for wid, status in first_run.workflows.items() if str(import_id) in wid}
    assert runs, f"no workflow for import {import_id} among {list(first_run.workflows)}"
    assert WorkflowExecutionStatus.COMPLETED in runs.values()


async def test_ctrl_c_stops_every_child(first_run: FirstRun) -> None:
    assert first_run.exit_code == 0, first_run.up.output()
    assert first_run.leftovers == []
    assert "stopped." in first_run.up.output()


@pytest.fixture(scope="module")
async def second_run(first_run: FirstRun) -> AsyncIterator[SecondRun]:
    """`up` again on the first run's data dir, on fresh ports: everything must come back from <data_dir>."""
    up = UpProcess.on_free_ports(first_run.up.data_dir)
    run = SecondRun(up)
    try:
        up.start()
        await asyncio.to_thread(up.wait_ready)
        run.token = up.token()
        run.workflows = await _list_workflows(await _temporal(up), expect=(PROBE_WORKFLOW,))
        if first_run.import_id:
            async with httpx.AsyncClient(base_url=up.api, timeout=30) as http:
                run.earlier_import = await http.get(
                    f"/api/v1/catalog/imports/{first_run.import_id}",
                    headers={"Authorization": f"Bearer {run.token}"},
                )
        run.exit_code = await asyncio.to_thread(up.stop)
        run.leftovers = await asyncio.to_thread(up.leftovers)
        yield run
    finally:
        up.kill_everything()


async def test_second_up_on_the_same_data_dir_keeps_workflows_and_token(
    first_run: FirstRun, second_run: SecondRun
) -> None:
    assert first_run.workflows.get(PROBE_WORKFLOW) == WorkflowExecutionStatus.RUNNING
    assert second_run.workflows.get(PROBE_WORKFLOW) == WorkflowExecutionStatus.RUNNING
    assert set(first_run.workflows) <= set(second_run.workflows)
    for wid, status in first_run.workflows.items():
        if status != WorkflowExecutionStatus.RUNNING:  # running ones (features' own) may finish meanwhile
            assert second_run.workflows[wid] == status, wid
    assert second_run.token == first_run.token  # kept in <data_dir>/admin-token and still valid
    assert second_run.exit_code == 0 and second_run.leftovers == []


async def test_second_up_still_reports_the_earlier_import(first_run: FirstRun, second_run: SecondRun) -> None:
    assert first_run.import_id, "the first run's import was not accepted"
    r = second_run.earlier_import
    assert r is not None and r.status_code == 200, r.text if r else None
    assert str(r.json()["status"]).lower() == "completed", r.text


async def test_killing_up_outright_takes_its_children_down(tmp_path: Path) -> None:
    up = UpProcess.on_free_ports(tmp_path / "data", extra_env={"MERCHFLOW_SEED_DEMO": "false"})
    try:
        up.start()
        await asyncio.to_thread(up.wait_ready)
        children = up.descendants()
        assert len(children) >= 3
        await asyncio.to_thread(up.send, signal.SIGKILL)
        # PR_SET_PDEATHSIG: the kernel tells each child when `up` dies, without its help.
        assert await asyncio.to_thread(up.leftovers, 30) == []
    finally:
        up.kill_everything()


async def test_a_second_up_on_a_data_dir_in_use_is_refused(tmp_path: Path) -> None:
    first = UpProcess.on_free_ports(tmp_path / "data", extra_env={"MERCHFLOW_SEED_DEMO": "false"})
    second = UpProcess.on_free_ports(tmp_path / "data", extra_env={"MERCHFLOW_SEED_DEMO": "false"})
    second.output_file_name = "second-output.log"
    try:
        first.start()
        await asyncio.to_thread(first.wait_ready)
        second.start()
        assert second.proc is not None
        assert await asyncio.to_thread(second.proc.wait, 120) == 2
        assert "another `merchflow up` is running on this data dir" in second.output()
        assert not second.descendants()
        assert await asyncio.to_thread(first.stop) == 0  # the first one was not disturbed
    finally:
        second.kill_everything()
        first.kill_everything()


async def test_up_refuses_a_busy_port_before_starting_anything(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        up = UpProcess(tmp_path / "data", busy.getsockname()[1], free_port(), free_port())
        try:
            up.start()
            assert up.proc is not None
            code = await asyncio.to_thread(up.proc.wait, 120)
            assert code == 2, up.output()
            assert "port in use" in up.output()
            assert not (tmp_path / "data" / "temporal.db").exists()  # Temporal was never started
        finally:
            up.kill_everything()


async def test_up_against_an_existing_cluster_runs_registered_extras_but_no_temporal(
    tmp_path: Path, temporal_env: WorkflowEnvironment
) -> None:
    """MERCHFLOW_TEMPORAL_ADDRESS set: no dev server; steps, extra children and links from the
    `merchflow.startup` registry run, each added with one line as a feature would."""
    target = temporal_env.client.service_client.config.target_host
    probe_port = free_port()
    driver = (
        "import sys, merchflow.startup as s\n"
        "s.PLATFORM_STEPS.append('tests.foundation.startup_probe:step')\n"
        "s.PLATFORM_STEPS.append('tests.foundation.startup_probe:async_step')\n"
        "s.CHILDREN.append('tests.foundation.startup_probe:children')\n"
        "s.LINKS.append('tests.foundation.startup_probe:links')\n"
        "from merchflow.cli import main\n"
        "sys.argv = ['merchflow', 'up']\n"
        "main()\n"
    )
    up = UpProcess.on_free_ports(
        tmp_path / "data",
        extra_env={
            "MERCHFLOW_TEMPORAL_ADDRESS": target,
            "MERCHFLOW_SEED_DEMO": "false",
            PROBE_PORT_ENV: str(probe_port),
            "PYTHONPATH": str(REPO),
        },
        argv=[sys.executable, "-c", driver],
    )
    try:
        up.start()
        await asyncio.to_thread(up.wait_ready)
        cmds = [" ".join(p.cmdline()) for p in up.descendants()]
        assert not any("temporal" in c.split()[0] for c in cmds), cmds
        assert any("http.server" in c for c in cmds), cmds
        assert (up.data_dir / "probe-step-ran").exists() and (up.data_dir / "probe-async-step-ran").exists()
        out = up.output()
        assert f"http://127.0.0.1:{probe_port}/" in out and "Temporal UI" not in out
        assert re.search(rf"Temporal gRPC\s+{re.escape(target)}", out), out
        assert await asyncio.to_thread(up.stop) == 0
        assert await asyncio.to_thread(up.leftovers) == []
    finally:
        up.kill_everything()
