"""Schemathesis over the whole OpenAPI, in-process (ASGI) on a real database and a real Temporal dev server, with and
without a token: no 5xx, no status code the route does not document, responses as documented, invalid input refused.

Phases: the schema's examples, schemathesis' coverage phase (boundary values and invalid variants of every parameter)
and fuzzing (Hypothesis), with a fixed seed. CI runs MERCHFLOW_FUZZ_EXAMPLES (default 5) generated examples per
operation; the acceptance run (>= 50 per operation) is `python -m benchmarks.api_fuzz --examples 50`.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.api.conftest import Stack
from tests.api.fuzzing import run_fuzz

EXAMPLES = int(os.environ.get("MERCHFLOW_FUZZ_EXAMPLES", "5"))
SEED = int(os.environ.get("MERCHFLOW_FUZZ_SEED", "20251203"))
REPORT = os.environ.get("MERCHFLOW_FUZZ_REPORT")  # where benchmarks/api_fuzz.py reads the figures


@pytest.mark.parametrize("who", ["admin token", "no token"])
def test_fuzz_whole_openapi(stack: Stack, who: str) -> None:
    headers = {"Authorization": f"Bearer {stack.admin}"} if who == "admin token" else None
    report = run_fuzz(stack.app, examples=EXAMPLES, seed=SEED, headers=headers)
    if REPORT:
        with open(f"{REPORT}.{who.replace(' ', '-')}.json", "w") as fh:
            json.dump({"who": who, "examples": EXAMPLES, "seed": SEED, **report.summary()}, fh, indent=1)
    operations = {f"{m.upper()} {p}" for p, ops in stack.app.openapi()["paths"].items() for m in ops}
    assert not report.errors, "\n\n".join(report.errors[:10])
    assert not report.failures, f"{len(report.failures)} failures:\n\n" + "\n\n".join(report.failures[:15])
    assert operations <= set(report.requests), f"never called: {sorted(operations - set(report.requests))}"
    assert not any(500 <= s < 600 and s != 503 for s in report.statuses), report.statuses
