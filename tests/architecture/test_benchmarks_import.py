"""Every import in `benchmarks/` resolves, including those inside functions: benchmarks run rarely and by hand, so
a class moved by a refactor would otherwise be found only when someone needs a figure."""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted((ROOT / "benchmarks").rglob("*.py"))


def _module_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _package_of(path: Path) -> str:
    return _module_of(path) if path.name == "__init__.py" else _module_of(path).rpartition(".")[0]


def _imports(path: Path, package: str) -> list[tuple[int, str, str | None]]:
    """(line, module, name or None) for every import statement, at any depth."""
    out: list[tuple[int, str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name, None) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            out += [(node.lineno, base, a.name) for a in node.names]
    return out


def _is_submodule(module: str, name: str) -> bool:
    try:
        return importlib.util.find_spec(f"{module}.{name}") is not None
    except ImportError:  # `module` is a plain module, not a package
        return False


def _unresolved(path: Path, package: str) -> list[str]:
    problems = []
    for line, module, name in _imports(path, package):
        if module == "__future__":
            continue
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            problems.append(f"{path.name}:{line}: import {module}: {exc}")
            continue
        if name and name != "*" and not hasattr(mod, name) and not _is_submodule(module, name):
            problems.append(f"{path.name}:{line}: {module} has no {name}")
    return problems


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_import_of_a_benchmark_resolves(script: Path) -> None:
    assert _unresolved(script, _package_of(script)) == []


def test_a_moved_name_or_module_is_caught(tmp_path: Path) -> None:
    bench = tmp_path / "moved.py"
    bench.write_text(
        "def main():\n    from workers.build import NoSuchThing\n"
        "    from .bulk import common\n    import activities.no_such_module\n"
    )
    problems = _unresolved(bench, "benchmarks")
    assert problems[0] == "moved.py:2: workers.build has no NoSuchThing"
    assert len(problems) == 2 and problems[1].startswith("moved.py:4: import activities.no_such_module")
