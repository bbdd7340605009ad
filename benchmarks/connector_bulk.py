"""Bulk quantity updates on every marketplace sandbox: adapter vs a bare httpx loop (the floor), and with the
sandboxes' default rate limits on, how close each adapter gets to the bound those limits allow.

    .venv/bin/python benchmarks/connector_bulk.py [--skus 100000] [--limited-skus N] [--only woocommerce,ebay]
                                                  [--skip-limited] [--skip-unlimited]

Each marketplace's benchmarks/bulk/<mp>.py exposes `async def bench(n: int, rate_limits: bool) -> dict`; the ones
that exist are run one after the other (never in parallel: they would measure each other), a missing one is skipped
with a note. Without --limited-skus, each module's DEFAULT_LIMITED_N is used (the bound makes 100,000 SKUs slow on
some marketplaces), else 10,000. Targets: ratio (floor time / adapter time) >= 0.70 with limits off;
fraction_of_bound >= 0.90 with limits on. Prints a table; the last line is one JSON object with every result.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MARKETPLACES = ("amazon", "ebay", "shopify", "woocommerce")
FALLBACK_LIMITED_N = 10_000
RATIO_TARGET = 0.70
BOUND_TARGET = 0.90


def load(name: str) -> tuple[Any | None, str | None]:
    """(module, None), or (None, why it is skipped / broken)."""
    target = f"benchmarks.bulk.{name}"
    try:
        if importlib.util.find_spec(target) is None:
            return None, f"benchmarks/bulk/{name}.py not present: skipped"
        module = importlib.import_module(target)
    except Exception as exc:  # a module that exists but does not import is an error to report, not a crash
        return None, f"import failed: {type(exc).__name__}: {exc}"
    if not callable(getattr(module, "bench", None)):
        return None, f"benchmarks/bulk/{name}.py has no bench(n, rate_limits): skipped"
    return module, None


async def run_one(module: Any, name: str, n: int, limited: bool) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        result = dict(await module.bench(n, limited))
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        return {"marketplace": name, "n": n, "rate_limits": limited, "error": f"{type(exc).__name__}: {exc}"}
    result.setdefault("marketplace", name)
    result["rate_limits"] = limited
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    if limited:
        fraction = result.get("fraction_of_bound")
        result["meets_target"] = fraction is not None and fraction >= BOUND_TARGET
    else:
        ratio = result.get("ratio")
        result["meets_target"] = ratio is not None and ratio >= RATIO_TARGET
    return result


def _fmt(value: Any, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float | int) and not isinstance(value, bool):
        return f"{value:,.{digits}f}"
    return str(value)


def table(results: list[dict[str, Any]], notes: dict[str, str]) -> str:
    head = (
        "marketplace",
        "limits",
        "n",
        "adapter SKU/s",
        "floor SKU/s",
        "ratio",
        "bound SKU/s",
        "of bound",
        "target",
    )
    rows = [head]
    for r in results:
        if "error" in r:
            rows.append(
                (
                    r["marketplace"],
                    "on" if r["rate_limits"] else "off",
                    _fmt(r["n"]),
                    "ERROR",
                    r["error"][:60],
                    "",
                    "",
                    "",
                    "",
                )
            )
            continue
        rows.append(
            (
                r["marketplace"],
                "on" if r["rate_limits"] else "off",
                _fmt(r.get("n")),
                _fmt(r.get("adapter_skus_per_s")),
                _fmt(r.get("floor_skus_per_s")),
                _fmt(r.get("ratio"), 2),
                _fmt(r.get("bound_skus_per_s")),
                _fmt(r.get("fraction_of_bound"), 2),
                "ok" if r.get("meets_target") else "MISSED",
            )
        )
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines += [f"{name}: {why}" for name, why in notes.items()]
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    wanted = [m.strip() for m in args.only.split(",")] if args.only else list(MARKETPLACES)
    unknown = [m for m in wanted if m not in MARKETPLACES]
    if unknown:
        raise SystemExit(f"unknown marketplace(s): {', '.join(unknown)}")
    notes: dict[str, str] = {}
    results: list[dict[str, Any]] = []
    for name in wanted:
        module, why = load(name)
        if module is None:
            notes[name] = why or "skipped"
            print(f"[{name}] {why}", file=sys.stderr)
            continue
        plan = []
        if not args.skip_unlimited:
            plan.append((args.skus, False))
        if not args.skip_limited:
            plan.append((args.limited_skus or getattr(module, "DEFAULT_LIMITED_N", FALLBACK_LIMITED_N), True))
        for n, limited in plan:
            print(f"[{name}] n={n} rate limits {'on' if limited else 'off'} ...", file=sys.stderr, flush=True)
            result = await run_one(module, name, n, limited)
            print(f"[{name}] {json.dumps(result)}", file=sys.stderr, flush=True)
            results.append(result)
    print(table(results, notes))
    return {
        "benchmark": "connector_bulk",
        "skus": args.skus,
        "targets": {"ratio": RATIO_TARGET, "fraction_of_bound": BOUND_TARGET},
        "results": results,
        "skipped": notes,
    }


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--skus", type=int, default=100_000, help="SKUs per marketplace with rate limits off")
    p.add_argument(
        "--limited-skus", type=int, default=None, help="SKUs with rate limits on (default: per module)"
    )
    p.add_argument("--only", default="", help="comma-separated marketplaces (default: all present)")
    p.add_argument("--skip-limited", action="store_true")
    p.add_argument("--skip-unlimited", action="store_true")
    return p.parse_args(argv)


if __name__ == "__main__":
    summary = asyncio.run(main(parse(sys.argv[1:])))
    print(json.dumps(summary), flush=True)
    sys.stdout.flush()
    # explicit exit: libraries' background threads must not keep (or crash) a finished benchmark process
    os._exit(0)
