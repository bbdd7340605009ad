"""Deterministic ids and money conversions shared by the repricing shell."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

IN_CHUNK = 5000  # values per IN (...) list: well under SQLite's bound-parameter limit


def decision_id(run_id: str, account_id: int, sku: str) -> str:
    """A run proposes one decision per listing: a retried batch finds the ids it created before."""
    return "rp-" + hashlib.sha256(f"{run_id}\x00{account_id}\x00{sku}".encode()).hexdigest()[:32]


def money(x: Any, places: int = 2) -> Decimal | None:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return Decimal(str(round(float(x), places)))


def num(x: Any) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), 4)


def parts(items: Sequence[str]) -> Iterable[list[str]]:
    for i in range(0, len(items), IN_CHUNK):
        yield list(items[i : i + IN_CHUNK])
