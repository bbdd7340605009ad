"""Money and number conversions from the pricing engine's floats, and IN-list chunking, for the repricing shell."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

IN_CHUNK = 5000  # values per IN (...) list: well under SQLite's bound-parameter limit


def money(x: Any, places: int = 2) -> Decimal | None:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return Decimal(str(round(float(x), places)))


def money_list(values: Iterable[Any], places: int = 2) -> list[Decimal | None]:
    """`money` over a column (a list of floats / None / NaN): the same values, without a call per value."""
    return [None if x is None or x != x else Decimal(str(round(float(x), places))) for x in values]


def num(x: Any) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), 4)


def parts(items: Sequence[str]) -> Iterable[list[str]]:
    for i in range(0, len(items), IN_CHUNK):
        yield list(items[i : i + IN_CHUNK])
