"""Which files housekeeping may touch, without I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.ops.retention import (
    FileFact,
    logs_to_rotate,
    past_retention,
    rotated_logs_past_retention,
    rotated_name,
)

NOW = datetime(2026, 12, 3, 3, 17, tzinfo=UTC)


def _f(name: str, days: float, size: int = 10) -> FileFact:
    return FileFact(name, NOW - timedelta(days=days), size)


def test_live_logs_rotate_and_only_old_rotated_logs_expire() -> None:
    files = [
        _f("temporal.log", 0),
        _f("empty.log", 0, size=0),
        _f("temporal.log.20261001-031700.gz", 63),
        _f("temporal.log.20261120-031700.gz", 13),
        _f("notes.txt", 400),
    ]
    assert logs_to_rotate(files, min_bytes=0) == ["temporal.log"]
    assert logs_to_rotate(files, min_bytes=11) == []
    assert rotated_logs_past_retention(files, now=NOW, keep=timedelta(days=30)) == [
        "temporal.log.20261001-031700.gz"
    ]
    assert rotated_logs_past_retention(files, now=NOW, keep=timedelta(days=90)) == []
    assert rotated_name("temporal.log", NOW) == "temporal.log.20261203-031700.gz"


def test_past_retention_spares_protected_files() -> None:
    files = [_f("catalog-a.csv", 40), _f("catalog-b.csv", 40), _f("catalog-c.csv", 2)]
    assert past_retention(files, now=NOW, keep=timedelta(days=30), protected={"catalog-b.csv"}) == [
        "catalog-a.csv"
    ]
