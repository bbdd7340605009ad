"""Committed histories of the decision workflow replay against the current code: a change that would break
running decisions (they can wait for days) fails here. Re-record with tests/decisions/histories/record.py."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workers.registry import feature

WORKFLOWS = feature("decisions").workflow_classes()

HISTORIES = Path(__file__).parents[1] / "replay" / "histories" / "decision"


def _decoded_payloads(node: Any) -> str:
    """Every payload's data, decoded, concatenated (histories store them base64-encoded)."""
    if isinstance(node, dict):
        own = (
            [base64.b64decode(node["data"]).decode(errors="replace")]
            if isinstance(node.get("data"), str)
            else []
        )
        return "".join(own + [_decoded_payloads(v) for k, v in node.items() if k != "data"])
    if isinstance(node, list):
        return "".join(_decoded_payloads(v) for v in node)
    return ""


async def test_committed_histories_replay() -> None:
    files = sorted(HISTORIES.glob("*.json"))
    assert files, "no committed histories"
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    for path in files:
        history = WorkflowHistory.from_json(f"decision-{path.stem}", path.read_text())
        # the paths this history must cover to be worth replaying: escalation, premise change, edit
        payloads = _decoded_payloads(json.loads(path.read_text()))
        assert all(word in payloads for word in ('"escalated"', '"premise_changed"', '"edit_approve"'))
        await replayer.replay_workflow(history)
