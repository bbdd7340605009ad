"""Property-based tests of the pricing engine: the constraints hold for any input, prices move in the obvious
directions, and re-running on the engine's own output converges at once (or monotonically when clamped)."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.repricing.config import PricingConfig, PricingConstraints
from domain.repricing.engine import floor_price, suggest_prices

TODAY = date(2026, 11, 21)
money = st.floats(min_value=0.5, max_value=5000, allow_nan=False, allow_infinity=False)


@st.composite
def sku_rows(draw: st.DrawFn) -> dict[str, object]:
    cost = draw(money)
    price = round(draw(st.floats(min_value=0.5, max_value=20000)), 2)  # live prices are whole cents
    has_comp = draw(st.booleans())
    cmin = draw(st.floats(min_value=0.5, max_value=20000)) if has_comp else math.nan
    cmax = cmin * draw(st.floats(min_value=1.0, max_value=3.0)) if has_comp else math.nan
    has_model = draw(st.booleans())
    return {
        "sku": "S",
        "cost": cost,
        "price": price,
        "reference_price": draw(st.one_of(st.just(math.nan), st.floats(min_value=0.5, max_value=20000))),
        "fee_rate": draw(st.floats(min_value=0.0, max_value=0.45)),
        "fee_fixed": draw(st.floats(min_value=0.0, max_value=5.0)),
        "age_days": draw(st.integers(min_value=0, max_value=1000)),
        "stock": draw(st.integers(min_value=0, max_value=5000)),
        "competitor_min": cmin,
        "competitor_max": cmax,
        "category": draw(st.sampled_from(["toys", "books", "garden"])),
        "elasticity": draw(st.floats(min_value=-8, max_value=-0.2)) if has_model else math.nan,
        "model_confidence": draw(st.floats(min_value=0, max_value=1)) if has_model else 0.0,
    }


configs = st.builds(
    PricingConfig,
    constraints=st.builds(
        PricingConstraints,
        min_margin=st.floats(min_value=0, max_value=1),
        max_change=st.floats(min_value=0.01, max_value=0.5),
        price_ending=st.sampled_from([None, 0.99, 0.95]),
        deadband=st.floats(min_value=0, max_value=0.02),
    ),
)


def run(row: dict[str, object], cfg: PricingConfig) -> pd.Series:
    return suggest_prices(pd.DataFrame([row]), cfg, today=TODAY).iloc[0]


@settings(max_examples=80, deadline=None)
@given(st.lists(sku_rows(), min_size=1, max_size=30), configs)
def test_constraints_always_hold(rows: list[dict[str, object]], cfg: PricingConfig) -> None:
    outs = suggest_prices(pd.DataFrame(rows), cfg, today=TODAY)
    for row, (_, out) in zip(rows, outs.iterrows(), strict=True):
        _check_constraints(row, out, cfg)


def _check_constraints(row: dict[str, object], out: pd.Series, cfg: PricingConfig) -> None:
    p = float(out["suggested_price"])
    c = cfg.constraints
    fl = float(
        floor_price(
            np.array([row["cost"]]), np.array([row["fee_rate"]]), np.array([row["fee_fixed"]]), c.min_margin
        )[0]
    )
    # 1. never below cost x (1 + margin) after fees — absolute
    assert (
        p * (1 - float(row["fee_rate"])) - float(row["fee_fixed"])
        >= float(row["cost"]) * (1 + c.min_margin) - 1e-6
    )
    assert round(p, 2) == p  # whole cents
    cur = float(row["price"])
    ceiling = (
        float(row["competitor_max"]) * c.competitor_ceiling
        if not math.isnan(float(row["competitor_max"]))
        else math.inf
    )
    lo, hi = max(cur * (1 - c.max_change), fl), min(cur * (1 + c.max_change), ceiling)
    if hi - lo >= 0.01:  # when the constraints can all hold together, they do
        assert lo - 1e-9 <= p <= hi + 1e-9, (lo, p, hi)
    elif fl <= ceiling - 0.01:
        assert p <= ceiling + 1e-9 or p == cur  # the ceiling holds whenever it is above the floor


def _mono(row: dict[str, object], field: str, a: float, b: float) -> tuple[float, float]:
    cfg = PricingConfig(constraints=PricingConstraints(price_ending=None, deadband=0))
    return float(run({**row, field: a}, cfg)["suggested_price"]), float(
        run({**row, field: b}, cfg)["suggested_price"]
    )


@settings(max_examples=80, deadline=None)
@given(sku_rows(), st.floats(min_value=0.5, max_value=5000), st.floats(min_value=0.5, max_value=5000))
def test_higher_cost_never_lowers_the_price(row: dict[str, object], c1: float, c2: float) -> None:
    lo, hi = sorted((c1, c2))
    p_lo, p_hi = _mono(row, "cost", lo, hi)
    assert p_hi >= p_lo - 1e-9


@settings(max_examples=80, deadline=None)
@given(sku_rows(), st.integers(0, 1000), st.integers(0, 1000))
def test_older_stock_never_raises_the_price(row: dict[str, object], a1: int, a2: int) -> None:
    young, old = sorted((a1, a2))
    p_young, p_old = _mono(row, "age_days", young, old)
    assert p_old <= p_young + 1e-9


@settings(max_examples=80, deadline=None)
@given(sku_rows(), st.integers(0, 5000), st.integers(0, 5000))
def test_more_stock_never_raises_the_price(row: dict[str, object], s1: int, s2: int) -> None:
    few, many = sorted((s1, s2))
    p_few, p_many = _mono(row, "stock", few, many)
    assert p_many <= p_few + 1e-9


@settings(max_examples=80, deadline=None)
@given(sku_rows(), st.floats(min_value=0.5, max_value=20000), st.floats(min_value=0.5, max_value=20000))
def test_cheaper_competitor_never_raises_the_price(row: dict[str, object], m1: float, m2: float) -> None:
    row = {**row, "competitor_max": math.nan}
    cheap, dear = sorted((m1, m2))
    p_cheap, p_dear = _mono(row, "competitor_min", cheap, dear)
    assert p_cheap <= p_dear + 1e-9


@settings(max_examples=60, deadline=None)
@given(st.lists(sku_rows(), min_size=1, max_size=40), configs)
def test_rerun_proposes_nothing_new_and_clamped_runs_converge_monotonically(
    rows: list[dict[str, object]], cfg: PricingConfig
) -> None:
    df = pd.DataFrame(rows)
    df["sku"] = [f"S{i}" for i in range(len(df))]
    df["reference_price"] = df["reference_price"].fillna(df["price"])
    first = suggest_prices(df, cfg, today=TODAY)
    again = df.assign(price=first["suggested_price"].to_numpy())
    second = suggest_prices(again, cfg, today=TODAY)
    step = (first["suggested_price"] - df["price"]).abs().to_numpy()
    room = df["price"].to_numpy() * cfg.constraints.max_change - step
    settled = (~first["changed"].to_numpy()) | (room > 1.0)
    # an unclamped run already reached its target: the next run holds the price
    assert not second["changed"].to_numpy()[settled].any()
    # in every case repeated runs reach a fixpoint in a bounded number of steps, moving one way only
    ratio = np.maximum(df["price"], df["reference_price"]) / np.minimum(
        df["price"], df["reference_price"]
    ).clip(0.01)
    bound = int(np.ceil(np.log(ratio.max() * 100) / np.log1p(cfg.constraints.max_change))) + 5
    history = [df["price"].to_numpy(), first["suggested_price"].to_numpy()]
    current = again
    for _ in range(bound):
        nxt = suggest_prices(current, cfg, today=TODAY)
        if not nxt["changed"].any():
            break
        history.append(nxt["suggested_price"].to_numpy())
        current = current.assign(price=history[-1])
    else:
        raise AssertionError(f"no fixpoint after {bound} runs")
    moves = np.sign(np.diff(np.vstack(history[1:]), axis=0))
    for col in moves.T:
        assert len(set(col[col != 0])) <= 1, col


def test_rules_apply_from_the_seed_documents() -> None:
    base = {
        "sku": "S",
        "cost": 10.0,
        "price": 100.0,
        "reference_price": 100.0,
        "fee_rate": 0.0,
        "fee_fixed": 0.0,
        "stock": 50,
        "age_days": 0,
    }
    cfg = PricingConfig(constraints=PricingConstraints(price_ending=None, deadband=0, max_change=0.5))
    assert float(run({**base, "age_days": 135}, cfg)["suggested_price"]) == 85.0  # halfway 90..180 -> 15 %
    assert float(run({**base, "age_days": 400}, cfg)["suggested_price"]) == 60.0  # past a year -> 40 %
    assert float(run({**base, "stock": 0}, cfg)["suggested_price"]) == 110.0  # empty shelf -> +10 %
    assert float(run({**base, "stock": 300}, cfg)["suggested_price"]) == 90.0  # halfway 100..500 -> 10 %
    beat = run({**base, "competitor_min": 80.0, "competitor_max": 120.0}, cfg)
    assert float(beat["suggested_price"]) == 79.2  # beat the cheapest by 1 %
    assert "competitor at 80.00" in beat["reasoning"]
    seasonal = PricingConfig(
        rules={"seasonal": {"toys": [1.0] * 10 + [1.2, 1.3]}},  # type: ignore[arg-type]
        constraints=cfg.constraints,
    )
    assert float(run({**base, "category": "toys"}, seasonal)["suggested_price"]) == 120.0  # November factor
    floor = run({**base, "cost": 95.0, "fee_rate": 0.15, "fee_fixed": 0.3}, cfg)
    assert floor["suggested_price"] >= (95 * 1.1 + 0.3) / 0.85 - 1e-9
    assert "cost floor" in floor["reasoning"]
