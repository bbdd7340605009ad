"""The acceptance fuzz run of the whole OpenAPI: tests/api/test_fuzz.py (schemathesis engine in-process, real
database, real Temporal dev server; examples, coverage and fuzzing phases; with and without a token) with more
generated examples per operation than CI uses.

    .venv/bin/python -m benchmarks.api_fuzz [--examples 50] [--seed 20251203]

Prints each run's figures (operations, requests, the fewest requests any operation got, failures, statuses); the
last line is one JSON object. Exit status 1 when a run found a failure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=50, help="generated (fuzzing) examples per operation")
    ap.add_argument("--seed", type=int, default=20251203)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report = str(Path(tmp) / "fuzz")
        env = {
            **os.environ,
            "MERCHFLOW_FUZZ_EXAMPLES": str(args.examples),
            "MERCHFLOW_FUZZ_SEED": str(args.seed),
            "MERCHFLOW_FUZZ_REPORT": report,
        }
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/api/test_fuzz.py"],
            cwd=ROOT,
            env=env,
            check=False,
        )
        elapsed = time.perf_counter() - started
        runs = {}
        for who in ("admin-token", "no-token"):
            path = Path(f"{report}.{who}.json")
            if path.exists():
                runs[who] = json.loads(path.read_text())
    for who, r in runs.items():
        print(
            f"{who}: {r['operations']} operations, {r['requests_to_operations']} requests to them "
            f"(at least {r['min_requests_per_operation']} per operation; fewest: {r['fewest']}), {r['failures']} failures, "
            f"{r['errors']} errors, statuses {r['statuses']}"
        )
    result = {
        "examples_per_operation": args.examples,
        "seed": args.seed,
        "passed": proc.returncode == 0,
        "seconds": round(elapsed, 1),
        "runs": runs,
    }
    print(json.dumps(result))
    return 0 if proc.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
