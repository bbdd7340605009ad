"""Where the time of benchmarks/reprice.py goes: CPU seconds per process, and one per-phase table for the floor and
the run. The run's phases come from its own result (each batch and push returns seconds per phase, the account
workflow sums them) and its wall times from the account children's Temporal histories."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

MARKETPLACE_NAMES = ("amazon", "ebay", "shopify", "woocommerce")
# table column -> the run's phases summed into it; the floor has compute, push and record only
COLUMNS = {
    "compute": ("read", "price"),  # load_batch + the engine (the floor: the same two calls)
    "decide": ("propose", "write"),  # proposals, decisions, the auto-approved action (run only)
    "push": ("push_read", "send"),  # read the approved targets + the marketplace calls
    "record": ("record",),  # the marketplace's answer recorded
}


def process_cpu() -> dict[str, float]:
    """CPU seconds used so far by this process and every process it started (sandboxes, Temporal server)."""
    import psutil

    me = psutil.Process(os.getpid())
    out: dict[str, float] = {}
    for p in [me, *me.children(recursive=True)]:
        try:
            t, cmd = p.cpu_times(), p.cmdline()
        except psutil.Error:
            continue
        if p.pid == me.pid:
            name = "bench+worker"
        elif cmd and "temporal" in os.path.basename(cmd[0]):
            name = "temporal"
        elif "--only" in cmd:
            name = "sbx-" + cmd[cmd.index("--only") + 1]
        elif cmd and cmd[-1] in MARKETPLACE_NAMES:
            name = "sbx-" + cmd[-1]
        else:
            name = os.path.basename(cmd[0]) if cmd else str(p.pid)
        out[name] = out.get(name, 0.0) + t.user + t.system
    return out


def cpu_used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: round(v - before.get(k, 0.0), 1) for k, v in after.items() if v - before.get(k, 0.0) >= 0.05}


@dataclass
class Row:
    """One marketplace account: seconds per table column (the run's are summed over batches and pushes, which
    overlap), `wall` from its start to its end, `first_push` when its first marketplace call could start."""

    seconds: dict[str, float] = field(default_factory=dict)
    wall: float = 0.0
    first_push: float = 0.0
    write_wait: float = 0.0


def floor_row(compute: float, push: float, record: float) -> Row:
    return Row(
        seconds={"compute": compute, "push": push, "record": record},
        wall=compute + push + record,
        first_push=compute,
    )


async def run_row(client: Any, workflow_id: str, phase_seconds: dict[str, float]) -> Row:
    """The account child's wall time and first push start from its history; its phases from its result."""
    from temporalio.api.enums.v1 import EventType as E

    history = await client.get_workflow_handle(workflow_id).fetch_history()
    t0 = end = first_push = None
    push_scheduled: set[int] = set()
    for e in history.events:
        at = e.event_time.ToDatetime().timestamp()
        t0, end = at if t0 is None else t0, at
        if e.event_type == E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            if e.activity_task_scheduled_event_attributes.activity_type.name == "reprice-push-prices":
                push_scheduled.add(e.event_id)
        elif e.event_type == E.EVENT_TYPE_ACTIVITY_TASK_STARTED and first_push is None:
            if e.activity_task_started_event_attributes.scheduled_event_id in push_scheduled:
                first_push = at
    seconds = {col: sum(phase_seconds.get(p, 0.0) for p in parts) for col, parts in COLUMNS.items()}
    return Row(
        seconds=seconds,
        wall=(end or 0.0) - (t0 or 0.0),
        first_push=(first_push or end or 0.0) - (t0 or 0.0),
        write_wait=phase_seconds.get("write_wait", 0.0),
    )


def table(floor: dict[str, Row], run: dict[str, Row]) -> str:
    head = (
        f"    {'':5} {'account':<12}"
        + "".join(f"{c:>9}" for c in COLUMNS)
        + f"{'(wait)':>9}{'1st push':>9}{'wall':>8}"
    )
    lines = [head]
    for side, rows in (("floor", floor), ("run", run)):
        for mp, r in rows.items():
            cells = "".join(f"{r.seconds[c]:9.1f}" if c in r.seconds else f"{'-':>9}" for c in COLUMNS)
            wait = f"{r.write_wait:9.1f}" if side == "run" else f"{'-':>9}"
            lines.append(f"    {side:5} {mp:<12}{cells}{wait}{r.first_push:9.1f}{r.wall:8.1f}")
    return "\n".join(lines)


def as_json(rows: dict[str, Row]) -> dict[str, Any]:
    return {
        mp: {**{k: round(v, 2) for k, v in r.seconds.items()}, "wall": round(r.wall, 2),
             "first_push": round(r.first_push, 2)}
        for mp, r in rows.items()
    }  # fmt: skip
