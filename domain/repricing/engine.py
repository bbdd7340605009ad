"""Price suggestions for a batch of SKUs, vectorised (one pass of numpy over columns, no loop per SKU).

Stability by design: rule targets are computed from each SKU's *reference* price (list price), the competitor rule
compares against the target rather than the current price, and the model's optimum does not depend on the current
price either. So applying a run's suggestions and running again proposes nothing new, unless the max-change clamp
held a SKU back (it then keeps moving toward the same target, never oscillating).

Input columns (DataFrame): sku, cost, price (current), reference_price (optional; defaults to price), fee_rate,
fee_fixed, age_days, stock, competitor_min, competitor_max (NaN = no data), category, elasticity and
model_confidence (NaN / 0 = no model).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from domain.repricing.config import PricingConfig

REQUIRED = ("sku", "cost", "price", "fee_rate", "fee_fixed", "age_days", "stock")
OPTIONAL_DEFAULTS: dict[str, object] = {
    "reference_price": np.nan,
    "competitor_min": np.nan,
    "competitor_max": np.nan,
    "category": "",
    "elasticity": np.nan,
    "model_confidence": 0.0,
}


def _band(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Scale 0..1 into the band [lo, hi]."""
    return lo + (hi - lo) * np.clip(x, 0.0, 1.0)


def floor_price(
    cost: np.ndarray, fee_rate: np.ndarray, fee_fixed: np.ndarray, min_margin: float
) -> np.ndarray:
    """Lowest price whose proceeds after the marketplace's fees still earn cost x (1 + min_margin)."""
    return (cost * (1.0 + min_margin) + fee_fixed) / (1.0 - fee_rate)


def _round_to_ending(p: np.ndarray, lo: np.ndarray, hi: np.ndarray, ending: float | None) -> np.ndarray:
    """Nearest x.99 (or cents) inside [lo, hi]; plain cents when no ending fits."""
    lo_c = np.ceil(np.round(lo * 100, 6)) / 100  # smallest cent >= lo
    hi_c = np.floor(np.round(hi * 100, 6)) / 100
    cents = np.clip(np.round(p, 2), lo_c, np.maximum(lo_c, hi_c))
    if ending is None:
        return cents
    down = np.floor(p - ending) + ending
    up = down + 1.0
    down_ok = (down >= lo_c - 1e-9) & (down <= hi_c + 1e-9) & (down > 0)
    up_ok = (up >= lo_c - 1e-9) & (up <= hi_c + 1e-9)
    pick_down = down_ok & (~up_ok | ((p - down) <= (up - p)))
    out = np.where(pick_down, down, np.where(up_ok, up, cents))
    return np.round(out, 2)


