"""The README stays true to the code: settings it names exist, its table comes from the Settings class,
the commands it documents exist."""

from __future__ import annotations

import re
from pathlib import Path

from typer.main import get_command

from merchflow.cli import add_feature_commands, app
from merchflow.settings import DEFAULT_SECRET_KEY
from merchflow.settings_doc import END_MARKER, START_MARKER, env_name_exists, env_vars, markdown_table

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()
# variables read by the test suite, not by merchflow itself
TEST_ONLY = {"MERCHFLOW_TEST_POSTGRES_URL", "MERCHFLOW_SPECS_DIR"}


def test_every_merchflow_variable_named_in_the_readme_is_a_setting() -> None:
    names = set(re.findall(r"MERCHFLOW_[A-Z0-9_]*[A-Z0-9]", README)) - TEST_ONLY
    assert names
    assert sorted(n for n in names if not env_name_exists(n)) == []


def test_settings_table_is_generated_from_the_settings_class() -> None:
    table = README[README.index(START_MARKER) + len(START_MARKER) : README.index(END_MARKER)].strip()
    documented = re.findall(r"^\| `(MERCHFLOW_[A-Z0-9_]+)` \|", table, flags=re.M)
    generated = {v.name for v in env_vars()}
    # Settings added later by other features may be missing until `make docs` runs, never the reverse.
    assert set(documented) <= generated, "README lists settings that do not exist: run `make docs`"
    for core in ("MERCHFLOW_DATA_DIR", "MERCHFLOW_DATABASE_URL", "MERCHFLOW_TEMPORAL__UI_PORT"):
        assert core in documented
    assert table.splitlines()[0] == markdown_table().splitlines()[0]


def test_generated_table_describes_types_and_defaults() -> None:
    rows = {v.name: v for v in env_vars()}
    assert (
        rows["MERCHFLOW_TEMPORAL__PORT"].default == "7233" and rows["MERCHFLOW_TEMPORAL__PORT"].type == "int"
    )
    assert rows["MERCHFLOW_DATABASE_URL"].type == "secret (optional)"
    assert DEFAULT_SECRET_KEY not in markdown_table()  # secrets' defaults are never printed
    assert all(r.description for r in rows.values() if r.name.startswith("MERCHFLOW_TEMPORAL__"))


def test_documented_cli_commands_exist() -> None:
    add_feature_commands()  # what `merchflow` itself does before parsing: features' commands too
    group = get_command(app)
    commands = set(group.commands)  # type: ignore[attr-defined]
    documented = set(re.findall(r"^\| `merchflow ([a-z-]+)", README, flags=re.M))
    assert documented and documented <= commands


def test_readme_commands_are_makefile_targets() -> None:
    makefile = (REPO / "Makefile").read_text()
    for target in re.findall(r"^make ([a-z]+)", README, flags=re.M):
        assert re.search(rf"^{target}:", makefile, flags=re.M), target
