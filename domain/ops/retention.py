"""Which files housekeeping may delete or rotate: pure decisions over (name, age, size) facts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

# rotated logs are `<name>.log.<YYYYmmdd-HHMMSS>[.gz]`
ROTATED = re.compile(r"^(?P<base>.+\.log)\.(?P<stamp>\d{8}-\d{6})(?:\.gz)?$")


@dataclass(frozen=True)
class FileFact:
    name: str
    modified: datetime
    size: int


def rotated_name(base: str, now: datetime) -> str:
    return f"{base}.{now.strftime('%Y%m%d-%H%M%S')}.gz"


def logs_to_rotate(files: Iterable[FileFact], *, min_bytes: int) -> list[str]:
    """Live logs (`*.log`) with something in them (or at least min_bytes)."""
    return sorted(f.name for f in files if f.name.endswith(".log") and f.size > 0 and f.size >= min_bytes)


def rotated_logs_past_retention(files: Iterable[FileFact], *, now: datetime, keep: timedelta) -> list[str]:
    """Rotated logs whose newest line is older than the retention period. Live logs are never deleted."""
    return sorted(f.name for f in files if ROTATED.match(f.name) and now - f.modified > keep)


def past_retention(
    files: Iterable[FileFact], *, now: datetime, keep: timedelta, protected: set[str]
) -> list[str]:
    return sorted(f.name for f in files if f.name not in protected and now - f.modified > keep)