def suggest_prices(frame: pd.DataFrame, config: PricingConfig, *, today: date) -> pd.DataFrame:
    """Return one row per input SKU: suggested price, bounds, confidence, reasoning and expected effects."""
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise ValueError(f"pricing input lacks columns: {', '.join(missing)}")
    df = frame.copy()
    for col, default in OPTIONAL_DEFAULTS.items():
        if col not in df.columns:
            df[col] = default
    r, c, b = config.rules, config.constraints, config.blend

    cost = df["cost"].to_numpy(float)
    current = df["price"].to_numpy(float)
    ref = df["reference_price"].to_numpy(float)
    ref = np.where(np.isnan(ref) | (ref <= 0), current, ref)
    fee_rate = np.clip(df["fee_rate"].to_numpy(float), 0.0, 0.9)
    fee_fixed = np.maximum(df["fee_fixed"].to_numpy(float), 0.0)
    age = df["age_days"].to_numpy(float)
    stock = df["stock"].to_numpy(float)
    comp_min = df["competitor_min"].to_numpy(float)
    comp_max = df["competitor_max"].to_numpy(float)
    has_comp = ~np.isnan(comp_min) & (comp_min > 0)
    has_comp_max = ~np.isnan(comp_max) & (comp_max > 0)

    # ---- rules -> a multiplier on the reference price
    aged = (age > r.aged_days) & (age <= r.old_days)
    old = age > r.old_days
    age_md = np.where(
        aged,
        _band(
            (age - r.aged_days) / max(1, r.old_days - r.aged_days), r.aged_markdown.low, r.aged_markdown.high
        ),
        0.0,
    )
    age_md = np.where(
        old,
        _band(
            (age - r.old_days) / max(1, r.full_age_days - r.old_days), r.old_markdown.low, r.old_markdown.high
        ),
        age_md,
    )
    low = stock < r.low_stock
    low_mu = np.where(low, _band((r.low_stock - stock) / max(1, r.low_stock), *_lh(r.low_stock_markup)), 0.0)
    high = stock > r.high_stock
    high_md = np.where(
        high,
        _band((stock - r.high_stock) / max(1, r.high_stock_full - r.high_stock), *_lh(r.high_stock_markdown)),
        0.0,
    )
    season = np.ones(len(df))
    if r.seasonal:
        month_factor = {cat: f[today.month - 1] for cat, f in r.seasonal.items() if len(f) == 12}
        season = df["category"].map(month_factor).fillna(1.0).to_numpy(float)
    rule_target = ref * (1 - age_md) * (1 + low_mu) * (1 - high_md) * season

    # ---- demand model: the profit-maximising price under constant elasticity e (< -1): p* = unit cost * e / (1 + e)
    e = np.clip(df["elasticity"].to_numpy(float), b.min_elasticity, b.max_elasticity)
    model_conf = np.clip(np.nan_to_num(df["model_confidence"].to_numpy(float), nan=0.0), 0.0, 1.0)
    has_model = ~np.isnan(df["elasticity"].to_numpy(float)) & (model_conf > 0)
    unit_cost = (cost + fee_fixed) / (1 - fee_rate)
    model_price = np.where(has_model, unit_cost * e / (1 + e), np.nan)
    w = np.where(has_model, b.max_model_weight * model_conf, 0.0)
    target = np.where(has_model, (1 - w) * rule_target + w * np.nan_to_num(model_price), rule_target)

    # ---- competitor: match or beat the cheapest competitor when our target is above it
    comp_target = comp_min * (1 - r.competitor_beat)
    beat = has_comp & (target > comp_target)
    target = np.where(beat, comp_target, target)

    # ---- constraints, in priority order: max change < competitor ceiling < cost floor (never sell at a loss)
    floor = floor_price(cost, fee_rate, fee_fixed, c.min_margin)
    ceiling = np.where(has_comp_max, comp_max * c.competitor_ceiling, np.inf)
    lo_chg, hi_chg = current * (1 - c.max_change), current * (1 + c.max_change)
    clamped_change = (target < lo_chg) | (target > hi_chg)
    p = np.clip(target, lo_chg, hi_chg)
    at_ceiling = p > ceiling
    p = np.minimum(p, ceiling)
    at_floor = p < floor
    p = np.maximum(p, floor)
    # The band every constraint allows, for rounding. When the constraints conflict (e.g. the floor is above the
    # max-change band), p already sits where priority puts it; the band shrinks to the cent on p's safe side.
    lo, hi = np.maximum(lo_chg, floor), np.minimum(hi_chg, ceiling)
    infeasible = lo > hi
    lo = np.where(infeasible, np.where(at_floor, p, p - 0.00999), lo)
    hi = np.where(
        infeasible, np.where(at_floor, p + 1.0, p), hi
    )  # at the floor: may round up to the next ending
    suggested = _round_to_ending(p, lo, hi, c.price_ending)
    current_ok = (current >= floor - 1e-9) & (current <= np.maximum(ceiling, floor) + 1e-9)
    small = np.abs(suggested - current) <= c.deadband * np.maximum(current, 1e-9)
    suggested = np.where(small & current_ok, current, suggested)

    change = (suggested - current) / np.where(current > 0, current, np.nan)
    confidence = np.clip(
        0.62
        + 0.25 * np.where(has_model, model_conf, 0)
        + 0.08 * has_comp
        - 0.8 * np.abs(np.nan_to_num(change)),
        0.05,
        0.99,
    )
    # expected effects with the model's demand response (units relative to today's run-rate = 1.0)
    rel_units = np.where(has_model, np.power(np.maximum(suggested, 0.01) / np.maximum(current, 0.01), e), 1.0)
    margin_now = current * (1 - fee_rate) - fee_fixed - cost
    margin_new = suggested * (1 - fee_rate) - fee_fixed - cost

    out = pd.DataFrame(
        {
            "sku": df["sku"].to_numpy(),
            "current_price": current,
            "suggested_price": suggested,
            "change_pct": np.round(np.nan_to_num(change) * 100, 2),
            "floor_price": np.round(floor, 4),
            "ceiling_price": np.where(np.isinf(ceiling), np.nan, np.round(ceiling, 4)),
            "confidence": np.round(confidence, 3),
            "unit_margin_now": np.round(margin_now, 4),
            "unit_margin_new": np.round(margin_new, 4),
            "expected_units_factor": np.round(rel_units, 4),
            "expected_revenue_factor": np.round(rel_units * suggested / np.maximum(current, 0.01), 4),
            "changed": suggested != current,
        }
    )
    out["reasoning"] = _reasoning(
        df,
        age_md=age_md,
        low_mu=low_mu,
        high_md=high_md,
        season=season,
        beat=beat,
        comp_min=comp_min,
        has_model=has_model,
        e=e,
        w=w,
        model_price=model_price,
        clamped=clamped_change & ~at_floor,
        at_ceiling=at_ceiling & ~at_floor,
        at_floor=at_floor,
        floor=floor,
        ceiling=ceiling,
        beat_pct=r.competitor_beat,
        max_change=c.max_change,
    )
    return out


