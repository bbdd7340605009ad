"""The layout holds: no import cycle anywhere, the API process stays light, every workflow type can be replayed.

import-linter (run by `make test`) checks the layers, the contract leaves and the features' independence; these
tests check what its contracts cannot express.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import grimp

from tests.replay.histories import HISTORIES_DIR
from workers.registry import FEATURES, workflow_names

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "workflows", "activities", "connectors", "api", "merchflow", "workers", "sandboxes")
HEAVY = ("pandas", "sklearn", "playwright", "scipy", "numpy")


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        out.append(sorted(component))
                continue
            if child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(edges.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return out


def test_no_import_cycles_between_modules() -> None:
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    # a package's __init__ importing its own submodules is not a cycle worth reporting
    cycles = [c for c in _cycles(edges) if not all(m.startswith(c[0] + ".") or m == c[0] for m in c)]
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_the_api_process_loads_no_data_science_or_browser_library(tmp_path: Path) -> None:
    """Routes take payloads and ids from the contracts, never from activity modules (pandas, scikit-learn) or the
    scraper (playwright): checked in a fresh interpreter, after the app and its OpenAPI document are built."""
    code = (
        "import json, sys\n"
        "from api.app import create_app\n"
        "from merchflow.settings import Settings\n"
        f"app = create_app(Settings(_env_file=None, environment='test', data_dir={str(tmp_path)!r}))\n"
        "app.openapi()\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_every_registered_workflow_type_has_a_committed_history() -> None:
    recorded = {p.name for p in HISTORIES_DIR.iterdir() if p.is_dir() and any(p.glob("*.json"))}
    missing = sorted(set(workflow_names()) - recorded)
    assert not missing, f"no replay history committed for {missing} (see tests/replay/test_replay.py)"


def test_every_feature_reference_resolves() -> None:
    from merchflow.features import resolve

    for f in FEATURES:
        refs = [*f.workflows, *f.activities, *f.routers, *f.startup_steps, *f.action_handlers.values()]
        refs += [r for rs in f.queue_activities.values() for r in rs]
        refs += [r for r in (f.schedules, f.cli) if r]
        for ref in refs:
            assert resolve(ref) is not None, f"{f.name}: {ref}"
        for module in f.tables:
            __import__(module)


def test_each_decision_type_is_acted_on_by_one_feature() -> None:
    """The worker refuses to start when two features register an action for one decision type; catch it here."""
    owners: dict[str, list[str]] = {}
    for f in FEATURES:
        for decision_type in f.action_handlers:
            owners.setdefault(decision_type, []).append(f.name)
    assert {t: names for t, names in owners.items() if len(names) > 1} == {}
