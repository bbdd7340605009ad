"""Low-stock and stock-out-risk alerts, vectorised, with their dedupe across runs.

- low stock: on hand at or below the SKU's threshold; the threshold is the SKU's own, else its category's, else
  the SKU's reorder point.
- stock-out risk: a SKU that sells (forecast demand > 0) whose days of cover (on hand / demand per day) are below
  its risk horizon: the SKU's or category's `risk_days`, else the supplier's lead time + a margin - it would run
  out before a reorder placed today arrives.

Dedupe: an alert is announced when it starts firing and once more when it resolves; a SKU that stays low for a
week is in one digest, not seven.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

KINDS = ("low_stock", "stockout_risk")


def thresholds_for(plan: pd.DataFrame, thresholds: pd.DataFrame, column: str) -> pd.Series:
    """Per plan row: the SKU's own threshold, else its category's, else NaN. `thresholds`: scope, key, column."""
    t = thresholds[thresholds[column].notna()] if column in thresholds else thresholds.iloc[0:0]
    by_sku = t[t["scope"] == "sku"].set_index("key")[column] if len(t) else pd.Series(dtype=float)
    by_cat = t[t["scope"] == "category"].set_index("key")[column] if len(t) else pd.Series(dtype=float)
    own = plan["sku"].map(by_sku)
    cat = plan["category"].map(by_cat) if "category" in plan else pd.Series(np.nan, index=plan.index)
    return own.fillna(cat).astype(float)


def firing_alerts(
    plan: pd.DataFrame, thresholds: pd.DataFrame, *, risk_margin_days: float = 0.0
) -> pd.DataFrame:
    """Rows sku, kind, on_hand, threshold, days_of_cover for every alert that fires now."""
    on_hand = plan["on_hand"].astype(float).to_numpy()
    low_t = (
        thresholds_for(plan, thresholds, "low_stock").fillna(plan["reorder_point"].astype(float)).to_numpy()
    )
    d = plan["demand_per_day"].astype(float).to_numpy()
    cover = np.where(d > 0, on_hand / np.where(d > 0, d, 1.0), np.inf)
    horizon = thresholds_for(plan, thresholds, "risk_days")
    horizon = horizon.fillna(plan["lead_time_days"].astype(float) + risk_margin_days).to_numpy()
    low = on_hand <= low_t
    risk = (d > 0) & (cover < horizon)
    frames = []
    for kind, mask, limit in (("low_stock", low, low_t), ("stockout_risk", risk, horizon)):
        frames.append(
            pd.DataFrame(
                {"sku": plan["sku"].to_numpy()[mask], "kind": kind, "on_hand": on_hand[mask],
                 "threshold": limit[mask], "days_of_cover": np.where(np.isfinite(cover), cover, np.nan)[mask]}
            )
        )  # fmt: skip
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class AlertChanges:
    started: pd.DataFrame  # newly firing (announce)
    resolved: pd.DataFrame  # sku, kind of alerts that were firing and no longer are (announce once)
    still: int  # firing before and now (not announced again)


def alert_changes(
    firing: pd.DataFrame, previous: pd.DataFrame, *, scope: pd.Index | None = None
) -> AlertChanges:
    """`previous`: sku, kind, status of the stored states. `scope`: the SKUs this run judged (others keep their
    state: a SKU missing from the run is not 'resolved')."""
    was = previous[previous["status"] == "firing"][["sku", "kind"]]
    if scope is not None:
        was = was[was["sku"].isin(scope)]
    now_keys = (
        pd.MultiIndex.from_frame(firing[["sku", "kind"]])
        if len(firing)
        else pd.MultiIndex.from_arrays([[], []])
    )
    was_keys = pd.MultiIndex.from_frame(was) if len(was) else pd.MultiIndex.from_arrays([[], []])
    started = firing[~now_keys.isin(was_keys)] if len(firing) else firing
    resolved = was[~was_keys.isin(now_keys)] if len(was) else was
    return AlertChanges(
        started.reset_index(drop=True), resolved.reset_index(drop=True), int(now_keys.isin(was_keys).sum())
    )


def digest_text(changes: AlertChanges, *, limit: int = 200) -> str:
    """Plain text for mail and chat: one line per alert that started or resolved (the first `limit` of each)."""
    lines = [f"{len(changes.started)} new stock alerts, {len(changes.resolved)} resolved."]
    labels = {"low_stock": "low stock", "stockout_risk": "stock-out risk"}
    for r in changes.started.sort_values(["kind", "sku"]).head(limit).itertuples():
        cover = "" if pd.isna(r.days_of_cover) else f", {r.days_of_cover:.1f} days of cover"
        lines.append(
            f"- {labels[r.kind]}: {r.sku} has {r.on_hand:g} on hand (threshold {r.threshold:g}{cover})"
        )
    if len(changes.started) > limit:
        lines.append(f"... and {len(changes.started) - limit} more new alerts")
    for r in changes.resolved.sort_values(["kind", "sku"]).head(limit).itertuples():
        lines.append(f"- resolved {labels[r.kind]}: {r.sku}")
    return "\n".join(lines)