def _lh(band: object) -> tuple[float, float]:
    return band.low, band.high  # type: ignore[attr-defined]


def _reasoning(df: pd.DataFrame, **k: np.ndarray | float) -> pd.Series:
    """One human-readable sentence per SKU naming the factors that moved its price (built column-wise)."""
    n = len(df)
    parts: list[pd.Series] = []

    def add(mask: np.ndarray, text: pd.Series | str) -> None:
        s = pd.Series(np.where(mask, text if isinstance(text, str) else text.to_numpy(), ""), dtype=object)
        parts.append(s)

    def pct(x: np.ndarray) -> pd.Series:
        return pd.Series(np.round(np.asarray(x) * 100, 1)).astype(str)

    def money(x: np.ndarray) -> pd.Series:
        return pd.Series(np.round(np.asarray(x), 2)).map("{:.2f}".format)

    age = df["age_days"].to_numpy(float)
    stock = df["stock"].to_numpy(float).astype(int)
    age_md, low_mu, high_md = (np.asarray(k[x]) for x in ("age_md", "low_mu", "high_md"))
    add(
        age_md > 0,
        "inventory age " + pd.Series(age.astype(int)).astype(str) + " days: -" + pct(age_md) + "% markdown; ",
    )
    add(low_mu > 0, "low stock (" + pd.Series(stock).astype(str) + "): +" + pct(low_mu) + "% markup; ")
    add(high_md > 0, "high stock (" + pd.Series(stock).astype(str) + "): -" + pct(high_md) + "% markdown; ")
    season = np.asarray(k["season"])
    add(season != 1.0, "seasonal factor x" + pd.Series(np.round(season, 3)).astype(str) + "; ")
    add(
        np.asarray(k["beat"]),
        "competitor at "
        + money(np.asarray(k["comp_min"]))
        + f": beat by {float(k['beat_pct']) * 100:.1f}%; ",
    )
    has_model = np.asarray(k["has_model"])
    add(
        has_model,
        "demand model (elasticity "
        + pd.Series(np.round(np.asarray(k["e"]), 2)).astype(str)
        + ") profit-max "
        + money(np.nan_to_num(np.asarray(k["model_price"])))
        + " weighted "
        + pct(np.asarray(k["w"]))
        + "%; ",
    )
    add(np.asarray(k["clamped"]), f"limited to the {float(k['max_change']) * 100:.0f}% max change per run; ")
    add(
        np.asarray(k["at_ceiling"]),
        "capped at 95% of the highest competitor (" + money(np.asarray(k["ceiling"])) + "); ",
    )
    add(
        np.asarray(k["at_floor"]),
        "raised to the cost floor " + money(np.asarray(k["floor"])) + " (cost + margin + fees); ",
    )
    if not parts:
        return pd.Series([""] * n, dtype=object)
    text = parts[0]
    for p in parts[1:]:
        text = text + p
    return text.str.rstrip("; ").replace("", "no rule applies; price holds")
